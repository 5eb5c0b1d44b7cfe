//! Abort follows tokio's JoinHandle/AbortHandle documentation.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{pending_with, yield_until, DropCounter};
use tau::task::{self, AbortHandle, JoinHandle};

fn assert_send_sync_clone<T: Send + Sync + Clone + 'static>() {}
fn assert_send_sync<T: Send + Sync + 'static>() {}

#[test]
fn handle_types_are_send_sync() {
    assert_send_sync_clone::<AbortHandle>();
    assert_send_sync::<JoinHandle<String>>();
    assert_send_sync::<task::JoinError>();
}

#[tau::test]
async fn abort_idle_task_drops_its_future_at_once() {
    let drops = DropCounter::new();
    let handle = tau::spawn(pending_with(drops.detector()));
    task::yield_now().await; // let it run once and go idle
    assert_eq!(drops.dropped(), 0);
    handle.abort();
    assert_eq!(drops.dropped(), 1, "idle task dropped inside abort()");
    assert!(handle.is_finished());
    let error = handle.await.unwrap_err();
    assert!(error.is_cancelled());
    assert!(!error.is_panic());
}

#[tau::test]
async fn abort_before_first_poll_never_polls() {
    let polled = Arc::new(Mutex::new(false));
    let flag = Arc::clone(&polled);
    let handle = tau::spawn(async move {
        *flag.lock().unwrap() = true;
    });
    handle.abort();
    assert!(handle.await.unwrap_err().is_cancelled());
    assert!(!*polled.lock().unwrap());
}

#[tau::test]
async fn task_aborting_itself_is_dropped_after_its_poll() {
    let drops = DropCounter::new();
    let own: Arc<Mutex<Option<AbortHandle>>> = Arc::default();
    let reached_after_await = Arc::new(Mutex::new(false));
    let (slot, after, detector, counter) =
        (Arc::clone(&own), Arc::clone(&reached_after_await), drops.detector(), drops.clone());
    let handle = tau::spawn(async move {
        let _held = detector;
        task::yield_now().await;
        let me = slot.lock().unwrap().take().unwrap();
        me.abort();
        me.abort(); // idempotent, still inside our own poll
        assert_eq!(counter.dropped(), 0, "not dropped while its own poll runs");
        task::yield_now().await;
        *after.lock().unwrap() = true;
    });
    *own.lock().unwrap() = Some(handle.abort_handle());
    let error = handle.await.unwrap_err();
    assert!(error.is_cancelled());
    assert_eq!(drops.dropped(), 1);
    assert!(!*reached_after_await.lock().unwrap(), "code after the next yield point never ran");
}

#[tau::test]
async fn task_aborts_another_idle_task_from_inside_its_poll() {
    let drops = DropCounter::new();
    let victim = tau::spawn(pending_with(drops.detector()));
    task::yield_now().await;
    let victim_abort = victim.abort_handle();
    let counter = drops.clone();
    let killer = tau::spawn(async move {
        victim_abort.abort();
        counter.dropped() // observed inside the killer's poll
    });
    assert_eq!(killer.await.unwrap(), 1, "victim dropped during the killer's poll");
    assert!(victim.await.unwrap_err().is_cancelled());
    assert_eq!(drops.dropped(), 1);
}

