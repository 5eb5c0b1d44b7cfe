//! The runtime, task and time modules against tokio's documented behaviour.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::runtime::{Builder, Handle, RuntimeFlavor};

fn message(panic: Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|text| text.to_string()))
        .unwrap_or_default()
}

#[test]
fn builders_of_both_flavours_run_tasks_and_report_their_flavour() {
    for (builder, flavor) in [
        (Builder::new_current_thread().enable_all().build(), RuntimeFlavor::CurrentThread),
        (Builder::new_multi_thread().worker_threads(4).enable_all().build(), RuntimeFlavor::MultiThread),
    ] {
        let runtime = builder.unwrap();
        assert_eq!(runtime.handle().runtime_flavor(), flavor);
        let sum = runtime.block_on(async {
            let tasks: Vec<_> = (0..10u64).map(|n| tokio::spawn(async move { n })).collect();
            let mut sum = 0;
            for task in tasks {
                sum += task.await.unwrap();
            }
            sum
        });
        assert_eq!(sum, 45);
    }
}

#[test]
fn thread_hooks_run_once_around_the_runtime() {
    let started = Arc::new(AtomicUsize::new(0));
    let stopped = Arc::new(AtomicUsize::new(0));
    let runtime = Builder::new_current_thread()
        .on_thread_start({
            let started = started.clone();
            move || {
                started.fetch_add(1, Ordering::SeqCst);
            }
        })
        .on_thread_stop({
            let stopped = stopped.clone();
            move || {
                stopped.fetch_add(1, Ordering::SeqCst);
            }
        })
        .build()
        .unwrap();
    runtime.block_on(async {});
    drop(runtime);
    assert_eq!((started.load(Ordering::SeqCst), stopped.load(Ordering::SeqCst)), (1, 1));
}

#[test]
fn try_current_outside_any_runtime_is_an_error_with_tokios_message() {
    let error = Handle::try_current().unwrap_err();
    assert!(error.is_missing_context());
    assert_eq!(
        error.to_string(),
        "there is no reactor running, must be called from the context of a Tokio 1.x runtime"
    );
}

#[test]
fn a_handle_spawns_from_a_plain_thread_and_enter_makes_it_current() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let handle = runtime.handle().clone();
    let task = std::thread::spawn(move || {
        let _entered = handle.enter();
        tokio::spawn(async { 5 })
    })
    .join()
    .unwrap();
    assert_eq!(runtime.block_on(task).unwrap(), 5);
}

#[tokio::test]
async fn block_in_place_on_the_runtime_thread_names_spawn_blocking() {
    let panic = tokio::spawn(async { tokio::task::block_in_place(|| ()) }).await.unwrap_err().into_panic();
    let message = message(panic);
    assert!(message.contains("spawn_blocking"), "{message}");
    // Off the runtime thread it just runs, as tokio.
    let value = tokio::task::spawn_blocking(|| tokio::task::block_in_place(|| 3)).await.unwrap();
    assert_eq!(value, 3);
}

#[tokio::test]
async fn blocking_recv_panics_on_the_runtime_thread_and_works_off_it() {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<u8>(1);
    let panic = tokio::spawn(async move {
        let _ = rx.blocking_recv();
    })
    .await
    .unwrap_err();
    assert!(panic.is_panic());
    let (tx2, mut rx2) = tokio::sync::mpsc::channel::<u8>(1);
    let receiver = tokio::task::spawn_blocking(move || rx2.blocking_recv());
    tx2.send(9).await.unwrap();
    assert_eq!(receiver.await.unwrap(), Some(9));
    drop(tx);
}

#[tokio::test]
async fn a_hot_receive_loop_is_made_to_yield_by_the_budget() {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<u32>();
    for n in 0..1000 {
        tx.send(n).unwrap();
    }
    let ran = Arc::new(AtomicUsize::new(0));
    let flag = ran.clone();
    tokio::spawn(async move { flag.store(1, Ordering::SeqCst) });
    let mut seen_before_other_ran = 0;
    for _ in 0..1000 {
        rx.recv().await.unwrap();
        if ran.load(Ordering::SeqCst) == 0 {
            seen_before_other_ran += 1;
        }
    }
    // tokio's budget is 128 per poll: the other task ran within the first few hundred.
    assert!(seen_before_other_ran < 1000, "the receive loop never yielded");
    assert!(seen_before_other_ran >= 100, "yielded before the budget was spent: {seen_before_other_ran}");
}

