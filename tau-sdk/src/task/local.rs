//! `LocalSet` and `spawn_local`: tasks that need not be `Send`, polled by
//! their set on the thread that polls the set, as tokio's.
//!
//! The set is a small executor inside a future: its tasks run while the set
//! is polled — [`LocalSet::run_until`], [`LocalSet::block_on`] or awaiting
//! the set itself — never on another thread, even when another thread
//! drives the runtime. Their timers and IO are the runtime's, so they are
//! woken like any task; a wake from any thread queues the task with its set
//! and wakes whoever polls the set.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use atomic_waker::AtomicWaker;

use super::cell::{self, LocalRef};
use super::{Id, JoinHandle};
use crate::context;

/// Local tasks polled per poll of the set before it yields to the runtime.
const MAX_TASKS_PER_TICK: usize = 61;

/// Ids of local tasks: the top bit keeps them apart from the runtime's.
static NEXT_LOCAL_ID: AtomicU64 = AtomicU64::new(1 << 63);

thread_local! {
    static CURRENT: RefCell<Option<Rc<Shared>>> = const { RefCell::new(None) };
}

/// A set of `!Send` tasks run on the thread that polls it, as
/// `tokio::task::LocalSet`.
///
/// ```
/// use std::rc::Rc;
///
/// let runtime = tau::runtime::Runtime::new().unwrap();
/// let local = tau::task::LocalSet::new();
/// let shared = Rc::new(5); // not Send
/// let doubled = local.block_on(&runtime, async move {
///     let shared = shared.clone();
///     tau::task::spawn_local(async move { *shared * 2 }).await.unwrap()
/// });
/// assert_eq!(doubled, 10);
/// ```
pub struct LocalSet {
    shared: Rc<Shared>,
    _not_send: PhantomData<*const ()>,
}

struct Shared {
    /// Tasks not finished, by key.
    tasks: RefCell<HashMap<u64, LocalTask>>,
    queue: Arc<Queue>,
}

struct LocalTask {
    task: LocalRef,
    flag: Arc<TaskWaker>,
    waker: Waker,
}

/// Woken tasks, filled from any thread; the set's own waker.
#[derive(Default)]
struct Queue {
    ready: Mutex<VecDeque<u64>>,
    waiter: AtomicWaker,
}

struct TaskWaker {
    key: u64,
    queued: AtomicBool,
    queue: Arc<Queue>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.queued.swap(true, Ordering::AcqRel) {
            self.queue.ready.lock().unwrap_or_else(|poison| poison.into_inner()).push_back(self.key);
        }
        self.queue.waiter.wake();
    }
}

/// Makes a [`LocalSet`] current on this thread until dropped (see
/// [`LocalSet::enter`]).
#[must_use = "the set stops being current when this is dropped"]
pub struct LocalEnterGuard {
    previous: Option<Rc<Shared>>,
    _not_send: PhantomData<*const ()>,
}

impl Drop for LocalEnterGuard {
    fn drop(&mut self) {
        // At thread exit CURRENT may be gone before a set kept in another
        // thread-local: nothing is left to restore then.
        let _ = CURRENT.try_with(|current| *current.borrow_mut() = self.previous.take());
    }
}

impl fmt::Debug for LocalEnterGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalEnterGuard").finish_non_exhaustive()
    }
}

impl LocalSet {
    /// An empty set.
    pub fn new() -> LocalSet {
        let shared = Shared { tasks: RefCell::new(HashMap::new()), queue: Arc::default() };
        LocalSet { shared: Rc::new(shared), _not_send: PhantomData }
    }

    /// Makes this set the one [`spawn_local`] uses on this thread.
    pub fn enter(&self) -> LocalEnterGuard {
        let previous = CURRENT.with(|current| current.borrow_mut().replace(self.shared.clone()));
        LocalEnterGuard { previous, _not_send: PhantomData }
    }

