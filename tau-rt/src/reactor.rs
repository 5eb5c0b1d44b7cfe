//! The IO reactor: edge-triggered registrations with one readiness bit and
//! one stored waker per direction.
//!
//! A registration's poller data is its whole [`Key`], generation included,
//! so an event still in flight for a removed registration cannot land on
//! the one that reuses its slot. As in the timer queue, no waker is cloned
//! or dropped here; they are handed back to the runtime.

use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

use crate::abi::{FfiWaker, INTEREST_READ, INTEREST_WRITE};
use crate::key::Key;
use crate::poller::{Event, Poller};
use crate::slab::Slab;

struct Registration {
    fd: RawFd,
    /// The scope (plugin) whose code registered it.
    owner: u32,
    ready: u8,
    /// Directions the poller reported closed for good; they stay ready.
    closed: u8,
    read_waker: Option<FfiWaker>,
    write_waker: Option<FfiWaker>,
}

impl Registration {
    fn waker_slot(&mut self, direction: u8) -> &mut Option<FfiWaker> {
        if direction == INTEREST_READ {
            &mut self.read_waker
        } else {
            &mut self.write_waker
        }
    }

    fn into_wakers(self) -> impl Iterator<Item = FfiWaker> {
        self.read_waker.into_iter().chain(self.write_waker)
    }
}

/// What `poll_ready` found.
pub(crate) enum ReadyPoll {
    Ready,
    /// Ready, and closed for good (the poller reported it so).
    ReadyClosed,
    /// Waiting, with the caller's waker already stored.
    Pending,
    /// Waiting: store a clone of the caller's waker with `set_waker`.
    NeedsWaker,
    /// Not registered (deregistered, or removed by a revoke or shutdown).
    Gone,
}

pub(crate) struct Reactor {
    registrations: Slab<Registration>,
    events: Vec<Event>,
}

impl Reactor {
    pub(crate) fn new() -> Self {
        Reactor { registrations: Slab::new(), events: Vec::new() }
    }

    pub(crate) fn len(&self) -> usize {
        self.registrations.len()
    }

    pub(crate) fn register(
        &mut self,
        poller: &Poller,
        fd: RawFd,
        interest: u8,
        owner: u32,
    ) -> io::Result<Key> {
        let key = self.registrations.next_key();
        // The caller (AsyncFd) keeps the fd open until it deregisters, which
        // it does before the fd can be closed by its owner.
        poller.add(fd, key.into_raw(), interest & INTEREST_READ != 0, interest & INTEREST_WRITE != 0)?;
        let inserted = self.registrations.insert(Registration {
            fd,
            owner,
            ready: 0,
            closed: 0,
            read_waker: None,
            write_waker: None,
        });
        debug_assert_eq!(inserted, key);
        Ok(key)
    }

    pub(crate) fn poll_ready(
        &mut self,
        key: Key,
        direction: u8,
        stored_wakes_caller: impl FnOnce(&FfiWaker) -> bool,
    ) -> ReadyPoll {
        let Some(registration) = self.registrations.get_mut(key) else { return ReadyPoll::Gone };
        if registration.closed & direction != 0 {
            return ReadyPoll::ReadyClosed;
        }
        if registration.ready & direction != 0 {
            return ReadyPoll::Ready;
        }
        if registration.waker_slot(direction).as_ref().is_some_and(stored_wakes_caller) {
            ReadyPoll::Pending
        } else {
            ReadyPoll::NeedsWaker
        }
    }

    /// Stores `waker` for `direction`; returns what it replaces (or `waker`
    /// itself if the registration is gone), for the caller to drop.
    pub(crate) fn set_waker(&mut self, key: Key, direction: u8, waker: FfiWaker) -> Option<FfiWaker> {
        match self.registrations.get_mut(key) {
            Some(registration) => registration.waker_slot(direction).replace(waker),
            None => Some(waker),
        }
    }

    pub(crate) fn clear_ready(&mut self, key: Key, direction: u8) {
        if let Some(registration) = self.registrations.get_mut(key) {
            // A closed direction gets no further event: clearing it would
            // lose the end of stream (or the error) for good.
            registration.ready &= !(direction & !registration.closed);
        }
    }

    /// Removes the registration of `fd` under `key` and deletes the fd from
    /// the poller; returns its wakers. A key that finds nothing (removed by
    /// a revoke or shutdown) leaves the poller alone: the fd number may
    /// belong to a newer registration by now.
    pub(crate) fn deregister(&mut self, poller: &Poller, key: Key, fd: RawFd) -> io::Result<Vec<FfiWaker>> {
        match self.registrations.get(key) {
            Some(registration) if registration.fd == fd => {}
            _ => return Ok(Vec::new()),
        }
        let registration = self.registrations.remove(key).expect("just found");
        // The fd is still open (the owner deregisters before closing); if it
        // was closed early, `delete` fails with EBADF, which we report.
        let result = poller.delete(fd);
        let wakers = registration.into_wakers().collect();
        result.map(|()| wakers)
    }

    /// Removes the registration without touching the poller (its fd was
    /// deleted from it by the thread that dropped it); returns its wakers.
    pub(crate) fn forget(&mut self, key: Key) -> Vec<FfiWaker> {
        self.registrations.remove(key).into_iter().flat_map(Registration::into_wakers).collect()
    }

