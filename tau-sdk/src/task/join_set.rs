use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::{AbortHandle, Id, JoinError, JoinHandle};
use crate::in_flight::InFlight;
use crate::runtime::Handle;

/// A collection of tasks spawned on the runtime, awaited in the order they finish.
///
/// As in tokio: [`join_next`](Self::join_next) returns each task's result
/// (values, cancellations and panics alike) as it completes, `None` once the
/// set is empty; [`abort_all`](Self::abort_all) aborts every task but keeps
/// them in the set, so `join_next` still reports them (as cancelled, or with
/// their value if they had already finished); [`shutdown`](Self::shutdown)
/// aborts and waits for all; [`detach_all`](Self::detach_all) lets them run
/// on unobserved; dropping the set aborts every task in it.
///
/// ```
/// tau::block_on(async {
///     let mut set = tau::task::JoinSet::new();
///     for i in 0..3u32 {
///         set.spawn(async move { i * 10 });
///     }
///     let mut results = Vec::new();
///     while let Some(result) = set.join_next().await {
///         results.push(result.unwrap());
///     }
///     results.sort();
///     assert_eq!(results, [0, 10, 20]);
/// });
/// ```
pub struct JoinSet<T> {
    /// The tasks' handles, each in a slot with its own waker (the set that
    /// `buffer_unordered` runs its futures in): a wake-up polls only the
    /// handle whose task finished.
    tasks: InFlight<Joined<T>>,
}

/// A task's handle, finishing with the task's id.
struct Joined<T>(JoinHandle<T>);

impl<T> Future for Joined<T> {
    type Output = (Id, Result<T, JoinError>);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let id = self.0.id();
        Pin::new(&mut self.0).poll(cx).map(|result| (id, result))
    }
}

impl<T> JoinSet<T> {
    /// An empty set.
    pub fn new() -> JoinSet<T> {
        JoinSet { tasks: InFlight::new() }
    }

    /// Number of tasks in the set (finished ones count until joined).
    pub fn len(&self) -> usize {
        self.tasks.running()
    }

    /// True if the set holds no task.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn insert(&mut self, handle: JoinHandle<T>) -> AbortHandle {
        let abort = handle.abort_handle();
        // Every new entry gets one poll, which registers its waker.
        self.tasks.push(Joined(handle));
        abort
    }

    /// Spawns `task` on the current runtime and adds it to the set.
    pub fn spawn<F>(&mut self, task: F) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        self.insert(crate::spawn(task))
    }

    /// Spawns `task` on `handle`'s runtime and adds it to the set.
    pub fn spawn_on<F>(&mut self, task: F, handle: &Handle) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        self.insert(handle.spawn(task))
    }

    /// Spawns `task` on the current [`LocalSet`](super::LocalSet) and adds it to the set.
    ///
    /// # Panics
    /// Outside of a `LocalSet`, as [`spawn_local`](super::spawn_local).
    #[track_caller]
    pub fn spawn_local<F>(&mut self, task: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
        T: 'static,
    {
        self.insert(super::spawn_local(task))
    }

    /// Spawns `task` on `local_set` and adds it to the set.
    #[track_caller]
    pub fn spawn_local_on<F>(&mut self, task: F, local_set: &super::LocalSet) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
        T: 'static,
    {
        self.insert(local_set.spawn_local(task))
    }

    /// Runs `f` on the blocking pool and adds it to the set.
    pub fn spawn_blocking<F>(&mut self, f: F) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.insert(super::spawn_blocking(f))
    }

    /// Waits for the next task to finish and returns its result; `None` if the set is empty.
    ///
    /// Cancel-safe: if the returned future is dropped before completing, no
    /// task result is lost.
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// Like [`join_next`](Self::join_next), with the finished task's id.
    pub async fn join_next_with_id(&mut self) -> Option<Result<(Id, T), JoinError>> {
        poll_fn(|cx| self.poll_join_next_with_id(cx)).await
    }

    /// A finished task's result if one is ready now, without waiting.
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        self.try_join_next_with_id().map(|result| result.map(|(_, value)| value))
    }

    /// Like [`try_join_next`](Self::try_join_next), with the task's id.
    pub fn try_join_next_with_id(&mut self) -> Option<Result<(Id, T), JoinError>> {
        // It cannot be made to yield, so it spends no budget (as tokio's):
        // a loop over finished tasks gets every one of them.
        let _unconstrained = super::coop::suspend();
        match self.poll_ready_entries(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(result) => result,
            Poll::Pending => None,
        }
    }

    /// Polls for the next finished task; see [`join_next`](Self::join_next).
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        self.poll_join_next_with_id(cx).map(|result| result.map(|result| result.map(|(_, value)| value)))
    }

    /// Polls for the next finished task with its id.
    pub fn poll_join_next_with_id(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<(Id, T), JoinError>>> {
        // A joined task spends a unit of the budget, as in tokio: a loop
        // over a set of finished tasks still yields.
        let restore = std::task::ready!(super::coop::poll_proceed(cx));
        let polled = self.poll_ready_entries(cx);
        if polled.is_ready() {
            restore.made_progress();
        }
        polled
    }

    /// Polls the entries whose tasks woke them; `Ready(Some)` for the first
    /// finished one, `Ready(None)` for an empty set.
    fn poll_ready_entries(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<(Id, T), JoinError>>> {
        let Some((slot, (id, result))) = std::task::ready!(self.tasks.poll_next(cx)) else {
            return Poll::Ready(None);
        };
        self.tasks.release(slot);
        Poll::Ready(Some(result.map(|value| (id, value))))
    }

    /// Aborts every task in the set; they stay in it until joined.
    pub fn abort_all(&mut self) {
        for task in self.tasks.iter() {
            task.0.abort();
        }
    }

    /// Removes every task from the set without aborting them: they run on, detached.
    pub fn detach_all(&mut self) {
        self.tasks.clear();
    }

    /// Aborts every task and waits for all of them to finish.
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }

    /// Waits for every task and returns their values in completion order.
    ///
    /// # Panics
    /// If a task panicked (resuming its panic) or was cancelled, as tokio does.
    pub async fn join_all(mut self) -> Vec<T> {
        let mut values = Vec::with_capacity(self.len());
        while let Some(result) = self.join_next().await {
            match result {
                Ok(value) => values.push(value),
                Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
                Err(error) => panic!("{error}"),
            }
        }
        values
    }
}

impl<T> Default for JoinSet<T> {
    fn default() -> Self {
        JoinSet::new()
    }
}

impl<T> Drop for JoinSet<T> {
    fn drop(&mut self) {
        self.abort_all();
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
        let mut set = JoinSet::new();
        set.extend(iter);
        set
    }
}

impl<T, F> Extend<F> for JoinSet<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    fn extend<I: IntoIterator<Item = F>>(&mut self, iter: I) {
        for task in iter {
            self.spawn(task);
        }
    }
}
