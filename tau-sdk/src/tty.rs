//! The process's terminal, shared by the host and every plugin.
//!
//! A terminal has one stream of typed bytes and one mode. Two plugins that
//! each read the tty would split what is typed between them (half an
//! escape sequence each), and two that each save "the mode before raw
//! mode" would restore each other's raw mode. So the host owns each
//! terminal once for the process, and code reaches it through a [`Tty`]
//! subscription:
//!
//! - every subscription's reads see every byte typed since it subscribed
//!   exactly once, in order: a read drains the tty into the buffer of
//!   every subscription, then takes its own (one that never reads keeps
//!   the last 64 KiB);
//! - the terminal is in raw mode while any subscription wants it; the mode
//!   before is saved once and put back when none does — including when a
//!   plugin is unloaded, which ends its subscriptions.
//!
//! This is what tau's crossterm reads and sets raw mode through; a plugin
//! with a terminal library of its own can do the same. A [`TtyReader`]
//! reads that wait (how `tau run` and the tokio shim's `stdin` read a
//! terminal stdin, so that they never take a key from a plugin):
//!
//! ```no_run
//! # tau::block_on(async {
//! let reader = tau::tty::TtyReader::subscribe(std::io::stdin())?;
//! let mut line = [0u8; 256];
//! let count = reader.read(&mut line).await?; // 0: an end of file (Ctrl-D)
//! println!("typed {:?}", &line[..count]);
//! # Ok::<(), std::io::Error>(())
//! # });
//! ```
//!
//! What it does, by hand:
//!
//! ```no_run
//! use std::os::fd::AsFd;
//! use tau::io::{AsyncFd, Interest};
//! use tau::tty::Tty;
//!
//! # tau::block_on(async {
//! let stdin = std::io::stdin();
//! let tty = Tty::subscribe(stdin.as_fd())?;
//! tty.set_raw_mode(true)?;
//! // Readiness of the tty itself comes from the reactor; bytes another
//! // subscriber's read drained for this one, from `poll_buffered`.
//! let watch = AsyncFd::with_interest(stdin.as_fd().try_clone_to_owned()?, Interest::READABLE)?;
//! let mut key = [0u8; 16];
//! let count = loop {
//!     match tty.try_read(&mut key) {
//!         Ok(count) => break count,
//!         Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
//!         Err(error) => return Err(error),
//!     }
//!     std::future::poll_fn(|cx| {
//!         if tty.poll_buffered(cx).is_ready() {
//!             return std::task::Poll::Ready(());
//!         }
//!         watch.poll_read_ready(cx).map(|ready| {
//!             if let Ok(mut guard) = ready {
//!                 guard.clear_ready(); // the next try_read drains the tty
//!             }
//!         })
//!     })
//!     .await;
//! };
//! println!("typed {:?}", &key[..count]);
//! tty.set_raw_mode(false)?;
//! # Ok::<(), std::io::Error>(())
//! # });
//! ```

use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::task::{ready, Context, Poll};

use tau_rt::abi::{ERR_GONE, POLL_PENDING};

use crate::context::{self, TableRef};
use crate::ffi_waker;
use crate::io::async_fd::gone_error;
use crate::io::{AsyncFd, Interest};

/// A subscription to the process's terminal (see the [module docs](self)).
/// Dropping it ends the subscription and its wish for raw mode.
pub struct Tty {
    key: u64,
    table: TableRef,
}

impl std::fmt::Debug for Tty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tty").field("key", &self.key).finish_non_exhaustive()
    }
}

/// A table code as an `io::Error`.
fn error(code: i32) -> io::Error {
    match code {
        ERR_GONE => gone_error(),
        errno => io::Error::from_raw_os_error(errno),
    }
}

impl Tty {
    /// Subscribes to the terminal `fd` refers to (stdin, or an opened
    /// `/dev/tty`: any fd of the terminal names the same one).
    ///
    /// The terminal is the process's whichever runtime reaches it: outside
    /// of any runtime, the subscription goes through the embedded one (as
    /// [`block_on`](crate::block_on) does).
    ///
    /// # Errors
    /// `ENOTTY` if `fd` is not a terminal; an error once the plugin's
    /// runtime is gone.
    pub fn subscribe(fd: impl AsFd) -> io::Result<Tty> {
        let table = context::current_or_embedded();
        let key = table.tty_subscribe(fd.as_fd().as_raw_fd()).map_err(error)?;
        Ok(Tty { key, table })
    }

