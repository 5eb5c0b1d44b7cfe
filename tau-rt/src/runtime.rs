//! The runtime: one executor, one timer queue and one reactor, driven by
//! whichever thread holds the driver role (the one inside `block_on`, or
//! one that took the role for an urgent operation while nobody drove).
//!
//! Everything in [`Core`] is touched only by the driving thread, without
//! atomics or locks: it is reached only through a [`Driver`], the proof
//! (checked once, where it is made) that this thread holds the role. Other threads reach the runtime through the driver's
//! queue (`driver::Handover`), which wakes the driver through the poller's
//! notify; a burst of remote operations costs one notify.

use std::cell::{Cell, RefCell};
use std::io;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::os::fd::RawFd;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::abi::{
    BlockOnStatus, BlockingJob, FfiWaker, PollStatus, RawFuture, RawTask, RuntimeMetrics, RuntimeTable,
    BLOCK_ON_BUSY, BLOCK_ON_DONE, BLOCK_ON_NESTED, CLEAR_DRAINED, POLL_GONE, POLL_PENDING, POLL_READY,
    POLL_READY_CLOSED,
};
use crate::blocking::BlockingPool;
use crate::clock;
use crate::coop::CurrentPoll;
use crate::driver::{self, DriverGuard, Handover};
use crate::key::{Key, WakerWord};
use crate::poller::Poller;
use crate::reactor::{Reactor, ReadyPoll};
use crate::remote::{RemoteOp, WakeFlags};
use crate::running;
use crate::scheduler::{Retired, Scheduler, TaskSlot};
use crate::scope::{RuntimeScope, Scope, ScopePtr};
use crate::timer::{TimerPoll, Timers};
use crate::waker::{self, MAIN_INDEX};

/// Tasks polled between two looks at timers, remote queue and reactor.
const TASKS_PER_TICK: usize = 256;
/// Busy ticks between two non-blocking reactor polls.
const TICKS_PER_REACTOR_POLL: u32 = 8;

const DROP_ON_DRIVER_MESSAGE: &str = "Cannot drop a runtime in a context where blocking is not allowed. \
This happens when a runtime is dropped from within an asynchronous context (a task, or the future of \
its own `block_on`). Drop it after `block_on` returns, or from another thread.";

/// State owned by the driving thread.
struct Core {
    scheduler: Scheduler,
    timers: RefCell<Timers>,
    reactor: RefCell<Reactor>,
    main_woken: Cell<bool>,
    spare_ops: RefCell<Vec<RemoteOp>>,
    /// The task being polled, and its budget.
    current: CurrentPoll,
}

/// The own scopes of runtimes dropped on their own driver thread, which are
/// not shut down (the thread is busy running the code that drops them):
/// kept for the life of the process, so that their tasks' slots stay valid.
static ABANDONED: Mutex<Vec<Arc<Scope>>> = Mutex::new(Vec::new());

/// The owner of what is reached through [`Runtime::table`].
pub const RUNTIME_OWNER: u32 = 0;

pub(crate) struct Shared {
    slot: u16,
    poller: Poller,
    handover: Handover<RemoteOp, FfiWaker>,
    /// Set when an operation was queued since the driver last took the
    /// queue: the first one notifies the poller, the rest ride along.
    notified: AtomicBool,
    remote_notifies: AtomicU64,
    wake_flags: WakeFlags,
    shut_down: AtomicBool,
    next_task_id: AtomicU64,
    metrics_snapshot: Mutex<RuntimeMetrics>,
    blocking: BlockingPool,
    pub(crate) clock: clock::Clock,
    core: Core,
}

// SAFETY: `core` (the only non-Sync part) is reached only through a
// `Driver`, made only on a thread that holds the driver role (checked by
// `Shared::driver`, the contract of `driver_unchecked`); everything else is Sync.
unsafe impl Sync for Shared {}
// SAFETY: as above; the role moves between threads only through the
// hand-over's `driving` flag (Acquire/Release), which orders all accesses
// to `core`.
unsafe impl Send for Shared {}

