//! Timers follow tokio::time's documentation.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tau::time::{self, Instant, MissedTickBehavior};

fn poll_once<F: Future>(future: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

#[tau::test]
async fn sleep_waits_at_least_its_duration() {
    let start = Instant::now();
    time::sleep(Duration::from_millis(15)).await;
    assert!(start.elapsed() >= Duration::from_millis(15));
}

#[tau::test]
async fn sleep_zero_completes() {
    time::sleep(Duration::ZERO).await;
    time::sleep_until(Instant::now() - Duration::from_secs(1)).await;
}

#[tau::test]
async fn sleep_duration_max_never_overflows_and_never_fires() {
    let forever = time::sleep(Duration::MAX);
    assert!(forever.deadline() > Instant::now() + Duration::from_secs(86_400 * 365));
    let outcome = time::timeout(Duration::from_millis(5), forever).await;
    assert!(outcome.is_err());
}

#[tau::test]
async fn sleep_deadline_and_is_elapsed() {
    let start = Instant::now();
    let mut nap = pin!(time::sleep_until(start + Duration::from_millis(3)));
    assert_eq!(nap.deadline(), start + Duration::from_millis(3));
    assert!(!nap.is_elapsed());
    nap.as_mut().await;
    assert!(nap.is_elapsed());
    assert!(poll_once(nap.as_mut()).is_ready(), "an elapsed sleep stays ready");
}

#[tau::test]
async fn reset_moves_the_deadline_earlier_and_later() {
    let start = Instant::now();
    let mut nap = pin!(time::sleep(Duration::from_secs(3600)));
    assert!(poll_once(nap.as_mut()).is_pending());
    nap.as_mut().reset(start + Duration::from_millis(2));
    nap.as_mut().await;
    assert!(start.elapsed() < Duration::from_secs(60));
    // Reset after completion: it waits again.
    let again = Instant::now() + Duration::from_millis(10);
    nap.as_mut().reset(again);
    assert!(!nap.is_elapsed());
    nap.as_mut().await;
    assert!(Instant::now() >= again);
}

#[tau::test]
async fn dropped_sleep_releases_its_timer() {
    let runtime = tau::runtime::Handle::current();
    {
        let mut nap = pin!(time::sleep(Duration::from_secs(3600)));
        assert!(poll_once(nap.as_mut()).is_pending());
        assert_eq!(runtime.metrics().num_timers(), 1);
    }
    assert_eq!(runtime.metrics().num_timers(), 0);
}

#[tau::test]
async fn fired_sleep_releases_its_timer() {
    time::sleep(Duration::from_millis(1)).await;
    assert_eq!(tau::runtime::Handle::current().metrics().num_timers(), 0);
}

#[tau::test]
async fn timeout_ok_err_and_zero_duration_ready_future() {
    assert_eq!(time::timeout(Duration::ZERO, async { 1 }).await, Ok(1));
    let error = time::timeout(Duration::from_millis(2), std::future::pending::<()>()).await.unwrap_err();
    assert_eq!(error.to_string(), "deadline has elapsed");
    let at = time::timeout_at(Instant::now() + Duration::from_secs(5), async { "in time" }).await;
    assert_eq!(at, Ok("in time"));
    let io_error: std::io::Error = error.into();
    assert_eq!(io_error.kind(), std::io::ErrorKind::TimedOut);
}

#[tau::test]
async fn timeout_with_duration_max_waits_for_the_future() {
    let value = time::timeout(Duration::MAX, async {
        time::sleep(Duration::from_millis(1)).await;
        5
    })
    .await;
    assert_eq!(value, Ok(5));
}

#[tau::test]
async fn interval_first_tick_is_immediate_then_periodic() {
    let start = Instant::now();
    let mut ticks = time::interval(Duration::from_millis(10));
    let first = ticks.tick().await;
    assert!(first - start < Duration::from_millis(10));
    let second = ticks.tick().await;
    let third = ticks.tick().await;
    assert_eq!(second - first, Duration::from_millis(10), "ticks are due on the schedule");
    assert_eq!(third - second, Duration::from_millis(10));
    assert!(Instant::now() >= first + Duration::from_millis(20));
    assert_eq!(ticks.period(), Duration::from_millis(10));
}

/// Makes the interval miss ticks by blocking the runtime thread (simulated
/// lateness, not synchronisation), then returns the ticks that follow.
async fn ticks_after_stall(behavior: MissedTickBehavior) -> (Instant, Vec<Instant>) {
    let period = Duration::from_millis(10);
    let mut ticks = time::interval(period);
    ticks.set_missed_tick_behavior(behavior);
    assert_eq!(ticks.missed_tick_behavior(), behavior);
    let first = ticks.tick().await;
    std::thread::sleep(Duration::from_millis(35));
    let mut after = Vec::new();
    for _ in 0..3 {
        after.push(ticks.tick().await);
    }
    (first, after)
}

#[tau::test]
async fn missed_ticks_burst() {
    let (first, after) = ticks_after_stall(MissedTickBehavior::Burst).await;
    let ms = Duration::from_millis;
    assert_eq!(after, [first + ms(10), first + ms(20), first + ms(30)]);
}

#[tau::test]
async fn missed_ticks_delay() {
    let (first, after) = ticks_after_stall(MissedTickBehavior::Delay).await;
    assert_eq!(after[0], first + Duration::from_millis(10));
    assert!(after[1] >= first + Duration::from_millis(45), "schedule restarts from the late tick");
    assert_eq!(after[2] - after[1], Duration::from_millis(10));
}

#[tau::test]
async fn missed_ticks_skip() {
    let (first, after) = ticks_after_stall(MissedTickBehavior::Skip).await;
    assert_eq!(after[0], first + Duration::from_millis(10));
    let offset = (after[1] - first).as_nanos() % Duration::from_millis(10).as_nanos();
    assert_eq!(offset, 0, "skipped ticks stay on the original grid");
    assert!(after[1] >= first + Duration::from_millis(40));
}

#[test]
#[should_panic(expected = "`period` must be non-zero.")]
fn interval_zero_period_panics() {
    tau::__private::run_test(async {
        time::interval(Duration::ZERO);
    });
}

#[tau::test]
async fn many_concurrent_sleeps_all_fire_in_deadline_order() {
    // A paused clock: every sleep is registered before any deadline passes,
    // however slowly this runs (under valgrind, a sleep already due at its
    // first poll would complete at once, in spawn order, as in tokio).
    time::pause();
    let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut set = tau::task::JoinSet::new();
    let start = Instant::now();
    for i in (0..50u64).rev() {
        let order = std::sync::Arc::clone(&order);
        set.spawn(async move {
            time::sleep_until(start + Duration::from_millis(i)).await;
            order.lock().unwrap().push(i);
        });
    }
    while set.join_next().await.is_some() {}
    let order = order.lock().unwrap();
    assert_eq!(order.len(), 50);
    assert!(order.windows(2).all(|pair| pair[0] <= pair[1]), "{order:?}");
}

#[test]
fn sleep_polled_off_the_runtime_thread_still_fires() {
    let runtime = tau::runtime::Runtime::new().unwrap();
    let handle = runtime.handle().clone();
    runtime.block_on(async move {
        let waited = tau::task::spawn_blocking(move || {
            // Another thread drives the runtime: this sleep is polled here.
            handle.block_on(async {
                let start = Instant::now();
                time::sleep(Duration::from_millis(5)).await;
                start.elapsed()
            })
        })
        .await
        .unwrap();
        assert!(waited >= Duration::from_millis(5));
    });
}

#[test]
fn a_sleep_dropped_on_another_thread_removes_its_timer() {
    let runtime = tau::runtime::Runtime::new().unwrap();
    let timers = || runtime.metrics().num_timers(); // exact on the driver thread
    let registered = runtime.block_on(async {
        let mut nap = Box::pin(time::sleep(Duration::from_secs(3600)));
        assert!(poll_once(nap.as_mut()).is_pending());
        assert_eq!(timers(), 1);
        Some(nap) // carried out of `block_on`, not awaited
    });
    std::thread::spawn(move || drop(registered)).join().unwrap();
    // The cancel is queued for the driver, which runs it on its next turn.
    let left = runtime.block_on(async {
        tau::task::yield_now().await;
        timers()
    });
    assert_eq!(left, 0);
}

/// Issue 11, item 1: a sleep whose timer fired while its task waited on
/// something else, then reset, waits for the new deadline (tokio's rule).
#[tau::test]
async fn a_sleep_reset_after_its_timer_fired_waits_for_the_new_deadline() {
    let mut nap = pin!(time::sleep(Duration::from_millis(5)));
    assert!(poll_once(nap.as_mut()).is_pending(), "registered");
    // A timer with the same deadline wakes this task on the turn that fires `nap`.
    time::sleep_until(nap.deadline()).await;
    let reset_at = Instant::now();
    nap.as_mut().reset(reset_at + Duration::from_millis(150));
    assert!(!nap.is_elapsed());
    nap.as_mut().await;
    assert!(reset_at.elapsed() >= Duration::from_millis(150), "woke after {:?}", reset_at.elapsed());
}

/// The same through `Interval::reset`: the tick that fired unobserved is
/// not handed out after the reset.
#[tau::test]
async fn interval_reset_after_its_timer_fired_waits_a_whole_period() {
    let period = Duration::from_millis(20);
    let mut ticks = time::interval(period);
    let first = ticks.tick().await; // the first tick is immediate
    assert!(poll_once(pin!(ticks.tick())).is_pending(), "the next tick's timer is registered");
    time::sleep_until(first + period).await; // the turn that fires it wakes this task too
    let reset_at = Instant::now();
    ticks.reset();
    ticks.tick().await;
    assert!(reset_at.elapsed() >= period, "ticked after {:?}", reset_at.elapsed());
}

/// And through `StreamExt::timeout`: the timer armed before an item, firing
/// while the consumer is busy with that item, is no `Elapsed` for the next gap.
#[tau::test]
async fn stream_timeout_counts_each_gap_from_the_last_item_even_when_the_old_timer_fired() {
    use tau::stream::{self, StreamExt};
    let limit = Duration::from_millis(200);
    let first = stream::once(async {
        time::sleep(Duration::from_millis(120)).await;
        1
    });
    let mut timed = pin!(first.chain(stream::pending()).timeout(limit));
    let start = Instant::now();
    assert!(poll_once(pin!(timed.next())).is_pending(), "the first gap's timer is armed");
    let armed = Instant::now(); // no sooner than the timer's own start
    assert_eq!(timed.next().await, Some(Ok(1))); // at least 120 ms after `start`
                                                 // Busy with the item past the deadline armed before it, while the
                                                 // runtime runs and fires that timer.
    time::sleep_until(armed + limit).await;
    assert!(timed.next().await.unwrap().is_err(), "the silence after the item times out");
    // The item came no sooner than 120 ms after `start`, the error no sooner
    // than `limit` after the item.
    let waited = start.elapsed();
    assert!(waited >= limit + Duration::from_millis(120), "timed out {waited:?} after the start: early");
}

/// Issue 11, item 11: a foreign waker whose clone calls back into the
/// runtime. The runtime clones (and drops) wakers outside its borrows of the
/// timer queue, so the re-entry works instead of panicking inside `extern "C"`.
#[tau::test]
async fn a_foreign_waker_whose_clone_reenters_the_timer_queue() {
    use std::cell::RefCell;
    use std::task::{RawWaker, RawWakerVTable};

    thread_local! {
        static INNER: RefCell<Option<std::pin::Pin<Box<time::Sleep>>>> = const { RefCell::new(None) };
    }
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, noop, noop, noop);
    unsafe fn clone(_: *const ()) -> RawWaker {
        // Re-enters the timer queue: polls another sleep of this runtime.
        INNER.with(|inner| {
            if let Some(sleep) = inner.borrow_mut().as_mut() {
                let _ = sleep.as_mut().poll(&mut Context::from_waker(Waker::noop()));
            }
        });
        RawWaker::new(std::ptr::null(), &VTABLE)
    }
    unsafe fn noop(_: *const ()) {}

    INNER.with(|inner| *inner.borrow_mut() = Some(Box::pin(time::sleep(Duration::from_secs(60)))));
    // SAFETY: the vtable's functions uphold the RawWaker contract (they do nothing).
    let reentrant = unsafe { Waker::from_raw(RawWaker::new(std::ptr::null(), &VTABLE)) };
    let mut nap = pin!(time::sleep(Duration::from_secs(60)));
    assert!(nap.as_mut().poll(&mut Context::from_waker(&reentrant)).is_pending());
    INNER.with(|inner| inner.borrow_mut().take());
}