#[tokio::test]
async fn task_locals_are_scoped_to_their_future() {
    tokio::task_local! {
        static REQUEST: u32;
    }
    let inside = REQUEST.scope(7, async { REQUEST.get() }).await;
    assert_eq!(inside, 7);
    assert!(REQUEST.try_with(|_| ()).is_err());
}

#[tokio::test(start_paused = true)]
async fn a_paused_clock_auto_advances_to_each_timer_in_order() {
    let start = tokio::time::Instant::now();
    let mut order = Vec::new();
    let mut set = tokio::task::JoinSet::new();
    for (n, secs) in [(1, 30u64), (0, 10), (2, 3600)] {
        set.spawn(async move {
            tokio::time::sleep(Duration::from_secs(secs)).await;
            (n, tokio::time::Instant::now())
        });
    }
    while let Some(done) = set.join_next().await {
        order.push(done.unwrap());
    }
    let names: Vec<u32> = order.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, [0, 1, 2]);
    let offsets: Vec<Duration> = order.iter().map(|(_, at)| *at - start).collect();
    assert_eq!(offsets, [Duration::from_secs(10), Duration::from_secs(30), Duration::from_secs(3600)]);
}

#[tokio::test]
async fn advance_moves_a_paused_clock_and_fires_what_is_due() {
    tokio::time::pause();
    let start = tokio::time::Instant::now();
    let sleep = tokio::time::sleep(Duration::from_millis(50));
    tokio::pin!(sleep);
    tokio::time::advance(Duration::from_millis(49)).await;
    assert!(futures_poll_once(sleep.as_mut()).await.is_none(), "fired early");
    tokio::time::advance(Duration::from_millis(1)).await;
    assert!(futures_poll_once(sleep.as_mut()).await.is_some());
    assert_eq!(start.elapsed(), Duration::from_millis(50));
    tokio::time::resume();
    let panic = tokio::spawn(async { tokio::time::resume() }).await.unwrap_err().into_panic();
    assert_eq!(message(panic), "time is not frozen");
}

async fn futures_poll_once<F: std::future::Future + Unpin>(future: F) -> Option<F::Output> {
    let mut future = future;
    std::future::poll_fn(|cx| {
        std::task::Poll::Ready(match std::pin::Pin::new(&mut future).poll(cx) {
            std::task::Poll::Ready(output) => Some(output),
            std::task::Poll::Pending => None,
        })
    })
    .await
}

#[test]
fn a_local_runtime_runs_non_send_tasks() {
    let runtime = tokio::runtime::LocalRuntime::new().unwrap();
    let shared = std::rc::Rc::new(std::cell::Cell::new(0));
    let inner = shared.clone();
    runtime.block_on(async move {
        tokio::task::spawn_local(async move { inner.set(4) }).await.unwrap();
    });
    assert_eq!(shared.get(), 4);
}

#[tokio::test]
async fn send_timeout_times_out_on_a_full_channel_and_sends_when_there_is_room() {
    use tokio::sync::mpsc::error::SendTimeoutError;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<u8>(1);
    tx.send_timeout(1, Duration::from_millis(5)).await.unwrap();
    assert_eq!(tx.send_timeout(2, Duration::from_millis(5)).await, Err(SendTimeoutError::Timeout(2)));
    assert_eq!(rx.recv().await, Some(1));
    drop(rx);
    assert_eq!(tx.send_timeout(3, Duration::from_millis(5)).await, Err(SendTimeoutError::Closed(3)));
}

