//! The IO reactor: edge-triggered registrations with one readiness bit and
//! one stored waker per direction.

use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

use crate::poller::{Event, Poller};

use crate::abi::{FfiWaker, INTEREST_READ, INTEREST_WRITE};
use crate::slab::{key_parts, Slab};

struct Registration {
    fd: RawFd,
    /// The scope (plugin) whose code registered it; see `Runtime::scope`.
    owner: u32,
    ready: u8,
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
    ) -> io::Result<u64> {
        let key = self.registrations.insert(Registration {
            fd,
            owner,
            ready: 0,
            read_waker: None,
            write_waker: None,
        });
        let (index, _) = key_parts(key);
        // The caller (AsyncFd) keeps the fd open until it deregisters, which it
        // does in Drop before the fd can be closed by its owner.
        let added =
            poller.add(fd, index as usize, interest & INTEREST_READ != 0, interest & INTEREST_WRITE != 0);
        if let Err(error) = added {
            self.registrations.remove(key);
            return Err(error);
        }
        Ok(key)
    }

    /// Returns true if ready; otherwise stores the waker and hands back a
    /// replaced one for the caller to drop outside the borrow.
    pub(crate) fn poll_ready(
        &mut self,
        key: u64,
        direction: u8,
        waker: &FfiWaker,
    ) -> (bool, Option<FfiWaker>) {
        let Some(registration) = self.registrations.get_mut(key) else {
            // Deregistered: report ready so the caller's IO call surfaces the error.
            return (true, None);
        };
        if registration.ready & direction != 0 {
            return (true, None);
        }
        let slot = registration.waker_slot(direction);
        if slot.as_ref().is_some_and(|stored| stored.will_wake(waker)) {
            return (false, None);
        }
        (false, slot.replace(waker.clone()))
    }

    pub(crate) fn clear_ready(&mut self, key: u64, direction: u8) {
        if let Some(registration) = self.registrations.get_mut(key) {
            registration.ready &= !direction;
        }
    }

    /// Removes the registration; returns its wakers for dropping.
    pub(crate) fn deregister(&mut self, poller: &Poller, key: u64) -> io::Result<Vec<FfiWaker>> {
        let registration = self
            .registrations
            .remove(key)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "not registered"))?;
        // The fd is still open (the owner deregisters before closing); if it
        // was closed early, `delete` fails with EBADF, which we report.
        let result = poller.delete(registration.fd);
        let wakers = [registration.read_waker, registration.write_waker].into_iter().flatten().collect();
        result.map(|()| wakers)
    }

    /// Waits for events (up to `timeout`) and collects the wakers to wake.
    pub(crate) fn turn(
        &mut self,
        poller: &Poller,
        timeout: Option<Duration>,
        wakers: &mut Vec<FfiWaker>,
    ) -> io::Result<()> {
        self.events.clear();
        poller.wait(&mut self.events, timeout)?;
        for event in &self.events {
            let Some(registration) = self.registrations.get_mut_by_index(event.key as u32) else {
                continue;
            };
            if event.readable {
                registration.ready |= INTEREST_READ;
                wakers.extend(registration.read_waker.take());
            }
            if event.writable {
                registration.ready |= INTEREST_WRITE;
                wakers.extend(registration.write_waker.take());
            }
        }
        Ok(())
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
            // Errors (fd already closed) are ignored: the registration is gone either way.
            let _ = poller.delete(registration.fd);
            wakers.extend(registration.read_waker);
            wakers.extend(registration.write_waker);
        }
        wakers
    }
}
