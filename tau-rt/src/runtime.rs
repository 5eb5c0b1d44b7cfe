//! The runtime: one executor, one timer queue and one reactor, driven by
//! whichever thread holds the driver flag (the one inside `block_on`).
//!
//! Everything in [`Core`] is touched only by the driving thread, without
//! atomics or locks. Other threads reach the runtime through the remote queue
//! (spawn, wake, abort), which wakes the driver through the poller's notify;
//! a burst of remote operations costs one notify.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::ffi::c_void;
use std::io;
use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::abi::{
    BlockingJob, FfiWaker, RawFuture, RawTask, RtContext, RuntimeMetrics, RuntimeTable, BLOCK_ON_BUSY,
    BLOCK_ON_DONE, BLOCK_ON_NESTED, POLL_READY,
};
use crate::blocking::BlockingPool;
use crate::clock;
use crate::poller::Poller;
use crate::reactor::Reactor;
use crate::slab::{key_parts, Slab};
use crate::timer::{TimerPoll, Timers};
use crate::waker::{self, MAIN_INDEX};

/// Tasks polled between two looks at timers, remote queue and reactor.
const TASKS_PER_TICK: usize = 256;
/// Busy ticks between two non-blocking reactor polls.
const TICKS_PER_REACTOR_POLL: u32 = 8;

struct TaskSlot {
    task: RawTask,
    /// The scope that spawned it (0: the runtime's own table).
    owner: u32,
    scheduled: bool,
    running: bool,
    abort_requested: bool,
}

enum RemoteOp {
    Spawn(RawTask, u64, u32),
    Wake(*const c_void),
    Abort(u64),
    CancelTimer(u64),
}

// SAFETY: `Spawn` carries a Send task (see RawTask); `Wake` carries an
// encoded integer, not a pointer to memory.
unsafe impl Send for RemoteOp {}

#[derive(Default)]
struct Remote {
    ops: Vec<RemoteOp>,
    driver_waiters: Vec<FfiWaker>,
}

/// State owned by the driving thread.
struct Core {
    tasks: RefCell<Slab<TaskSlot>>,
    run_queue: RefCell<VecDeque<u32>>,
    timers: RefCell<Timers>,
    reactor: RefCell<Reactor>,
    main_woken: Cell<bool>,
    spare_ops: RefCell<Vec<RemoteOp>>,
}

/// One view of the runtime: the table that code of one owner (the host, or
/// one plugin) reaches it through. Everything spawned or registered through
/// the table is tagged with `owner`, so that it can be cancelled and counted
/// per owner.
pub(crate) struct Scope {
    pub(crate) shared: *const Shared,
    pub(crate) owner: u32,
    table: RuntimeTable,
}

/// The owner of what is reached through [`Runtime::table`].
pub const RUNTIME_OWNER: u32 = 0;

pub(crate) struct Shared {
    slot: u16,
    /// The runtime's own scope (owner [`RUNTIME_OWNER`]).
    main: Scope,
    poller: Poller,
    notified: AtomicBool,
    remote_notifies: AtomicU64,
    remote: Mutex<Remote>,
    driving: AtomicBool,
    /// Signalled (under `remote`'s lock) when the driver role is let go, for
    /// threads outside `block_on` that wait to take it.
    driver_released: Condvar,
    shut_down: AtomicBool,
    next_task_id: AtomicU64,
    metrics_snapshot: Mutex<RuntimeMetrics>,
    blocking: BlockingPool,
    core: Core,
}

// SAFETY: `core` (the only non-Sync part) is accessed solely by the thread
// that holds `driving` (checked through the DRIVING thread-local before every
// access); everything else is Sync.
unsafe impl Sync for Shared {}
// SAFETY: as above; the driver role moves between threads only through the
// `driving` flag (Acquire/Release), which orders all accesses to `core`.
unsafe impl Send for Shared {}

/// A tau runtime. Dropping it cancels every task (running their `Drop`),
/// drops every timer and IO waker, and lets idle blocking threads go.
pub struct Runtime {
    shared: Arc<Shared>,
}