/// Proof that this thread drives `shared`: checked once where it is made
/// ([`Shared::driver`]), it is the only way to the driver's state ([`Core`]).
/// Not `Send`: the role is this thread's.
#[derive(Clone, Copy)]
pub(crate) struct Driver<'a> {
    shared: &'a Shared,
    _not_send: PhantomData<*const ()>,
}

/// A tau runtime. Dropping it cancels every task (running their `Drop`),
/// wakes everything waiting on its timers and IO (which then see it gone),
/// and lets idle blocking threads go. Dropping it while another thread
/// drives it hands the shutdown to that thread.
///
/// # Panics
/// Dropping it on the thread that drives it (inside a task or its own
/// `block_on`) panics, as tokio does: that thread is busy running the code
/// that drops it.
pub struct Runtime {
    main: Arc<Scope>,
}

impl Runtime {
    /// Creates a runtime with its own executor, timer queue and reactor.
    pub fn new() -> io::Result<Runtime> {
        let poller = Poller::new()?;
        let clock = clock::Clock::new();
        let origin = clock.origin();
        let shared = Arc::new_cyclic(|weak: &std::sync::Weak<Shared>| Shared {
            slot: driver::register(weak.clone()),
            poller,
            handover: Handover::new(),
            notified: AtomicBool::new(false),
            remote_notifies: AtomicU64::new(0),
            wake_flags: WakeFlags::new(),
            shut_down: AtomicBool::new(false),
            next_task_id: AtomicU64::new(1),
            metrics_snapshot: Mutex::new(RuntimeMetrics::default()),
            blocking: BlockingPool::new(),
            clock,
            core: Core {
                scheduler: Scheduler::default(),
                timers: RefCell::new(Timers::new(origin)),
                reactor: RefCell::new(Reactor::new()),
                main_woken: Cell::new(false),
                spare_ops: RefCell::new(Vec::new()),
                current: CurrentPoll::default(),
            },
        });
        Ok(Runtime { main: Scope::new(shared, RUNTIME_OWNER) })
    }

    /// The C-ABI table through which all code, embedded or plugin, uses this
    /// runtime (owner [`RUNTIME_OWNER`]). Valid while this `Runtime` lives,
    /// or longer for holders of `retain`.
    pub fn table(&self) -> &RuntimeTable {
        self.main.table()
    }

    /// A table for one owner's code (a plugin): what it spawns and
    /// registers is tagged with `owner` (see [`RuntimeScope`]). Owners are
    /// the host's to choose; two live scopes should not share one.
    ///
    /// # Panics
    /// If `owner` is [`RUNTIME_OWNER`].
    pub fn scope(&self, owner: u32) -> RuntimeScope {
        assert_ne!(owner, RUNTIME_OWNER, "owner 0 is the runtime's own table");
        RuntimeScope::new(Scope::new(Arc::clone(&self.main.shared), owner))
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        let shared = &self.main.shared;
        if shared.is_driver_thread() {
            // No shutdown here: its tasks live on, and their slots name the
            // runtime's own scope without a reference, so it must stay.
            ABANDONED.lock().unwrap_or_else(|poison| poison.into_inner()).push(Arc::clone(&self.main));
            if std::thread::panicking() {
                return; // already unwinding: leave the runtime to its other owners
            }
            panic!("{DROP_ON_DRIVER_MESSAGE}");
        }
        shared.on_driver(|driver| driver.shutdown());
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        driver::unregister(self.slot);
    }
}

impl Shared {
    pub(crate) fn slot(&self) -> u16 {
        self.slot
    }

    pub(crate) fn handover(&self) -> &Handover<RemoteOp, FfiWaker> {
        &self.handover
    }

    pub(crate) fn blocking(&self) -> &BlockingPool {
        &self.blocking
    }

    pub(crate) fn is_driver_thread(&self) -> bool {
        driver::is_driving(self)
    }

