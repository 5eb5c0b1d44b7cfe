//! The primitives the driver hand-over is built on, swapped for loom's under
//! `--cfg loom` so that `cargo test --lib loom` checks its interleavings.

#[cfg(all(loom, test))]
pub(crate) use loom::sync::atomic::{AtomicBool, Ordering};
#[cfg(all(loom, test))]
pub(crate) use loom::sync::{Condvar, Mutex, MutexGuard};
#[cfg(not(all(loom, test)))]
pub(crate) use std::sync::atomic::{AtomicBool, Ordering};
#[cfg(not(all(loom, test)))]
pub(crate) use std::sync::{Condvar, Mutex, MutexGuard};