#[test]
fn handles_of_one_runtime_share_its_id_and_name() {
    let first = Builder::new_current_thread().name("first").build().unwrap();
    let second = Builder::new_current_thread().build().unwrap();
    assert_eq!(first.handle().name(), Some("first"));
    assert_eq!(second.handle().name(), None);
    assert_eq!(first.handle().id(), first.handle().clone().id());
    assert_ne!(first.handle().id(), second.handle().id());
    let current = first.block_on(async { Handle::current().id() });
    assert_eq!(current, first.handle().id());
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|text| text.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

#[test]
fn a_runtime_built_without_a_driver_refuses_what_needs_it_with_tokios_message() {
    let time_only = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let (io, slept) = time_only.block_on(async {
        let pair = std::os::unix::net::UnixStream::pair().unwrap().0;
        let io = std::panic::catch_unwind(move || drop(tokio::io::unix::AsyncFd::new(pair)));
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        (io, true)
    });
    assert_eq!(
        panic_message(io.unwrap_err()),
        "A Tokio 1.x context was found, but IO is disabled. Call `enable_io` on the runtime builder to enable IO."
    );
    assert!(slept, "the time driver is on");

    let io_only = tokio::runtime::Builder::new_current_thread().enable_io().build().unwrap();
    let (listener, timer) = io_only.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.is_ok();
        let timer =
            std::panic::catch_unwind(|| drop(tokio::time::sleep(std::time::Duration::from_millis(1))));
        (listener, timer)
    });
    assert!(listener, "the IO driver is on");
    assert_eq!(
        panic_message(timer.unwrap_err()),
        "A Tokio 1.x context was found, but timers are disabled. Call `enable_time` on the runtime builder to enable timers."
    );

    // Outside of any runtime of this library the checks say nothing more
    // than tau does; with both drivers everything works.
    let full = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    full.block_on(async {
        let _listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    });
}

#[test]
fn a_sleep_of_a_multi_thread_runtime_fires_while_another_runtime_polls_it() {
    // tokio-util's `tokio_context_with_another_runtime`: rt1's thread polls a
    // sleep of rt2, which nobody blocks on; rt2's worker fires its timer.
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt1 = Builder::new_multi_thread().worker_threads(1).build().unwrap();
        let rt2 = Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let handle = rt2.handle().clone();
        let mut sleep = None;
        rt1.block_on(std::future::poll_fn(move |cx| {
            let _entered = handle.enter();
            let sleep = sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep(Duration::from_millis(2))));
            std::future::Future::poll(sleep.as_mut(), cx)
        }));
        done.send(()).unwrap();
    });
    finished.recv_timeout(Duration::from_secs(30)).expect("rt2's sleep never fired: nothing drove rt2");
}

#[test]
fn a_multi_thread_runtime_runs_its_tasks_while_nobody_blocks_on_it() {
    let runtime = Builder::new_multi_thread().enable_all().build().unwrap();
    let (sent, received) = std::sync::mpsc::channel();
    runtime.spawn(async move {
        tokio::time::sleep(Duration::from_millis(1)).await;
        sent.send(7).unwrap();
    });
    assert_eq!(received.recv_timeout(Duration::from_secs(30)), Ok(7), "the task never ran");
    // Blocking on it again takes the driver role back, and dropping it ends its worker.
    assert_eq!(runtime.block_on(async { tokio::spawn(async { 8 }).await.unwrap() }), 8);
}

#[test]
fn block_on_in_a_task_on_the_worker_panics_rather_than_waiting_for_the_worker() {
    let runtime = Builder::new_multi_thread().enable_all().build().unwrap();
    let handle = runtime.handle().clone();
    let (sent, received) = std::sync::mpsc::channel();
    // Nobody blocks on the runtime: its worker runs the task.
    runtime.spawn(async move {
        let nested = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handle.block_on(async {})));
        sent.send(nested.map_err(message)).unwrap();
    });
    let Ok(nested) = received.recv_timeout(Duration::from_secs(30)) else {
        // Dropping it would wait for the stuck worker.
        std::mem::forget(runtime);
        panic!("block_on in the worker's task hung");
    };
    let error = nested.expect_err("block_on inside a task must panic");
    assert!(error.starts_with("Cannot start a runtime from within a runtime"), "{error}");
}

