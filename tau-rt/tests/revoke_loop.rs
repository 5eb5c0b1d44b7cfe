//! Issue 25, item 1: a task that loops on a wait that always ends
//! (`loop { sleep(..).await }` on a timer of a gone scope, or on a timer
//! that is always due) must still give the thread back to the driver, or a
//! revoke queued for the driver never runs and the thread that asked for
//! it waits forever at 100% CPU.
//!
//! The tasks here are hand-written behind the C ABI, as generated code is,
//! and loop on `timer_poll` the way `loop { sleep(d).await }` does: a new
//! timer each turn, the next turn at once if the poll did not say pending.
//! Each loop is bounded (`SPIN_LIMIT` turns in one poll): reaching the
//! bound is the defect, reported as a failure instead of a hang.

use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tau_rt::abi::{
    FfiWaker, PollStatus, RawTask, RuntimeMetrics, RuntimeTable, TaskVTable, POLL_GONE, POLL_PENDING,
    POLL_READY,
};
use tau_rt::{Runtime, RuntimeScope};

mod common;

use common::{drive, tau_park_waker};

/// Turns of a loop in one poll past which the task is taken to spin.
const SPIN_LIMIT: usize = 100_000;

/// How a looping task's turns went.
#[derive(Default)]
struct Turns {
    polls: AtomicUsize,
    /// The most turns one poll made.
    most_in_one_poll: AtomicUsize,
    spun: AtomicBool,
    cancels: AtomicUsize,
    releases: AtomicUsize,
}

impl Turns {
    /// `loop { sleep_until(deadline).await }` on `table`, in one poll: turns until
    /// a poll says pending (the task yields) or `SPIN_LIMIT`.
    ///
    /// # Safety
    /// `table` is alive; `waker` is the poll's.
    unsafe fn sleep_loop(&self, table: &RuntimeTable, waker: *const FfiWaker, deadline: u64) -> PollStatus {
        for turn in 1..=SPIN_LIMIT {
            let mut key = 0;
            // SAFETY: per the contract; `key` is a valid out-pointer.
            let status = unsafe { (table.timer_poll)(table.rt, &mut key, deadline, waker) };
            if status == POLL_PENDING {
                self.most_in_one_poll.fetch_max(turn - 1, Ordering::SeqCst);
                if key != 0 {
                    // SAFETY: as above; the timer is this loop's.
                    unsafe { (table.timer_cancel)(table.rt, key) };
                }
                return POLL_PENDING;
            }
            assert!(status == POLL_READY || status == POLL_GONE, "{status:?}");
        }
        self.spun.store(true, Ordering::SeqCst);
        POLL_READY
    }
}

unsafe extern "C" fn count_cancel(task: *const c_void) {
    // SAFETY: every task here starts with its `Turns` (`repr(C)`), alive for the test.
    unsafe { &*(task as *const Turns) }.cancels.fetch_add(1, Ordering::SeqCst);
}

unsafe extern "C" fn count_release(task: *const c_void) {
    // SAFETY: as above.
    unsafe { &*(task as *const Turns) }.releases.fetch_add(1, Ordering::SeqCst);
}

unsafe extern "C" fn no_bind(_task: *const c_void, _key: u64, _id: u64) {}

fn metrics(table: &RuntimeTable) -> RuntimeMetrics {
    let mut metrics = RuntimeMetrics::default();
    // SAFETY: the table is alive; `metrics` is a valid out-pointer.
    unsafe { (table.metrics)(table.rt, &mut metrics) };
    metrics
}

fn now(table: &RuntimeTable) -> u64 {
    // SAFETY: the table is alive.
    unsafe { (table.now_ns)(table.rt) }
}

