//! tau: raw mode and the tty's bytes through the process's one owner of
//! the terminal ([`tau::tty`]), instead of this library's statics. Every
//! plugin has its own copy of crossterm; with upstream's statics, two of
//! them would each save "the mode before raw mode" (one saving the other's
//! raw mode, and putting it back last) and each read the tty (splitting
//! escape sequences between them). Unloading a plugin ends its subscription,
//! which lets go of the raw mode it asked for.

use std::io;
use std::os::fd::BorrowedFd;
use std::sync::{Arc, Mutex};

use tau::tty::Tty;

use crate::terminal::sys::file_descriptor::tty_fd;

/// This library's subscription, made on first use.
static TTY: Mutex<Option<Arc<Tty>>> = Mutex::new(None);

/// The library's subscription to the terminal crossterm uses (stdin if it
/// is a tty, else `/dev/tty`; always `/dev/tty` with `use-dev-tty`).
pub(crate) fn tty() -> io::Result<Arc<Tty>> {
    let mut slot = TTY.lock().unwrap_or_else(|poison| poison.into_inner());
    if let Some(tty) = slot.as_ref() {
        return Ok(Arc::clone(tty));
    }
    let fd = tty_fd()?;
    // SAFETY: `fd` stays open for the call (the subscription keeps a
    // duplicate of its own).
    let tty = Arc::new(Tty::subscribe(unsafe { BorrowedFd::borrow_raw(fd.raw_fd()) })?);
    *slot = Some(Arc::clone(&tty));
    Ok(tty)
}

/// `terminal::enable_raw_mode` (`true`) and `disable_raw_mode` (`false`):
/// the terminal is raw while any plugin wants it.
pub(crate) fn set_raw_mode(on: bool) -> io::Result<()> {
    tty()?.set_raw_mode(on)
}

/// `terminal::is_raw_mode_enabled`: whether the terminal is in raw mode
/// (by this plugin's wish or another's).
pub(crate) fn is_raw_mode_enabled() -> io::Result<bool> {
    tty()?.is_raw_mode()
}
