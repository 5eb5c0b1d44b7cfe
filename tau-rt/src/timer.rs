//! The timer queue: a slab of entries and a min-heap of deadlines. Moving or
//! cancelling a timer leaves a stale heap entry that is skipped when it
//! surfaces; the heap is rebuilt when stale entries dominate.
//!
//! No waker is cloned or dropped here: `poll` says whether the stored waker
//! needs replacing, and every waker leaving the queue is handed back, so
//! that the runtime runs waker code (which may be foreign, and may call back
//! into the runtime) outside its borrow of the queue.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::abi::FfiWaker;
use crate::clock::NEVER;
use crate::key::Key;
use crate::slab::Slab;

struct TimerEntry {
    deadline: u64,
    /// The scope (plugin) whose code registered it.
    owner: u32,
    waker: Option<FfiWaker>,
    fired: bool,
}

pub(crate) struct Timers {
    entries: Slab<TimerEntry>,
    heap: BinaryHeap<Reverse<(u64, u64)>>,
}

/// What `poll` found.
pub(crate) enum TimerPoll {
    /// The deadline passed: the entry is gone (with its waker, to drop).
    Fired(Option<FfiWaker>),
    /// Waiting, with the caller's waker already stored.
    Pending,
    /// Waiting: store a clone of the caller's waker with `set_waker`.
    NeedsWaker(Key),
}

