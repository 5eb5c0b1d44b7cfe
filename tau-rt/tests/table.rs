//! The runtime table used raw, as a plugin's generated code uses it: a
//! hand-written task behind the C ABI, and bad keys handed to `abort`.

use std::ffi::c_void;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use tau_rt::abi::{FfiWaker, RawFuture, RawTask, RuntimeTable, TaskVTable, POLL_PENDING, POLL_READY};
use tau_rt::Runtime;

mod common;

use common::{drive, tau_park_waker};

/// A task that is pending on its first poll and ready on its second.
#[derive(Default)]
struct TwoPolls {
    polls: AtomicUsize,
    cancels: AtomicUsize,
    releases: AtomicUsize,
    key: AtomicU64,
    id: AtomicU64,
}

unsafe extern "C" fn poll(task: *const c_void, waker: *const FfiWaker) -> tau_rt::abi::PollStatus {
    // SAFETY: `task` is the test's `TwoPolls`, alive for the whole test.
    let task = unsafe { &*(task as *const TwoPolls) };
    if task.polls.fetch_add(1, Ordering::SeqCst) == 0 {
        // SAFETY: `waker` is borrowed for this call.
        unsafe { &*waker }.wake_by_ref();
        POLL_PENDING
    } else {
        POLL_READY
    }
}

unsafe extern "C" fn cancel(task: *const c_void) {
    // SAFETY: as above.
    unsafe { &*(task as *const TwoPolls) }.cancels.fetch_add(1, Ordering::SeqCst);
}

unsafe extern "C" fn release(task: *const c_void) {
    // SAFETY: as above.
    unsafe { &*(task as *const TwoPolls) }.releases.fetch_add(1, Ordering::SeqCst);
}

unsafe extern "C" fn bind(task: *const c_void, key: u64, id: u64) {
    // SAFETY: as above.
    let task = unsafe { &*(task as *const TwoPolls) };
    task.key.store(key, Ordering::SeqCst);
    task.id.store(id, Ordering::SeqCst);
}

static VTABLE: TaskVTable = TaskVTable { poll, cancel, release, bind };

#[test]
fn a_raw_task_is_bound_polled_twice_and_released_once() {
    let runtime = Runtime::new().unwrap();
    let table = runtime.table();
    let task = TwoPolls::default();
    let raw = RawTask { data: (&task as *const TwoPolls).cast(), vtable: &VTABLE };
    // SAFETY: the table is alive; `task` outlives the runtime's use of it.
    let id = unsafe { (table.spawn)(table.rt, raw) };
    drive(table, || task.releases.load(Ordering::SeqCst) == 1);
    assert_eq!(task.polls.load(Ordering::SeqCst), 2);
    assert_eq!(task.cancels.load(Ordering::SeqCst), 0);
    assert_eq!(task.id.load(Ordering::SeqCst), id, "bind carries the id spawn returned");
    assert_ne!(task.key.load(Ordering::SeqCst), 0);
}

#[test]
fn aborting_unknown_or_freed_keys_is_a_no_op() {
    let runtime = Runtime::new().unwrap();
    let table = runtime.table();
    let task = TwoPolls::default();
    let raw = RawTask { data: (&task as *const TwoPolls).cast(), vtable: &VTABLE };
    // SAFETY: as above.
    unsafe { (table.spawn)(table.rt, raw) };
    drive(table, || task.releases.load(Ordering::SeqCst) == 1);
    let freed = task.key.load(Ordering::SeqCst);
    let survivor = TwoPolls::default();
    let raw = RawTask { data: (&survivor as *const TwoPolls).cast(), vtable: &VTABLE };
    // SAFETY: as above.
    unsafe { (table.spawn)(table.rt, raw) };
    let mut aborted = false;
    drive(table, || {
        if !aborted {
            aborted = true;
            for bogus in [0, 1, freed, u64::MAX, 0xDEAD_BEEF_0000_0001] {
                // SAFETY: the table is alive; abort must ignore keys it does not know.
                unsafe { (table.abort)(table.rt, bogus) };
            }
        }
        survivor.releases.load(Ordering::SeqCst) == 1
    });
    // From another thread too (through the remote queue).
    let rt = table.rt as usize;
    let abort = table.abort;
    std::thread::spawn(move || {
        // SAFETY: the runtime outlives this thread (joined below).
        unsafe { abort(rt as *const _, freed) }
    })
    .join()
    .unwrap();
    drive(table, || true);
    assert_eq!(task.cancels.load(Ordering::SeqCst), 0);
    assert_eq!(survivor.cancels.load(Ordering::SeqCst), 0, "the live task was not touched");
    assert_eq!(survivor.polls.load(Ordering::SeqCst), 2);
}

