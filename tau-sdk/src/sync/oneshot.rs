//! A one-shot channel: sends a single value from one [`Sender`] to one
//! [`Receiver`].
//!
//! [`channel`] makes the pair. [`Sender::send`] stores the value and wakes
//! the receiver; the [`Receiver`] is a future that resolves to it. Each side
//! learns when the other goes away:
//!
//! - if the `Sender` is dropped without sending, the receiver gets
//!   [`RecvError`];
//! - if the `Receiver` is dropped or [closed](Receiver::close) first,
//!   [`send`](Sender::send) gives the value back as `Err(value)`, and
//!   [`Sender::closed`] resolves.
//!
//! Both sides can live on any thread, inside or outside the runtime: the
//! channel only uses std's locks and wakers.
//!
//! ```
//! use tau::sync::oneshot;
//!
//! tau::block_on(async {
//!     let (tx, rx) = oneshot::channel();
//!     tau::spawn(async move {
//!         if tx.send(3).is_err() {
//!             println!("the receiver dropped");
//!         }
//!     });
//!     match rx.await {
//!         Ok(value) => assert_eq!(value, 3),
//!         Err(_) => println!("the sender dropped"),
//!     }
//! });
//! ```

use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::thread;

use atomic_waker::AtomicWaker;

use self::error::{RecvError, TryRecvError};
use crate::park::Unparker;

/// Errors of a one-shot channel's receiving side.
pub mod error {
    use std::fmt;

    /// The [`Sender`](super::Sender) was dropped without sending a value, or
    /// the receiver was [closed](super::Receiver::close) before one was sent.
    ///
    /// ```
    /// tau::block_on(async {
    ///     let (tx, rx) = tau::sync::oneshot::channel::<u32>();
    ///     drop(tx);
    ///     let error = rx.await.unwrap_err();
    ///     assert_eq!(error.to_string(), "channel closed");
    /// });
    /// ```
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct RecvError(pub(super) ());

    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("channel closed")
        }
    }

    impl std::error::Error for RecvError {}

    /// Why [`Receiver::try_recv`](super::Receiver::try_recv) gave no value.
    ///
    /// ```
    /// use tau::sync::oneshot::{self, error::TryRecvError};
    ///
    /// tau::block_on(async {
    ///     let (tx, mut rx) = oneshot::channel::<u32>();
    ///     assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    ///     drop(tx);
    ///     assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// });
    /// ```
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum TryRecvError {
        /// No value has been sent yet, but the sender is still alive.
        Empty,
        /// No value can come any more: the sender was dropped without
        /// sending, the receiver was closed, or the value was already received.
        Closed,
    }

    impl fmt::Display for TryRecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                TryRecvError::Empty => f.write_str("channel empty"),
                TryRecvError::Closed => f.write_str("channel closed"),
            }
        }
    }

    impl std::error::Error for TryRecvError {}
}

/// Creates a one-shot channel: a [`Sender`] and a [`Receiver`] for a single
/// value of type `T`.
///
/// ```
/// tau::block_on(async {
///     let (tx, rx) = tau::sync::oneshot::channel();
///     tx.send(String::from("done")).unwrap();
///     assert_eq!(rx.await.unwrap(), "done");
/// });
/// ```
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State { value: None, tx_done: false, rx_closed: false }),
        rx_waker: AtomicWaker::new(),
        tx_waker: AtomicWaker::new(),
    });
    (Sender { shared: Arc::clone(&shared) }, Receiver { shared: Some(shared) })
}

/// What both halves point to.
///
/// The wakers live outside the lock: a side changes the state under the lock,
/// unlocks, then wakes the other side; a side that waits registers its waker
/// first, then reads the state, so a change is never missed.
struct Shared<T> {
    state: Mutex<State<T>>,
    /// The task awaiting the [`Receiver`]; woken by a send or the sender's drop.
    rx_waker: AtomicWaker,
    /// The task in [`Sender::closed`]; woken by a close or the receiver's drop.
    tx_waker: AtomicWaker,
}

