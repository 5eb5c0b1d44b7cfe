//! Tasks: spawning, joining and aborting, with tokio's names and semantics.
//!
//! A task is a future the shared runtime polls on its thread until it
//! finishes. [`spawn`] returns a [`JoinHandle`] that awaits its output, can
//! [`abort`](JoinHandle::abort) it, and detaches it when dropped.

mod abort_handle;
mod cell;
pub mod coop;
mod current;
mod id;
mod join_error;
mod join_handle;
mod join_set;
mod local;
mod state;
mod yield_now;

use std::future::Future;

pub use abort_handle::AbortHandle;
pub use current::{id, try_id};
pub use id::Id;
pub use join_error::JoinError;
pub use join_handle::JoinHandle;
pub use join_set::JoinSet;
pub use local::{spawn_local, LocalEnterGuard, LocalSet};
pub use yield_now::yield_now;

use crate::context::{self, TableRef};

/// Spawns a task on the current runtime: the one entered on this thread (in
/// `block_on`, a task, a blocking closure, a `Handle::enter` guard), else the
/// host's when loaded as a plugin.
///
/// Callable from any thread: from outside the runtime's thread the task is
/// queued and the runtime is woken. Use [`Handle::spawn`](crate::runtime::Handle::spawn)
/// to spawn onto a given runtime from anywhere.
///
/// # Panics
/// Outside of any runtime, like tokio's: "there is no reactor running".
///
/// ```
/// tau::block_on(async {
///     let handle = tau::task::spawn(async { "done" });
///     assert_eq!(handle.await.unwrap(), "done");
/// });
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    spawn_on(context::current(), future)
}

pub(crate) fn spawn_on<F>(table: TableRef, future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (raw, id) = cell::spawn(table, future);
    JoinHandle::new(raw, id)
}

/// Runs a blocking closure on the runtime's blocking pool and returns a
/// handle to its result. Panics outside of any runtime, as [`spawn`] does.
///
/// As in tokio, abort stops it only if it has not started yet; a panic in the
/// closure becomes [`JoinError::is_panic`]. The closure runs with the
/// runtime entered, so it can `spawn` and `block_on`.
///
/// ```
/// tau::block_on(async {
///     let sum = tau::task::spawn_blocking(|| (1..=10).sum::<u32>()).await.unwrap();
///     assert_eq!(sum, 55);
/// });
/// ```
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    spawn_blocking_on(context::current(), f)
}

pub(crate) fn spawn_blocking_on<F, R>(table: TableRef, f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let (raw, id) = cell::spawn_blocking(table, f);
    JoinHandle::new(raw, id)
}