#[test]
fn a_multi_thread_runtime_dropped_in_its_own_task_panics_there_and_leaves_its_worker() {
    let runtime = Builder::new_multi_thread().enable_all().build().unwrap();
    let handle = runtime.handle().clone();
    let (sent, received) = std::sync::mpsc::channel();
    handle.spawn(async move {
        let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(runtime)));
        sent.send(dropped.map_err(message)).unwrap();
    });
    let dropped = received.recv_timeout(Duration::from_secs(30)).expect("the drop in the worker's task hung");
    let error = dropped.expect_err("dropping the runtime inside its task must panic");
    assert!(error.starts_with("Cannot drop a runtime in a context where blocking is not allowed"), "{error}");
}

/// The file of the panic `run` raises on this thread, as tokio's tests
/// (`task_panic.rs`) read it.
fn panic_file(run: impl FnOnce() + std::panic::UnwindSafe) -> Option<String> {
    use std::sync::Mutex;
    static ONE_HOOK_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _one = ONE_HOOK_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let file = Arc::new(Mutex::new(None));
    let this_thread = std::thread::current().id();
    let previous = std::panic::take_hook();
    let seen = file.clone();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() == this_thread {
            *seen.lock().unwrap() = info.location().map(|location| location.file().to_string());
        }
    }));
    let result = std::panic::catch_unwind(run);
    std::panic::set_hook(previous);
    result.err()?;
    let file = file.lock().unwrap().take();
    file
}

#[test]
fn panics_outside_a_runtime_name_the_callers_location() {
    // tokio-util's `SyncIoBridge::new` calls `Handle::current`; its
    // `FutureExt::timeout` calls `time::timeout`.
    assert_eq!(panic_file(|| drop(Handle::current())).as_deref(), Some(file!()));
    let pending = std::future::pending::<()>;
    assert_eq!(
        panic_file(move || drop(tokio::time::timeout(Duration::from_millis(10), pending()))).as_deref(),
        Some(file!())
    );
    assert_eq!(
        panic_file(move || {
            drop(tokio::time::timeout_at(tokio::time::Instant::now(), pending()));
        })
        .as_deref(),
        Some(file!())
    );
}

#[test]
fn a_local_sets_block_on_inside_a_runtime_panics_at_the_callers_location() {
    // tokio's `local_set_block_on_panic_caller`.
    let file = panic_file(|| {
        let runtime = Builder::new_current_thread().enable_all().build().unwrap();
        let local = tokio::task::LocalSet::new();
        runtime.block_on(async {
            local.block_on(&runtime, std::future::pending::<()>());
        });
    });
    assert_eq!(file.as_deref(), Some(file!()));
}

#[test]
fn enter_guards_dropped_out_of_order_panic_and_leave_the_thread_usable() {
    // As tokio's (rt_handle's interleave_enter_*): before, nothing panicked.
    let first = Builder::new_current_thread().enable_all().build().unwrap();
    let second = Builder::new_current_thread().enable_all().build().unwrap();
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let enter_first = first.enter();
        let _enter_second = second.enter();
        drop(enter_first);
    }))
    .unwrap_err();
    assert!(message(panic).contains("dropped out of order"));
    // Which runtime is current now is unspecified, as in tokio; entering
    // again in order works, and puts back what it found.
    let before = Handle::try_current().ok().map(|handle| handle.id());
    let outer = second.enter();
    let inner = first.enter();
    assert_eq!(Handle::current().id(), first.handle().id());
    drop(inner);
    assert_eq!(Handle::current().id(), second.handle().id());
    drop(outer);
    assert_eq!(Handle::try_current().ok().map(|handle| handle.id()), before);
}

#[test]
fn enter_guards_count_on_correctly_after_a_caught_out_of_order_drop() {
    // As tokio's: the guard dropped out of order leaves the count alone, so
    // the guards still alive and the later ones are judged right. Before,
    // an in-order drop after it panicked, and an out-of-order one did not.
    let first = Builder::new_current_thread().build().unwrap();
    let second = Builder::new_current_thread().build().unwrap();
    let a = first.enter();
    let b = second.enter();
    assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(a))).is_err());
    let c = first.enter();
    drop(c);
    drop(b); // in order: no panic

    let d = first.enter();
    let e = second.enter();
    let out_of_order = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(d)));
    assert!(out_of_order.is_err(), "d dropped before e");
    drop(e);
}
