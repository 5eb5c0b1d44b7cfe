//! `tau::sync::oneshot`: values, wakes across tasks and threads, closing, and
//! that a value is dropped exactly once on every path.

mod common;

use std::future::poll_fn;
use std::sync::mpsc;
use std::task::Poll;
use std::thread;

use common::{yield_until, Detector, DropCounter};
use tau::sync::oneshot::{self, error::RecvError, error::TryRecvError, Receiver, Sender};

fn assert_traits<T: Send + Sync + Unpin + std::fmt::Debug>() {}

/// `future`, and a channel that gets a message the first time it returns
/// `Pending`: the waiter is then registered, so another thread that waits
/// for the message acts on a parked receiver.
fn when_pending<F: std::future::Future>(
    future: F,
) -> (impl std::future::Future<Output = F::Output>, mpsc::Receiver<()>) {
    let (signal, pending) = mpsc::channel();
    let mut future = Box::pin(future);
    let mut signal = Some(signal);
    let wrapped = poll_fn(move |cx| {
        let poll = future.as_mut().poll(cx);
        if poll.is_pending() {
            if let Some(signal) = signal.take() {
                let _ = signal.send(());
            }
        }
        poll
    });
    (wrapped, pending)
}

#[test]
fn halves_are_send_sync_unpin_debug() {
    assert_traits::<Sender<String>>();
    assert_traits::<Receiver<String>>();
    // Not Sync or Debug itself: the halves still are.
    assert_traits::<Sender<std::cell::Cell<u8>>>();
    assert_traits::<Receiver<std::cell::Cell<u8>>>();
    assert_traits::<RecvError>();
    assert_traits::<TryRecvError>();
}

#[test]
fn error_messages() {
    let (tx, rx) = oneshot::channel::<()>();
    drop(tx);
    let error = tau::block_on(rx).unwrap_err();
    assert_eq!(error.to_string(), "channel closed");
    assert_eq!(TryRecvError::Empty.to_string(), "channel empty");
    assert_eq!(TryRecvError::Closed.to_string(), "channel closed");
    let _: &dyn std::error::Error = &error;
    let _: &dyn std::error::Error = &TryRecvError::Empty;
}

#[tau::test]
async fn send_then_recv() {
    let (tx, rx) = oneshot::channel();
    assert_eq!(tx.send(String::from("value")), Ok(()));
    assert!(!rx.is_empty());
    assert_eq!(rx.await, Ok(String::from("value")));
}

#[tau::test]
async fn recv_then_send_from_another_task() {
    let (tx, rx) = oneshot::channel();
    let sender = tau::spawn(async move {
        for _ in 0..3 {
            tau::task::yield_now().await;
        }
        tx.send(42u32)
    });
    assert_eq!(rx.await, Ok(42));
    assert_eq!(sender.await.unwrap(), Ok(()));
}

#[tau::test]
async fn recv_in_task_send_from_block_on() {
    let (tx, rx) = oneshot::channel();
    let receiver = tau::spawn(rx);
    tau::task::yield_now().await;
    tx.send(7u8).unwrap();
    assert_eq!(receiver.await.unwrap(), Ok(7));
}

#[tau::test]
async fn send_from_os_thread_while_awaiting() {
    let (tx, rx) = oneshot::channel();
    let (rx, pending) = when_pending(rx);
    let thread = thread::spawn(move || {
        pending.recv().unwrap();
        tx.send(vec![1, 2, 3])
    });
    assert_eq!(rx.await, Ok(vec![1, 2, 3]));
    assert_eq!(thread.join().unwrap(), Ok(()));
}

#[tau::test]
async fn send_from_os_thread_to_task() {
    let (tx, rx) = oneshot::channel();
    let (rx, pending) = when_pending(rx);
    let receiver = tau::spawn(async move { rx.await.map(|value: u64| value * 2) });
    let thread = thread::spawn(move || {
        pending.recv().unwrap();
        tx.send(21).unwrap();
    });
    assert_eq!(receiver.await.unwrap(), Ok(42));
    thread.join().unwrap();
}

