//! Scopes: the views of one runtime through which each owner (the host, or
//! one plugin) reaches it. Every task, timer, IO registration and blocking
//! job is tagged with the scope it came through, so that one owner's work
//! can be counted, awaited and revoked.
//!
//! A scope is reference-counted: the table handed to the owner's code is
//! the scope itself (its `rt` points here), and every value that keeps the
//! table (a task, a `Sleep`, an `AsyncFd`, a `Handle`) holds a reference
//! taken with `retain`. Revoking a scope (a plugin's unload) does not free
//! it: it refuses new work through it and ends what it had, and its memory
//! lives as long as anything can reach it.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::abi::{FfiWaker, RtContext, RuntimeMetrics, RuntimeTable};
use crate::runtime::Shared;

pub(crate) struct Scope {
    /// The table handed to the owner's code; its `rt` is this scope.
    table: RuntimeTable,
    pub(crate) shared: Arc<Shared>,
    pub(crate) owner: u32,
    /// Set by `revoke`: nothing more is accepted through this scope.
    revoked: AtomicBool,
    /// Whether `tasks` is kept: for owners' scopes, which are counted,
    /// awaited and revoked. The runtime's own scope is kept alive by the
    /// `Runtime` for as long as it can have tasks, and nothing asks for
    /// its count, so its tasks skip the two atomic operations.
    counts_tasks: bool,
    /// Tasks spawned through this scope and not finished, counting spawns
    /// still queued from other threads. While it is not zero the scope holds
    /// a reference to itself (taken as it leaves zero, given back as it
    /// returns to zero), which keeps it alive for the runtime's task slots
    /// and queued spawns: they point at it without a reference each.
    tasks: AtomicUsize,
    /// Woken when `tasks` drops to zero.
    idle_waiters: Mutex<Vec<FfiWaker>>,
}

impl Drop for Scope {
    fn drop(&mut self) {
        // Its address may be a new scope's next: as an owner of signal
        // subscriptions it is gone (a revoke said so already).
        crate::signal::forget_owner(self as *const Scope as usize);
    }
}

impl Scope {
    pub(crate) fn new(shared: Arc<Shared>, owner: u32) -> Arc<Scope> {
        Arc::new_cyclic(|weak| Scope {
            table: crate::table::build(weak.as_ptr() as *const RtContext),
            shared,
            owner,
            revoked: AtomicBool::new(false),
            counts_tasks: owner != crate::RUNTIME_OWNER,
            tasks: AtomicUsize::new(0),
            idle_waiters: Mutex::new(Vec::new()),
        })
    }

    /// # Safety
    /// `rt` is the context of a live scope's table (the caller holds a reference).
    pub(crate) unsafe fn from_rt<'a>(rt: *const RtContext) -> &'a Scope {
        // SAFETY: per the contract, `rt` points to a live `Scope`.
        unsafe { &*(rt as *const Scope) }
    }

    pub(crate) fn table(&self) -> &RuntimeTable {
        &self.table
    }

    /// True once nothing more is accepted through this scope: it was
    /// revoked, or its runtime shut down.
    pub(crate) fn is_gone(&self) -> bool {
        self.revoked.load(Ordering::Acquire) || self.shared.is_shut_down()
    }

    /// Refuses everything through this scope from now on. Only the
    /// driver's revoke calls it, in the same step as the cancellation.
    pub(crate) fn mark_revoked(&self) {
        self.revoked.store(true, Ordering::Release);
    }

    pub(crate) fn alive_tasks(&self) -> usize {
        self.tasks.load(Ordering::Acquire)
    }

    /// Counts a new task. The caller holds a reference to the scope.
    pub(crate) fn task_started(&self) {
        if self.counts_tasks && self.tasks.fetch_add(1, Ordering::AcqRel) == 0 {
            // SAFETY: `self` lives in an `Arc` (every scope does), kept
            // alive now by the caller's reference.
            unsafe { Arc::increment_strong_count(self as *const Scope) };
        }
    }

    /// A task of this scope finished or was cancelled (or a spawn was
    /// refused). May free the scope: the caller must not use it afterwards.
    pub(crate) fn task_ended(&self) {
        if self.counts_tasks && self.tasks.fetch_sub(1, Ordering::AcqRel) == 1 {
            let waiters = std::mem::take(&mut *self.lock_waiters());
            for waiter in waiters {
                waiter.wake();
            }
            // SAFETY: gives back the reference `task_started` took as the
            // count left zero; nothing of `self` is used after it.
            unsafe { Arc::decrement_strong_count(self as *const Scope) };
        }
    }

    fn lock_waiters(&self) -> std::sync::MutexGuard<'_, Vec<FfiWaker>> {
        self.idle_waiters.lock().unwrap_or_else(|poison| poison.into_inner())
    }

    /// True if no task of this scope is alive; otherwise keeps `waker` to
    /// be woken when the last one ends. Any thread.
    pub(crate) fn poll_idle(&self, waker: &FfiWaker) -> bool {
        let known = {
            let waiters = self.lock_waiters();
            if self.tasks.load(Ordering::Acquire) == 0 {
                return true;
            }
            waiters.iter().any(|stored| stored.will_wake(waker))
        };
        if known {
            return false;
        }
        // Cloned outside the lock: a foreign waker's clone is foreign code.
        let clone = waker.clone();
        let mut waiters = self.lock_waiters();
        if self.tasks.load(Ordering::Acquire) == 0 {
            drop(waiters);
            drop(clone);
            return true;
        }
        waiters.push(clone);
        false
    }
}