    /// Reads what was typed since this subscription's last read, without
    /// waiting: the count (0 where the terminal gave an end of file, once
    /// per end: Ctrl-D in cooked mode, after which reading goes on, or a
    /// hang-up), or
    /// [`WouldBlock`](io::ErrorKind::WouldBlock) if nothing is there now.
    /// Any thread.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.try_read_at(buf).map(|(_, count)| count)
    }

    /// [`try_read`](Self::try_read), with the offset of the first byte read
    /// in this subscription's stream (bytes dropped for a subscription that
    /// fell 64 KiB behind are offsets skipped). See [`mark`](Self::mark).
    pub fn try_read_at(&self, buf: &mut [u8]) -> io::Result<(u64, usize)> {
        self.table.tty_read(self.key, buf).map_err(error)
    }

    /// Reads what the tty has now (for every subscription) and returns the
    /// offset the next byte of this subscription's stream will have. Every
    /// subscription sees the terminal's replies to every query; a reply at
    /// an offset past the mark taken just before writing a query is not the
    /// reply to another subscriber's earlier one.
    pub fn mark(&self) -> io::Result<u64> {
        self.table.tty_mark(self.key).map_err(error)
    }

    /// Ready when [`try_read`](Self::try_read) would return at once because
    /// another subscription's read left bytes for this one (or an end of
    /// file, or the subscription ended); otherwise `cx` is woken when that
    /// happens. The tty becoming readable is not reported here: watch it
    /// with an [`AsyncFd`](crate::io::AsyncFd).
    pub fn poll_buffered(&self, cx: &mut Context<'_>) -> Poll<()> {
        let code =
            ffi_waker::with_ffi_waker(cx.waker(), |waker| self.table.tty_poll_buffered(self.key, waker));
        if code == POLL_PENDING {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }

    /// Says whether this subscription wants raw mode. The terminal is in
    /// raw mode while any subscription wants it; when none does, it is back
    /// in the mode it had before the first asked.
    pub fn set_raw_mode(&self, on: bool) -> io::Result<()> {
        self.table.tty_set_raw(self.key, on).map_err(error)
    }

    /// True if the terminal is in raw mode, by this subscription's wish or
    /// another's.
    pub fn is_raw_mode(&self) -> io::Result<bool> {
        self.table.tty_is_raw(self.key).map_err(error)
    }
}

impl Drop for Tty {
    fn drop(&mut self) {
        // The key is ours, given back once.
        self.table.tty_unsubscribe(self.key)
    }
}

/// A [`Tty`] subscription whose reads wait for the terminal on the
/// reactor: the tty's readiness, and the bytes another subscription's
/// read left for this one. Dropping it ends the subscription.
pub struct TtyReader {
    tty: Tty,
    watch: AsyncFd<OwnedFd>,
}

impl std::fmt::Debug for TtyReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TtyReader").field("tty", &self.tty).finish_non_exhaustive()
    }
}

impl TtyReader {
    /// Subscribes to the terminal `fd` refers to, and watches it on the
    /// current runtime's reactor.
    ///
    /// # Errors
    /// As [`Tty::subscribe`]; an error off the runtime's thread (the
    /// reactor is reached from there).
    pub fn subscribe(fd: impl AsFd) -> io::Result<TtyReader> {
        let tty = Tty::subscribe(fd.as_fd())?;
        let watch = AsyncFd::with_interest(fd.as_fd().try_clone_to_owned()?, Interest::READABLE)?;
        Ok(TtyReader { tty, watch })
    }

    /// The subscription (raw mode, marks).
    pub fn tty(&self) -> &Tty {
        &self.tty
    }

    /// Reads what was typed since the last read into `buf`, or waits for
    /// it: the count, 0 at an end of file (see [`Tty::try_read`]).
    pub fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        loop {
            match self.tty.try_read(buf) {
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                done => return Poll::Ready(done),
            }
            if self.tty.poll_buffered(cx).is_ready() {
                continue;
            }
            // Cleared: the next read finds out whether it was ours (another
            // reader of the tty may have taken it).
            ready!(self.watch.poll_read_ready(cx))?.clear_ready();
        }
    }

    /// [`poll_read`](Self::poll_read) as a future.
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.poll_read(cx, buf)).await
    }
}
