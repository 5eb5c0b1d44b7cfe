//! Stress: 100,000 tasks that sleep, wake each other and complete, aborted at
//! random from 4 OS threads; every future is dropped exactly once.
//!
//! `TAU_STRESS_TASKS` overrides the task count (the valgrind run uses fewer).

mod common;

use std::future::poll_fn;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::Duration;

use common::DropCounter;
use tau::task::{self, AbortHandle};

const ABORT_THREADS: usize = 4;
const FOREVER: Duration = Duration::from_secs(3600);

/// A one-shot flag a task can await; set from another task.
#[derive(Default)]
struct Signal(Mutex<(bool, Option<Waker>)>);

impl Signal {
    fn set(&self) {
        let mut state = self.0.lock().unwrap();
        state.0 = true;
        if let Some(waker) = state.1.take() {
            waker.wake();
        }
    }

    async fn wait(&self) {
        poll_fn(|cx| {
            let mut state = self.0.lock().unwrap();
            if state.0 {
                Poll::Ready(())
            } else {
                state.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }
}

/// Sets the signal when dropped: whether the waking task finishes or is
/// aborted, its partner is released.
struct SetOnDrop(Arc<Signal>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.set();
    }
}

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn task_count() -> usize {
    std::env::var("TAU_STRESS_TASKS").ok().and_then(|n| n.parse().ok()).unwrap_or(100_000)
}

#[tau::test]
async fn random_aborts_from_four_threads_drop_every_future_exactly_once() {
    let tasks = task_count() & !1; // pairs
    let drops = DropCounter::new();
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let completed = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::with_capacity(tasks);
    for pair in 0..tasks / 2 {
        let signal = Arc::new(Signal::default());
        let (waiter_detector, waker_detector) = (drops.detector(), drops.detector());
        let wait_on = Arc::clone(&signal);
        let done = Arc::clone(&completed);
        handles.push(tau::spawn(async move {
            let _held = waiter_detector;
            wait_on.wait().await;
            done.fetch_add(1, Ordering::Relaxed);
            pair
        }));
        // Every 16th pair only ends by abort; the rest finish within 2 ms.
        let nap = if pair % 16 == 0 { FOREVER } else { Duration::from_micros(rng.next() % 2_000) };
        let done = Arc::clone(&completed);
        handles.push(tau::spawn(async move {
            let _held = waker_detector;
            let _release_partner = SetOnDrop(signal);
            if !nap.is_zero() {
                tau::time::sleep(nap).await;
            }
            task::yield_now().await;
            done.fetch_add(1, Ordering::Relaxed);
            pair
        }));
    }
    let abort_handles: Arc<Vec<AbortHandle>> =
        Arc::new(handles.iter().map(|handle| handle.abort_handle()).collect());
    let aborters: Vec<_> = (0..ABORT_THREADS)
        .map(|thread| {
            let abort_handles = Arc::clone(&abort_handles);
            let completed = Arc::clone(&completed);
            std::thread::spawn(move || {
                // Start once the runtime is well into the work.
                while completed.load(Ordering::Relaxed) < abort_handles.len() / 50 {
                    std::thread::yield_now();
                }
                let mut rng = XorShift(0xD1B5_4A32_D192_ED03 ^ (thread as u64 + 1));
                for round in 0..abort_handles.len() / 8 {
                    let index = (rng.next() % abort_handles.len() as u64) as usize;
                    abort_handles[index].abort();
                    if round % 64 == 0 {
                        std::thread::yield_now();
                    }
                }
            })
        })
        .collect();

    // Pairs that end on their own (or by a random abort) are joined while the
    // aborters work; then the never-ending pairs are aborted and joined.
    let (mut finished, mut cancelled) = (0usize, 0usize);
    let mut count = |result: Result<usize, task::JoinError>| match result {
        Ok(_) => finished += 1,
        Err(error) => {
            assert!(error.is_cancelled(), "{error}");
            cancelled += 1;
        }
    };
    let (never_ending, ending): (Vec<_>, Vec<_>) =
        handles.into_iter().enumerate().partition(|(index, _)| (index / 2) % 16 == 0);
    for (_, handle) in ending {
        count(handle.await);
    }
    task::spawn_blocking(move || aborters.into_iter().for_each(|thread| thread.join().unwrap()))
        .await
        .unwrap();
    for (_, handle) in &never_ending {
        handle.abort();
    }
    for (_, handle) in never_ending {
        count(handle.await);
    }
    eprintln!("stress: {tasks} tasks, {finished} finished, {cancelled} cancelled");
    assert_eq!(finished + cancelled, tasks);
    // The waker of each never-ending pair only ends by abort (its waiter may
    // finish once a random abort of the waker releases it).
    assert!(cancelled >= tasks / 32, "the never-ending wakers were cancelled: {cancelled}");
    assert!(finished > 0, "finished {finished}");
    assert_eq!(drops.created(), tasks);
    assert_eq!(drops.dropped(), tasks, "every future dropped");
    assert_eq!(drops.live(), 0);
    assert_eq!(drops.lowest_live(), 0, "never negative: no double drop");
    let metrics = tau::runtime::Handle::current().metrics();
    assert_eq!(metrics.num_alive_tasks(), 0);
    assert_eq!(metrics.num_timers(), 0, "aborted sleeps released their timers");
}

#[test]
fn remote_spawns_from_many_threads_all_run() {
    let runtime = tau::runtime::Runtime::new().unwrap();
    let threads: Vec<_> = (0..4)
        .map(|thread| {
            let handle = runtime.handle().clone();
            std::thread::spawn(move || {
                (0..1000u64).map(|i| handle.spawn(async move { thread * 1000 + i })).collect::<Vec<_>>()
            })
        })
        .collect();
    let handles: Vec<_> = threads.into_iter().flat_map(|thread| thread.join().unwrap()).collect();
    let total: u64 = runtime.block_on(async {
        let mut total = 0;
        for handle in handles {
            total += handle.await.unwrap();
        }
        total
    });
    assert_eq!(total, (0..4000u64).sum::<u64>());
}

#[test]
fn a_burst_of_remote_wakes_costs_one_notify() {
    let runtime = tau::runtime::Runtime::new().unwrap();
    let waiter = runtime.spawn(async {
        let signal = Arc::new(Signal::default());
        (Arc::clone(&signal), tau::spawn(async move { signal.wait().await }))
    });
    let (signal, waiting) = runtime.block_on(async { waiter.await.unwrap() });
    let before = runtime.metrics().remote_notify_count();
    // Nobody drives the runtime now: 1000 remote spawns and a wake pile up.
    let handle = runtime.handle().clone();
    let spawned = std::thread::spawn(move || {
        let handles: Vec<_> = (0..1000u32).map(|i| handle.spawn(async move { i })).collect();
        signal.set();
        handles
    })
    .join()
    .unwrap();
    assert_eq!(runtime.metrics().remote_notify_count() - before, 1, "the burst coalesced into one notify");
    let total = runtime.block_on(async move {
        waiting.await.unwrap();
        let mut total = 0;
        for handle in spawned {
            total += handle.await.unwrap();
        }
        total
    });
    assert_eq!(total, (0..1000u32).sum::<u32>());
}