#[tau::test]
async fn sender_dropped_before_recv() {
    let (tx, rx) = oneshot::channel::<u32>();
    drop(tx);
    assert!(matches!(rx.await, Err(RecvError { .. })));
}

#[tau::test]
async fn sender_dropped_while_awaiting() {
    let (tx, rx) = oneshot::channel::<u32>();
    let dropper = tau::spawn(async move {
        tau::task::yield_now().await;
        drop(tx);
    });
    assert!(rx.await.is_err());
    dropper.await.unwrap();
}

#[tau::test]
async fn sender_dropped_on_os_thread_while_awaiting() {
    let (tx, rx) = oneshot::channel::<u32>();
    let (rx, pending) = when_pending(rx);
    let thread = thread::spawn(move || {
        pending.recv().unwrap();
        drop(tx);
    });
    let error = rx.await.unwrap_err();
    assert_eq!(error.to_string(), "channel closed");
    thread.join().unwrap();
}

#[tau::test]
async fn receiver_dropped_send_returns_value() {
    let (tx, rx) = oneshot::channel();
    assert!(!tx.is_closed());
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(tx.send(String::from("back")), Err(String::from("back")));
}

#[tau::test]
async fn closed_resolves_when_receiver_dropped() {
    let (mut tx, rx) = oneshot::channel::<u32>();
    let waiter = tau::spawn(async move {
        tx.closed().await;
        (tx.is_closed(), tx.send(5))
    });
    tau::task::yield_now().await;
    assert!(!waiter.is_finished());
    drop(rx);
    assert_eq!(waiter.await.unwrap(), (true, Err(5)));
}

#[tau::test]
async fn closed_resolves_when_receiver_dropped_on_os_thread() {
    let (mut tx, rx) = oneshot::channel::<u32>();
    let (closed, pending) = when_pending(tx.closed());
    let thread = thread::spawn(move || {
        pending.recv().unwrap();
        drop(rx);
    });
    closed.await;
    assert!(tx.is_closed());
    thread.join().unwrap();
}

#[tau::test]
async fn poll_closed_pending_then_ready() {
    let (mut tx, mut rx) = oneshot::channel::<u32>();
    let pending = poll_fn(|cx| Poll::Ready(tx.poll_closed(cx).is_pending())).await;
    assert!(pending);
    rx.close();
    poll_fn(|cx| tx.poll_closed(cx)).await;
    // Resolves again at once: the channel stays closed.
    tx.closed().await;
}

#[tau::test]
async fn close_wakes_closed_and_send_fails() {
    let (mut tx, mut rx) = oneshot::channel::<u32>();
    let waiter = tau::spawn(async move {
        tx.closed().await;
        tx.send(9)
    });
    tau::task::yield_now().await;
    rx.close();
    assert_eq!(waiter.await.unwrap(), Err(9));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    assert!(rx.is_terminated());
}

#[tau::test]
async fn close_without_value_then_await_gives_error() {
    let (tx, mut rx) = oneshot::channel::<u32>();
    rx.close();
    assert!(tx.is_closed());
    assert!(rx.is_empty());
    assert!(rx.await.is_err());
    drop(tx);
}

#[tau::test]
async fn value_sent_before_close_is_still_received() {
    let (tx, mut rx) = oneshot::channel();
    tx.send(11u32).unwrap();
    rx.close();
    assert!(!rx.is_empty());
    assert_eq!(rx.try_recv(), Ok(11));
    assert!(rx.is_terminated());

    let (tx, mut rx) = oneshot::channel();
    tx.send(12u32).unwrap();
    rx.close();
    assert_eq!(rx.await, Ok(12));
}