    /// The driver's state, if this thread drives this runtime.
    pub(crate) fn driver(&self) -> Option<Driver<'_>> {
        // SAFETY: just checked.
        self.is_driver_thread().then(|| unsafe { self.driver_unchecked() })
    }

    /// The driver's state, without the check [`driver`](Self::driver) makes.
    ///
    /// # Safety
    ///
    /// This thread drives this runtime (it is `driver::driving()`, say).
    pub(crate) unsafe fn driver_unchecked(&self) -> Driver<'_> {
        debug_assert!(self.is_driver_thread());
        Driver { shared: self, _not_send: PhantomData }
    }

    pub(crate) fn is_shut_down(&self) -> bool {
        self.shut_down.load(Ordering::Acquire)
    }

    /// Queues `op` for the driver and wakes it; hands it back once the
    /// runtime has shut down.
    fn push_remote(&self, op: RemoteOp) -> Result<(), RemoteOp> {
        self.handover.push(op)?;
        self.notify();
        Ok(())
    }

    pub(crate) fn notify(&self) {
        if !self.notified.swap(true, Ordering::AcqRel) {
            self.remote_notifies.fetch_add(1, Ordering::Relaxed);
            // An error here means the poller is gone (shutdown); nothing to wake.
            let _ = self.poller.notify();
        }
    }

    /// Runs `op` on the driver thread and returns its result: at once on
    /// the driver thread; else handed to the thread that drives (this one
    /// waits for it), or run here after taking the role if none does.
    /// `None` once the runtime has shut down.
    pub(crate) fn on_driver<T: Send + 'static>(
        &self,
        op: impl FnOnce(Driver<'_>) -> T + Send + 'static,
    ) -> Option<T> {
        if let Some(driver) = self.driver() {
            return Some(op(driver));
        }
        type Outcome<T> = Option<std::thread::Result<T>>;
        let outcome: Arc<Mutex<Outcome<T>>> = Arc::new(Mutex::new(None));
        let job = {
            let outcome = Arc::clone(&outcome);
            Box::new(move |driver: Driver<'_>| {
                let result = catch_unwind(AssertUnwindSafe(|| op(driver)));
                *outcome.lock().unwrap_or_else(|poison| poison.into_inner()) = Some(result);
            })
        };
        let lock = |outcome: &Mutex<Outcome<T>>| {
            outcome.lock().unwrap_or_else(|poison| poison.into_inner()).is_some()
        };
        let handed = self.handover.hand_over(
            RemoteOp::Run(job),
            || lock(&outcome),
            |op| {
                let guard = DriverGuard::acquired(self);
                guard.driver().run_remote_ops(&mut vec![op]);
                drop(guard);
            },
            || self.notify(),
        );
        if handed.is_err() {
            return None; // shut down
        }
        let result = outcome.lock().unwrap_or_else(|poison| poison.into_inner()).take().expect("the job ran");
        Some(result.unwrap_or_else(|payload| resume_unwind(payload)))
    }

    // ----- tasks -------------------------------------------------------------

    pub(crate) fn spawn(&self, task: RawTask, scope: &Scope) -> u64 {
        let id = self.next_task_id.fetch_add(1, Ordering::Relaxed);
        if scope.is_gone() {
            // SAFETY: handed to us, never accepted nor counted.
            unsafe { end_task(task, None, false) };
            return id;
        }
        scope.task_started();
        let counted = ScopePtr::of(scope);
        if let Some(driver) = self.driver() {
            driver.spawn_local(task, id, counted);
        } else if let Err(RemoteOp::Spawn { task, scope, .. }) =
            self.push_remote(RemoteOp::Spawn { task, id, scope: counted })
        {
            // Shut down: no driver will ever run it; it completes as cancelled here.
            // SAFETY: handed back unaccepted, counted in `scope` above.
            unsafe { end_task(task, Some(scope), false) };
        }
        id
    }

    pub(crate) fn wake_remote(&self, word: WakerWord) {
        if self.wake_flags.notify(word) {
            // Queued even after shutdown: a `block_on` may still drive.
            let _ = self.push_remote(RemoteOp::Wake(word));
        }
    }

    pub(crate) fn abort(&self, key: Key) {
        match self.driver() {
            Some(driver) => driver.abort(key),
            // Refused only after shutdown, when every task is already cancelled.
            None => drop(self.push_remote(RemoteOp::Abort(key))),
        }
    }

    pub(crate) fn metrics(&self) -> RuntimeMetrics {
        let counts = match self.driver() {
            Some(driver) => driver.counts(),
            None => *self.metrics_snapshot.lock().unwrap_or_else(|poison| poison.into_inner()),
        };
        self.with_live_counts(counts)
    }

    /// `counts` with the counts any thread can read exactly filled in.
    fn with_live_counts(&self, counts: RuntimeMetrics) -> RuntimeMetrics {
        let (blocking_threads, idle_blocking_threads) = self.blocking.counts();
        RuntimeMetrics {
            remote_notifies: self.remote_notifies.load(Ordering::Relaxed),
            remote_queue_depth: self.handover.len() as u64,
            blocking_threads: blocking_threads as u64,
            idle_blocking_threads: idle_blocking_threads as u64,
            ..counts
        }
    }

    pub(crate) fn spawn_blocking(&self, job: BlockingJob, scope: &Scope) -> u64 {
        let id = self.next_task_id.fetch_add(1, Ordering::Relaxed);
        if scope.is_gone() {
            // SAFETY: the job was handed to us and is neither run nor dropped yet.
            unsafe { (job.drop)(job.data) };
            return id;
        }
        self.blocking.spawn(job, id, scope.owner, running::key_of(scope));
        id
    }

    // ----- driving -----------------------------------------------------------

    pub(crate) fn block_on(&self, future: RawFuture, park: &FfiWaker) -> BlockOnStatus {
        if !driver::driving().is_null() {
            return BLOCK_ON_NESTED;
        }
        loop {
            if let Some(guard) = DriverGuard::try_acquire(self) {
                guard.driver().run_until(&future);
                drop(guard);
                return BLOCK_ON_DONE;
            }
            // Another thread drives. The caller retries after every wake of
            // its future: keep one entry per parker. Cloned outside the lock.
            match self.handover.park(park.clone(), |parked| parked.will_wake(park)) {
                Ok(duplicate) => {
                    drop(duplicate);
                    return BLOCK_ON_BUSY;
                }
                Err(back) => drop(back), // it let go meanwhile: try again
            }
        }
    }

    // ----- timers and IO ------------------------------------------------------

    /// Cancels a timer from any thread: off the driver thread (a `Sleep`
    /// dropped by another thread) through the remote queue. Keys are
    /// generational, so a cancel that arrives late touches nothing else.
    pub(crate) fn timer_cancel(&self, key: Key) {
        match self.driver() {
            Some(driver) => driver.timer_cancel(key),
            // Refused only after shutdown, when the timers are gone anyway.
            None => drop(self.push_remote(RemoteOp::CancelTimer(key))),
        }
    }

    /// Deregisters `fd` (registered under `key`) from any thread. Off the
    /// driver thread the fd is deleted from the poller here, while the
    /// caller still holds it open, and only the bookkeeping is queued.
    /// Moves a timer from any thread, as [`timer_cancel`](Self::timer_cancel).
    pub(crate) fn timer_reset(&self, key: Key, deadline: u64) {
        match self.driver() {
            Some(driver) => driver.timer_reset(key, deadline),
            None => drop(self.push_remote(RemoteOp::ResetTimer(key, deadline))),
        }
    }

    pub(crate) fn io_deregister(&self, key: Key, fd: RawFd) -> io::Result<()> {
        if let Some(driver) = self.driver() {
            return driver.io_deregister(key, fd);
        }
        let deleted = self.poller.delete(fd);
        // Refused only after shutdown, which removed the registration already.
        let _ = self.push_remote(RemoteOp::ForgetIo(key));
        deleted
    }
}

