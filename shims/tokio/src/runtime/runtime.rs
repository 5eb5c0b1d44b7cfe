use std::fmt;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use super::builder::Builder;
use super::handle::{EnterGuard, Handle, RuntimeFlavor};
use crate::task::JoinHandle;

/// A runtime, as `tokio::runtime::Runtime`.
///
/// Inside a plugin loaded by a host it is a handle to the host's runtime:
/// its tasks, timers and sockets are the plugin's, on the host's one
/// executor, and dropping it changes nothing for them (the plugin's unload
/// ends them). Elsewhere it owns a fresh tau runtime, which dropping shuts
/// down: its worker (if multi-thread) stops, its tasks are cancelled, as tokio's.
///
/// # Panics
/// Dropping or `block_on` on the runtime's own thread — inside a task —
/// panics with tokio's messages: that thread cannot block.
pub struct Runtime {
    handle: Handle,
    /// Stopped before `owner` shuts the runtime down.
    worker: Option<super::worker::Worker>,
    owner: Option<tau::runtime::Runtime>,
    on_thread_stop: Option<Arc<dyn Fn() + Send + Sync>>,
}

impl Runtime {
    /// A multi-thread-flavoured runtime with everything enabled, as
    /// `tokio::runtime::Runtime::new`.
    ///
    /// ```
    /// let runtime = tokio::runtime::Runtime::new().unwrap();
    /// assert_eq!(runtime.block_on(async { 3 }), 3);
    /// ```
    ///
    /// # Errors
    /// If the reactor cannot be created.
    pub fn new() -> io::Result<Runtime> {
        Builder::new_multi_thread().enable_all().build()
    }

    pub(super) fn build(builder: &Builder, flavor: RuntimeFlavor) -> io::Result<Runtime> {
        let (inner, owner) = match tau::__private::host_runtime() {
            Some(host) => (host, None),
            None => {
                let owner = tau::runtime::Runtime::new()?;
                (owner.handle().clone(), Some(owner))
            }
        };
        if let Some(start) = &builder.on_thread_start {
            start();
        }
        let name: Option<std::sync::Arc<str>> = builder.name.as_deref().map(Into::into);
        // As tokio's workers: a multi-thread runtime of one's own is driven
        // while nobody blocks on it. The host's runtime has its own driver.
        let worker = match (&owner, flavor) {
            (Some(_), RuntimeFlavor::MultiThread) => Some(super::worker::Worker::start(inner.clone())?),
            _ => None,
        };
        let shared = worker.as_ref().map(|worker| worker.shared().clone());
        if owner.is_some() {
            let built = super::Built {
                flavor,
                name: name.clone(),
                io: builder.io,
                time: builder.time,
                worker: shared.clone(),
            };
            super::remember(super::Id::new(inner.id()), Some(built));
        }
        Ok(Runtime {
            handle: Handle { inner, flavor, name, worker: shared },
            worker,
            owner,
            on_thread_stop: builder.on_thread_stop.clone(),
        })
    }

    /// Runs `future` to completion, driving the runtime on this thread.
    ///
    /// # Panics
    /// Inside a task, with tokio's "Cannot start a runtime from within a
    /// runtime" message.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.handle.block_on(future)
    }

    /// Spawns a task onto the runtime.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// Runs `f` on the blocking pool.
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.handle.spawn_blocking(f)
    }

    /// The runtime's handle.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Makes the runtime current on this thread until the guard drops.
    pub fn enter(&self) -> EnterGuard<'_> {
        self.handle.enter()
    }

    /// The runtime's metrics.
    pub fn metrics(&self) -> RuntimeMetrics {
        self.handle.metrics()
    }

    /// Shuts the runtime down: its tasks are cancelled now; blocking jobs
    /// that already run finish on their own (tau's pool does not wait for
    /// them, so `_timeout` is an upper bound that is never waited out).
    pub fn shutdown_timeout(mut self, _timeout: Duration) {
        // Allowed anywhere, as tokio's: it does not wait for blocking jobs.
        drop(self.worker.take());
        drop(self.owner.take());
    }

    /// Shuts the runtime down without waiting for blocking jobs; allowed
    /// inside a task, as tokio's.
    pub fn shutdown_background(mut self) {
        drop(self.worker.take());
        drop(self.owner.take());
    }
}

