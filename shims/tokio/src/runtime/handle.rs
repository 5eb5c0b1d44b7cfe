use std::fmt;
use std::future::Future;

use crate::task::JoinHandle;

/// A handle to a runtime, as `tokio::runtime::Handle`: cheap to clone, and
/// usable from any thread — a `Handle::current()` captured in a task and
/// moved to another OS thread spawns onto the same (the host's) runtime.
///
/// ```
/// let runtime = tokio::runtime::Runtime::new().unwrap();
/// let handle = runtime.handle().clone();
/// let answer = std::thread::spawn(move || handle.block_on(handle.spawn(async { 7 })))
///     .join()
///     .unwrap();
/// assert_eq!(answer.unwrap(), 7);
/// ```
#[derive(Clone)]
pub struct Handle {
    pub(crate) inner: tau::runtime::Handle,
    pub(crate) flavor: RuntimeFlavor,
    pub(crate) name: Option<std::sync::Arc<str>>,
    /// The worker that drives the runtime while nobody blocks on it.
    pub(crate) worker: Option<std::sync::Arc<super::worker::Shared>>,
}

/// The flavour of a runtime, as tokio's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuntimeFlavor {
    /// A current-thread runtime (and the host's runtime, seen from a plugin).
    CurrentThread,
    /// Built with `new_multi_thread`; it runs on tau's one thread too.
    MultiThread,
}

/// Returned by [`Handle::try_current`] outside of any runtime.
#[derive(Debug)]
pub struct TryCurrentError {
    _private: (),
}

impl fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("there is no reactor running, must be called from the context of a Tokio 1.x runtime")
    }
}

impl std::error::Error for TryCurrentError {}

impl TryCurrentError {
    /// True: the only way there can be no current runtime here.
    pub fn is_missing_context(&self) -> bool {
        true
    }

    /// False: a thread's runtime context is never destroyed before its users.
    pub fn is_thread_local_destroyed(&self) -> bool {
        false
    }
}

/// Makes a runtime current on this thread until dropped, as tokio's.
///
/// # Panics
/// Dropped out of order (another guard entered after it on this thread is
/// still alive), as tokio's. Which runtime is current after guards dropped
/// out of order is unspecified (one of those the guards entered, or the
/// one before), as in tokio; entering again works.
#[must_use = "the runtime stops being current when this is dropped"]
pub struct EnterGuard<'a> {
    inner: Option<tau::runtime::EnterGuard<'a>>,
    /// How many guards this thread held once this one was made.
    depth: usize,
}

thread_local! {
    /// How many `EnterGuard`s this thread holds.
    static ENTER_DEPTH: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

impl<'a> EnterGuard<'a> {
    fn new(inner: tau::runtime::EnterGuard<'a>) -> EnterGuard<'a> {
        let depth = ENTER_DEPTH.with(|depth| {
            depth.set(depth.get() + 1);
            depth.get()
        });
        EnterGuard { inner: Some(inner), depth }
    }
}

impl Drop for EnterGuard<'_> {
    fn drop(&mut self) {
        // Out of order, the count is left as it is (as tokio's): the guards
        // still alive keep their depths, and later ones count on from them.
        let in_order = ENTER_DEPTH.with(|depth| {
            let in_order = depth.get() == self.depth;
            if in_order {
                depth.set(depth.get() - 1);
            }
            in_order
        });
        // tau's guard puts back what it replaced in any order.
        drop(self.inner.take());
        if !in_order && !std::thread::panicking() {
            panic!(
                "`EnterGuard`s dropped out of order: the guards `Handle::enter()` returns must be dropped \
                 in the reverse of the order they were made"
            );
        }
    }
}

impl fmt::Debug for EnterGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}

impl Handle {
    /// The current runtime: the one entered on this thread (in `block_on`,
    /// a task, an [`enter`](Self::enter) guard), else, in a plugin, the host's.
    ///
    /// # Panics
    /// Outside of any runtime, with tokio's message.
    #[track_caller]
    pub fn current() -> Handle {
        // A `match`, not a closure: the panic's location is the caller's.
        match Handle::try_current() {
            Ok(handle) => handle,
            Err(error) => panic!("{error}"),
        }
    }

    /// The current runtime, or an error outside of any.
    pub fn try_current() -> Result<Handle, TryCurrentError> {
        tau::runtime::Handle::try_current()
            .map(|inner| {
                let built = super::built(super::Id::new(inner.id()));
                let (flavor, name, worker) = built
                    .map_or((RuntimeFlavor::CurrentThread, None, None), |built| {
                        (built.flavor, built.name, built.worker)
                    });
                Handle { inner, flavor, name, worker }
            })
            .map_err(|_| TryCurrentError { _private: () })
    }

    /// Spawns a task onto this runtime, from any thread.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.inner.spawn(future)
    }

    /// Runs `f` on this runtime's blocking pool.
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.inner.spawn_blocking(f)
    }

    /// Runs `future` to completion on this thread, driving the runtime if
    /// no other thread blocks on it (a multi-thread runtime's worker lets go).
    ///
    /// # Panics
    /// On the runtime's own thread (inside a task or another `block_on`),
    /// with tokio's "Cannot start a runtime from within a runtime" message.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _worker_lets_go = self.worker.as_ref().map(|worker| worker.blocking());
        self.inner.block_on(future)
    }

    /// Makes this runtime current on this thread until the guard drops.
    pub fn enter(&self) -> EnterGuard<'_> {
        EnterGuard::new(self.inner.enter())
    }

    /// The flavour this runtime was built with (`CurrentThread` for the
    /// host's runtime and for [`Handle::current`]).
    pub fn runtime_flavor(&self) -> RuntimeFlavor {
        self.flavor
    }

    /// The runtime's id (see [`Id`](super::Id)): equal for handles of one
    /// runtime.
    pub fn id(&self) -> super::Id {
        super::Id::new(self.inner.id())
    }

    /// The name the runtime was built with ([`Builder::name`](super::Builder::name)),
    /// if this handle came from it.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The runtime's metrics.
    pub fn metrics(&self) -> super::RuntimeMetrics {
        super::RuntimeMetrics { inner: self.inner.metrics() }
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").field("flavor", &self.flavor).finish_non_exhaustive()
    }
}