#[test]
fn try_recv_empty_then_value_then_closed() {
    let (tx, mut rx) = oneshot::channel();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert!(!rx.is_terminated());
    assert!(rx.is_empty());
    tx.send('x').unwrap();
    assert_eq!(rx.try_recv(), Ok('x'));
    assert!(rx.is_terminated());
    assert!(rx.is_empty());
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn try_recv_closed_after_sender_dropped() {
    let (tx, mut rx) = oneshot::channel::<u32>();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    drop(tx);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    assert!(rx.is_terminated());
}

#[test]
fn blocking_recv_on_std_thread_sent_from_task() {
    let (tx, rx) = oneshot::channel();
    // Either order (receiver parked first, or value first) must give the value.
    let thread = thread::spawn(move || rx.blocking_recv());
    tau::__private::run_test(async move {
        tau::spawn(async move { tx.send(String::from("from a task")).unwrap() }).await.unwrap();
    });
    assert_eq!(thread.join().unwrap(), Ok(String::from("from a task")));
}

#[test]
fn blocking_recv_on_std_thread_sent_from_std_thread() {
    let (tx, rx) = oneshot::channel();
    // Either order (receiver parked first, or value first) must give the value.
    let receiver = thread::spawn(move || rx.blocking_recv());
    thread::spawn(move || tx.send(3u8).unwrap()).join().unwrap();
    assert_eq!(receiver.join().unwrap(), Ok(3));
}

#[test]
fn blocking_recv_sender_dropped() {
    let (tx, rx) = oneshot::channel::<u8>();
    // Either order (receiver parked first, or sender gone first) must fail.
    let receiver = thread::spawn(move || rx.blocking_recv());
    drop(tx);
    assert!(receiver.join().unwrap().is_err());
}

#[tau::test]
async fn blocking_recv_in_spawn_blocking() {
    let (tx, rx) = oneshot::channel();
    // Either order (receiver parked first, or value first) must give the value.
    let blocking = tau::task::spawn_blocking(move || rx.blocking_recv());
    tx.send(77u32).unwrap();
    assert_eq!(blocking.await.unwrap(), Ok(77));
}

#[tau::test]
async fn blocking_recv_inside_a_task_panics() {
    let (tx, rx) = oneshot::channel::<u32>();
    let task = tau::spawn(async move { rx.blocking_recv() });
    let error = task.await.unwrap_err();
    assert!(error.is_panic());
    // The panic dropped the receiver: the channel is closed, not stuck.
    assert!(tx.is_closed());
}

#[test]
#[should_panic(expected = "Cannot block the current thread from within a runtime")]
fn blocking_recv_inside_block_on_panics() {
    let (tx, rx) = oneshot::channel::<u32>();
    tau::__private::run_test(async move {
        let _ = rx.blocking_recv();
    });
    drop(tx);
}

#[tau::test]
async fn is_terminated_after_receiving() {
    let (tx, mut rx) = oneshot::channel();
    assert!(!rx.is_terminated());
    tx.send(1u32).unwrap();
    assert!(!rx.is_terminated());
    assert_eq!((&mut rx).await, Ok(1));
    assert!(rx.is_terminated());
    assert!(rx.is_empty());
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));

    let (tx, mut rx) = oneshot::channel::<u32>();
    drop(tx);
    assert!((&mut rx).await.is_err());
    assert!(rx.is_terminated());
}

#[test]
#[should_panic(expected = "polled after it completed")]
fn polling_after_completion_panics() {
    let (tx, mut rx) = oneshot::channel();
    tx.send(1u32).unwrap();
    tau::block_on(async {
        assert_eq!((&mut rx).await, Ok(1));
        let _ = (&mut rx).await;
    });
}

#[test]
fn debug_output() {
    let (tx, rx) = oneshot::channel::<u32>();
    assert!(format!("{tx:?}").starts_with("Sender"));
    assert!(format!("{rx:?}").starts_with("Receiver"));
}

// --- the value is dropped exactly once, on every path ---

fn assert_dropped_once(counter: &DropCounter) {
    assert_eq!(counter.created(), counter.dropped());
    assert_eq!(counter.live(), 0);
    assert!(counter.lowest_live() >= 0, "a value was dropped twice");
}

#[tau::test]
async fn drop_once_received() {
    let counter = DropCounter::new();
    let (tx, rx) = oneshot::channel();
    tx.send(counter.detector()).unwrap_or_else(|_| panic!("send failed"));
    let value = rx.await.unwrap();
    assert_eq!(counter.dropped(), 0);
    drop(value);
    assert_dropped_once(&counter);
}

#[tau::test]
async fn drop_once_sent_never_received() {
    let counter = DropCounter::new();
    let (tx, rx) = oneshot::channel();
    tx.send(counter.detector()).unwrap_or_else(|_| panic!("send failed"));
    assert_eq!(counter.dropped(), 0);
    drop(rx);
    assert_dropped_once(&counter);
}