/// A task waiting on `sleep` (shared, to be reset from outside); returns
/// once the task has polled it, with the task's handle, which yields how
/// long after `from` the sleep ended.
async fn wait_in_a_task(
    sleep: &std::sync::Arc<std::sync::Mutex<std::pin::Pin<Box<time::Sleep>>>>,
    from: Instant,
) -> tau::task::JoinHandle<Duration> {
    use std::future::Future;
    use std::sync::atomic::{AtomicBool, Ordering};

    let polled = std::sync::Arc::new(AtomicBool::new(false));
    let waiter = {
        let (sleep, polled) = (std::sync::Arc::clone(sleep), std::sync::Arc::clone(&polled));
        tau::spawn(async move {
            std::future::poll_fn(|cx| {
                polled.store(true, Ordering::SeqCst);
                sleep.lock().unwrap().as_mut().poll(cx)
            })
            .await;
            from.elapsed()
        })
    };
    while !polled.load(Ordering::SeqCst) {
        tau::task::yield_now().await;
    }
    waiter
}

/// Issue 25, item 3: a `Sleep` polled once (its timer registered with the
/// task's waker) and then reset to an earlier deadline without being
/// polled again, as tokio-util's `DelayQueue` does with its one `Sleep`:
/// the task must wake at the new deadline. Before, the registration stayed
/// at the old deadline until the next poll, which came only then: the
/// paused clock jumped to 200 ms, and a `DelayQueue` fired its entries late.
#[tau::test]
async fn a_sleep_reset_earlier_after_it_was_polled_wakes_its_task_at_the_new_deadline() {
    use std::sync::{Arc, Mutex};

    time::pause();
    let start = Instant::now();
    let sleep = Arc::new(Mutex::new(Box::pin(time::sleep(Duration::from_millis(200)))));
    let waiter = wait_in_a_task(&sleep, start).await;
    sleep.lock().unwrap().as_mut().reset(start + Duration::from_millis(50));
    sleep.lock().unwrap().as_mut().reset(start + Duration::from_millis(40));
    assert_eq!(waiter.await.unwrap(), Duration::from_millis(40));

    // Reset to a deadline already past: the task wakes at once.
    let now = Instant::now();
    let sleep = Arc::new(Mutex::new(Box::pin(time::sleep(Duration::from_secs(3600)))));
    let waiter = wait_in_a_task(&sleep, now).await;
    sleep.lock().unwrap().as_mut().reset(now);
    assert_eq!(waiter.await.unwrap(), Duration::ZERO);
}

