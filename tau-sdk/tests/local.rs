//! `LocalSet` and `spawn_local`, against tokio's documented behaviour.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tau::runtime::Runtime;
use tau::sync::oneshot;
use tau::task::{spawn_local, LocalSet};

/// Sets its flag when dropped.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn local_tasks_run_non_send_futures_on_the_sets_thread() {
    let runtime = Runtime::new().unwrap();
    let local = LocalSet::new();
    let counter = Rc::new(Cell::new(0));
    let thread = std::thread::current().id();
    let total = local.block_on(&runtime, {
        let counter = counter.clone();
        async move {
            let handles: Vec<_> = (0..10)
                .map(|n| {
                    let counter = counter.clone();
                    spawn_local(async move {
                        tau::time::sleep(Duration::from_millis(n % 3)).await;
                        assert_eq!(std::thread::current().id(), thread);
                        counter.set(counter.get() + n);
                    })
                })
                .collect();
            for handle in handles {
                handle.await.unwrap();
            }
            counter.get()
        }
    });
    assert_eq!(total, 45);
    assert!(local.is_empty());
}

#[test]
fn awaiting_the_set_runs_its_tasks_to_the_end() {
    let runtime = Runtime::new().unwrap();
    let local = LocalSet::new();
    let done = Rc::new(Cell::new(false));
    let flag = done.clone();
    local.spawn_local(async move {
        tau::time::sleep(Duration::from_millis(2)).await;
        spawn_local(async move { flag.set(true) });
    });
    assert_eq!(local.len(), 1);
    runtime.block_on(local);
    assert!(done.get());
}

#[test]
fn abort_of_an_idle_local_task_drops_it_and_reports_cancelled() {
    let runtime = Runtime::new().unwrap();
    let local = LocalSet::new();
    let dropped = Arc::new(AtomicBool::new(false));
    local.block_on(&runtime, async {
        let flag = DropFlag(dropped.clone());
        let handle = spawn_local(async move {
            let _flag = flag;
            std::future::pending::<()>().await
        });
        tau::task::yield_now().await; // it runs once and waits forever
        assert!(!dropped.load(Ordering::SeqCst));
        handle.abort();
        let error = handle.await.unwrap_err();
        assert!(error.is_cancelled());
        assert!(dropped.load(Ordering::SeqCst));
    });
}

#[test]
fn dropping_the_set_cancels_what_is_left_on_its_thread() {
    let runtime = Runtime::new().unwrap();
    let dropped = Arc::new(AtomicBool::new(false));
    let handle = {
        let local = LocalSet::new();
        let flag = DropFlag(dropped.clone());
        let not_send = Rc::new(());
        let handle = local.spawn_local(async move {
            let _flag = flag;
            let _rc = not_send;
            std::future::pending::<()>().await
        });
        local.block_on(&runtime, tau::task::yield_now());
        handle
    };
    assert!(dropped.load(Ordering::SeqCst));
    assert!(runtime.block_on(handle).unwrap_err().is_cancelled());
}

#[test]
fn a_wake_from_another_thread_reaches_the_local_task() {
    let runtime = Runtime::new().unwrap();
    let local = LocalSet::new();
    let (tx, rx) = oneshot::channel();
    let got = local.block_on(&runtime, async move {
        let waiter = spawn_local(async move { rx.await.unwrap() });
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(5));
            tx.send(7u32).unwrap();
        });
        waiter.await.unwrap()
    });
    assert_eq!(got, 7);
}

#[test]
fn a_local_task_panic_is_its_join_error() {
    let runtime = Runtime::new().unwrap();
    let local = LocalSet::new();
    local.block_on(&runtime, async {
        let error = spawn_local(async { panic!("local boom") }).await.unwrap_err();
        assert!(error.is_panic());
        assert_eq!(*error.into_panic().downcast::<&str>().unwrap(), "local boom");
    });
}

#[test]
fn spawn_local_outside_a_set_panics_with_tokios_message() {
    let runtime = Runtime::new().unwrap();
    let panic = runtime
        .block_on(runtime.spawn(async {
            spawn_local(async {});
        }))
        .unwrap_err()
        .into_panic();
    let message = panic
        .downcast_ref::<&str>()
        .map(|text| text.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned());
    assert_eq!(
        message.as_deref(),
        Some("`spawn_local` called from outside of a `task::LocalSet` or `runtime::LocalRuntime`")
    );
}

#[test]
fn a_join_set_takes_local_tasks() {
    let runtime = Runtime::new().unwrap();
    let local = LocalSet::new();
    let sum = local.block_on(&runtime, async {
        let mut set = tau::task::JoinSet::new();
        for n in 0..5u32 {
            let value = Rc::new(n);
            set.spawn_local(async move { *value });
        }
        let mut sum = 0;
        while let Some(result) = set.join_next().await {
            sum += result.unwrap();
        }
        sum
    });
    assert_eq!(sum, 10);
}

#[test]
fn a_set_in_a_thread_local_is_dropped_at_thread_exit_without_aborting() {
    // tokio's task_local_set::localset_in_thread_local: the set, dropped
    // with the thread's other thread-locals, may find tau's own already
    // gone; before, that aborted the process.
    thread_local! {
        static LOCAL_SET: LocalSet = LocalSet::new();
    }
    let runtime = Runtime::new().unwrap();
    let handle = runtime.handle().clone();
    let (done, wait) = oneshot::channel::<()>();
    let left_pending = Arc::new(AtomicBool::new(false));
    let flag = DropFlag(left_pending.clone());
    let thread = std::thread::spawn(move || {
        LOCAL_SET.with(|local| {
            handle.block_on(local.run_until(async move {
                spawn_local(async {}).await.unwrap();
                // Still in the set at thread exit: dropped there.
                spawn_local(async move {
                    let _flag = flag;
                    std::future::pending::<()>().await
                });
                drop(done);
            }))
        });
    });
    thread.join().unwrap();
    assert!(runtime.block_on(wait).is_err());
    assert!(left_pending.load(Ordering::SeqCst), "the task left in the set was dropped with it");
}

#[test]
fn a_runtime_and_a_set_in_a_thread_local_are_dropped_at_thread_exit_without_aborting() {
    // tokio's task_local_set::store_local_set_in_thread_local_with_runtime.
    struct RuntimeAndSet {
        runtime: Runtime,
        local: LocalSet,
    }
    thread_local! {
        static CURRENT: RuntimeAndSet = RuntimeAndSet { runtime: Runtime::new().unwrap(), local: LocalSet::new() };
    }
    let ran = std::thread::spawn(|| {
        CURRENT.with(|current| {
            current
                .runtime
                .block_on(current.local.run_until(async { spawn_local(async { 7 }).await.unwrap() }))
        })
    })
    .join()
    .unwrap();
    assert_eq!(ran, 7);
}