    /// Spawns `future` into this set. It runs when the set is polled.
    ///
    /// # Panics
    /// Outside of any runtime (the task's timers and IO need one).
    #[track_caller]
    pub fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.shared.spawn(future)
    }

    /// Runs `future` on `runtime` with this set's tasks polled alongside it
    /// on this thread, as tokio's `LocalSet::block_on`.
    ///
    /// # Panics
    /// As [`Runtime::block_on`](crate::runtime::Runtime::block_on): inside a task.
    #[track_caller]
    pub fn block_on<F: Future>(&self, runtime: &crate::runtime::Runtime, future: F) -> F::Output {
        runtime.block_on(self.run_until(future))
    }

    /// Runs `future` to completion with this set's tasks polled alongside it.
    /// Tasks still unfinished stay in the set.
    pub async fn run_until<F: Future>(&self, future: F) -> F::Output {
        let mut future = pin!(future);
        std::future::poll_fn(|cx| {
            let _entered = self.enter();
            self.shared.queue.waiter.register(cx.waker());
            if let Poll::Ready(output) = future.as_mut().poll(cx) {
                return Poll::Ready(output);
            }
            if self.shared.tick() {
                // More tasks are ready: come back after the runtime's others.
                cx.waker().wake_by_ref();
            }
            future.as_mut().poll(cx)
        })
        .await
    }

    /// Unfinished tasks in the set.
    pub fn len(&self) -> usize {
        self.shared.tasks.borrow().len()
    }

    /// True if every task finished.
    pub fn is_empty(&self) -> bool {
        self.shared.tasks.borrow().is_empty()
    }
}

impl Shared {
    #[track_caller]
    fn spawn<F>(self: &Rc<Self>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        // Local tasks run in whatever runtime polls their set; the table is
        // only the cell's keep-alive.
        let table = context::current_or_gone();
        let id = NEXT_LOCAL_ID.fetch_add(1, Ordering::Relaxed);
        let flag = Arc::new(TaskWaker { key: id, queued: AtomicBool::new(false), queue: self.queue.clone() });
        let waker = Waker::from(flag.clone());
        let (raw, task) = cell::spawn_local_cell(table, future, id, waker.clone());
        self.tasks.borrow_mut().insert(id, LocalTask { task, flag, waker: waker.clone() });
        waker.wake(); // its first poll
        JoinHandle::new(raw, Id::from_raw(id))
    }

    /// Polls up to a tick's worth of ready tasks; true if more are ready.
    fn tick(&self) -> bool {
        for _ in 0..MAX_TASKS_PER_TICK {
            let next = self.queue.ready.lock().unwrap_or_else(|poison| poison.into_inner()).pop_front();
            let Some(key) = next else { return false };
            // Out of the map while it runs: the task may spawn into the set.
            let Some(entry) = self.tasks.borrow_mut().remove(&key) else { continue };
            // Cleared first, so that a wake during the poll queues it again.
            entry.flag.queued.store(false, Ordering::Release);
            if !entry.task.poll(&entry.waker) {
                self.tasks.borrow_mut().insert(key, entry);
            }
        }
        !self.queue.ready.lock().unwrap_or_else(|poison| poison.into_inner()).is_empty()
    }

    fn has_tasks(&self) -> bool {
        !self.tasks.borrow().is_empty()
    }
}

impl Future for LocalSet {
    type Output = ();

    /// Runs the set's tasks until all have finished.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let _entered = self.enter();
        self.shared.queue.waiter.register(cx.waker());
        if self.shared.tick() {
            cx.waker().wake_by_ref();
        }
        if self.shared.has_tasks() {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }
}

impl Default for LocalSet {
    fn default() -> Self {
        LocalSet::new()
    }
}

impl Drop for LocalSet {
    /// Cancels the tasks still in the set (their futures are dropped here,
    /// on the set's thread), as tokio.
    fn drop(&mut self) {
        // A set kept in a thread-local may be dropped at thread exit after
        // CURRENT: its tasks are then dropped without it entered.
        let _entered = CURRENT
            .try_with(|current| current.borrow_mut().replace(self.shared.clone()))
            .map(|previous| LocalEnterGuard { previous, _not_send: PhantomData });
        let tasks: Vec<LocalTask> = self.shared.tasks.borrow_mut().drain().map(|(_, task)| task).collect();
        // Each `LocalRef` cancels its task as it drops.
        drop(tasks);
    }
}

impl fmt::Debug for LocalSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalSet").field("tasks", &self.len()).finish()
    }
}

/// Spawns a `!Send` future onto the current [`LocalSet`], as
/// `tokio::task::spawn_local`.
///
/// # Panics
/// Outside of a `LocalSet` (or a shim `LocalRuntime`), with tokio's message.
///
/// ```
/// let runtime = tau::runtime::Runtime::new().unwrap();
/// let local = tau::task::LocalSet::new();
/// local.block_on(&runtime, async {
///     let value = std::rc::Rc::new("local");
///     let handle = tau::task::spawn_local(async move { *value });
///     assert_eq!(handle.await.unwrap(), "local");
/// });
/// ```
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let Some(shared) = CURRENT.with(|current| current.borrow().clone()) else {
        panic!("`spawn_local` called from outside of a `task::LocalSet` or `runtime::LocalRuntime`");
    };
    shared.spawn(future)
}