struct State<T> {
    /// The sent value, until the receiver takes it (or drops it when it goes).
    value: Option<T>,
    /// The sender is gone: it sent, or was dropped. No value comes after this.
    tx_done: bool,
    /// The receiver was closed or dropped: sending now fails.
    rx_closed: bool,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // Nothing that can panic runs under the lock (only moves and flag
        // writes), so the state is consistent even if the mutex was poisoned.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Sends a value to the [`Receiver`] of its channel; made by [`channel`].
///
/// Dropping it without sending makes the receiver resolve to
/// [`RecvError`].
///
/// ```
/// tau::block_on(async {
///     let (tx, rx) = tau::sync::oneshot::channel();
///     tau::spawn(async move { tx.send(6 * 7).unwrap() });
///     assert_eq!(rx.await.unwrap(), 42);
/// });
/// ```
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Sender<T> {
    /// Sends `value` and wakes the receiver, consuming the sender.
    ///
    /// Returns `Err(value)` if the receiver was already dropped or
    /// [closed](Receiver::close): the value is handed back, not dropped.
    /// `Ok(())` does not mean the value will be received: the receiver may
    /// still be dropped before it reads it (the value is then dropped with it).
    ///
    /// ```
    /// tau::block_on(async {
    ///     let (tx, rx) = tau::sync::oneshot::channel();
    ///     drop(rx);
    ///     assert_eq!(tx.send("lost"), Err("lost"));
    /// });
    /// ```
    pub fn send(self, value: T) -> Result<(), T> {
        {
            let mut state = self.shared.lock();
            if state.rx_closed {
                return Err(value);
            }
            state.value = Some(value);
            state.tx_done = true;
        }
        self.shared.rx_waker.wake();
        Ok(())
    }

    /// True once the receiver has been dropped or [closed](Receiver::close):
    /// a [`send`](Self::send) would now fail.
    ///
    /// ```
    /// tau::block_on(async {
    ///     let (tx, rx) = tau::sync::oneshot::channel::<()>();
    ///     assert!(!tx.is_closed());
    ///     drop(rx);
    ///     assert!(tx.is_closed());
    /// });
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared.lock().rx_closed
    }

    /// Waits until the receiver is dropped or [closed](Receiver::close).
    ///
    /// Useful to stop computing a value nobody waits for any more. Only the
    /// task that polled last is woken.
    ///
    /// ```
    /// tau::block_on(async {
    ///     let (mut tx, rx) = tau::sync::oneshot::channel::<()>();
    ///     tau::spawn(async move { drop(rx) });
    ///     tx.closed().await;
    ///     assert!(tx.is_closed());
    /// });
    /// ```
    pub async fn closed(&mut self) {
        poll_fn(|cx| self.poll_closed(cx)).await
    }

    /// Polls for the receiver's drop or [close](Receiver::close):
    /// `Poll::Ready(())` once it happened, else `Poll::Pending`, and the task
    /// in `cx` is woken when it happens. Only the waker of the last call is kept.
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::task::Poll;
    ///
    /// tau::block_on(async {
    ///     let (mut tx, mut rx) = tau::sync::oneshot::channel::<()>();
    ///     poll_fn(|cx| {
    ///         assert!(tx.poll_closed(cx).is_pending());
    ///         Poll::Ready(())
    ///     })
    ///     .await;
    ///     rx.close();
    ///     poll_fn(|cx| tx.poll_closed(cx)).await;
    /// });
    /// ```
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.shared.tx_waker.register(cx.waker());
        if self.is_closed() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let already_done = std::mem::replace(&mut self.shared.lock().tx_done, true);
        if !already_done {
            self.shared.rx_waker.wake();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").field("is_closed", &self.is_closed()).finish_non_exhaustive()
    }
}

/// Receives the value of its channel; made by [`channel`].
///
/// Awaiting it gives `Ok(value)` once the value is sent, or
/// `Err(`[`RecvError`]`)` if the sender was dropped without
/// sending (or the receiver was [closed](Self::close) before anything was
/// sent). Once it has given a result, it must not be polled again (that
/// panics); see [`is_terminated`](Self::is_terminated).
///
/// Dropping it closes the channel: a later [`Sender::send`] fails and
/// [`Sender::closed`] resolves. A value that was sent but not received is
/// dropped with it.
///
/// ```
/// tau::block_on(async {
///     let (tx, rx) = tau::sync::oneshot::channel::<u32>();
///     tau::spawn(async move { drop(tx) });
///     assert!(rx.await.is_err());
/// });
/// ```
pub struct Receiver<T> {
    /// `None` once a result was given: the receiver is terminated.
    shared: Option<Arc<Shared<T>>>,
}

impl<T> Receiver<T> {
    /// Closes the channel without dropping the receiver.
    ///
    /// A later [`send`](Sender::send) fails and [`Sender::closed`] resolves.
    /// A value sent before the close can still be received, by
    /// [`try_recv`](Self::try_recv) or by awaiting; otherwise those give
    /// `Closed` / [`RecvError`].
    ///
    /// ```
    /// tau::block_on(async {
    ///     let (tx, mut rx) = tau::sync::oneshot::channel();
    ///     rx.close();
    ///     assert_eq!(tx.send(1), Err(1));
    ///     assert!(rx.await.is_err());
    /// });
    /// ```
    pub fn close(&mut self) {
        if let Some(shared) = &self.shared {
            shared.lock().rx_closed = true;
            shared.tx_waker.wake();
        }
    }