#[tau::test]
async fn drop_once_sent_then_closed_never_received() {
    let counter = DropCounter::new();
    let (tx, mut rx) = oneshot::channel();
    tx.send(counter.detector()).unwrap_or_else(|_| panic!("send failed"));
    rx.close();
    assert_eq!(counter.dropped(), 0);
    drop(rx);
    assert_dropped_once(&counter);
}

#[tau::test]
async fn drop_once_sent_then_closed_and_try_received() {
    let counter = DropCounter::new();
    let (tx, mut rx) = oneshot::channel();
    tx.send(counter.detector()).unwrap_or_else(|_| panic!("send failed"));
    rx.close();
    let value = rx.try_recv().unwrap_or_else(|e| panic!("try_recv: {e}"));
    drop(rx);
    assert_eq!(counter.dropped(), 0);
    drop(value);
    assert_dropped_once(&counter);
}

#[tau::test]
async fn drop_once_send_fails_after_receiver_dropped() {
    let counter = DropCounter::new();
    let (tx, rx) = oneshot::channel::<Detector>();
    drop(rx);
    let back = tx.send(counter.detector()).expect_err("send must fail");
    assert_eq!(counter.dropped(), 0);
    drop(back);
    assert_dropped_once(&counter);
}

#[tau::test]
async fn drop_once_send_fails_after_close() {
    let counter = DropCounter::new();
    let (tx, mut rx) = oneshot::channel::<Detector>();
    rx.close();
    let back = tx.send(counter.detector()).expect_err("send must fail");
    drop(back);
    assert_dropped_once(&counter);
    assert!(rx.await.is_err());
}

#[tau::test]
async fn drop_once_received_in_a_task_sent_from_os_thread() {
    let counter = DropCounter::new();
    let (tx, rx) = oneshot::channel();
    let receiver = tau::spawn(async move { rx.await.map(drop) });
    let detector = counter.detector();
    let thread = thread::spawn(move || tx.send(detector).is_ok());
    assert_eq!(receiver.await.unwrap(), Ok(()));
    assert!(thread.join().unwrap());
    assert_dropped_once(&counter);
}

#[tau::test]
async fn drop_once_receiver_task_aborted_before_send() {
    let counter = DropCounter::new();
    let (tx, rx) = oneshot::channel::<Detector>();
    let (started_tx, started_rx) = mpsc::channel();
    let receiver = tau::spawn(async move {
        started_tx.send(()).unwrap();
        let _ = rx.await;
        std::future::pending::<()>().await;
    });
    yield_until(100, || started_rx.try_recv().is_ok()).await;
    receiver.abort();
    let _ = receiver.await;
    // The receiver was dropped with the aborted task: the send fails.
    let back = tx.send(counter.detector()).expect_err("send must fail");
    drop(back);
    assert_dropped_once(&counter);
}

#[test]
fn drop_once_racing_send_and_receiver_drop() {
    // Either side may win; the value must be dropped once either way.
    let counter = DropCounter::new();
    for _ in 0..500 {
        let (tx, rx) = oneshot::channel();
        let detector = counter.detector();
        let sender = thread::spawn(move || drop(tx.send(detector)));
        let receiver = thread::spawn(move || drop(rx));
        sender.join().unwrap();
        receiver.join().unwrap();
    }
    assert_eq!(counter.created(), 500);
    assert_dropped_once(&counter);
}

#[test]
fn drop_once_racing_send_and_try_recv() {
    let counter = DropCounter::new();
    for _ in 0..500 {
        let (tx, mut rx) = oneshot::channel();
        let detector = counter.detector();
        let sender = thread::spawn(move || tx.send(detector).is_ok());
        let received = loop {
            match rx.try_recv() {
                Ok(value) => break value,
                Err(TryRecvError::Empty) => thread::yield_now(),
                Err(TryRecvError::Closed) => panic!("closed before the value came"),
            }
        };
        assert!(sender.join().unwrap());
        drop(received);
    }
    assert_dropped_once(&counter);
}
