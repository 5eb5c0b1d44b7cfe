//! The scheduler: the task slab and the run queue, touched only by the
//! thread that drives the runtime.
//!
//! Each slot's flags, and what they promise:
//! - `scheduled`: the task's index is in the run queue (once); a wake of a
//!   scheduled task adds nothing. Cleared when the task is taken to be polled.
//! - `running`: the task is inside its `poll` right now. Such a task is not
//!   removed (its future is in use): an abort only sets `abort_requested`,
//!   and the task is cancelled when its poll returns.
//!
//! A task woken while it runs woke itself: it yields (`yield_now`, a spent
//! coop budget). Its index waits in `deferred`, not the run queue, until
//! the driver has looked at the reactor ([`release_deferred`]), as tokio
//! defers a yield's wake until its driver is polled: a task that yields in
//! a loop waiting for IO sees that IO after one yield, not after hundreds.
//!
//! [`release_deferred`]: Scheduler::release_deferred
//!
//! The scheduler only moves slots; what finishing a task means (its
//! `cancel` and `release`, its scope's count) is the runtime's, done
//! outside the scheduler's borrows because it runs plugin code.

use crate::abi::RawTask;
use crate::key::Key;
use crate::scope::ScopePtr;
use crate::slab::Slab;
use std::cell::RefCell;
use std::collections::VecDeque;

pub(crate) struct TaskSlot {
    pub(crate) task: RawTask,
    /// The scope it was spawned through (and counted in).
    pub(crate) scope: ScopePtr,
    scheduled: bool,
    running: bool,
    abort_requested: bool,
}

/// What a finished poll left.
pub(crate) enum Retired {
    /// The task returned `POLL_READY`: it completed (value, panic, or abort seen).
    Completed(TaskSlot),
    /// It was aborted while it ran: cancel it.
    Aborted(TaskSlot),
}

#[derive(Default)]
pub(crate) struct Scheduler {
    tasks: RefCell<Slab<TaskSlot>>,
    run_queue: RefCell<VecDeque<u32>>,
    /// Scheduled tasks that woke themselves in their poll: queued after
    /// the next reactor turn.
    deferred: RefCell<Vec<u32>>,
}

impl Scheduler {
    pub(crate) fn len(&self) -> usize {
        self.tasks.borrow().len()
    }

    /// Adds a task, scheduled to run.
    pub(crate) fn insert(&self, task: RawTask, scope: ScopePtr) -> Key {
        let slot = TaskSlot { task, scope, scheduled: true, running: false, abort_requested: false };
        let key = self.tasks.borrow_mut().insert(slot);
        self.run_queue.borrow_mut().push_back(key.index);
        key
    }

    /// Schedules the task in `index` if its generation matches (a stale
    /// waker finds nothing).
    pub(crate) fn wake(&self, index: u32, short_generation: u16) {
        let mut tasks = self.tasks.borrow_mut();
        if let Some((_, slot)) = tasks.get_mut_short(index, short_generation) {
            if !slot.scheduled {
                slot.scheduled = true;
                if slot.running {
                    self.deferred.borrow_mut().push(index);
                } else {
                    self.run_queue.borrow_mut().push_back(index);
                }
            }
        }
    }

    pub(crate) fn has_scheduled(&self) -> bool {
        !self.run_queue.borrow().is_empty()
    }

    /// Whether a task yielded and waits for the reactor to be looked at.
    pub(crate) fn has_deferred(&self) -> bool {
        !self.deferred.borrow().is_empty()
    }

    /// Queues the tasks that yielded: the driver has looked at the reactor.
    pub(crate) fn release_deferred(&self) {
        let mut deferred = self.deferred.borrow_mut();
        self.run_queue.borrow_mut().extend(deferred.drain(..));
    }

    /// Takes the next scheduled task to poll; it is `running` until
    /// [`finish_poll`](Self::finish_poll).
    pub(crate) fn next(&self) -> Option<(Key, RawTask, ScopePtr)> {
        let mut tasks = self.tasks.borrow_mut();
        loop {
            let index = self.run_queue.borrow_mut().pop_front()?;
            let Some((key, slot)) = tasks.get_mut_at(index) else { continue };
            if !slot.scheduled {
                continue; // a stale queue entry
            }
            slot.scheduled = false;
            slot.running = true;
            return Some((key, slot.task, slot.scope));
        }
    }

    /// After the task `key` was polled: removes it if it completed or was
    /// aborted meanwhile.
    pub(crate) fn finish_poll(&self, key: Key, completed: bool) -> Option<Retired> {
        let mut tasks = self.tasks.borrow_mut();
        let slot = tasks.get_mut(key)?;
        slot.running = false;
        if completed {
            return tasks.remove(key).map(Retired::Completed);
        }
        if slot.abort_requested {
            return tasks.remove(key).map(Retired::Aborted);
        }
        None
    }

    /// Aborts `key`: an idle task is removed and returned (to cancel), a
    /// running one is marked and cancelled when its poll returns.
    pub(crate) fn abort(&self, key: Key) -> Option<TaskSlot> {
        let mut tasks = self.tasks.borrow_mut();
        let slot = tasks.get_mut(key)?;
        if slot.running {
            slot.abort_requested = true;
            return None;
        }
        tasks.remove(key)
    }

    /// Aborts every task `pick` selects: returns the idle ones (removed, to
    /// cancel) and how many running ones were marked.
    pub(crate) fn abort_where(&self, pick: impl Fn(&TaskSlot) -> bool) -> (Vec<TaskSlot>, usize) {
        let mut tasks = self.tasks.borrow_mut();
        let mut marked = 0;
        for (_, slot) in tasks.iter_mut() {
            if slot.running && !slot.abort_requested && pick(slot) {
                slot.abort_requested = true;
                marked += 1;
            }
        }
        (tasks.remove_where(|slot| !slot.running && pick(slot)), marked)
    }

    /// Empties the run queue (shutdown).
    pub(crate) fn clear_queue(&self) {
        self.run_queue.borrow_mut().clear();
        self.deferred.borrow_mut().clear();
    }
}