impl<'a> Driver<'a> {
    fn core(self) -> &'a Core {
        &self.shared.core
    }

    /// Accepts a task counted in its scope by `spawn`.
    fn spawn_local(self, task: RawTask, id: u64, scope: ScopePtr) {
        if scope.get().is_gone() {
            // SAFETY: handed to us by `spawn`, counted in `scope`, never accepted.
            unsafe { end_task(task, Some(scope), false) };
            return;
        }
        let key = self.core().scheduler.insert(task, scope);
        self.shared.wake_flags.occupy(key);
        // SAFETY: the runtime holds a reference to the task until `release`.
        unsafe { ((*task.vtable).bind)(task.data, key.into_raw(), id) };
    }

    /// Ends a task the scheduler gave up.
    fn retire(self, slot: TaskSlot, completed: bool) {
        // SAFETY: the slot held the runtime's reference and its count in its scope.
        unsafe { end_task(slot.task, Some(slot.scope), completed) };
    }

    pub(crate) fn wake(self, word: WakerWord) {
        if word.index == MAIN_INDEX {
            self.core().main_woken.set(true);
        } else {
            self.core().scheduler.wake(word.index, word.short_generation);
        }
    }

    /// The counts only the driver can read; other threads see the ones it
    /// published at its last park.
    fn counts(self) -> RuntimeMetrics {
        RuntimeMetrics {
            alive_tasks: self.core().scheduler.len() as u64,
            timers: self.core().timers.borrow().len() as u64,
            io_registrations: self.core().reactor.borrow().len() as u64,
            ..RuntimeMetrics::default()
        }
    }

    /// At each park: cheap, it locks nothing but the snapshot.
    fn publish_metrics(self) {
        *self.shared.metrics_snapshot.lock().unwrap_or_else(|poison| poison.into_inner()) = self.counts();
    }

    /// see [`RuntimeScope::revoke`]. Marks the scope revoked here, on the
    /// driver, in the same step as the cancellation: no task of the scope
    /// can be polled between the two, to find its timers and IO gone while
    /// it is not yet cancelled (and loop on them, never returning the
    /// thread to the driver).
    pub(crate) fn revoke(self, scope: &Scope) -> usize {
        scope.mark_revoked();
        // Everything alive now is cancelled: the idle tasks below, the ones
        // queued from other threads (refused as they are taken in), and a
        // running one right after its poll. Spawns after the revoke began
        // were refused on the spot and never counted.
        let cancelled = scope.alive_tasks();
        self.accept_remote();
        loop {
            let mine = ScopePtr::of(scope);
            let (idle, _running) = self.core().scheduler.abort_where(|slot| slot.scope == mine);
            if idle.is_empty() {
                break;
            }
            for slot in idle {
                self.retire(slot, false);
            }
        }
        let timer_wakers = self.core().timers.borrow_mut().drain_owned(scope.owner);
        wake_all(timer_wakers);
        let io_wakers = self.core().reactor.borrow_mut().drain_owned(&self.shared.poller, scope.owner);
        wake_all(io_wakers);
        self.publish_metrics();
        cancelled
    }

    /// see [`RuntimeScope::metrics`].
    pub(crate) fn owned_metrics(self, scope: &Scope) -> RuntimeMetrics {
        // Count spawns made before this call, even from other threads.
        self.accept_remote();
        self.shared.with_live_counts(RuntimeMetrics {
            alive_tasks: scope.alive_tasks() as u64,
            timers: self.core().timers.borrow().count_owned(scope.owner) as u64,
            io_registrations: self.core().reactor.borrow().count_owned(scope.owner) as u64,
            ..RuntimeMetrics::default()
        })
    }

    /// Polls up to `budget` scheduled tasks; returns how many ran.
    fn run_tasks(self, budget: usize) -> usize {
        let mut ran = 0;
        while ran < budget {
            let Some((key, task, scope)) = self.core().scheduler.next() else { break };
            ran += 1;
            // Until the task is retired: an unload from inside this poll
            // defers the plugin's destruction until its future is dropped.
            let frame = running::Frame::new(running::key_of(scope.get()));
            let _entered = frame.enter();
            let task_waker = ManuallyDrop::new(waker::task_waker(WakerWord::new(self.shared.slot, key)));
            self.core().current.enter(scope);
            // SAFETY: the task is alive (the runtime holds its reference) and
            // `task_waker` outlives the call.
            let status = unsafe { ((*task.vtable).poll)(task.data, &*task_waker) };
            self.core().current.exit();
            match self.core().scheduler.finish_poll(key, status == POLL_READY) {
                Some(Retired::Completed(slot)) => self.retire(slot, true),
                Some(Retired::Aborted(slot)) => self.retire(slot, false),
                None => {}
            }
        }
        ran
    }

    /// Takes in the remote queue now, notified or not.
    fn accept_remote(self) {
        self.shared.notified.store(true, Ordering::Release);
        self.drain_remote();
    }

    fn drain_remote(self) {
        if !self.shared.notified.swap(false, Ordering::AcqRel) {
            return;
        }
        let mut ops = std::mem::take(&mut *self.core().spare_ops.borrow_mut());
        self.shared.handover.take(&mut ops);
        self.run_remote_ops(&mut ops);
        *self.core().spare_ops.borrow_mut() = ops;
    }

    /// Carries out queued operations, emptying `ops`.
    pub(crate) fn run_remote_ops(self, ops: &mut Vec<RemoteOp>) {
        for op in ops.drain(..) {
            match op {
                RemoteOp::Spawn { task, id, scope } => self.spawn_local(task, id, scope),
                RemoteOp::Wake(word) => {
                    self.shared.wake_flags.clear(word);
                    self.wake(word);
                }
                RemoteOp::Abort(key) => self.abort(key),
                RemoteOp::CancelTimer(key) => self.timer_cancel(key),
                RemoteOp::ResetTimer(key, deadline) => self.timer_reset(key, deadline),
                RemoteOp::ForgetIo(key) => {
                    let wakers = self.core().reactor.borrow_mut().forget(key);
                    drop(wakers);
                }
                RemoteOp::Run(job) => {
                    job(self);
                    self.shared.handover.signal();
                }
            }
        }
    }

    fn run_until(self, future: &RawFuture) {
        let main_waker = ManuallyDrop::new(waker::task_waker(WakerWord::new(
            self.shared.slot,
            Key { index: MAIN_INDEX, generation: 0 },
        )));
        let mut wakers = Vec::new();
        let mut busy_ticks = 0u32;
        self.core().main_woken.set(true);
        loop {
            // The main future woken in its own poll yielded: like a task's
            // (see `scheduler`), it runs again after the reactor's turn.
            let mut main_yielded = false;
            if self.core().main_woken.replace(false) {
                // SAFETY: `future` is borrowed for the whole block_on call.
                if unsafe { (future.poll)(future.data, &*main_waker) } == POLL_READY {
                    // Letting go: publish counts for other threads.
                    self.publish_metrics();
                    return;
                }
                main_yielded = self.core().main_woken.replace(false);
            }
            self.run_tasks(TASKS_PER_TICK);
            self.drain_remote();

            let now = self.shared.clock.now();
            self.core().timers.borrow_mut().fire_due(now, &mut wakers);
            wake_all(wakers.drain(..));

            let yielded = main_yielded || self.core().scheduler.has_deferred();
            let has_work = self.core().main_woken.get() || self.core().scheduler.has_scheduled();
            let timeout = if yielded {
                Some(Duration::ZERO)
            } else if has_work {
                busy_ticks += 1;
                if busy_ticks < TICKS_PER_REACTOR_POLL {
                    continue;
                }
                Some(Duration::ZERO)
            } else if self.shared.notified.load(Ordering::Acquire) {
                Some(Duration::ZERO)
            } else if self.shared.clock.is_paused() && !self.shared.blocking.has_in_flight() {
                // Paused: look for IO without waiting; with nothing else to
                // do, time jumps to the next timer (tokio's auto-advance).
                // Not while blocking jobs run: they may be what the next
                // step waits for, and they finish in real time.
                let deadline = self.core().timers.borrow_mut().next_deadline();
                if let Some(deadline) = deadline {
                    let turned = self.core().reactor.borrow_mut().turn(
                        &self.shared.poller,
                        Some(Duration::ZERO),
                        &mut wakers,
                    );
                    if turned.is_ok() && wakers.is_empty() && !self.shared.notified.load(Ordering::Acquire) {
                        self.shared.clock.advance_to(deadline);
                    }
                    wake_all(wakers.drain(..));
                    continue;
                }
                None
            } else if self.shared.clock.is_paused() {
                // Blocking jobs run: look again shortly (in real time), as
                // one may finish with nobody awaiting it to wake us. Only a
                // test's paused clock ever takes this path.
                Some(Duration::from_millis(1))
            } else {
                self.core()
                    .timers
                    .borrow_mut()
                    .next_deadline()
                    .map(|deadline| Duration::from_nanos(deadline.saturating_sub(now)))
            };
            busy_ticks = 0;
            if timeout != Some(Duration::ZERO) {
                // About to park: publish counts for other threads.
                self.publish_metrics();
            }
            let turned = self.core().reactor.borrow_mut().turn(&self.shared.poller, timeout, &mut wakers);
            if let Err(error) = turned {
                // The poller failing is unrecoverable for IO; keep timers and tasks going.
                eprintln!("tau-rt: reactor poll failed: {error}");
                std::thread::sleep(
                    timeout.unwrap_or(Duration::from_millis(10)).min(Duration::from_millis(10)),
                );
            }
            wake_all(wakers.drain(..));
            if yielded {
                self.core().scheduler.release_deferred();
                if main_yielded {
                    self.core().main_woken.set(true);
                }
            }
        }
    }

    /// Ends everything. Runs once (`Runtime::drop`).
    fn shutdown(self) {
        self.shared.shut_down.store(true, Ordering::Release);
        let mut ops = Vec::new();
        self.shared.handover.close(&mut ops);
        self.run_remote_ops(&mut ops);
        loop {
            let (idle, _running) = self.core().scheduler.abort_where(|_| true);
            if idle.is_empty() {
                break;
            }
            for slot in idle {
                self.retire(slot, false);
            }
        }
        self.core().scheduler.clear_queue();
        let timer_wakers = self.core().timers.borrow_mut().drain();
        wake_all(timer_wakers);
        let io_wakers = self.core().reactor.borrow_mut().drain(&self.shared.poller);
        wake_all(io_wakers);
        self.shared.blocking.shutdown();
        self.publish_metrics();
    }

    /// A poll of a timer or an IO readiness of `scope` by the code the
    /// driver runs now, `poll` being the poll itself: what every such poll
    /// through the table goes through.
    ///
    /// - The task in progress that spent its budget is answered "pending"
    ///   and woken, to yield (see [`crate::coop`]).
    /// - A gone scope's resource never becomes ready: it answers
    ///   `POLL_GONE`, on which a wait ends (a `Sleep` completes, an
    ///   `AsyncFd` fails), except to a task of that scope itself. Such a
    ///   task is being cancelled (a revoke marks the scope and cancels its
    ///   tasks in one step on the driver, so this is the task whose poll
    ///   the revoke ran inside): it gets "pending", and is dropped when its
    ///   poll returns, rather than looping on a wait that always ends.
    pub(crate) fn poll_resource(
        self,
        scope: &Scope,
        waker: &FfiWaker,
        poll: impl FnOnce() -> PollStatus,
    ) -> PollStatus {
        let current = &self.core().current;
        if current.is_exhausted() {
            waker.wake_by_ref();
            return POLL_PENDING;
        }
        let status = if !scope.is_gone() {
            poll()
        } else if current.is_task_of(scope) {
            return POLL_PENDING;
        } else {
            POLL_GONE
        };
        if status != POLL_PENDING {
            current.spend();
        }
        status
    }

    /// `POLL_READY` once the timer fired, else `POLL_PENDING` with `waker` stored.
    pub(crate) fn timer_poll(
        &self,
        key: &mut u64,
        deadline: u64,
        waker: &FfiWaker,
        owner: u32,
    ) -> PollStatus {
        let polled = self.core().timers.borrow_mut().poll(
            key,
            deadline,
            owner,
            || self.shared.clock.now(),
            |stored| stored.will_wake(waker),
        );
        match polled {
            TimerPoll::Fired(waker) => {
                drop(waker);
                POLL_READY
            }
            TimerPoll::Pending => POLL_PENDING,
            TimerPoll::NeedsWaker(registered) => {
                // Cloned and dropped outside the borrow: a foreign waker runs foreign code.
                let clone = waker.clone();
                let replaced = self.core().timers.borrow_mut().set_waker(registered, clone);
                drop(replaced);
                POLL_PENDING
            }
        }
    }

    fn timer_cancel(self, key: Key) {
        let waker = self.core().timers.borrow_mut().cancel(key);
        drop(waker);
    }

    fn timer_reset(self, key: Key, deadline: u64) {
        let due = self.core().timers.borrow_mut().reset(key, deadline, self.shared.clock.now());
        if let Some(waker) = due {
            waker.wake();
        }
    }

    pub(crate) fn io_register(self, fd: RawFd, interest: u8, owner: u32) -> io::Result<u64> {
        self.core().reactor.borrow_mut().register(&self.shared.poller, fd, interest, owner).map(Key::into_raw)
    }

    /// `POLL_READY`, `POLL_PENDING` (with `waker` stored) or `POLL_GONE`.
    pub(crate) fn io_poll_ready(self, key: Key, direction: u8, waker: &FfiWaker) -> PollStatus {
        let polled =
            self.core().reactor.borrow_mut().poll_ready(key, direction, |stored| stored.will_wake(waker));
        match polled {
            ReadyPoll::Ready => POLL_READY,
            ReadyPoll::ReadyClosed => POLL_READY_CLOSED,
            ReadyPoll::Pending => POLL_PENDING,
            ReadyPoll::Gone => POLL_GONE,
            ReadyPoll::NeedsWaker => {
                // As in `timer_poll`: the clone runs before the borrow.
                let clone = waker.clone();
                let replaced = self.core().reactor.borrow_mut().set_waker(key, direction, clone);
                drop(replaced);
                POLL_PENDING
            }
        }
    }

    /// The readiness of `direction` now, storing nothing: `POLL_READY`,
    /// `POLL_READY_CLOSED`, `POLL_PENDING` (not ready) or `POLL_GONE`.
    pub(crate) fn io_peek_ready(self, key: Key, direction: u8) -> PollStatus {
        match self.core().reactor.borrow_mut().poll_ready(key, direction, |_| true) {
            ReadyPoll::Ready => POLL_READY,
            ReadyPoll::ReadyClosed => POLL_READY_CLOSED,
            ReadyPoll::Pending | ReadyPoll::NeedsWaker => POLL_PENDING,
            ReadyPoll::Gone => POLL_GONE,
        }
    }

    pub(crate) fn io_clear_ready(self, key: Key, direction: u8) {
        if direction & CLEAR_DRAINED != 0 && !self.shared.poller.reports_half_close() {
            return; // see `CLEAR_DRAINED`: an end of stream could be lost
        }
        self.core().reactor.borrow_mut().clear_ready(key, direction & !CLEAR_DRAINED);
    }

    pub(crate) fn abort(self, key: Key) {
        if let Some(slot) = self.core().scheduler.abort(key) {
            self.retire(slot, false);
        }
    }

    pub(crate) fn io_deregister(self, key: Key, fd: RawFd) -> io::Result<()> {
        self.core().reactor.borrow_mut().deregister(&self.shared.poller, key, fd).map(drop)
    }
}

