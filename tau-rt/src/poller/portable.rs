//! The portable backend on `polling` (kqueue, event ports, epoll).

use std::cell::RefCell;
use std::io;
use std::num::NonZeroUsize;
use std::os::fd::{BorrowedFd, RawFd};
use std::time::Duration;

use polling::{Events, PollMode};

use super::{round_up_to_millis, Event};

pub(crate) struct Portable {
    poller: polling::Poller,
    /// Driver-thread only (`wait`).
    events: RefCell<Events>,
}

impl Portable {
    pub(crate) fn new() -> io::Result<Portable> {
        let poller = polling::Poller::new()?;
        if !poller.supports_edge() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "tau needs edge-triggered polling (epoll or kqueue)",
            ));
        }
        Ok(Portable { poller, events: RefCell::new(Events::with_capacity(NonZeroUsize::new(1024).unwrap())) })
    }

    pub(crate) fn add(&self, fd: RawFd, key: u64, readable: bool, writable: bool) -> io::Result<()> {
        if fd < 0 {
            return Err(io::Error::from_raw_os_error(libc::EBADF));
        }
        // SAFETY: the reactor's owner (AsyncFd) deregisters before the fd closes.
        unsafe {
            self.poller.add_with_mode(
                fd,
                polling::Event::new(key as usize, readable, writable),
                PollMode::Edge,
            )
        }
    }

    pub(crate) fn delete(&self, fd: RawFd) -> io::Result<()> {
        // SAFETY: the fd is open until its owner deregisters; a closed one
        // makes `delete` fail with EBADF, reported to the caller.
        self.poller.delete(unsafe { BorrowedFd::borrow_raw(fd) })
    }

    pub(crate) fn wait(&self, events: &mut Vec<Event>, timeout: Option<Duration>) -> io::Result<()> {
        let mut ready = self.events.borrow_mut();
        ready.clear();
        let timeout = timeout.map(round_up_to_millis);
        match self.poller.wait(&mut ready, timeout) {
            Ok(_) => {}
            Err(error) if error.kind() == io::ErrorKind::Interrupted => return Ok(()),
            Err(error) => return Err(error),
        }
        events.extend(ready.iter().map(|event| {
            // A full hang-up, where the platform reports it; an error alone
            // is no end (see the epoll poller), only readiness.
            let hung_up = event.is_interrupt();
            let broken = hung_up || event.is_err() == Some(true);
            Event {
                key: event.key as u64,
                readable: event.readable || broken,
                writable: event.writable || broken,
                read_closed: hung_up,
                write_closed: hung_up,
            }
        }));
        Ok(())
    }

    pub(crate) fn notify(&self) -> io::Result<()> {
        self.poller.notify()
    }
}
