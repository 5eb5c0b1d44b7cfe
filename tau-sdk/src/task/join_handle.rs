use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::cell::RawRef;
use super::{AbortHandle, Id, JoinError};

/// An owned permission to await a spawned task's output.
///
/// Awaiting it gives `Ok(value)`, or `Err(e)` with
/// [`e.is_cancelled()`](JoinError::is_cancelled) if the task was aborted, or
/// [`e.is_panic()`](JoinError::is_panic) if it panicked. Dropping a
/// `JoinHandle` *detaches* the task: it keeps running and its output is
/// dropped when it finishes.
///
/// ```
/// tau::block_on(async {
///     let handle = tau::spawn(async { 6 * 7 });
///     assert_eq!(handle.await.unwrap(), 42);
/// });
/// ```
pub struct JoinHandle<T> {
    raw: RawRef,
    id: Id,
    _output: PhantomData<T>,
}

// SAFETY: the output crosses threads only when T: Send; the rest is atomics.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: `&JoinHandle` only reads atomics and aborts.
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    pub(crate) fn new(raw: RawRef, id: Id) -> JoinHandle<T> {
        JoinHandle { raw, id, _output: PhantomData }
    }

    /// Aborts the task.
    ///
    /// An idle task's future is dropped at once when this is called on the
    /// runtime's thread; a running one's after its current poll; from another
    /// thread, as soon as the runtime thread gets to it. Awaiting the handle
    /// then gives a cancelled [`JoinError`]. Aborting a finished task does
    /// nothing: its output is still returned. Aborting twice is the same as once.
    ///
    /// ```
    /// tau::block_on(async {
    ///     let handle = tau::spawn(std::future::pending::<()>());
    ///     handle.abort();
    ///     assert!(handle.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort(&self) {
        self.raw.abort();
    }

    /// True once the task has finished: returned, panicked, or been cancelled.
    pub fn is_finished(&self) -> bool {
        self.raw.is_finished()
    }

    /// A handle that can abort the task but not await it.
    pub fn abort_handle(&self) -> AbortHandle {
        AbortHandle::new(self.raw.clone_ref(), self.id)
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        self.id
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Awaiting a finished task spends a unit of the budget, as in tokio.
        let restore = std::task::ready!(super::coop::poll_proceed(cx));
        let polled = self.raw.poll_output(cx.waker());
        if polled.is_ready() {
            restore.made_progress();
        }
        polled
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        self.raw.drop_join_interest();
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle").field("id", &self.id).finish()
    }
}