#[test]
fn nested_block_on_is_refused() {
    let runtime = Runtime::new().unwrap();
    let table = runtime.table();
    let mut nested_status = None;
    drive(table, || {
        let park = tau_park_waker();
        unsafe extern "C" fn never(_: *mut c_void, _: *const FfiWaker) -> tau_rt::abi::PollStatus {
            unreachable!("a nested block_on must not poll")
        }
        let future = RawFuture { data: std::ptr::null_mut(), poll: never };
        // SAFETY: the table is alive.
        nested_status = Some(unsafe { (table.block_on)(table.rt, future, &park) });
        true
    });
    assert_eq!(nested_status, Some(tau_rt::abi::BLOCK_ON_NESTED));
}

/// A task that parks on its first poll, leaving its waker for someone else.
#[derive(Default)]
struct Parked {
    polls: AtomicUsize,
    releases: AtomicUsize,
    waker: std::sync::Mutex<Option<FfiWaker>>,
}

unsafe extern "C" fn parked_poll(task: *const c_void, waker: *const FfiWaker) -> tau_rt::abi::PollStatus {
    // SAFETY: `task` is a leaked `Parked`.
    let task = unsafe { &*(task as *const Parked) };
    if task.polls.fetch_add(1, Ordering::SeqCst) == 0 {
        // SAFETY: borrowed for this call; we keep a clone.
        *task.waker.lock().unwrap() = Some(unsafe { &*waker }.clone());
        POLL_PENDING
    } else {
        POLL_READY
    }
}

unsafe extern "C" fn parked_release(task: *const c_void) {
    // SAFETY: as above.
    unsafe { &*(task as *const Parked) }.releases.fetch_add(1, Ordering::SeqCst);
}

unsafe extern "C" fn parked_noop(_task: *const c_void) {}

unsafe extern "C" fn parked_bind(_task: *const c_void, _key: u64, _id: u64) {}

static PARKED_VTABLE: TaskVTable =
    TaskVTable { poll: parked_poll, cancel: parked_noop, release: parked_release, bind: parked_bind };

#[test]
fn wakes_from_other_threads_reach_their_own_runtime_when_runtimes_are_made_concurrently() {
    // A waker woken off the runtime's thread finds its runtime by the slot in
    // its data word. Runtimes made at the same time must get distinct slots,
    // or one runtime's wakes land in another's queue and its task hangs.
    let threads: Vec<_> = (0..8)
        .map(|_| {
            std::thread::spawn(|| {
                let mut polled = 0;
                for _ in 0..50 {
                    let runtime = Runtime::new().unwrap();
                    let table = runtime.table();
                    let task: &'static Parked = Box::leak(Box::default());
                    let raw = RawTask { data: (task as *const Parked).cast(), vtable: &PARKED_VTABLE };
                    // SAFETY: the table is alive; the task is leaked.
                    unsafe { (table.spawn)(table.rt, raw) };
                    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
                    let mut waker_thread = None;
                    drive(table, || {
                        if waker_thread.is_none() {
                            if let Some(waker) = task.waker.lock().unwrap().take() {
                                waker_thread = Some(std::thread::spawn(move || waker.wake()));
                            }
                        }
                        task.releases.load(Ordering::SeqCst) == 1 || std::time::Instant::now() > deadline
                    });
                    if let Some(thread) = waker_thread {
                        thread.join().unwrap();
                    }
                    polled += task.polls.load(Ordering::SeqCst);
                }
                polled
            })
        })
        .collect();
    for thread in threads {
        assert_eq!(thread.join().unwrap(), 100, "every task woken from another thread and polled again");
    }
}

#[test]
fn a_scope_tags_what_it_spawns_and_revoke_ends_only_that() {
    let runtime = Runtime::new().unwrap();
    let scope = runtime.scope(7);
    assert_eq!(scope.owner(), 7);
    let mine = TwoPolls::default();
    let theirs = TwoPolls::default();
    let spawn = |table: &RuntimeTable, task: &TwoPolls| {
        let raw = RawTask { data: task as *const TwoPolls as *const c_void, vtable: &VTABLE };
        // SAFETY: the tasks outlive the runtime's use of them (checked by the counts below).
        unsafe { (table.spawn)(table.rt, raw) }
    };
    // Spawned from off the driver thread: they wait in the remote queue,
    // which revoke takes in first.
    spawn(scope.table(), &mine);
    spawn(runtime.table(), &theirs);
    assert_eq!(scope.alive_tasks(), 1, "a queued spawn counts");
    assert_eq!(scope.metrics().alive_tasks, 1);
    assert!(!scope.is_revoked());
    assert_eq!(scope.revoke(), 1);
    assert!(scope.is_revoked());
    assert_eq!((mine.polls.load(Ordering::SeqCst), mine.cancels.load(Ordering::SeqCst)), (0, 1));
    assert_eq!(mine.releases.load(Ordering::SeqCst), 1);
    assert_eq!(theirs.cancels.load(Ordering::SeqCst), 0);
    assert_eq!(scope.metrics().alive_tasks, 0);

    // Through the revoked scope a spawn is cancelled before `spawn` returns.
    let late = TwoPolls::default();
    spawn(scope.table(), &late);
    assert_eq!((late.cancels.load(Ordering::SeqCst), late.releases.load(Ordering::SeqCst)), (1, 1));
    assert_eq!(scope.revoke(), 0, "nothing left");

    drive(runtime.table(), || theirs.releases.load(Ordering::SeqCst) == 1);
    assert_eq!(theirs.polls.load(Ordering::SeqCst), 2);
}