    /// Takes the value if it has been sent, without waiting.
    ///
    /// Gives [`TryRecvError::Empty`] if nothing was sent yet and the sender
    /// is alive, and [`TryRecvError::Closed`] if nothing can come any more:
    /// the sender was dropped, the receiver was closed, or the result was
    /// already taken. Any result but `Empty` terminates the receiver.
    ///
    /// ```
    /// use tau::sync::oneshot::{self, error::TryRecvError};
    ///
    /// tau::block_on(async {
    ///     let (tx, mut rx) = oneshot::channel();
    ///     assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    ///     tx.send("now").unwrap();
    ///     assert_eq!(rx.try_recv(), Ok("now"));
    ///     assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// });
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let shared = self.shared.as_ref().ok_or(TryRecvError::Closed)?;
        let result = {
            let mut state = shared.lock();
            match state.value.take() {
                Some(value) => Ok(value),
                None if state.tx_done || state.rx_closed => Err(TryRecvError::Closed),
                None => return Err(TryRecvError::Empty),
            }
        };
        self.shared = None;
        result
    }

    /// Blocks this thread until the value is sent or the sender is dropped.
    ///
    /// For synchronous code, for example a thread of
    /// [`spawn_blocking`](crate::task::spawn_blocking) or a plain
    /// `std::thread`, waiting for a task.
    ///
    /// # Panics
    /// On the thread that drives the runtime (inside a task or a
    /// [`block_on`](crate::block_on)): blocking there would stop every task,
    /// possibly the very sender awaited. Use `.await` there instead.
    ///
    /// ```
    /// tau::block_on(async {
    ///     let (tx, rx) = tau::sync::oneshot::channel();
    ///     let thread = std::thread::spawn(move || rx.blocking_recv());
    ///     tx.send(10).unwrap();
    ///     assert_eq!(thread.join().unwrap(), Ok(10));
    /// });
    /// ```
    pub fn blocking_recv(mut self) -> Result<T, RecvError> {
        assert!(
            !crate::context::is_driving(),
            "Cannot block the current thread from within a runtime: `blocking_recv` was called \
             while this thread drives asynchronous tasks. Use `.await` instead, or call it from \
             `tau::task::spawn_blocking`."
        );
        let waker = Unparker::current().waker();
        let mut cx = Context::from_waker(&waker);
        loop {
            if let Poll::Ready(result) = Pin::new(&mut self).poll(&mut cx) {
                return result;
            }
            thread::park();
        }
    }

    /// True once this receiver has given its result, by being awaited or by
    /// [`try_recv`](Self::try_recv) (any result but `Empty`). It must not be
    /// polled any more.
    ///
    /// ```
    /// tau::block_on(async {
    ///     let (tx, mut rx) = tau::sync::oneshot::channel();
    ///     tx.send(5).unwrap();
    ///     assert!(!rx.is_terminated());
    ///     assert_eq!((&mut rx).await, Ok(5));
    ///     assert!(rx.is_terminated());
    /// });
    /// ```
    pub fn is_terminated(&self) -> bool {
        self.shared.is_none()
    }

    /// True if no value is ready to be received: nothing was sent yet, the
    /// channel is closed without a value, or the receiver is terminated.
    ///
    /// ```
    /// tau::block_on(async {
    ///     let (tx, rx) = tau::sync::oneshot::channel();
    ///     assert!(rx.is_empty());
    ///     tx.send(()).unwrap();
    ///     assert!(!rx.is_empty());
    /// });
    /// ```
    pub fn is_empty(&self) -> bool {
        match &self.shared {
            Some(shared) => shared.lock().value.is_none(),
            None => true,
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let shared = this.shared.as_ref().expect("oneshot::Receiver polled after it completed");
        shared.rx_waker.register(cx.waker());
        let result = {
            let mut state = shared.lock();
            match state.value.take() {
                Some(value) => Ok(value),
                None if state.tx_done || state.rx_closed => Err(RecvError(())),
                None => return Poll::Pending,
            }
        };
        this.shared = None;
        Poll::Ready(result)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.take() {
            let unreceived = {
                let mut state = shared.lock();
                state.rx_closed = true;
                state.value.take()
            };
            shared.tx_waker.wake();
            // Dropped here, outside the lock: its `Drop` may do anything.
            drop(unreceived);
        }
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").field("is_terminated", &self.is_terminated()).finish_non_exhaustive()
    }
}