/// A Drop that aborts another task: reentrant abort during a drop.
struct AbortOnDrop(AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[tau::test]
async fn abort_from_a_drop_during_abort_is_reentrant() {
    let drops = DropCounter::new();
    let second = tau::spawn(pending_with(drops.detector()));
    let chain = AbortOnDrop(second.abort_handle());
    let detector = drops.detector();
    let first = tau::spawn(async move {
        let _chain = chain;
        pending_with(detector).await
    });
    task::yield_now().await;
    first.abort();
    assert_eq!(drops.dropped(), 2, "both futures dropped, each once");
    assert!(first.await.unwrap_err().is_cancelled());
    assert!(second.await.unwrap_err().is_cancelled());
    assert_eq!(drops.lowest_live(), 0);
}

#[tau::test]
async fn aborting_a_finished_task_keeps_its_output() {
    let handle = tau::spawn(async { 5 });
    let probe = handle.abort_handle();
    yield_until(100, || probe.is_finished()).await;
    handle.abort();
    handle.abort();
    assert_eq!(handle.await.unwrap(), 5);
}

#[tau::test]
async fn abort_is_idempotent() {
    let drops = DropCounter::new();
    let handle = tau::spawn(pending_with(drops.detector()));
    let other = handle.abort_handle();
    handle.abort();
    other.abort();
    handle.abort();
    assert!(handle.await.unwrap_err().is_cancelled());
    assert_eq!(drops.dropped(), 1);
}

#[tau::test]
async fn dropping_join_handle_detaches() {
    let result = Arc::new(Mutex::new(None));
    let sink = Arc::clone(&result);
    let (go, may_finish) = tau::sync::oneshot::channel();
    let handle = tau::spawn(async move {
        may_finish.await.unwrap();
        *sink.lock().unwrap() = Some("ran to the end");
    });
    let probe = handle.abort_handle();
    drop(handle);
    go.send(()).unwrap(); // the task is still pending when its handle goes
    yield_until(100, || probe.is_finished()).await;
    assert_eq!(*result.lock().unwrap(), Some("ran to the end"));
}

#[tau::test]
async fn detached_task_output_is_dropped_when_it_finishes() {
    let drops = DropCounter::new();
    let detector = drops.detector();
    let handle = tau::spawn(async move { detector });
    let probe = handle.abort_handle();
    drop(handle);
    yield_until(100, || probe.is_finished()).await;
    assert_eq!(drops.dropped(), 1, "nobody can read the output, so it is dropped");
}

#[tau::test]
async fn abort_from_another_os_thread() {
    let drops = DropCounter::new();
    let handle = tau::spawn(pending_with(drops.detector()));
    let abort = handle.abort_handle();
    std::thread::spawn(move || abort.abort()).join().unwrap();
    assert!(handle.await.unwrap_err().is_cancelled());
    assert_eq!(drops.dropped(), 1);
}

#[tau::test]
async fn abort_from_a_spawn_blocking_thread() {
    let drops = DropCounter::new();
    let handle = tau::spawn(pending_with(drops.detector()));
    let abort = handle.abort_handle();
    task::spawn_blocking(move || abort.abort()).await.unwrap();
    assert!(handle.await.unwrap_err().is_cancelled());
    assert!(handle_is_done(&drops));
}

fn handle_is_done(drops: &DropCounter) -> bool {
    drops.dropped() == 1 && drops.live() == 0
}

#[tau::test]
async fn panicking_task_gives_is_panic_with_payload() {
    let handle = tau::spawn(async {
        task::yield_now().await;
        let n = std::hint::black_box(7); // a runtime value: the payload is a String
        panic!("boom {n}");
    });
    let id = handle.id();
    let error = handle.await.unwrap_err();
    assert!(error.is_panic());
    assert!(!error.is_cancelled());
    assert_eq!(error.id(), id);
    assert_eq!(error.to_string(), format!("task {id} panicked with message \"boom 7\""));
    let payload = error.into_panic();
    assert_eq!(payload.downcast_ref::<String>().map(String::as_str), Some("boom 7"));
    // The runtime keeps going.
    assert_eq!(tau::spawn(async { 1 }).await.unwrap(), 1);
}

/// A future whose poll panics with `message`; its Drop reports whether a
/// panic was unwinding then, and panics too if `panic_in_drop`.
struct Boom {
    message: &'static str,
    report: Option<tau::sync::oneshot::Sender<bool>>,
    panic_in_drop: bool,
}

impl std::future::Future for Boom {
    type Output = ();

    fn poll(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        std::panic::panic_any(self.message)
    }
}

impl Drop for Boom {
    fn drop(&mut self) {
        let _ = self.report.take().unwrap().send(std::thread::panicking());
        if self.panic_in_drop {
            panic!("in drop");
        }
    }
}

#[tau::test]
async fn a_task_whose_poll_panics_is_dropped_while_the_panic_unwinds() {
    // As tokio's (rt_common's panic_in_task): its Drop sees
    // `thread::panicking()`. Before, it was dropped after the unwinding.
    let (report, dropped) = tau::sync::oneshot::channel();
    let handle = tau::spawn(Boom { message: "boom", report: Some(report), panic_in_drop: false });
    assert!(handle.await.unwrap_err().is_panic());
    assert_eq!(dropped.await, Ok(true), "dropped while panicking");

    // A Drop that panics too, while the poll's panic unwinds: contained;
    // the task reports the poll's panic, and the runtime keeps going.
    let (report, dropped) = tau::sync::oneshot::channel();
    let handle = tau::spawn(Boom { message: "first", report: Some(report), panic_in_drop: true });
    let payload = handle.await.unwrap_err().into_panic();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"first"));
    assert_eq!(dropped.await, Ok(true));
    assert_eq!(tau::spawn(async { 1 }).await.unwrap(), 1);
}

#[tau::test]
async fn cancelled_error_is_not_a_panic() {
    let handle = tau::spawn(std::future::pending::<()>());
    let id = handle.id();
    handle.abort();
    let error = handle.await.unwrap_err();
    assert_eq!(error.id(), id);
    assert_eq!(error.to_string(), format!("task {id} was cancelled"));
    let error = error.try_into_panic().unwrap_err();
    assert!(error.is_cancelled());
}

#[tau::test]
async fn aborted_task_releases_its_timer() {
    let handle = tau::spawn(tau::time::sleep(Duration::from_secs(3600)));
    task::yield_now().await;
    let runtime = tau::runtime::Handle::current();
    assert_eq!(runtime.metrics().num_timers(), 1);
    handle.abort();
    assert_eq!(runtime.metrics().num_timers(), 0);
    assert_eq!(runtime.metrics().num_alive_tasks(), 0);
}