#[test]
fn a_scope_table_outlives_its_runtime_scope_for_holders_of_a_reference() {
    let runtime = Runtime::new().unwrap();
    let scope = runtime.scope(3);
    let table: *const RuntimeTable = scope.table();
    // SAFETY: the table is alive; the reference taken here keeps it so.
    unsafe { ((*table).retain)((*table).rt) };
    scope.revoke();
    drop(scope);
    drop(runtime);
    let task = TwoPolls::default();
    let raw = RawTask { data: (&task as *const TwoPolls).cast(), vtable: &VTABLE };
    // SAFETY: our reference keeps the table valid past the scope and the runtime.
    unsafe {
        ((*table).spawn)((*table).rt, raw);
        assert_eq!(task.cancels.load(Ordering::SeqCst), 1, "refused: the scope is revoked");
        let mut key = 0;
        let park = tau_park_waker();
        assert_eq!(((*table).timer_poll)((*table).rt, &mut key, 0, &park), tau_rt::abi::POLL_GONE);
        ((*table).release)((*table).rt);
    }
}

#[test]
fn the_gone_table_refuses_everything_cleanly() {
    let table = tau_rt::gone_table();
    let task = TwoPolls::default();
    let raw = RawTask { data: (&task as *const TwoPolls).cast(), vtable: &VTABLE };
    let park = tau_park_waker();
    let mut key = 0;
    // SAFETY: the gone table is static and takes any arguments of the right types.
    unsafe {
        (table.spawn)(table.rt, raw);
        assert_eq!((task.cancels.load(Ordering::SeqCst), task.releases.load(Ordering::SeqCst)), (1, 1));
        assert_eq!((table.timer_poll)(table.rt, &mut key, 0, &park), tau_rt::abi::POLL_GONE);
        assert_eq!((table.io_register)(table.rt, 0, 1, &mut key), tau_rt::abi::ERR_GONE);
        assert_eq!((table.io_poll_ready)(table.rt, 1, 1, &park), tau_rt::abi::POLL_GONE);
        unsafe extern "C" fn never(_: *mut c_void, _: *const FfiWaker) -> tau_rt::abi::PollStatus {
            unreachable!("the gone table runs nothing")
        }
        let future = RawFuture { data: std::ptr::null_mut(), poll: never };
        assert_eq!((table.block_on)(table.rt, future, &park), tau_rt::abi::BLOCK_ON_GONE);
    }
}

/// Issue 11, item 11: a burst of wakes of one task from another thread,
/// while nobody drives, queues one wake: the task slot's `NOTIFIED` bit
/// coalesces them.
#[test]
fn a_burst_of_wakes_from_another_thread_queues_one_entry() {
    let runtime = Runtime::new().unwrap();
    let table = runtime.table();
    let task: &'static Parked = Box::leak(Box::default());
    let raw = RawTask { data: (task as *const Parked).cast(), vtable: &PARKED_VTABLE };
    // SAFETY: the table is alive; the task is leaked.
    unsafe { (table.spawn)(table.rt, raw) };
    drive(table, || task.waker.lock().unwrap().is_some());
    let waker = task.waker.lock().unwrap().take().unwrap();
    std::thread::spawn(move || {
        for _ in 0..1000 {
            waker.wake_by_ref();
        }
    })
    .join()
    .unwrap();
    let mut metrics = tau_rt::abi::RuntimeMetrics::default();
    // SAFETY: the table is alive; `metrics` is a valid out-pointer.
    unsafe { (table.metrics)(table.rt, &mut metrics) };
    assert_eq!(metrics.remote_queue_depth, 1, "1000 wakes, one queue entry");
    drive(table, || task.releases.load(Ordering::SeqCst) == 1);
    assert_eq!(task.polls.load(Ordering::SeqCst), 2, "woken once, polled once more");
}