/// Ends a task handed to the runtime: cancels it unless it completed,
/// tells the scope it was counted in, then gives back the runtime's
/// reference. The scope is told first: the task may hold the last
/// reference to it (the runtime's own scope counts none of its own).
///
/// # Safety
///
/// The caller holds the runtime's reference to `task` (it was handed to
/// the runtime and not released) and uses neither afterwards; `counted_in`
/// is the scope the task was counted in by `spawn`, if any.
pub(crate) unsafe fn end_task(task: RawTask, counted_in: Option<ScopePtr>, completed: bool) {
    if !completed {
        // Dropping the future runs the owner's code: an unload from inside
        // it waits until the drop returned.
        // SAFETY: the caller holds the task's reference; it is not complete.
        let cancel = || unsafe { ((*task.vtable).cancel)(task.data) };
        match counted_in {
            Some(scope) => running::run_as(running::key_of(scope.get()), cancel),
            None => cancel(),
        }
    }
    if let Some(scope) = counted_in {
        scope.get().task_ended();
    }
    // SAFETY: the runtime's one release of the task, per the contract.
    unsafe { ((*task.vtable).release)(task.data) };
}

fn wake_all(wakers: impl IntoIterator<Item = FfiWaker>) {
    for waker in wakers {
        waker.wake();
    }
}