#[tau::test]
async fn aborted_task_releases_its_io_registration() {
    let (left, _right) = std::os::unix::net::UnixStream::pair().unwrap();
    left.set_nonblocking(true).unwrap();
    let handle = tau::spawn(async move {
        let fd = tau::io::AsyncFd::new(left).unwrap();
        loop {
            let mut guard = fd.readable().await.unwrap();
            guard.clear_ready();
        }
    });
    task::yield_now().await;
    let runtime = tau::runtime::Handle::current();
    assert_eq!(runtime.metrics().num_io_registrations(), 1);
    handle.abort();
    assert_eq!(runtime.metrics().num_io_registrations(), 0);
}

#[test]
fn spawn_from_a_foreign_thread_then_abort_before_it_is_accepted() {
    let runtime = tau::runtime::Runtime::new().unwrap();
    let handle = runtime.handle().clone();
    let polled = Arc::new(Mutex::new(false));
    let flag = Arc::clone(&polled);
    let (join, ok) = std::thread::spawn(move || {
        let join = handle.spawn(async move { *flag.lock().unwrap() = true });
        join.abort(); // nobody drives the runtime yet: the spawn is still queued
        let ok = handle.spawn(async { 9 });
        (join, ok)
    })
    .join()
    .unwrap();
    runtime.block_on(async move {
        assert!(join.await.unwrap_err().is_cancelled());
        assert_eq!(ok.await.unwrap(), 9);
    });
    assert!(!*polled.lock().unwrap());
}

#[test]
#[allow(clippy::async_yields_async)] // the JoinHandle is meant to outlive the runtime
fn dropping_the_runtime_cancels_its_tasks() {
    let drops = DropCounter::new();
    let runtime = tau::runtime::Runtime::new().unwrap();
    let handle = runtime.block_on(async {
        let handle = tau::spawn(pending_with(drops.detector()));
        task::yield_now().await;
        handle
    });
    assert_eq!(drops.dropped(), 0);
    drop(runtime);
    assert_eq!(drops.dropped(), 1);
    assert!(handle.is_finished());
    let error = tau::block_on(handle).unwrap_err();
    assert!(error.is_cancelled());
}

#[tau::test]
async fn task_id_is_visible_inside_the_task() {
    let handle = tau::spawn(async { task::id() });
    let id = handle.id();
    assert_eq!(handle.await.unwrap(), id);
    assert!(task::try_id().is_none());
}

#[test]
fn spawning_on_a_dropped_runtime_gives_a_cancelled_task() {
    let runtime = tau::runtime::Runtime::new().unwrap();
    let handle = runtime.handle().clone();
    drop(runtime);
    let drops = DropCounter::new();
    let join = std::thread::spawn(move || handle.spawn(pending_with(drops.detector())).is_finished())
        .join()
        .unwrap();
    assert!(join, "cancelled at once: no driver will ever run it");
}

#[test]
fn a_remote_spawn_sees_its_own_id() {
    let runtime = tau::runtime::Runtime::new().unwrap();
    let handle = runtime.handle().clone();
    let join = std::thread::spawn(move || handle.spawn(async { task::id() })).join().unwrap();
    let id = join.id();
    assert_eq!(runtime.block_on(join).unwrap(), id);
}

/// Issue 11, item 11: the waker a `JoinHandle` was polled with may be
/// foreign and may panic when woken; the task completing wakes it inside
/// `extern "C"`, so the panic is contained and the output still arrives.
#[tau::test]
async fn a_panicking_join_waker_does_not_take_the_runtime_down() {
    use std::task::{RawWaker, RawWakerVTable};
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, explode, explode, noop);
    unsafe fn clone(_: *const ()) -> RawWaker {
        RawWaker::new(std::ptr::null(), &VTABLE)
    }
    unsafe fn explode(_: *const ()) {
        panic!("a foreign waker exploded");
    }
    unsafe fn noop(_: *const ()) {}

    let (tx, rx) = tau::sync::oneshot::channel::<()>();
    let mut handle = tau::spawn(async move {
        rx.await.unwrap();
        7
    });
    // SAFETY: the vtable upholds the RawWaker contract (wakes panic by design).
    let exploding = unsafe { std::task::Waker::from_raw(RawWaker::new(std::ptr::null(), &VTABLE)) };
    let polled = std::future::Future::poll(
        std::pin::Pin::new(&mut handle),
        &mut std::task::Context::from_waker(&exploding),
    );
    assert!(polled.is_pending());
    tx.send(()).unwrap();
    // The task completes while only the exploding waker is registered.
    while !handle.is_finished() {
        task::yield_now().await;
    }
    assert_eq!(handle.await.unwrap(), 7);
}