/// Another thread revokes a plugin's scope while one of its tasks is being
/// polled on the driver; the task then loops on its timer. The revoke is
/// queued for the driver, and the scope must not look gone before the
/// driver runs it: if it did (before: `revoke` marked it first, then
/// queued the cancellation), the task's sleeps would all end at once, the
/// loop would never yield, and the revoke would never run (the livelock
/// of `tests/unload.rs` seen at 100% CPU).
#[test]
fn a_task_looping_on_its_timer_lets_a_revoke_from_another_thread_run() {
    #[repr(C)]
    struct Looper {
        turns: Turns,
        scope: Arc<RuntimeScope>,
        main: *const RuntimeTable,
        revoker: Mutex<Option<std::thread::JoinHandle<usize>>>,
    }
    unsafe extern "C" fn poll(task: *const c_void, waker: *const FfiWaker) -> PollStatus {
        // SAFETY: `task` is the test's `Looper`, alive for the whole test.
        let task = unsafe { &*(task as *const Looper) };
        assert_eq!(task.turns.polls.fetch_add(1, Ordering::SeqCst), 0, "polled once, then cancelled");
        let scope = Arc::clone(&task.scope);
        *task.revoker.lock().unwrap() = Some(std::thread::spawn(move || scope.revoke()));
        // Until the revoke is queued for this driver (or, before, marked).
        // SAFETY: the runtime's table outlives the task.
        let main = unsafe { &*task.main };
        let waiting = Instant::now();
        while metrics(main).remote_queue_depth == 0 && !task.scope.is_revoked() {
            assert!(waiting.elapsed() < Duration::from_secs(30), "the revoke never reached the driver");
            std::thread::yield_now();
        }
        let table = task.scope.table();
        // SAFETY: the scope keeps its table alive; `waker` is this poll's.
        unsafe { task.turns.sleep_loop(table, waker, now(table) + 60_000_000_000) }
    }
    static LOOPER: TaskVTable =
        TaskVTable { poll, cancel: count_cancel, release: count_release, bind: no_bind };

    let runtime = Runtime::new().unwrap();
    let task = Looper {
        turns: Turns::default(),
        scope: Arc::new(runtime.scope(7)),
        main: runtime.table(),
        revoker: Mutex::new(None),
    };
    let table = task.scope.table();
    let raw = RawTask { data: (&task as *const Looper).cast(), vtable: &LOOPER };
    // SAFETY: the scope's table is alive; `task` outlives the runtime's use of it.
    unsafe { (table.spawn)(table.rt, raw) };
    drive(runtime.table(), || task.turns.releases.load(Ordering::SeqCst) == 1);
    assert!(!task.turns.spun.load(Ordering::SeqCst), "the task's sleeps ended at once: it looped");
    let revoker = task.revoker.lock().unwrap().take().expect("polled");
    assert_eq!(revoker.join().unwrap(), 1, "the revoke cancelled the task");
    assert_eq!(task.turns.most_in_one_poll.load(Ordering::SeqCst), 0, "its first sleep waited");
    assert_eq!(task.turns.cancels.load(Ordering::SeqCst), 1);
    assert!(task.scope.is_revoked());
}

/// A task revokes its own scope from inside its poll (a host service that
/// unloads the calling plugin, say), then loops on a timer of that scope.
/// The revoke ran at once, on this thread, and the task is to be dropped
/// when its poll returns: its sleeps answer "pending", so it returns,
/// instead of completing at once forever (before: it looped). Code of
/// another owner polling the same scope's timer still sees it gone.
#[test]
fn a_task_of_a_revoked_scope_is_answered_pending_and_others_see_it_gone() {
    #[repr(C)]
    struct SelfRevoking {
        turns: Turns,
        scope: RuntimeScope,
    }
    unsafe extern "C" fn poll(task: *const c_void, waker: *const FfiWaker) -> PollStatus {
        // SAFETY: `task` is the test's `SelfRevoking`, alive for the whole test.
        let task = unsafe { &*(task as *const SelfRevoking) };
        task.turns.polls.fetch_add(1, Ordering::SeqCst);
        assert_eq!(task.scope.revoke(), 1, "this running task is cancelled");
        let table = task.scope.table();
        // SAFETY: the scope keeps its table alive; `waker` is this poll's.
        unsafe { task.turns.sleep_loop(table, waker, now(table) + 60_000_000_000) }
    }
    static SELF_REVOKING: TaskVTable =
        TaskVTable { poll, cancel: count_cancel, release: count_release, bind: no_bind };

    let runtime = Runtime::new().unwrap();
    let task = SelfRevoking { turns: Turns::default(), scope: runtime.scope(8) };
    let table = task.scope.table();
    let raw = RawTask { data: (&task as *const SelfRevoking).cast(), vtable: &SELF_REVOKING };
    // SAFETY: the scope's table is alive; `task` outlives the runtime's use of it.
    unsafe { (table.spawn)(table.rt, raw) };
    let park = tau_park_waker();
    let mut others_saw = None;
    drive(runtime.table(), || {
        if task.turns.releases.load(Ordering::SeqCst) == 0 {
            return false;
        }
        let mut key = 0;
        // SAFETY: the scope keeps its table alive; `park` outlives the call.
        others_saw =
            Some(unsafe { (table.timer_poll)(table.rt, &mut key, now(table) + 60_000_000_000, &park) });
        true
    });
    assert!(!task.turns.spun.load(Ordering::SeqCst), "the cancelled task's sleeps ended at once: it looped");
    assert_eq!(task.turns.most_in_one_poll.load(Ordering::SeqCst), 0, "its first sleep said pending");
    assert_eq!(task.turns.polls.load(Ordering::SeqCst), 1);
    assert_eq!(task.turns.cancels.load(Ordering::SeqCst), 1);
    assert_eq!(others_saw, Some(POLL_GONE), "to code of another owner the timer is gone");
}

