//! The runtime: [`Runtime`] for standalone programs and tests, [`Handle`] to
//! reach whichever runtime code is running on (the host's, in a plugin).

mod block_on;

use std::fmt;
use std::future::Future;
use std::io;

use crate::context::{self, TableRef};
use crate::task::{self, JoinHandle};

pub(crate) use block_on::block_on;

/// A tau runtime owned by this code: an executor, a timer queue, a reactor
/// and a blocking pool, all driven by the thread inside [`block_on`](Self::block_on).
///
/// Dropping it cancels its tasks (their `Drop` runs), as tokio's does.
/// Plugins loaded by a host do not make one: they use the host's.
///
/// ```
/// let runtime = tau::runtime::Runtime::new().unwrap();
/// let value = runtime.block_on(async {
///     tau::spawn(async { 1 + 1 }).await.unwrap()
/// });
/// assert_eq!(value, 2);
/// ```
pub struct Runtime {
    handle: Handle,
    /// Owns the runtime; dropped after `handle`, it shuts the runtime down.
    owner: tau_rt::Runtime,
}

impl Runtime {
    /// Starts a new runtime.
    pub fn new() -> io::Result<Runtime> {
        let runtime = tau_rt::Runtime::new()?;
        crate::ffi_waker::register_vtable(runtime.table().task_waker_vtable);
        // SAFETY: the runtime is alive; the handle's reference keeps its table valid.
        let table = unsafe { TableRef::retain(runtime.table()) };
        Ok(Runtime { handle: Handle { table }, owner: runtime })
    }

    /// Runs `future` to completion, driving the runtime on this thread.
    ///
    /// # Panics
    /// When called from inside a task or another `block_on` on this thread
    /// (the thread is already driving a runtime); when `future` panics.
    /// Dropping the runtime on the thread that drives it (inside a task or
    /// this `block_on`) panics too, as tokio's does.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.handle.block_on(future)
    }

    /// Spawns a task on this runtime.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// Runs a blocking closure on this runtime's pool.
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.handle.spawn_blocking(f)
    }

    /// A handle to this runtime.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Makes this the current runtime on this thread until the guard drops.
    pub fn enter(&self) -> EnterGuard<'_> {
        self.handle.enter()
    }

    /// A snapshot of the runtime's counts; see [`Handle::metrics`].
    pub fn metrics(&self) -> RuntimeMetrics {
        self.handle.metrics()
    }

    /// The tau-rt runtime underneath, for hosts: per-plugin scopes,
    /// cancelling a plugin's tasks.
    pub fn as_rt(&self) -> &tau_rt::Runtime {
        &self.owner
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime").finish_non_exhaustive()
    }
}

/// A cloneable, `Send + Sync` reference to a runtime. It keeps the
/// runtime's table valid, not the runtime running: after the runtime is
/// dropped (or, in a plugin, after the plugin's unload) spawns through it
/// are cancelled and timers and IO report the runtime gone.
pub struct Handle {
    table: TableRef,
}

impl Handle {
    /// The runtime code on this thread uses: the one entered on this thread
    /// (inside `block_on`, a task, a blocking closure or an
    /// [`enter`](Self::enter) guard), else the host's when loaded as a plugin.
    ///
    /// # Panics
    /// Outside of any runtime, like tokio's: "there is no reactor running".
    #[track_caller]
    pub fn current() -> Handle {
        Handle { table: context::current() }
    }

    /// Like [`current`](Self::current), but an error instead of a panic.
    pub fn try_current() -> Result<Handle, TryCurrentError> {
        context::try_current().map(|table| Handle { table }).ok_or(TryCurrentError { _private: () })
    }

