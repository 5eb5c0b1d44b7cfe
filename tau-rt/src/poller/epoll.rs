//! epoll, used directly: edge-triggered registrations and an eventfd for
//! notify, registered once (edge-triggered too, so nothing is re-armed).
//!
//! The eventfd is never read. With `EPOLLET`, every `write` queues exactly one
//! report while the counter is non-zero, so each notify wakes one wait.
//! Reading it instead would race: a notify written after the driver's last
//! look at its queue but before the `read` would be consumed by that `read`,
//! and the following `epoll_wait`, seeing a zero counter, would sleep through
//! it. The counter grows by one per notify (the runtime coalesces notifies,
//! one per drain of its queue), so it cannot reach its 2^64 - 2 limit.

use std::cell::RefCell;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

use super::{timeout_millis, Event};

/// The key under which the eventfd is registered.
const NOTIFY_KEY: u64 = u64::MAX;
const EVENTS_PER_WAIT: usize = 1024;

pub(crate) struct Epoll {
    epoll: OwnedFd,
    eventfd: OwnedFd,
    /// Driver-thread only (`wait`).
    buffer: RefCell<Vec<libc::epoll_event>>,
}

fn check(result: libc::c_int) -> io::Result<libc::c_int> {
    if result < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(result)
    }
}

impl Epoll {
    pub(crate) fn new() -> io::Result<Epoll> {
        // SAFETY: plain syscalls; each returned fd is owned right away.
        let epoll = unsafe { OwnedFd::from_raw_fd(check(libc::epoll_create1(libc::EPOLL_CLOEXEC))?) };
        // SAFETY: as above.
        let eventfd =
            unsafe { OwnedFd::from_raw_fd(check(libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK))?) };
        let poller = Epoll { epoll, eventfd, buffer: RefCell::new(Vec::with_capacity(EVENTS_PER_WAIT)) };
        poller.control(
            libc::EPOLL_CTL_ADD,
            poller.eventfd.as_raw_fd(),
            libc::EPOLLIN | libc::EPOLLET,
            NOTIFY_KEY,
        )?;
        Ok(poller)
    }

    fn control(&self, operation: libc::c_int, fd: RawFd, flags: libc::c_int, key: u64) -> io::Result<()> {
        let mut event = libc::epoll_event { events: flags as u32, u64: key };
        // SAFETY: `event` is a valid epoll_event for the call; the kernel
        // validates `fd` (EBADF, EEXIST, ENOENT, EPERM come back as errors).
        check(unsafe { libc::epoll_ctl(self.epoll.as_raw_fd(), operation, fd, &mut event) }).map(drop)
    }

    pub(crate) fn add(&self, fd: RawFd, key: u64, readable: bool, writable: bool) -> io::Result<()> {
        let mut flags = libc::EPOLLET;
        if readable {
            flags |= libc::EPOLLIN | libc::EPOLLRDHUP;
        }
        if writable {
            flags |= libc::EPOLLOUT;
        }
        self.control(libc::EPOLL_CTL_ADD, fd, flags, key)
    }

    pub(crate) fn delete(&self, fd: RawFd) -> io::Result<()> {
        self.control(libc::EPOLL_CTL_DEL, fd, 0, 0)
    }

    pub(crate) fn wait(&self, events: &mut Vec<Event>, timeout: Option<Duration>) -> io::Result<()> {
        let mut buffer = self.buffer.borrow_mut();
        // SAFETY: the buffer has room for `capacity` events; the kernel writes
        // at most that many and we set the length to what it reports.
        let ready = unsafe {
            libc::epoll_wait(
                self.epoll.as_raw_fd(),
                buffer.as_mut_ptr(),
                buffer.capacity() as libc::c_int,
                timeout_millis(timeout),
            )
        };
        let ready = match check(ready) {
            Ok(ready) => ready as usize,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => 0,
            Err(error) => return Err(error),
        };
        // SAFETY: the kernel initialised the first `ready` entries.
        unsafe { buffer.set_len(ready) };
        for event in buffer.drain(..) {
            let (key, flags) = (event.u64, event.events as libc::c_int);
            if key == NOTIFY_KEY {
                continue; // a notify: the caller re-checks its queue
            }
            let hung_up = flags & libc::EPOLLHUP != 0;
            // An error alone is no end: a datagram socket's ICMP error is
            // reported once, by the next operation, which then may block.
            let error = flags & libc::EPOLLERR != 0;
            let read_closed = hung_up || flags & libc::EPOLLRDHUP != 0;
            events.push(Event {
                key,
                readable: read_closed || error || flags & (libc::EPOLLIN | libc::EPOLLPRI) != 0,
                writable: hung_up || error || flags & libc::EPOLLOUT != 0,
                read_closed,
                write_closed: hung_up,
            });
        }
        Ok(())
    }

    pub(crate) fn notify(&self) -> io::Result<()> {
        let one = 1u64;
        // SAFETY: writes 8 bytes from `one`. EAGAIN would mean a saturated
        // counter, which still leaves the eventfd readable: a wake is pending.
        let written = unsafe { libc::write(self.eventfd.as_raw_fd(), (&one as *const u64).cast(), 8) };
        if written < 0 {
            let error = io::Error::last_os_error();
            if error.kind() != io::ErrorKind::WouldBlock {
                return Err(error);
            }
        }
        Ok(())
    }
}
