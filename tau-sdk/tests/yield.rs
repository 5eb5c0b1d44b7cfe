//! A yield (`yield_now`, a spent coop budget) lets the reactor look before
//! the yielder runs again, as tokio's defers a yield's wake until its
//! driver is polled (tokio's `rt_common::yield_defers_until_park`): a task
//! that yields in a loop while it waits for IO sees that IO after a yield
//! or two, and never spins through hundreds of polls first.

use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};

use tau::io::{AsyncFd, Interest};

/// How many yields the waiting side of `yields_until_io` may take; tokio's
/// test allows fewer than 10.
const MAX_YIELDS: usize = 3;

/// Runs, in the calling task, a loop that yields with `yield_once` until a
/// pipe written before it started is seen readable by a second branch of
/// the same task; returns how many yields that took.
async fn yields_until_io<F: std::future::Future<Output = ()>>(yield_once: impl Fn() -> F) -> usize {
    let (reader, mut writer) = io::pipe().unwrap();
    // SAFETY: a valid fd owned by this function; F_SETFL only changes flags.
    let rc = unsafe {
        libc::fcntl(
            reader.as_raw_fd(),
            libc::F_SETFL,
            libc::fcntl(reader.as_raw_fd(), libc::F_GETFL) | libc::O_NONBLOCK,
        )
    };
    assert_eq!(rc, 0);
    let fd = AsyncFd::with_interest(reader, Interest::READABLE).unwrap();
    writer.write_all(b"x").unwrap();
    let seen = AtomicBool::new(false);
    let (yields, ()) = futures::join!(
        async {
            let mut yields = 0;
            while !seen.load(Ordering::SeqCst) && yields < 10_000 {
                yield_once().await;
                yields += 1;
            }
            yields
        },
        async {
            let _guard = fd.readable().await.unwrap();
            seen.store(true, Ordering::SeqCst);
        }
    );
    yields
}

#[tau::test]
async fn a_task_yielding_in_a_loop_sees_ready_io_after_a_yield_or_two() {
    let yields = tau::spawn(yields_until_io(tau::task::yield_now)).await.unwrap();
    // Before yields were deferred: 2,048 (8 batches of 256 polls between two looks at the reactor).
    assert!(yields <= MAX_YIELDS, "{yields} yields before the reactor was looked at");
}

#[tau::test]
async fn a_task_spending_its_budget_in_a_loop_sees_ready_io_after_a_yield_or_two() {
    let spend_a_budget = || async {
        for _ in 0..128 {
            tau::task::coop::consume_budget().await;
        }
    };
    let rounds = tau::spawn(yields_until_io(spend_a_budget)).await.unwrap();
    assert!(rounds <= MAX_YIELDS, "{rounds} budgets spent before the reactor was looked at");
}

#[tau::test]
async fn the_main_future_yielding_in_a_loop_sees_ready_io_after_a_yield_or_two() {
    let yields = yields_until_io(tau::task::yield_now).await;
    assert!(yields <= MAX_YIELDS, "{yields} yields before the reactor was looked at");
}

#[tau::test]
async fn a_yielding_task_still_lets_every_other_task_run_in_between() {
    // A yield is not a sleep: the other ready tasks run before the
    // yielder does again, and the yielder runs again without any IO.
    let ran = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let others: Vec<_> = (0..4)
        .map(|_| {
            let ran = ran.clone();
            tau::spawn(async move { ran.fetch_add(1, Ordering::SeqCst) })
        })
        .collect();
    tau::task::yield_now().await;
    assert_eq!(
        ran.load(Ordering::SeqCst),
        4,
        "every task spawned before the yield ran before the yielder came back"
    );
    for other in others {
        other.await.unwrap();
    }
}
