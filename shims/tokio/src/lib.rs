//! # tokio, on tau's runtime
//!
//! This crate is patched over crates.io's `tokio` in every plugin build, so
//! a plugin's tokio code — and reqwest's, hyper's, tokio-util's, kube's —
//! runs on the one executor, reactor and timer queue its host drives.
//!
//! Where tokio's code does not depend on its runtime it *is* tokio: `sync`,
//! the io traits and `io-util`, and `select!`/`join!`/`try_join!`/`pin!` are
//! re-exported from upstream tokio 1.54.1, materialised from crates.io by
//! tau (`vendor/tokio`) with two overlays: the cooperative budget is tau's
//! (so a hot `recv()` loop yields to other plugins' tasks) and the
//! `blocking_*` methods panic on the runtime's thread, as tokio's do inside
//! a runtime, instead of deadlocking it. What is bound to a runtime —
//! [`runtime`], [`task`], [`time`], [`net`], [`io::unix::AsyncFd`], stdio,
//! [`fs`], [`process`], [`signal`] — is written on tau with tokio's names,
//! signatures and documented behaviour.
//!
//! ```
//! #[tokio::main]
//! async fn main() {
//!     let (tx, mut rx) = tokio::sync::mpsc::channel(4);
//!     tokio::spawn(async move {
//!         tokio::time::sleep(std::time::Duration::from_millis(1)).await;
//!         tx.send("hello").await.unwrap();
//!     });
//!     assert_eq!(rx.recv().await, Some("hello"));
//! }
//! # main();
//! ```
//!
//! Known differences from tokio are listed in the shim's README section.

#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

mod blocking;
pub mod fs;
pub mod io;
pub mod net;
pub mod process;
pub mod runtime;
pub mod signal;
pub mod task;
pub mod time;

/// Synchronization primitives: upstream tokio's `tokio::sync`, unchanged
/// but for the budget (see the crate docs). Values cross plugins: every
/// plugin compiles the same pinned upstream.
pub mod sync {
    pub use upstream::sync::*;
}

/// Empty, as in tokio: streams live in `tokio-stream`.
pub mod stream {}

pub use task::spawn;
pub use upstream::{join, pin, select, task_local, try_join};

/// Marks an async function to be run on a fresh runtime, as
/// `#[tokio::main]`: upstream `tokio-macros`, expanding to this crate's
/// [`runtime::Builder`].
pub use tokio_macros::main;
/// Marks an async test, as `#[tokio::test]` (upstream `tokio-macros`).
pub use tokio_macros::test;
