//! Tasks, as `tokio::task`: tau's tasks on the shared executor, with
//! tokio's names and semantics (abort, `JoinSet`, `JoinError`, ids).
//!
//! ```
//! #[tokio::main]
//! async fn main() {
//!     let mut set = tokio::task::JoinSet::new();
//!     for n in 0..3u32 {
//!         set.spawn(async move { n * 10 });
//!     }
//!     let mut results = set.join_all().await;
//!     results.sort();
//!     assert_eq!(results, [0, 10, 20]);
//! }
//! # main();
//! ```

pub mod coop;
mod join_set;
mod local;

use std::future::Future;

pub use join_set::JoinSet;
pub use local::LocalSet;
pub use tau::task::{
    id, spawn_local, try_id, yield_now, AbortHandle, Id, JoinError, JoinHandle, LocalEnterGuard,
};
pub use upstream::task::{futures, LocalKey};
pub use upstream::task_local;

#[doc(hidden)]
#[deprecated = "Moved to tokio::task::coop::consume_budget"]
pub use coop::consume_budget;
#[doc(hidden)]
#[deprecated = "Moved to tokio::task::coop::unconstrained"]
pub use coop::unconstrained;
#[doc(hidden)]
#[deprecated = "Moved to tokio::task::coop::Unconstrained"]
pub use coop::Unconstrained;

/// Spawns a task on the current runtime, as `tokio::spawn`: in a plugin,
/// the host's executor, owned by the plugin (unloading it cancels the task).
///
/// # Panics
/// Outside of any runtime, with tokio's message.
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tau::task::spawn(future)
}

/// Runs `f` on the runtime's blocking pool, as `tokio::task::spawn_blocking`.
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    tau::task::spawn_blocking(f)
}

/// tokio's `block_in_place` moves the other tasks of a worker thread
/// elsewhere while `f` blocks it; tau has one executor thread and nowhere
/// to move them.
///
/// # Panics
/// On the runtime's thread, always, with a message naming the alternative.
/// Off it (a blocking-pool thread, a plain thread) it just runs `f`, as tokio.
#[track_caller]
pub fn block_in_place<F, R>(f: F) -> R
where
    F: FnOnce() -> R,
{
    if tau::__private::is_driving() {
        panic!(
            "can call blocking only when running on the multi-threaded runtime: tokio on tau runs \
             every task on one shared executor thread, so `block_in_place` would stall all of them; \
             move the blocking work into `tokio::task::spawn_blocking(..).await` instead"
        );
    }
    f()
}
