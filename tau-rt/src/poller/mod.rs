//! The OS readiness interface under the reactor: edge-triggered
//! registrations, a wait with a timeout, and a cross-thread notify.
//!
//! On Linux tau talks to epoll directly: one `epoll_wait` per turn, and one
//! eventfd `write` per notify. `polling` 3.x spends five syscalls on
//! each wait there (timerfd re-arm, two `epoll_ctl` re-arms, the wait, an
//! eventfd read), which showed in the cross-thread wake latency and in timer-
//! heavy workloads. Everywhere else, and on Linux with `TAU_POLLER=polling`
//! (so that the portable path stays tested), `polling` is the backend.

#[cfg(target_os = "linux")]
mod epoll;
mod portable;

use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

/// A readiness event: the registration key, which directions are ready,
/// and which are closed for good (no later event will say more).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Event {
    pub(crate) key: u64,
    pub(crate) readable: bool,
    pub(crate) writable: bool,
    /// Hang-up or the peer's half-close: reads end. (An error alone is
    /// only readiness: a datagram socket's next operation reports it.)
    pub(crate) read_closed: bool,
    /// Hang-up: writes fail.
    pub(crate) write_closed: bool,
}

pub(crate) enum Poller {
    #[cfg(target_os = "linux")]
    Epoll(epoll::Epoll),
    Portable(portable::Portable),
}

impl Poller {
    pub(crate) fn new() -> io::Result<Poller> {
        #[cfg(target_os = "linux")]
        if std::env::var_os("TAU_POLLER").is_none_or(|value| value != "polling") {
            return epoll::Epoll::new().map(Poller::Epoll);
        }
        portable::Portable::new().map(Poller::Portable)
    }

    /// Registers `fd` (edge-triggered) under `key`.
    pub(crate) fn add(&self, fd: RawFd, key: u64, readable: bool, writable: bool) -> io::Result<()> {
        match self {
            #[cfg(target_os = "linux")]
            Poller::Epoll(epoll) => epoll.add(fd, key, readable, writable),
            Poller::Portable(portable) => portable.add(fd, key, readable, writable),
        }
    }

    pub(crate) fn delete(&self, fd: RawFd) -> io::Result<()> {
        match self {
            #[cfg(target_os = "linux")]
            Poller::Epoll(epoll) => epoll.delete(fd),
            Poller::Portable(portable) => portable.delete(fd),
        }
    }

    /// Waits up to `timeout` (`None`: until an event or a notify) and appends events.
    pub(crate) fn wait(&self, events: &mut Vec<Event>, timeout: Option<Duration>) -> io::Result<()> {
        match self {
            #[cfg(target_os = "linux")]
            Poller::Epoll(epoll) => epoll.wait(events, timeout),
            Poller::Portable(portable) => portable.wait(events, timeout),
        }
    }

    /// Whether events report a peer's half-close (`read_closed` without a
    /// full hang-up): epoll does (`EPOLLRDHUP`), `polling` does not.
    pub(crate) fn reports_half_close(&self) -> bool {
        match self {
            #[cfg(target_os = "linux")]
            Poller::Epoll(_) => true,
            Poller::Portable(_) => false,
        }
    }

    /// Wakes the current or next `wait`, from any thread.
    pub(crate) fn notify(&self) -> io::Result<()> {
        match self {
            #[cfg(target_os = "linux")]
            Poller::Epoll(epoll) => epoll.notify(),
            Poller::Portable(portable) => portable.notify(),
        }
    }
}

/// `timeout` rounded up to whole milliseconds, so that a wait never ends
/// before a timer is due and timers due within one millisecond share a wake.
fn round_up_to_millis(timeout: Duration) -> Duration {
    Duration::from_millis(u64::try_from(timeout.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX))
}

/// A rounded-up timeout in milliseconds for `epoll_wait` (-1: forever).
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn timeout_millis(timeout: Option<Duration>) -> i32 {
    timeout.map_or(-1, |timeout| i32::try_from(round_up_to_millis(timeout).as_millis()).unwrap_or(i32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_round_up_to_whole_milliseconds() {
        assert_eq!(timeout_millis(None), -1);
        assert_eq!(timeout_millis(Some(Duration::ZERO)), 0);
        assert_eq!(timeout_millis(Some(Duration::from_nanos(1))), 1);
        assert_eq!(timeout_millis(Some(Duration::from_micros(1_001))), 2);
        assert_eq!(timeout_millis(Some(Duration::from_secs(u64::MAX))), i32::MAX);
    }

    #[test]
    fn notify_wakes_a_blocked_wait_and_registered_fds_report_readiness() {
        let poller = Poller::new().unwrap();
        poller.notify().unwrap();
        let mut events = Vec::new();
        poller.wait(&mut events, None).unwrap(); // returns thanks to the notify
        assert!(events.is_empty(), "a notify is not an fd event");

        let (left, right) = std::os::unix::net::UnixStream::pair().unwrap();
        use std::io::Write;
        use std::os::fd::AsRawFd;
        poller.add(right.as_raw_fd(), 7, true, false).unwrap();
        (&left).write_all(b"x").unwrap();
        poller.wait(&mut events, Some(Duration::from_secs(5))).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!((events[0].key, events[0].readable), (7, true));
        poller.delete(right.as_raw_fd()).unwrap();
        assert_eq!(poller.delete(right.as_raw_fd()).unwrap_err().raw_os_error(), Some(libc::ENOENT));
    }
}