/// A table through which one owner (a plugin) reaches the runtime; see
/// [`Runtime::scope`]. The table stays valid while this value lives.
pub struct RuntimeScope {
    scope: Box<Scope>,
    /// Keeps the runtime's state alive as long as the table can be used.
    _shared: Arc<Shared>,
}

// SAFETY: `Scope` holds a pointer to the `Shared` that `_shared` keeps alive;
// `Shared` is Send + Sync.
unsafe impl Send for RuntimeScope {}
// SAFETY: as above; the table is immutable.
unsafe impl Sync for RuntimeScope {}

impl RuntimeScope {
    /// The table to hand to the owner's code.
    pub fn table(&self) -> &RuntimeTable {
        &self.scope.table
    }

    /// The owner this scope tags.
    pub fn owner(&self) -> u32 {
        self.scope.owner
    }
}

impl Runtime {
    /// Creates a runtime with its own executor, timer queue and reactor.
    pub fn new() -> io::Result<Runtime> {
        let poller = Poller::new()?;
        let shared = Arc::new_cyclic(|weak: &std::sync::Weak<Shared>| Shared {
            slot: waker::register(weak.clone()),
            main: Scope {
                shared: weak.as_ptr(),
                owner: RUNTIME_OWNER,
                // SAFETY: only the field's address is computed; nothing is read
                // from the allocation being initialised.
                table: crate::table::build(
                    unsafe { std::ptr::addr_of!((*weak.as_ptr()).main) } as *const RtContext
                ),
            },
            poller,
            notified: AtomicBool::new(false),
            remote_notifies: AtomicU64::new(0),
            remote: Mutex::new(Remote::default()),
            driving: AtomicBool::new(false),
            driver_released: Condvar::new(),
            shut_down: AtomicBool::new(false),
            next_task_id: AtomicU64::new(1),
            metrics_snapshot: Mutex::new(RuntimeMetrics::default()),
            blocking: BlockingPool::new(),
            core: Core {
                tasks: RefCell::new(Slab::new()),
                run_queue: RefCell::new(VecDeque::new()),
                timers: RefCell::new(Timers::new()),
                reactor: RefCell::new(Reactor::new()),
                main_woken: Cell::new(false),
                spare_ops: RefCell::new(Vec::new()),
            },
        });
        Ok(Runtime { shared })
    }

    /// The C-ABI table through which all code, embedded or plugin, uses this runtime.
    /// Valid while this `Runtime` lives, or longer for holders of `retain`.
    pub fn table(&self) -> &RuntimeTable {
        &self.shared.main.table
    }

    /// A table for one owner's code (a plugin): tasks it spawns, timers and
    /// IO it registers, and blocking jobs it runs are tagged with `owner`,
    /// so that [`cancel_owned`](Self::cancel_owned) and
    /// [`owned_metrics`](Self::owned_metrics) can find them.
    ///
    /// # Panics
    /// If `owner` is [`RUNTIME_OWNER`].
    pub fn scope(&self, owner: u32) -> RuntimeScope {
        assert_ne!(owner, RUNTIME_OWNER, "owner 0 is the runtime's own table");
        let mut scope = Box::new(Scope {
            shared: Arc::as_ptr(&self.shared),
            owner,
            table: crate::table::build(std::ptr::null()),
        });
        let context = &*scope as *const Scope as *const RtContext;
        scope.table.rt = context;
        RuntimeScope { scope, _shared: Arc::clone(&self.shared) }
    }

    /// Cancels every task `owner` spawned (their futures are dropped, on this
    /// thread, with `Drop` running; tasks spawned by those drops too) and
    /// drops the timers and IO registrations it left behind. Takes the driver
    /// role, waiting for another thread inside `block_on` to let go of it.
    /// Returns how many tasks were cancelled.
    pub fn cancel_owned(&self, owner: u32) -> usize {
        self.shared.with_driver(|| self.shared.cancel_owned(owner))
    }

    /// Drops `owner`'s blocking jobs that have not started and waits up to
    /// `timeout` for its running ones; returns how many are still running.
    pub fn cancel_blocking_owned(&self, owner: u32, timeout: Duration) -> usize {
        self.shared.blocking.cancel_owned(owner, timeout)
    }