/// tokio's cooperative budget: a task looping on waits that are always
/// over (`loop { sleep(ZERO).await }`) yields after `BUDGET` of them, so the
/// other tasks run. Here the other task is what ends the loop: without the
/// budget the first task never let it run (it spun).
#[test]
fn a_task_looping_on_ready_timers_yields_after_its_budget() {
    #[repr(C)]
    struct Busy {
        turns: Turns,
        table: *const RuntimeTable,
        stop: AtomicBool,
    }
    unsafe extern "C" fn busy_poll(task: *const c_void, waker: *const FfiWaker) -> PollStatus {
        // SAFETY: `task` is the test's `Busy`, alive for the whole test.
        let task = unsafe { &*(task as *const Busy) };
        task.turns.polls.fetch_add(1, Ordering::SeqCst);
        if task.stop.load(Ordering::SeqCst) {
            return POLL_READY;
        }
        // SAFETY: the runtime's table outlives the task; `waker` is this poll's.
        unsafe { task.turns.sleep_loop(&*task.table, waker, 0) }
    }
    static BUSY: TaskVTable =
        TaskVTable { poll: busy_poll, cancel: count_cancel, release: count_release, bind: no_bind };
    #[repr(C)]
    struct Stopper {
        turns: Turns,
        busy: *const Busy,
    }
    unsafe extern "C" fn stopper_poll(task: *const c_void, _waker: *const FfiWaker) -> PollStatus {
        // SAFETY: `task` is the test's `Stopper`, and its `busy` the test's `Busy`.
        unsafe { &*(*(task as *const Stopper)).busy }.stop.store(true, Ordering::SeqCst);
        POLL_READY
    }
    static STOPPER: TaskVTable =
        TaskVTable { poll: stopper_poll, cancel: count_cancel, release: count_release, bind: no_bind };

    let runtime = Runtime::new().unwrap();
    let table = runtime.table();
    let busy = Busy { turns: Turns::default(), table, stop: AtomicBool::new(false) };
    let stopper = Stopper { turns: Turns::default(), busy: &busy };
    // SAFETY: the table is alive; both tasks outlive the runtime's use of them.
    unsafe {
        (table.spawn)(table.rt, RawTask { data: (&busy as *const Busy).cast(), vtable: &BUSY });
        (table.spawn)(table.rt, RawTask { data: (&stopper as *const Stopper).cast(), vtable: &STOPPER });
    }
    drive(table, || busy.turns.releases.load(Ordering::SeqCst) == 1);
    assert!(!busy.turns.spun.load(Ordering::SeqCst), "the busy task never yielded");
    assert_eq!(busy.turns.most_in_one_poll.load(Ordering::SeqCst), 128, "tokio's budget: 128 per poll");
    assert_eq!(busy.turns.polls.load(Ordering::SeqCst), 2, "woken by the budget, it ran again and saw stop");
    assert_eq!(busy.turns.cancels.load(Ordering::SeqCst), 0, "it completed");
}
