use std::fmt;
use std::future::Future;
use std::task::{Context, Poll};

use super::{AbortHandle, Id, JoinError};
use crate::runtime::Handle;

/// A set of tasks awaited in the order they finish, as
/// `tokio::task::JoinSet`: tau's `JoinSet`, with tokio's `Handle` in
/// [`spawn_on`](Self::spawn_on). Dropping the set aborts its tasks.
pub struct JoinSet<T> {
    inner: tau::task::JoinSet<T>,
}

impl<T> JoinSet<T> {
    /// An empty set.
    pub fn new() -> JoinSet<T> {
        JoinSet { inner: tau::task::JoinSet::new() }
    }

    /// Tasks in the set, finished ones not yet joined included.
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// True if the set has no tasks.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// Spawns `task` into the set on the current runtime.
    #[track_caller]
    pub fn spawn<F>(&mut self, task: F) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        self.inner.spawn(task)
    }

    /// Spawns `task` into the set on `handle`'s runtime.
    #[track_caller]
    pub fn spawn_on<F>(&mut self, task: F, handle: &Handle) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        self.inner.spawn_on(task, &handle.inner)
    }

    /// Spawns `task` into the set on the current `LocalSet` (or `LocalRuntime`).
    ///
    /// # Panics
    /// Outside of one, as [`spawn_local`](super::spawn_local).
    #[track_caller]
    pub fn spawn_local<F>(&mut self, task: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
        T: 'static,
    {
        self.inner.spawn_local(task)
    }

    /// Spawns `task` into the set on `local_set`.
    #[track_caller]
    pub fn spawn_local_on<F>(&mut self, task: F, local_set: &super::LocalSet) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
        T: 'static,
    {
        self.inner.spawn_local_on(task, &local_set.inner)
    }

    /// Runs `f` on the blocking pool, its result joined through the set.
    #[track_caller]
    pub fn spawn_blocking<F>(&mut self, f: F) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.inner.spawn_blocking(f)
    }

    /// Runs `f` on `handle`'s blocking pool, joined through the set.
    #[track_caller]
    pub fn spawn_blocking_on<F>(&mut self, f: F, handle: &Handle) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let _entered = handle.enter();
        self.inner.spawn_blocking(f)
    }

    /// Waits for the next task to finish; `None` once the set is empty.
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        self.inner.join_next().await
    }

    /// As [`join_next`](Self::join_next), with the task's id.
    pub async fn join_next_with_id(&mut self) -> Option<Result<(Id, T), JoinError>> {
        self.inner.join_next_with_id().await
    }

    /// A finished task's result, if one has finished.
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        self.inner.try_join_next()
    }

    /// As [`try_join_next`](Self::try_join_next), with the task's id.
    pub fn try_join_next_with_id(&mut self) -> Option<Result<(Id, T), JoinError>> {
        self.inner.try_join_next_with_id()
    }

    /// Polls for the next finished task.
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        self.inner.poll_join_next(cx)
    }

    /// Polls for the next finished task, with its id.
    pub fn poll_join_next_with_id(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<(Id, T), JoinError>>> {
        self.inner.poll_join_next_with_id(cx)
    }

    /// Aborts every task; they are still joined (as cancelled).
    pub fn abort_all(&mut self) {
        self.inner.abort_all()
    }

    /// Forgets every task, letting them run on.
    pub fn detach_all(&mut self) {
        self.inner.detach_all()
    }

    /// Aborts every task and waits until all have finished.
    pub async fn shutdown(&mut self) {
        self.inner.shutdown().await
    }

    /// Waits for every task and returns their outputs in the order they
    /// finished.
    ///
    /// # Panics
    /// If a task panicked (the panic resumes here) or was cancelled, as tokio.
    pub async fn join_all(self) -> Vec<T> {
        self.inner.join_all().await
    }
}

impl<T> Default for JoinSet<T> {
    fn default() -> Self {
        JoinSet::new()
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len()).finish()
    }
}

impl<T, F> FromIterator<F> for JoinSet<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    fn from_iter<I: IntoIterator<Item = F>>(iter: I) -> Self {
        JoinSet { inner: iter.into_iter().collect() }
    }
}

impl<T, F> Extend<F> for JoinSet<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    fn extend<I: IntoIterator<Item = F>>(&mut self, iter: I) {
        self.inner.extend(iter)
    }
}