    /// Spawns a task on this runtime, from any thread.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        task::spawn_on(self.table.clone(), future)
    }

    /// Runs a blocking closure on this runtime's pool.
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        task::spawn_blocking_on(self.table.clone(), f)
    }

    /// Runs `future` to completion on this thread.
    ///
    /// If no thread is driving the runtime, this one drives it until `future`
    /// completes. If another thread is driving it, `future` is polled here and
    /// this thread parks between wakes (and takes over driving if the other
    /// thread stops).
    ///
    /// # Panics
    /// When this thread is already driving a runtime (inside a task or another
    /// `block_on`): that would deadlock.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        block_on(&self.table, future)
    }

    /// Makes this the current runtime on this thread until the guard drops.
    pub fn enter(&self) -> EnterGuard<'_> {
        EnterGuard { _guard: context::enter(&self.table), _handle: std::marker::PhantomData }
    }

    /// A snapshot of the runtime's counts: exact when called on the
    /// runtime's thread, as of its last park elsewhere.
    ///
    /// ```
    /// tau::block_on(async {
    ///     let metrics = tau::runtime::Handle::current().metrics();
    ///     assert_eq!(metrics.num_alive_tasks(), 0);
    /// });
    /// ```
    pub fn metrics(&self) -> RuntimeMetrics {
        RuntimeMetrics { inner: self.table.metrics() }
    }

    /// An id of the runtime, unique among the runtimes alive in the process
    /// (and of each plugin's view of its host's runtime): the address of the
    /// runtime table this handle uses.
    pub fn id(&self) -> u64 {
        self.table.get() as *const tau_rt::abi::RuntimeTable as u64
    }

    pub(crate) fn from_table(table: TableRef) -> Handle {
        Handle { table }
    }
}

impl Clone for Handle {
    fn clone(&self) -> Self {
        Handle { table: self.table.clone() }
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}

/// Counts of what a runtime holds; see [`Handle::metrics`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuntimeMetrics {
    inner: tau_rt::abi::RuntimeMetrics,
}

impl RuntimeMetrics {
    /// Wraps counts read through the runtime table (or from `tau_rt`).
    pub fn from_raw(inner: tau_rt::abi::RuntimeMetrics) -> RuntimeMetrics {
        RuntimeMetrics { inner }
    }

    /// Tasks spawned and not yet finished or cancelled.
    pub fn num_alive_tasks(&self) -> usize {
        self.inner.alive_tasks as usize
    }

    /// Timers registered by sleeps that were polled and are not yet done or dropped.
    pub fn num_timers(&self) -> usize {
        self.inner.timers as usize
    }

    /// File descriptors registered with the reactor.
    pub fn num_io_registrations(&self) -> usize {
        self.inner.io_registrations as usize
    }

    /// How often other threads woke the runtime's thread through the reactor;
    /// a burst of remote spawns, wakes and aborts before it runs counts once.
    pub fn remote_notify_count(&self) -> u64 {
        self.inner.remote_notifies
    }

    /// Operations other threads queued for the runtime's thread (spawns,
    /// wakes, aborts) that it has not taken yet; many wakes of one task
    /// coalesce into one. tokio's `global_queue_depth`.
    pub fn global_queue_depth(&self) -> usize {
        self.inner.remote_queue_depth as usize
    }

    /// Threads in the blocking pool (tokio's `num_blocking_threads`).
    pub fn num_blocking_threads(&self) -> usize {
        self.inner.blocking_threads as usize
    }

    /// Blocking-pool threads waiting for work (tokio's `num_idle_blocking_threads`).
    pub fn num_idle_blocking_threads(&self) -> usize {
        self.inner.idle_blocking_threads as usize
    }
}

/// Returned by [`Runtime::enter`] and [`Handle::enter`]; leaves the runtime when dropped.
pub struct EnterGuard<'a> {
    _guard: context::EnterGuard,
    _handle: std::marker::PhantomData<&'a Handle>,
}

/// No runtime is entered on this thread, and this code is not a plugin loaded by a host.
#[derive(Debug)]
pub struct TryCurrentError {
    _private: (),
}

impl fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "no tau runtime: not inside `block_on`, a task or an entered runtime, and not loaded by a host",
        )
    }
}

impl std::error::Error for TryCurrentError {}
