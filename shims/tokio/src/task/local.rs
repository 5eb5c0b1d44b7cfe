use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{JoinHandle, LocalEnterGuard};
use crate::runtime::Runtime;

/// A set of `!Send` tasks run on the thread that polls it, as
/// `tokio::task::LocalSet`: tau's `LocalSet`, with tokio's `Runtime` in
/// [`block_on`](Self::block_on).
///
/// ```
/// let runtime = tokio::runtime::Runtime::new().unwrap();
/// let local = tokio::task::LocalSet::new();
/// let shared = std::rc::Rc::new(3);
/// let tripled = local.block_on(&runtime, async move {
///     tokio::task::spawn_local(async move { *shared * 3 }).await.unwrap()
/// });
/// assert_eq!(tripled, 9);
/// ```
#[derive(Default)]
pub struct LocalSet {
    pub(crate) inner: tau::task::LocalSet,
}

impl LocalSet {
    /// An empty set.
    pub fn new() -> LocalSet {
        LocalSet { inner: tau::task::LocalSet::new() }
    }

    /// Makes this set the one `spawn_local` uses on this thread.
    pub fn enter(&self) -> LocalEnterGuard {
        self.inner.enter()
    }

    /// Spawns `future` into this set; it runs when the set is polled.
    #[track_caller]
    pub fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.inner.spawn_local(future)
    }

    /// Runs `future` on `runtime` with this set's tasks polled alongside it.
    ///
    /// # Panics
    /// Inside a task, as `Runtime::block_on`.
    #[track_caller]
    pub fn block_on<F: Future>(&self, runtime: &Runtime, future: F) -> F::Output {
        runtime.block_on(self.inner.run_until(future))
    }

    /// Runs `future` with this set's tasks polled alongside it.
    pub async fn run_until<F: Future>(&self, future: F) -> F::Output {
        self.inner.run_until(future).await
    }
}

impl Future for LocalSet {
    type Output = ();

    /// Runs the set's tasks until all have finished.
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.inner).poll(cx)
    }
}

impl fmt::Debug for LocalSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}