impl Timers {
    pub(crate) fn new() -> Self {
        Timers { entries: Slab::new(), heap: BinaryHeap::new() }
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Polls the timer `*key` (0: not registered yet, registered now) for
    /// `deadline`. A deadline that moved since the last poll (`Sleep::reset`)
    /// re-arms the timer even if it had fired: it fires for the new deadline,
    /// at once if that has passed (`now` is read only then).
    pub(crate) fn poll(
        &mut self,
        key: &mut u64,
        deadline: u64,
        owner: u32,
        now: impl FnOnce() -> u64,
        stored_wakes_caller: impl FnOnce(&FfiWaker) -> bool,
    ) -> TimerPoll {
        let current = Key::from_raw(*key);
        let Some(entry) = (*key != 0).then(|| self.entries.get_mut(current)).flatten() else {
            let registered = self.entries.insert(TimerEntry { deadline, owner, waker: None, fired: false });
            *key = registered.into_raw();
            self.schedule(deadline, registered);
            return TimerPoll::NeedsWaker(registered);
        };
        if entry.deadline != deadline {
            entry.deadline = deadline;
            entry.fired = deadline <= now();
            if !entry.fired {
                self.schedule(deadline, current);
            }
        }
        let entry = self.entries.get_mut(current).expect("just found");
        if entry.fired {
            *key = 0;
            let removed = self.entries.remove(current).expect("just found");
            return TimerPoll::Fired(removed.waker);
        }
        if entry.waker.as_ref().is_some_and(stored_wakes_caller) {
            TimerPoll::Pending
        } else {
            TimerPoll::NeedsWaker(current)
        }
    }

    /// Stores `waker` for the timer `key`; returns the one it replaces (or
    /// `waker` itself, if the timer is gone), for the caller to drop.
    pub(crate) fn set_waker(&mut self, key: Key, waker: FfiWaker) -> Option<FfiWaker> {
        match self.entries.get_mut(key) {
            Some(entry) if !entry.fired => entry.waker.replace(waker),
            _ => Some(waker),
        }
    }

    fn schedule(&mut self, deadline: u64, key: Key) {
        if deadline != NEVER {
            self.heap.push(Reverse((deadline, key.into_raw())));
            self.compact_if_stale();
        }
    }

    /// Removes the timer; returns its waker for the caller to drop.
    pub(crate) fn cancel(&mut self, key: Key) -> Option<FfiWaker> {
        self.entries.remove(key).and_then(|entry| entry.waker)
    }

    /// Marks every timer due at `now` fired and moves their wakers to `wakers`.
    pub(crate) fn fire_due(&mut self, now: u64, wakers: &mut Vec<FfiWaker>) {
        while let Some(&Reverse((deadline, raw))) = self.heap.peek() {
            if deadline > now {
                break;
            }
            self.heap.pop();
            if let Some(entry) = self.entries.get_mut(Key::from_raw(raw)) {
                if entry.deadline == deadline && !entry.fired {
                    entry.fired = true;
                    wakers.extend(entry.waker.take());
                }
            }
        }
    }

    /// The earliest live deadline, dropping stale heap entries on the way.
    pub(crate) fn next_deadline(&mut self) -> Option<u64> {
        while let Some(&Reverse((deadline, raw))) = self.heap.peek() {
            match self.entries.get_mut(Key::from_raw(raw)) {
                Some(entry) if entry.deadline == deadline && !entry.fired => return Some(deadline),
                _ => {
                    self.heap.pop();
                }
            }
        }
        None
    }

    /// Removes every timer and returns their wakers (shutdown).
    pub(crate) fn drain(&mut self) -> Vec<FfiWaker> {
        self.heap.clear();
        self.entries.drain().into_iter().filter_map(|entry| entry.waker).collect()
    }

    pub(crate) fn count_owned(&self, owner: u32) -> usize {
        self.entries.iter().filter(|(_, entry)| entry.owner == owner).count()
    }

    /// Removes the timers `owner` registered and returns their wakers.
    pub(crate) fn drain_owned(&mut self, owner: u32) -> Vec<FfiWaker> {
        let removed = self.entries.remove_where(|entry| entry.owner == owner);
        removed.into_iter().filter_map(|entry| entry.waker).collect()
    }

    fn compact_if_stale(&mut self) {
        if self.heap.len() > 64 && self.heap.len() > 4 * self.entries.len() {
            let live: Vec<_> = self
                .entries
                .iter()
                .filter(|(_, entry)| !entry.fired && entry.deadline != NEVER)
                .map(|(key, entry)| Reverse((entry.deadline, key.into_raw())))
                .collect();
            self.heap = BinaryHeap::from(live);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noop_waker() -> FfiWaker {
        unsafe extern "C" fn clone(data: *const std::ffi::c_void) -> FfiWaker {
            FfiWaker { data, vtable: &NOOP }
        }
        unsafe extern "C" fn noop(_: *const std::ffi::c_void) {}
        static NOOP: crate::abi::FfiWakerVTable =
            crate::abi::FfiWakerVTable { clone, wake: noop, wake_by_ref: noop, drop: noop };
        FfiWaker { data: std::ptr::null(), vtable: &NOOP }
    }

    fn poll(timers: &mut Timers, key: &mut u64, deadline: u64, now: u64) -> &'static str {
        match timers.poll(key, deadline, 1, || now, |_| true) {
            TimerPoll::Fired(_) => "fired",
            TimerPoll::Pending => "pending",
            TimerPoll::NeedsWaker(registered) => {
                assert!(timers.set_waker(registered, noop_waker()).is_none());
                "registered"
            }
        }
    }

    #[test]
    fn a_fired_timer_whose_deadline_moved_waits_for_the_new_one() {
        let mut timers = Timers::new();
        let mut key = 0;
        assert_eq!(poll(&mut timers, &mut key, 100, 0), "registered");
        let mut woken = Vec::new();
        timers.fire_due(150, &mut woken);
        assert_eq!(woken.len(), 1);
        // `Sleep::reset` to 300 after the timer fired, then a poll at 160.
        assert_eq!(poll(&mut timers, &mut key, 300, 160), "registered");
        timers.fire_due(299, &mut woken);
        assert_eq!(woken.len(), 1, "not before the new deadline");
        assert_eq!(timers.next_deadline(), Some(300));
        timers.fire_due(300, &mut woken);
        assert_eq!(woken.len(), 2);
        assert_eq!(poll(&mut timers, &mut key, 300, 300), "fired");
        assert_eq!((key, timers.len()), (0, 0));
    }

    #[test]
    fn a_deadline_moved_into_the_past_fires_at_once() {
        let mut timers = Timers::new();
        let mut key = 0;
        assert_eq!(poll(&mut timers, &mut key, 500, 0), "registered");
        assert_eq!(poll(&mut timers, &mut key, 50, 100), "fired");
        assert_eq!(timers.next_deadline(), None, "the old deadline is stale");
    }
}
