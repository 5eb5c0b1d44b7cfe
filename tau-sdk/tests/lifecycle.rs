//! A runtime's life: who may drop it and where, and what its values (a
//! `Sleep`, a `JoinHandle`) and code outside of any runtime see.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

mod common;

use common::DropCounter;
use tau::runtime::{Handle, Runtime};

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|text| text.to_string()))
        .unwrap_or_default()
}

/// Issue 11, item 3: dropping a runtime on the thread that drives it
/// panics with tokio's message instead of deadlocking.
#[test]
fn dropping_a_runtime_on_its_own_driver_thread_panics_with_a_message() {
    let runtime = Runtime::new().unwrap();
    let handle = runtime.handle().clone();
    let outcome = catch_unwind(AssertUnwindSafe(|| handle.block_on(async move { drop(runtime) })));
    let message = panic_message(outcome.unwrap_err());
    assert!(
        message.starts_with("Cannot drop a runtime in a context where blocking is not allowed"),
        "{message}"
    );
}

/// Issue 11, item 3: a server drives the runtime on its own thread; the
/// runtime's owner drops it from another. The shutdown is handed to the
/// server's thread (tasks cancelled, their `Drop` run) and the drop returns
/// while the server's `block_on` goes on, to end when its future does.
#[test]
fn dropping_a_runtime_that_another_thread_drives_hands_the_shutdown_over() {
    let runtime = Runtime::new().unwrap();
    let drops = DropCounter::new();
    let detector = drops.detector();
    runtime.spawn(async move {
        let _detector = detector;
        std::future::pending::<()>().await;
    });
    let (stop, stopped) = tau::sync::oneshot::channel::<()>();
    let (serving_tx, serving) = std::sync::mpsc::channel();
    let handle = runtime.handle().clone();
    let server = std::thread::spawn(move || {
        handle.block_on(async move {
            serving_tx.send(()).unwrap();
            stopped.await.is_ok()
        })
    });
    serving.recv().unwrap();
    drop(runtime); // returns: the server's thread ran the shutdown
    assert_eq!(drops.dropped(), 1, "the task was cancelled by the shutdown");
    stop.send(()).unwrap();
    assert!(server.join().unwrap(), "the server's block_on ended when its future did");
}

/// Issue 11, item 4: a registered `Sleep` kept past its runtime completes
/// at its next poll (its timer can never fire; a panic, tokio's answer,
/// could not unwind out of a plugin's code into the host's); dropping it is
/// fine, and the other runtime that polled it is unaffected.
#[test]
fn a_sleep_polled_after_its_runtime_is_gone_completes() {
    let runtime = Runtime::new().unwrap();
    // Carried out in an Option: a future that resolves to a future is a lint.
    let nap = runtime.block_on(async {
        let mut nap = Box::pin(tau::time::sleep(Duration::from_secs(3600)));
        let waker = std::task::Waker::noop();
        assert!(
            std::future::Future::poll(nap.as_mut(), &mut std::task::Context::from_waker(waker)).is_pending()
        );
        Some(nap)
    });
    let mut nap = nap.unwrap();
    drop(runtime);
    let other = Runtime::new().unwrap();
    other.block_on(nap.as_mut());
    assert!(nap.is_elapsed());
    drop(nap);
    assert_eq!(
        other.block_on(async { tau::spawn(async { 5 }).await.unwrap() }),
        5,
        "the other runtime works"
    );
}

/// Issue 11, item 11: `tau::spawn`, `sleep` and `Handle::current` outside
/// of any runtime panic with tokio's message (they would land on a runtime
/// nobody drives); `Handle::try_current` says so; `tau::block_on` drives the
/// embedded runtime, inside which they work.
#[test]
fn outside_of_any_runtime_spawn_and_timers_panic_and_block_on_works() {
    std::thread::spawn(|| {
        let expected = "there is no reactor running, must be called from the context of a Tokio 1.x runtime";
        let spawned = catch_unwind(|| drop(tau::spawn(async {})));
        assert!(panic_message(spawned.unwrap_err()).starts_with(expected));
        let slept = catch_unwind(|| drop(tau::time::sleep(Duration::from_millis(1))));
        assert!(panic_message(slept.unwrap_err()).starts_with(expected));
        assert!(catch_unwind(Handle::current).is_err());
        assert!(Handle::try_current().is_err());
        let value = tau::block_on(async {
            tau::time::sleep(Duration::from_millis(1)).await;
            tau::spawn(async { 3 }).await.unwrap()
        });
        assert_eq!(value, 3);
        assert!(Handle::try_current().is_err(), "block_on left nothing entered behind");
    })
    .join()
    .unwrap();
}

/// A registered sleep and a live task's handle, moved to a thread outside
/// of any runtime: dropping the one and aborting the other there reach the
/// runtime, which ends both at its next turn.
#[test]
fn values_made_in_a_runtime_can_be_dropped_and_aborted_from_anywhere() {
    let runtime = Runtime::new().unwrap();
    let (nap, handle) = runtime.block_on(async {
        let mut nap = Box::pin(tau::time::sleep(Duration::from_secs(3600)));
        let waker = std::task::Waker::noop();
        assert!(
            std::future::Future::poll(nap.as_mut(), &mut std::task::Context::from_waker(waker)).is_pending()
        );
        (nap, tau::spawn(std::future::pending::<()>()))
    });
    assert_eq!(runtime.metrics().num_timers(), 1);
    std::thread::spawn(move || {
        drop(nap);
        handle.abort();
        drop(handle);
    })
    .join()
    .unwrap();
    runtime.block_on(async { tau::task::yield_now().await });
    assert_eq!(runtime.metrics().num_alive_tasks(), 0);
    assert_eq!(runtime.metrics().num_timers(), 0);
}

/// `enter` guards dropped out of order, or forgotten, while the runtimes
/// they entered go away: what is left entered is still a valid table (of a
/// runtime that is gone, so spawns through it are cancelled), never freed
/// memory.
#[test]
fn enter_guards_dropped_out_of_order_or_forgotten_leave_nothing_dangling() {
    std::thread::spawn(|| {
        let a = Runtime::new().unwrap();
        let b = Runtime::new().unwrap();
        let entered_a = a.enter();
        let entered_b = b.enter();
        drop(entered_a); // out of order: `b`'s guard will put `a` back
        drop(a);
        drop(entered_b);
        let orphan = tau::spawn(async { 1 });
        assert!(orphan.is_finished(), "refused by the runtime that is gone");
        drop(b);
    })
    .join()
    .unwrap();
    std::thread::spawn(|| {
        let c = Runtime::new().unwrap();
        std::mem::forget(c.enter()); // it had nothing to put back
        drop(c);
        let orphan = tau::spawn(async { 2 });
        assert!(orphan.is_finished(), "refused by the runtime that is gone");
    })
    .join()
    .unwrap();
}
