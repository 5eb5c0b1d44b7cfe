//! A pseudo-terminal for tests: what is written to `controller` is typed on
//! `terminal`, the tty. Test code of several crates (tau-rt's, tau-sdk's,
//! the shim's, tau-host's terminal bench) includes this one file with
//! `#[path]`; no crate ships it.
#![allow(dead_code)]

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

pub struct Pty {
    pub controller: OwnedFd,
    pub terminal: OwnedFd,
}

impl Pty {
    pub fn open() -> Pty {
        let (mut controller, mut terminal) = (0, 0);
        // SAFETY: both out-pointers are valid; name, mode and size may be null.
        let opened = unsafe {
            libc::openpty(
                &mut controller,
                &mut terminal,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        assert_eq!(opened, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: fresh fds, owned by nothing else.
        unsafe {
            Pty { controller: OwnedFd::from_raw_fd(controller), terminal: OwnedFd::from_raw_fd(terminal) }
        }
    }

    /// Types `bytes` on the terminal.
    pub fn type_bytes(&self, bytes: &[u8]) {
        type_bytes(&self.controller, bytes);
    }
}

/// Types `bytes` on the terminal whose controller is `controller`.
pub fn type_bytes(controller: &OwnedFd, bytes: &[u8]) {
    // SAFETY: `bytes` is valid for its length.
    let written = unsafe { libc::write(controller.as_raw_fd(), bytes.as_ptr().cast(), bytes.len()) };
    assert_eq!(written, bytes.len() as isize, "{}", std::io::Error::last_os_error());
}
