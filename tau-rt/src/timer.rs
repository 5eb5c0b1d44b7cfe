//! The timer queue: a slab of entries and a min-heap of deadlines. Moving or
//! cancelling a timer leaves a stale heap entry that is skipped when it
//! surfaces; the heap is rebuilt when stale entries dominate.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::abi::FfiWaker;
use crate::clock::NEVER;
use crate::slab::Slab;

struct TimerEntry {
    deadline: u64,
    /// The scope (plugin) whose code registered it; see `Runtime::scope`.
    owner: u32,
    waker: Option<FfiWaker>,
    fired: bool,
}

pub(crate) struct Timers {
    entries: Slab<TimerEntry>,
    heap: BinaryHeap<Reverse<(u64, u64)>>,
}

/// What `poll` decided; wakers to drop are handed back so that the caller
/// drops them outside any borrow of the runtime.
pub(crate) enum TimerPoll {
    Fired,
    Pending(Option<FfiWaker>),
}

impl Timers {
    pub(crate) fn new() -> Self {
        Timers { entries: Slab::new(), heap: BinaryHeap::new() }
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn poll(&mut self, key: &mut u64, deadline: u64, waker: &FfiWaker, owner: u32) -> TimerPoll {
        if let Some(entry) = self.entries.get_mut(*key) {
            if entry.fired {
                self.entries.remove(*key);
                *key = 0;
                return TimerPoll::Fired;
            }
            let mut replaced = None;
            if !entry.waker.as_ref().is_some_and(|w| w.will_wake(waker)) {
                replaced = entry.waker.replace(waker.clone());
            }
            if entry.deadline != deadline {
                entry.deadline = deadline;
                if deadline != NEVER {
                    self.heap.push(Reverse((deadline, *key)));
                    self.compact_if_stale();
                }
            }
            return TimerPoll::Pending(replaced);
        }
        let entry = TimerEntry { deadline, owner, waker: Some(waker.clone()), fired: false };
        *key = self.entries.insert(entry);
        if deadline != NEVER {
            self.heap.push(Reverse((deadline, *key)));
            self.compact_if_stale();
        }
        TimerPoll::Pending(None)
    }

    pub(crate) fn cancel(&mut self, key: u64) -> Option<FfiWaker> {
        self.entries.remove(key).and_then(|entry| entry.waker)
    }

    /// Marks every timer due at `now` fired and returns their wakers.
    pub(crate) fn fire_due(&mut self, now: u64, wakers: &mut Vec<FfiWaker>) {
        while let Some(&Reverse((deadline, key))) = self.heap.peek() {
            if deadline > now {
                break;
            }
            self.heap.pop();
            if let Some(entry) = self.entries.get_mut(key) {
                if entry.deadline == deadline && !entry.fired {
                    entry.fired = true;
                    wakers.extend(entry.waker.take());
                }
            }
        }
    }

    /// The earliest live deadline, dropping stale heap entries on the way.
    pub(crate) fn next_deadline(&mut self) -> Option<u64> {
        while let Some(&Reverse((deadline, key))) = self.heap.peek() {
            match self.entries.get_mut(key) {
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
                .map(|(key, entry)| Reverse((entry.deadline, key)))
                .collect();
            self.heap = BinaryHeap::from(live);
        }
    }
}