/// A task that revokes its own scope from inside its poll: it is running,
/// so it is counted and cancelled right after that poll returns (before,
/// the cancel skipped it and it ran on in a scope that was gone).
#[test]
fn revoking_a_scope_from_inside_one_of_its_tasks_cancels_that_task_after_its_poll() {
    struct SelfRevoking {
        scope: std::sync::Mutex<Option<tau_rt::RuntimeScope>>,
        polls: AtomicUsize,
        cancels: AtomicUsize,
        releases: AtomicUsize,
        cancelled_by_revoke: AtomicUsize,
    }
    unsafe extern "C" fn poll(task: *const c_void, waker: *const FfiWaker) -> tau_rt::abi::PollStatus {
        // SAFETY: `task` is the test's `SelfRevoking`, alive for the whole test.
        let task = unsafe { &*(task as *const SelfRevoking) };
        task.polls.fetch_add(1, Ordering::SeqCst);
        let cancelled = task.scope.lock().unwrap().as_ref().unwrap().revoke();
        task.cancelled_by_revoke.store(cancelled, Ordering::SeqCst);
        // SAFETY: borrowed for this call. It would run again if not cancelled.
        unsafe { &*waker }.wake_by_ref();
        POLL_PENDING
    }
    unsafe extern "C" fn cancel(task: *const c_void) {
        // SAFETY: as above.
        unsafe { &*(task as *const SelfRevoking) }.cancels.fetch_add(1, Ordering::SeqCst);
    }
    unsafe extern "C" fn release(task: *const c_void) {
        // SAFETY: as above.
        unsafe { &*(task as *const SelfRevoking) }.releases.fetch_add(1, Ordering::SeqCst);
    }
    unsafe extern "C" fn bind(_task: *const c_void, _key: u64, _id: u64) {}
    static SELF_REVOKING: TaskVTable = TaskVTable { poll, cancel, release, bind };

    let runtime = Runtime::new().unwrap();
    let task = SelfRevoking {
        scope: std::sync::Mutex::new(Some(runtime.scope(5))),
        polls: AtomicUsize::new(0),
        cancels: AtomicUsize::new(0),
        releases: AtomicUsize::new(0),
        cancelled_by_revoke: AtomicUsize::new(0),
    };
    let table: *const RuntimeTable = task.scope.lock().unwrap().as_ref().unwrap().table();
    let raw = RawTask { data: (&task as *const SelfRevoking).cast(), vtable: &SELF_REVOKING };
    // SAFETY: the scope (kept in `task`) keeps its table alive; `task` outlives the runtime's use.
    unsafe { ((*table).spawn)((*table).rt, raw) };
    drive(runtime.table(), || task.releases.load(Ordering::SeqCst) == 1);
    assert_eq!(task.polls.load(Ordering::SeqCst), 1, "not polled again after the revoke");
    assert_eq!(task.cancels.load(Ordering::SeqCst), 1);
    assert_eq!(task.cancelled_by_revoke.load(Ordering::SeqCst), 1, "the running task was counted");
}

/// A thread driving runtime X takes idle runtime Y's role for a revoke;
/// a task of Y, cancelled by it, asks X for its metrics: X is driven by
/// this very thread, so that runs at once (before, it queued the work for
/// X's driver, itself, and waited forever).
#[test]
fn work_for_an_outer_runtime_from_inside_an_inner_one_runs_at_once() {
    struct AsksOuter {
        outer: tau_rt::RuntimeScope,
        asked: AtomicUsize,
    }
    unsafe extern "C" fn poll(_task: *const c_void, _waker: *const FfiWaker) -> tau_rt::abi::PollStatus {
        POLL_PENDING
    }
    unsafe extern "C" fn cancel(task: *const c_void) {
        // SAFETY: `task` is the leaked `AsksOuter`.
        let task = unsafe { &*(task as *const AsksOuter) };
        task.outer.metrics();
        task.asked.fetch_add(1, Ordering::SeqCst);
    }
    unsafe extern "C" fn nothing(_task: *const c_void) {}
    unsafe extern "C" fn bind(_task: *const c_void, _key: u64, _id: u64) {}
    static ASKS_OUTER: TaskVTable = TaskVTable { poll, cancel, release: nothing, bind };

    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let outer = Runtime::new().unwrap();
        let inner = Runtime::new().unwrap();
        let inner_scope = inner.scope(1);
        let task: &'static AsksOuter =
            Box::leak(Box::new(AsksOuter { outer: outer.scope(2), asked: AtomicUsize::new(0) }));
        let raw = RawTask { data: (task as *const AsksOuter).cast(), vtable: &ASKS_OUTER };
        // SAFETY: the scope's table is alive; the task is leaked.
        unsafe { (inner_scope.table().spawn)(inner_scope.table().rt, raw) };
        drive(outer.table(), || {
            inner_scope.revoke();
            true
        });
        let _ = done.send(task.asked.load(Ordering::SeqCst));
    });
    let asked =
        finished.recv_timeout(std::time::Duration::from_secs(30)).expect("the thread waited for itself");
    assert_eq!(asked, 1);
}