/// Issue 25, item 3 (tokio's `time_sleep::exactly_max` and
/// `no_out_of_bounds_close_to_max`): under a paused clock, sleeping
/// `Duration::MAX` (or just under it) completes, as tokio's does: the clock
/// jumps to its deadline, about 30 years on. Before, such a sleep never
/// registered a timer, the paused clock had nothing to jump to, and the
/// test hung (idle). Run on a thread of its own, so that a hang fails here.
#[test]
fn sleeping_duration_max_under_a_paused_clock_completes() {
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tau::runtime::Runtime::new().unwrap();
        let slept = runtime.block_on(async {
            time::pause();
            let start = Instant::now();
            time::sleep(Duration::MAX).await;
            time::sleep(Duration::MAX - Duration::from_millis(1)).await;
            start.elapsed()
        });
        let _ = done.send(slept);
    });
    let slept = finished.recv_timeout(Duration::from_secs(60)).expect("sleep(Duration::MAX) never completed");
    assert!(slept >= Duration::from_secs(2 * 86_400 * 365 * 29), "{slept:?}");
}

/// A paused clock with a `Duration::MAX` sleep pending jumps to a nearer
/// timer first (tokio's `issue_5183`).
#[tau::test]
async fn a_far_sleep_does_not_hold_back_a_near_one_under_a_paused_clock() {
    time::pause();
    let start = Instant::now();
    let outcome = time::timeout(Duration::from_millis(10), time::sleep(Duration::MAX)).await;
    assert!(outcome.is_err(), "the far sleep ended first");
    assert_eq!(start.elapsed(), Duration::from_millis(10));
}