// As tokio's: a `Runtime` is usable again after a panic it saw (its state
// is the tau runtime's, which stays consistent across a task's panic).
impl std::panic::UnwindSafe for Runtime {}
impl std::panic::RefUnwindSafe for Runtime {}

impl Drop for Runtime {
    fn drop(&mut self) {
        if self.owner.is_some() && tau::__private::is_driving() && !std::thread::panicking() {
            // Inside a task or a block_on of another runtime: shutting this
            // one down would block the thread that drives, as tokio says.
            // Its tasks are left, undriven, rather than dropped from here.
            drop(self.worker.take());
            std::mem::forget(self.owner.take());
            panic!(
                "Cannot drop a runtime in a context where blocking is not allowed. This happens \
                 when a runtime is dropped from within an asynchronous context."
            );
        }
        super::remember(self.handle.id(), None);
        // Shut down first (the worker, then the owner's drop), then the
        // stop hook, as tokio.
        drop(self.worker.take());
        drop(self.owner.take());
        if let Some(stop) = self.on_thread_stop.take() {
            stop();
        }
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("flavor", &self.handle.flavor)
            .field("owned", &self.owner.is_some())
            .finish()
    }
}

/// A runtime whose `block_on` runs `!Send` futures and whose
/// [`spawn_local`](Self::spawn_local) tasks run on the thread that calls
/// `block_on`, as tokio's `LocalRuntime` (built by [`Builder::build_local`]).
///
/// ```
/// let runtime = tokio::runtime::LocalRuntime::new().unwrap();
/// let value = std::rc::Rc::new(21);
/// let doubled = runtime.block_on(async move {
///     tokio::task::spawn_local(async move { *value * 2 }).await.unwrap()
/// });
/// assert_eq!(doubled, 42);
/// ```
pub struct LocalRuntime {
    // The set goes first: its tasks are cancelled while the runtime lives.
    local: crate::task::LocalSet,
    inner: Runtime,
}

impl LocalRuntime {
    /// A local runtime with everything enabled, as tokio's.
    ///
    /// # Errors
    /// If the reactor cannot be created.
    pub fn new() -> io::Result<LocalRuntime> {
        Builder::new_current_thread().enable_all().build_local(Default::default())
    }

    pub(super) fn new_from(inner: Runtime) -> LocalRuntime {
        LocalRuntime { local: crate::task::LocalSet::new(), inner }
    }

    /// Runs `future` (which need not be `Send`) to completion on this
    /// thread, with the runtime's local tasks polled alongside it.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.inner.block_on(self.local.run_until(future))
    }

    /// Spawns a `!Send` task; it runs while `block_on` does.
    #[track_caller]
    pub fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let _entered = self.inner.enter();
        self.local.spawn_local(future)
    }

    /// Spawns a `Send` task onto the runtime.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.inner.spawn(future)
    }

    /// Runs `f` on the blocking pool.
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.inner.spawn_blocking(f)
    }

    /// The runtime's handle.
    pub fn handle(&self) -> &Handle {
        self.inner.handle()
    }

    /// Makes the runtime (and its local set) current until the guard drops.
    pub fn enter(&self) -> EnterGuard<'_> {
        self.inner.enter()
    }
}

impl fmt::Debug for LocalRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalRuntime").field("runtime", &self.inner).finish_non_exhaustive()
    }
}

/// Runtime metrics, as `tokio::runtime::RuntimeMetrics`.
#[derive(Clone, Copy, Debug)]
pub struct RuntimeMetrics {
    pub(super) inner: tau::runtime::RuntimeMetrics,
}

impl RuntimeMetrics {
    /// Worker threads: tau's one executor thread.
    pub fn num_workers(&self) -> usize {
        1
    }

    /// Tasks alive on the runtime.
    pub fn num_alive_tasks(&self) -> usize {
        self.inner.num_alive_tasks()
    }

    /// Tasks queued by other threads, not yet taken by the executor.
    pub fn global_queue_depth(&self) -> usize {
        self.inner.global_queue_depth()
    }

    /// Threads of the blocking pool.
    pub fn num_blocking_threads(&self) -> usize {
        self.inner.num_blocking_threads()
    }

    /// Idle threads of the blocking pool.
    pub fn num_idle_blocking_threads(&self) -> usize {
        self.inner.num_idle_blocking_threads()
    }
}