    /// Counts of what `owner` has alive in the runtime (`remote_notifies`
    /// is the runtime's total). Takes the driver role like `cancel_owned`.
    pub fn owned_metrics(&self, owner: u32) -> RuntimeMetrics {
        self.shared.with_driver(|| self.shared.owned_metrics(owner))
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shared.shutdown();
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        waker::unregister(self.slot);
    }
}

/// Puts the driver role back and wakes threads waiting for it.
struct DriverGuard<'a> {
    shared: &'a Shared,
    previous: *const Shared,
}

impl Drop for DriverGuard<'_> {
    fn drop(&mut self) {
        waker::set_driving(self.previous);
        self.shared.driving.store(false, Ordering::Release);
        let waiters = {
            let mut remote = self.shared.lock_remote();
            self.shared.driver_released.notify_all();
            std::mem::take(&mut remote.driver_waiters)
        };
        for waiter in waiters {
            waiter.wake();
        }
    }
}

impl Shared {
    pub(crate) fn slot(&self) -> u16 {
        self.slot
    }

    pub(crate) fn is_driver_thread(&self) -> bool {
        std::ptr::eq(waker::driving(), self)
    }

    fn lock_remote(&self) -> std::sync::MutexGuard<'_, Remote> {
        self.remote.lock().unwrap_or_else(|poison| poison.into_inner())
    }

    /// Queues `op` for the driver; hands it back once the runtime has shut
    /// down (shutdown and pushes agree under the queue's lock).
    fn push_remote(&self, op: RemoteOp) -> Result<(), RemoteOp> {
        {
            let mut remote = self.lock_remote();
            if self.shut_down.load(Ordering::Relaxed) {
                return Err(op);
            }
            remote.ops.push(op);
        }
        if !self.notified.swap(true, Ordering::AcqRel) {
            self.remote_notifies.fetch_add(1, Ordering::Relaxed);
            // An error here means the poller is gone (shutdown); nothing to wake.
            let _ = self.poller.notify();
        }
        Ok(())
    }

    /// Takes the driver role if it is free; `None` if another thread has it.
    fn try_drive(&self) -> Option<DriverGuard<'_>> {
        self.driving.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).ok()?;
        let previous = waker::set_driving(self);
        Some(DriverGuard { shared: self, previous })
    }

    /// Takes the driver role, blocking this thread while another one has it.
    fn drive_when_free(&self) -> DriverGuard<'_> {
        loop {
            if let Some(guard) = self.try_drive() {
                return guard;
            }
            let remote = self.lock_remote();
            // The holder clears `driving` before it takes this lock to
            // signal, so a `true` seen here is followed by a signal.
            if self.driving.load(Ordering::Acquire) {
                drop(self.driver_released.wait(remote).unwrap_or_else(|poison| poison.into_inner()));
            }
        }
    }

    /// Runs `f` holding the driver role: at once on the driver thread, else
    /// after taking the role (waiting while another thread drives).
    fn with_driver<R>(&self, f: impl FnOnce() -> R) -> R {
        if self.is_driver_thread() {
            return f();
        }
        let guard = self.drive_when_free();
        let result = f();
        drop(guard);
        result
    }

    // ----- tasks -------------------------------------------------------------

    pub(crate) fn spawn(&self, task: RawTask, owner: u32) -> u64 {
        let id = self.next_task_id.fetch_add(1, Ordering::Relaxed);
        if self.is_driver_thread() {
            self.spawn_local(task, id, owner);
        } else if let Err(RemoteOp::Spawn(task, ..)) = self.push_remote(RemoteOp::Spawn(task, id, owner)) {
            // Shut down: no driver will ever run it; it completes as cancelled here.
            cancel_and_release(task);
        }
        id
    }

    fn spawn_local(&self, task: RawTask, id: u64, owner: u32) {
        if self.shut_down.load(Ordering::Relaxed) {
            cancel_and_release(task);
            return;
        }
        let key = self.core.tasks.borrow_mut().insert(TaskSlot {
            task,
            owner,
            scheduled: true,
            running: false,
            abort_requested: false,
        });
        self.core.run_queue.borrow_mut().push_back(key_parts(key).0);
        // SAFETY: the runtime holds a reference to the task until `release`.
        unsafe { ((*task.vtable).bind)(task.data, key, id) };
    }

    pub(crate) fn wake_local(&self, index: u32, generation: u16) {
        if index == MAIN_INDEX {
            self.core.main_woken.set(true);
            return;
        }
        let mut tasks = self.core.tasks.borrow_mut();
        if let Some(slot) = tasks.get_mut_short(index, generation) {
            if !slot.scheduled {
                slot.scheduled = true;
                self.core.run_queue.borrow_mut().push_back(index);
            }
        }
    }

    pub(crate) fn wake_remote(&self, data: *const c_void) {
        // After shutdown there is nothing left to wake.
        let _ = self.push_remote(RemoteOp::Wake(data));
    }

    pub(crate) fn abort(&self, key: u64) {
        if !self.is_driver_thread() {
            // After shutdown every task is already cancelled.
            let _ = self.push_remote(RemoteOp::Abort(key));
            return;
        }
        let removed = {
            let mut tasks = self.core.tasks.borrow_mut();
            match tasks.get_mut(key) {
                None => return,
                Some(slot) if slot.running => {
                    // Dropped once its current poll returns.
                    slot.abort_requested = true;
                    return;
                }
                Some(_) => tasks.remove(key).map(|slot| slot.task),
            }
        };
        if let Some(task) = removed {
            cancel_and_release(task);
        }
    }

    pub(crate) fn metrics(&self) -> RuntimeMetrics {
        if self.is_driver_thread() {
            self.current_metrics()
        } else {
            let snapshot = *self.metrics_snapshot.lock().unwrap_or_else(|poison| poison.into_inner());
            RuntimeMetrics { remote_notifies: self.remote_notifies.load(Ordering::Relaxed), ..snapshot }
        }
    }

    fn current_metrics(&self) -> RuntimeMetrics {
        RuntimeMetrics {
            alive_tasks: self.core.tasks.borrow().len() as u64,
            timers: self.core.timers.borrow().len() as u64,
            io_registrations: self.core.reactor.borrow().len() as u64,
            remote_notifies: self.remote_notifies.load(Ordering::Relaxed),
        }
    }

    fn publish_metrics(&self) {
        *self.metrics_snapshot.lock().unwrap_or_else(|poison| poison.into_inner()) = self.current_metrics();
    }

    pub(crate) fn spawn_blocking(&self, job: BlockingJob, owner: u32) -> u64 {
        let id = self.next_task_id.fetch_add(1, Ordering::Relaxed);
        self.blocking.spawn(job, id, owner);
        id
    }

    /// Driver thread only: see [`Runtime::cancel_owned`].
    fn cancel_owned(&self, owner: u32) -> usize {
        let mut cancelled = 0;
        loop {
            // Accept remote spawns first, so that none of the owner's escapes.
            self.accept_remote();
            let tasks =
                self.core.tasks.borrow_mut().remove_where(|slot| slot.owner == owner && !slot.running);
            if tasks.is_empty() {
                break;
            }
            cancelled += tasks.len();
            for slot in tasks {
                cancel_and_release(slot.task);
            }
        }
        let timer_wakers = self.core.timers.borrow_mut().drain_owned(owner);
        drop(timer_wakers);
        let io_wakers = self.core.reactor.borrow_mut().drain_owned(&self.poller, owner);
        drop(io_wakers);
        self.publish_metrics();
        cancelled
    }

    /// Driver thread only: see [`Runtime::owned_metrics`].
    fn owned_metrics(&self, owner: u32) -> RuntimeMetrics {
        // Count spawns made before this call, even from other threads.
        self.accept_remote();
        RuntimeMetrics {
            alive_tasks: self.core.tasks.borrow().iter().filter(|(_, slot)| slot.owner == owner).count()
                as u64,
            timers: self.core.timers.borrow().count_owned(owner) as u64,
            io_registrations: self.core.reactor.borrow().count_owned(owner) as u64,
            remote_notifies: self.remote_notifies.load(Ordering::Relaxed),
        }
    }

    /// Polls up to `budget` scheduled tasks; returns how many ran.
    fn run_tasks(&self, budget: usize) -> usize {
        let mut ran = 0;
        while ran < budget {
            let Some(index) = self.core.run_queue.borrow_mut().pop_front() else { break };
            let (task, generation) = {
                let mut tasks = self.core.tasks.borrow_mut();
                let Some(slot) = tasks.get_mut_by_index(index) else { continue };
                if !slot.scheduled {
                    continue; // stale queue entry
                }
                slot.scheduled = false;
                slot.running = true;
                (slot.task, tasks.generation_of(index))
            };
            ran += 1;
            let task_waker = ManuallyDrop::new(waker::task_waker(self.slot, index, generation as u16));
            // SAFETY: the task is alive (the runtime holds its reference) and
            // `task_waker` outlives the call.
            let status = unsafe { ((*task.vtable).poll)(task.data, &*task_waker) };
            let finished = {
                let mut tasks = self.core.tasks.borrow_mut();
                let key = ((generation as u64) << 32) | index as u64;
                match tasks.get_mut(key) {
                    Some(slot) => {
                        slot.running = false;
                        let done = status == POLL_READY || slot.abort_requested;
                        if done {
                            tasks.remove(key);
                        }
                        done
                    }
                    None => false,
                }
            };
            if finished {
                if status == POLL_READY {
                    // SAFETY: the task finished; this is the runtime's one release.
                    unsafe { ((*task.vtable).release)(task.data) };
                } else {
                    cancel_and_release(task);
                }
            }
        }
        ran
    }

    /// Driver thread only: takes in the remote queue now, notified or not.
    fn accept_remote(&self) {
        self.notified.store(true, Ordering::Release);
        self.drain_remote();
    }

    fn drain_remote(&self) {
        if !self.notified.swap(false, Ordering::AcqRel) {
            return;
        }
        let mut ops = std::mem::take(&mut *self.core.spare_ops.borrow_mut());
        std::mem::swap(&mut ops, &mut self.lock_remote().ops);
        for op in ops.drain(..) {
            match op {
                RemoteOp::Spawn(task, id, owner) => self.spawn_local(task, id, owner),
                RemoteOp::Wake(data) => {
                    let (slot, index, generation) = waker::decode(data);
                    if slot == self.slot {
                        self.wake_local(index, generation);
                    }
                }
                RemoteOp::Abort(key) => self.abort(key),
                RemoteOp::CancelTimer(key) => self.timer_cancel(key),
            }
        }
        *self.core.spare_ops.borrow_mut() = ops;
    }

    // ----- driving -----------------------------------------------------------

    pub(crate) fn block_on(&self, future: RawFuture, park: &FfiWaker) -> u8 {
        if !waker::driving().is_null() {
            return BLOCK_ON_NESTED;
        }
        let guard = loop {
            if let Some(guard) = self.try_drive() {
                break guard;
            }
            let mut remote = self.lock_remote();
            if self.driving.load(Ordering::Acquire) {
                // A caller retries after every wake of its future: keep one entry per parker.
                if !remote.driver_waiters.iter().any(|waiter| waiter.will_wake(park)) {
                    remote.driver_waiters.push(park.clone());
                }
                return BLOCK_ON_BUSY;
            }
        };
        self.run_until(&future);
        drop(guard);
        BLOCK_ON_DONE
    }

    fn run_until(&self, future: &RawFuture) {
        let main_waker = ManuallyDrop::new(waker::task_waker(self.slot, MAIN_INDEX, 0));
        let mut wakers = Vec::new();
        let mut busy_ticks = 0u32;
        self.core.main_woken.set(true);
        loop {
            if self.core.main_woken.replace(false) {
                // SAFETY: `future` is borrowed for the whole block_on call.
                if unsafe { (future.poll)(future.data, &*main_waker) } == POLL_READY {
                    return;
                }
            }
            self.run_tasks(TASKS_PER_TICK);
            self.drain_remote();

            let now = clock::now_ns();
            self.core.timers.borrow_mut().fire_due(now, &mut wakers);
            wake_all(&mut wakers);

            let has_work = self.core.main_woken.get() || !self.core.run_queue.borrow().is_empty();
            let timeout = if has_work {
                busy_ticks += 1;
                if busy_ticks < TICKS_PER_REACTOR_POLL {
                    continue;
                }
                Some(Duration::ZERO)
            } else if self.notified.load(Ordering::Acquire) {
                Some(Duration::ZERO)
            } else {
                self.core
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
            if let Err(error) = self.core.reactor.borrow_mut().turn(&self.poller, timeout, &mut wakers) {
                // The poller failing is unrecoverable for IO; keep timers and tasks going.
                eprintln!("tau-rt: reactor poll failed: {error}");
                std::thread::sleep(
                    timeout.unwrap_or(Duration::from_millis(10)).min(Duration::from_millis(10)),
                );
            }
            wake_all(&mut wakers);
        }
    }

    // ----- timers and IO (driver thread only) ---------------------------------

    pub(crate) fn timer_poll(&self, key: &mut u64, deadline: u64, waker: &FfiWaker, owner: u32) -> bool {
        let outcome = self.core.timers.borrow_mut().poll(key, deadline, waker, owner);
        match outcome {
            TimerPoll::Fired => true,
            TimerPoll::Pending(replaced) => {
                drop(replaced);
                false
            }
        }
    }

    pub(crate) fn timer_cancel(&self, key: u64) {
        let waker = self.core.timers.borrow_mut().cancel(key);
        drop(waker);
    }

    /// Cancels a timer from any thread: off the driver thread (a `Sleep`
    /// dropped by another thread) through the remote queue. Keys are
    /// generational, so a cancel that arrives late touches nothing else.
    pub(crate) fn timer_cancel_anywhere(&self, key: u64) {
        if self.is_driver_thread() {
            self.timer_cancel(key);
        } else {
            // Refused only after shutdown, when the timers are gone anyway.
            let _ = self.push_remote(RemoteOp::CancelTimer(key));
        }
    }

    pub(crate) fn io_register(&self, fd: i32, interest: u8, owner: u32) -> io::Result<u64> {
        self.core.reactor.borrow_mut().register(&self.poller, fd, interest, owner)
    }

    pub(crate) fn io_poll_ready(&self, key: u64, direction: u8, waker: &FfiWaker) -> bool {
        let (ready, replaced) = self.core.reactor.borrow_mut().poll_ready(key, direction, waker);
        drop(replaced);
        ready
    }

    pub(crate) fn io_clear_ready(&self, key: u64, direction: u8) {
        self.core.reactor.borrow_mut().clear_ready(key, direction);
    }

    pub(crate) fn io_deregister(&self, key: u64) -> io::Result<()> {
        let wakers = self.core.reactor.borrow_mut().deregister(&self.poller, key);
        wakers.map(drop)
    }

    // ----- shutdown ----------------------------------------------------------

    fn shutdown(&self) {
        let guard = self.drive_when_free();
        {
            // Under the queue's lock, so that no remote push lands after the last drain.
            let _queue = self.lock_remote();
            self.shut_down.store(true, Ordering::Release);
        }
        loop {
            self.accept_remote();
            let tasks = self.core.tasks.borrow_mut().drain();
            self.core.run_queue.borrow_mut().clear();
            if tasks.is_empty() {
                break;
            }
            for slot in tasks {
                cancel_and_release(slot.task);
            }
        }
        let timer_wakers = self.core.timers.borrow_mut().drain();
        drop(timer_wakers);
        let io_wakers = self.core.reactor.borrow_mut().drain(&self.poller);
        drop(io_wakers);
        self.blocking.shutdown();
        self.publish_metrics();
        drop(guard);
    }
}

fn cancel_and_release(task: RawTask) {
    // SAFETY: the runtime still holds its reference; after `release` it
    // never touches the task again.
    unsafe {
        ((*task.vtable).cancel)(task.data);
        ((*task.vtable).release)(task.data);
    }
}

fn wake_all(wakers: &mut Vec<FfiWaker>) {
    for waker in wakers.drain(..) {
        waker.wake();
    }
}
