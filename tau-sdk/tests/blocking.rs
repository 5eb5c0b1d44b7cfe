//! spawn_blocking, block_on nesting and driver hand-off.

use std::sync::mpsc;
use std::time::Duration;

use tau::task;

const NESTED: &str = "Cannot start a runtime from within a runtime";

#[tau::test]
async fn spawn_blocking_returns_its_value() {
    let value = task::spawn_blocking(|| std::thread::current().name().map(str::to_owned)).await.unwrap();
    assert_eq!(value.as_deref(), Some("tau-blocking"));
}

#[tau::test]
async fn panic_in_spawn_blocking_is_a_join_error() {
    let error = task::spawn_blocking(|| panic!("blocking boom")).await.unwrap_err();
    assert!(error.is_panic());
    assert_eq!(error.into_panic().downcast_ref::<&str>(), Some(&"blocking boom"));
}

#[tau::test]
async fn blocking_closure_can_spawn_on_the_runtime() {
    let inner = task::spawn_blocking(|| tau::spawn(async { 99 })).await.unwrap();
    assert_eq!(inner.await.unwrap(), 99);
}

#[tau::test]
async fn aborting_a_started_blocking_task_lets_it_finish() {
    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let handle = task::spawn_blocking(move || {
        started_tx.send(()).unwrap();
        release_rx.recv().unwrap();
        "finished"
    });
    task::spawn_blocking(move || started_rx.recv().unwrap()).await.unwrap();
    handle.abort();
    release_tx.send(()).unwrap();
    assert_eq!(handle.await.unwrap(), "finished");
}

#[test]
fn nested_block_on_panics_with_a_clear_message() {
    let outcome = std::panic::catch_unwind(|| {
        tau::__private::run_test(async {
            tau::block_on(async {});
        })
    });
    let payload = outcome.unwrap_err();
    let message = payload.downcast_ref::<String>().unwrap();
    assert!(message.starts_with(NESTED), "{message}");
}

#[tau::test]
async fn block_on_inside_a_task_is_a_panic_of_that_task() {
    let error = tau::spawn(async { tau::block_on(async { 1 }) }).await.unwrap_err();
    assert!(error.is_panic());
    let message = error.into_panic().downcast::<String>().unwrap();
    assert!(message.starts_with(NESTED), "{message}");
}

#[test]
fn handle_block_on_from_a_blocking_thread_while_the_runtime_is_driven() {
    let runtime = tau::runtime::Runtime::new().unwrap();
    let handle = runtime.handle().clone();
    let value = runtime.block_on(async move {
        let spawned = tau::spawn(async {
            tau::time::sleep(Duration::from_millis(2)).await;
            5
        });
        task::spawn_blocking(move || handle.block_on(spawned)).await.unwrap()
    });
    assert_eq!(value.unwrap(), 5);
}

#[test]
fn a_waiting_block_on_takes_over_when_the_driver_leaves() {
    let runtime = tau::runtime::Runtime::new().unwrap();
    let handle = runtime.handle().clone();
    let (driving_tx, driving_rx) = mpsc::channel();
    let (finish_tx, finish_rx) = mpsc::channel::<()>();
    let driver = std::thread::spawn({
        let handle = handle.clone();
        move || {
            handle.block_on(async move {
                driving_tx.send(()).unwrap();
                // Hold the driver role until told to let go.
                task::spawn_blocking(move || finish_rx.recv().unwrap()).await.unwrap();
            })
        }
    });
    driving_rx.recv().unwrap();
    let waiter = std::thread::spawn(move || {
        // The runtime is busy: this spawns remotely and waits, then takes
        // over driving once the first thread leaves; the timer needs a driver.
        handle.block_on(async {
            tau::spawn(async {
                tau::time::sleep(Duration::from_millis(5)).await;
                "timer fired"
            })
            .await
            .unwrap()
        })
    });
    finish_tx.send(()).unwrap();
    driver.join().unwrap();
    assert_eq!(waiter.join().unwrap(), "timer fired");
    drop(runtime);
}

#[test]
fn block_on_propagates_the_future_panic() {
    let outcome = std::panic::catch_unwind(|| tau::__private::run_test(async { panic!("main boom") }));
    assert_eq!(outcome.unwrap_err().downcast_ref::<&str>(), Some(&"main boom"));
}

#[test]
fn runtime_is_usable_after_a_panicking_block_on() {
    let runtime = tau::runtime::Runtime::new().unwrap();
    let first =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runtime.block_on(async { panic!("x") })));
    assert!(first.is_err());
    assert_eq!(runtime.block_on(async { tau::spawn(async { 3 }).await.unwrap() }), 3);
}

#[test]
fn try_current_outside_any_runtime_context() {
    // This test binary never uses the embedded runtime outside block_on here,
    // but other tests may have started it; both answers are valid, so only
    // the error's message is checked when there is no runtime.
    if let Err(error) = tau::runtime::Handle::try_current() {
        assert!(error.to_string().contains("no tau runtime"));
    }
    let runtime = tau::runtime::Runtime::new().unwrap();
    let _entered = runtime.enter();
    let handle = tau::runtime::Handle::try_current().unwrap();
    assert_eq!(handle.metrics().num_alive_tasks(), 0);
}

/// Issue 11, item 2: with one idle worker, a job that blocks and a second
/// job queued right after it: the second starts on a thread of its own
/// instead of waiting behind the first (which waits for it).
#[tau::test]
async fn a_second_job_starts_while_the_first_blocks_even_with_one_idle_worker() {
    task::spawn_blocking(|| ()).await.unwrap();
    let handle = tau::runtime::Handle::current();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while handle.metrics().num_idle_blocking_threads() < 1 {
        assert!(std::time::Instant::now() < deadline, "the worker never went idle");
        task::yield_now().await;
    }
    assert_eq!(handle.metrics().num_blocking_threads(), 1);
    let (started_tx, started_rx) = mpsc::channel();
    let first = task::spawn_blocking(move || started_rx.recv_timeout(Duration::from_secs(10)).is_ok());
    let second = task::spawn_blocking(move || started_tx.send(()).unwrap());
    assert!(first.await.unwrap(), "the second job ran while the first was blocked");
    second.await.unwrap();
    assert_eq!(handle.metrics().num_blocking_threads(), 2);
}