    /// Waits for events (up to `timeout`) and collects the wakers to wake.
    pub(crate) fn turn(
        &mut self,
        poller: &Poller,
        timeout: Option<Duration>,
        wakers: &mut Vec<FfiWaker>,
    ) -> io::Result<()> {
        let mut events = std::mem::take(&mut self.events);
        events.clear();
        let waited = poller.wait(&mut events, timeout);
        if waited.is_ok() {
            self.apply(&events, wakers);
        }
        self.events = events;
        waited
    }

    /// Marks what `events` report ready and collects the wakers to wake.
    fn apply(&mut self, events: &[Event], wakers: &mut Vec<FfiWaker>) {
        for event in events {
            let Some(registration) = self.registrations.get_mut(Key::from_raw(event.key)) else {
                continue; // a registration removed since the event was queued
            };
            if event.read_closed {
                registration.closed |= INTEREST_READ;
            }
            if event.write_closed {
                registration.closed |= INTEREST_WRITE;
            }
            if event.readable {
                registration.ready |= INTEREST_READ;
                wakers.extend(registration.read_waker.take());
            }
            if event.writable {
                registration.ready |= INTEREST_WRITE;
                wakers.extend(registration.write_waker.take());
            }
        }
    }

    /// Deregisters everything (shutdown) and returns the wakers.
    pub(crate) fn drain(&mut self, poller: &Poller) -> Vec<FfiWaker> {
        let registrations = self.registrations.drain();
        Self::release(poller, registrations)
    }

    pub(crate) fn count_owned(&self, owner: u32) -> usize {
        self.registrations.iter().filter(|(_, registration)| registration.owner == owner).count()
    }

    /// Deregisters what `owner` registered and returns the wakers.
    pub(crate) fn drain_owned(&mut self, poller: &Poller, owner: u32) -> Vec<FfiWaker> {
        let registrations = self.registrations.remove_where(|registration| registration.owner == owner);
        Self::release(poller, registrations)
    }

    fn release(poller: &Poller, registrations: Vec<Registration>) -> Vec<FfiWaker> {
        let mut wakers = Vec::new();
        for registration in registrations {
            // The owners of these fds still hold them open (their AsyncFd
            // lives on, revoked), so the numbers cannot have been reused.
            let _ = poller.delete(registration.fd);
            wakers.extend(registration.into_wakers());
        }
        wakers
    }
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;

    use super::*;

    fn readable(key: Key, closed: bool) -> Event {
        Event {
            key: key.into_raw(),
            readable: true,
            writable: false,
            read_closed: closed,
            write_closed: false,
        }
    }

    /// The end of a stream is reported once; a clear after it (a short read
    /// that also saw the end queued) must not forget it.
    #[test]
    fn a_direction_reported_closed_stays_ready_through_clears() {
        let poller = Poller::new().unwrap();
        let mut reactor = Reactor::new();
        let (_peer, fd) = UnixStream::pair().unwrap();
        let key = reactor.register(&poller, fd.as_raw_fd(), INTEREST_READ | INTEREST_WRITE, 1).unwrap();
        reactor.apply(&[readable(key, false)], &mut Vec::new());
        reactor.clear_ready(key, INTEREST_READ);
        assert!(
            matches!(reactor.poll_ready(key, INTEREST_READ, |_| false), ReadyPoll::NeedsWaker),
            "cleared"
        );
        reactor.apply(&[readable(key, true)], &mut Vec::new());
        reactor.clear_ready(key, INTEREST_READ | INTEREST_WRITE);
        assert!(
            matches!(reactor.poll_ready(key, INTEREST_READ, |_| false), ReadyPoll::ReadyClosed),
            "closed stays"
        );
        assert!(
            matches!(reactor.poll_ready(key, INTEREST_WRITE, |_| false), ReadyPoll::NeedsWaker),
            "the other direction is not closed"
        );
    }

    /// An event still in flight for a removed registration finds nothing,
    /// even when a new registration took the same slot.
    #[test]
    fn a_stale_event_does_not_land_on_the_registration_that_reused_its_slot() {
        let poller = Poller::new().unwrap();
        let mut reactor = Reactor::new();
        let (_a, first) = UnixStream::pair().unwrap();
        let (_b, second) = UnixStream::pair().unwrap();
        let old = reactor.register(&poller, first.as_raw_fd(), INTEREST_READ, 1).unwrap();
        reactor.deregister(&poller, old, first.as_raw_fd()).unwrap();
        let new = reactor.register(&poller, second.as_raw_fd(), INTEREST_READ, 1).unwrap();
        assert_eq!(new.index, old.index, "the slot is reused");
        let stale = readable(old, false);
        reactor.apply(&[stale], &mut Vec::new());
        assert!(
            matches!(reactor.poll_ready(new, INTEREST_READ, |_| false), ReadyPoll::NeedsWaker),
            "not ready"
        );
        let fresh = readable(new, false);
        reactor.apply(&[fresh], &mut Vec::new());
        assert!(matches!(reactor.poll_ready(new, INTEREST_READ, |_| false), ReadyPoll::Ready));
        assert!(
            matches!(reactor.poll_ready(old, INTEREST_READ, |_| false), ReadyPoll::Gone),
            "the old key is gone"
        );
    }
}