/// A table through which one owner's code (a plugin's) reaches a runtime,
/// made by [`Runtime::scope`](crate::Runtime::scope). Tasks spawned, timers
/// and IO registered and blocking jobs run through it are tagged with its
/// owner, so that they can be counted ([`metrics`](Self::metrics)), awaited
/// ([`poll_idle`](Self::poll_idle)) and ended ([`revoke`](Self::revoke)).
///
/// The table stays valid while this value, or any reference taken through
/// the table's `retain`, lives: values the owner's code made (a stream
/// handed to the host, a `Sleep`, a task's handle) keep it alive past the
/// owner's unload and see it revoked.
pub struct RuntimeScope {
    pub(crate) scope: Arc<Scope>,
}

impl RuntimeScope {
    pub(crate) fn new(scope: Arc<Scope>) -> RuntimeScope {
        RuntimeScope { scope }
    }

    /// The table to hand to the owner's code.
    pub fn table(&self) -> &RuntimeTable {
        self.scope.table()
    }

    /// The owner this scope tags.
    pub fn owner(&self) -> u32 {
        self.scope.owner
    }

    /// True once [`revoke`](Self::revoke) was called (or the runtime shut down).
    pub fn is_revoked(&self) -> bool {
        self.scope.is_gone()
    }

    /// Ends the owner's work, in one step on the driver: from now on spawns
    /// through the scope are cancelled at once, blocking jobs refused,
    /// timers and IO registrations report the scope gone; its tasks are
    /// cancelled (their futures
    /// dropped on the driver thread, a task in the middle of a poll right
    /// after it), and its timers and IO registrations are removed, their
    /// waiters woken so that they see it; last, its terminal subscriptions
    /// end (raw mode it wanted is let go). Returns how many tasks were
    /// cancelled.
    ///
    /// Runs on the thread that drives the runtime: handed to it if another
    /// thread drives (this call waits for it), on this thread if none does.
    /// Blocking jobs are not waited for here: see
    /// [`cancel_blocking`](Self::cancel_blocking).
    pub fn revoke(&self) -> usize {
        // Marked revoked by the driver as it cancels, not here before: a
        // task of the scope polled in between would find its timers gone
        // and could loop on them forever, never letting the driver get to
        // the revoke.
        let scope = Arc::clone(&self.scope);
        let cancelled =
            self.scope.shared.on_driver(move |driver| driver.revoke(&scope)).unwrap_or_else(|| {
                self.scope.mark_revoked(); // shut down: nothing left to cancel
                0
            });
        // After the tasks' drops (which may still let go of raw mode
        // themselves): the owner's terminal subscriptions end, and the
        // terminal's mode follows the wishes of those left.
        crate::tty::release_scope(Arc::as_ptr(&self.scope) as usize);
        // The owner subscribes to no signal again: once its subscriptions
        // are dropped, a signal's previous action may come back.
        crate::signal::forget_owner(Arc::as_ptr(&self.scope) as usize);
        cancelled
    }

    /// Drops the owner's blocking jobs that have not started and waits up
    /// to `timeout` for its running ones; returns how many still run.
    pub fn cancel_blocking(&self, timeout: Duration) -> usize {
        self.scope.shared.blocking().cancel_owned(self.scope.owner, timeout)
    }

    /// Counts of what the owner has alive in the runtime (`remote_notifies`
    /// and the blocking-pool counts are the runtime's). Exact: handed to the
    /// driver like [`revoke`](Self::revoke).
    pub fn metrics(&self) -> RuntimeMetrics {
        let scope = Arc::clone(&self.scope);
        self.scope.shared.on_driver(move |shared| shared.owned_metrics(&scope)).unwrap_or_default()
    }

    /// Tasks of the owner alive now (spawned, not finished, including spawns
    /// queued from other threads). Any thread, without waiting.
    pub fn alive_tasks(&self) -> usize {
        self.scope.alive_tasks()
    }

    /// True if the owner has no task alive; otherwise keeps `waker`, to be
    /// woken when its last task ends. Any thread.
    pub fn poll_idle(&self, waker: &FfiWaker) -> bool {
        self.scope.poll_idle(waker)
    }
}

impl std::fmt::Debug for RuntimeScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeScope")
            .field("owner", &self.scope.owner)
            .field("revoked", &self.is_revoked())
            .field("alive_tasks", &self.alive_tasks())
            .finish()
    }
}

/// A scope named by the runtime's task slots and queued spawns, without a
/// reference of its own: valid while its task count is not zero (see
/// `Scope::tasks`), which is as long as the slot or queued spawn exists;
/// the runtime's own scope, uncounted, lives as long as the `Runtime`,
/// whose shutdown ends every slot and queued spawn first.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct ScopePtr(*const Scope);

// SAFETY: a pointer to a `Scope`, which is Send + Sync.
unsafe impl Send for ScopePtr {}
// SAFETY: as above.
unsafe impl Sync for ScopePtr {}

impl ScopePtr {
    pub(crate) fn of(scope: &Scope) -> ScopePtr {
        ScopePtr(scope)
    }

    /// The scope; valid while a task it counts exists (see the type's docs).
    pub(crate) fn get(&self) -> &Scope {
        // SAFETY: per the type's invariant, the pointee is alive.
        unsafe { &*self.0 }
    }
}
