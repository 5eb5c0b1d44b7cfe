//! tau-rt: the single-threaded runtime that a tau host and all of its plugins
//! share: one executor, one timer queue, one IO reactor (epoll on Linux, `polling` elsewhere), queues
//! for wakes and aborts from other threads, and a blocking pool.
//!
//! Code never calls this crate's Rust API to use a runtime: it goes through
//! the C-ABI [`RuntimeTable`](abi::RuntimeTable) that [`Runtime::table`]
//! returns, exactly as a plugin does with the table its host hands it. The
//! `tau` SDK (package `tau-sdk`) wraps that table in tokio-style APIs. A host
//! gives each plugin its own [`RuntimeScope`], whose table tags what the
//! plugin does, and which it revokes at unload.
//!
//! This crate knows nothing of plugins.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

#[cfg(not(target_pointer_width = "64"))]
compile_error!("tau-rt encodes task wakers in a pointer-sized word and needs a 64-bit target");

/// The runtime table this runtime builds: defined in `tau-abi`, the one
/// home of the ABI.
pub use tau_abi::runtime as abi;
mod alloc;
mod blocking;
mod clock;
mod coop;
mod driver;
mod key;
mod poller;
mod reactor;
mod remote;
mod running;
mod runtime;
mod scheduler;
mod scope;
mod signal;
mod slab;
mod sync;
mod table;
mod timer;
mod tty;
mod waker;

pub use alloc::GLOBAL_ALLOCATOR;
pub use clock::{now_ns, NEVER};
pub use running::{AfterReturn, RunningHere};
pub use runtime::{Runtime, RUNTIME_OWNER};
pub use scope::RuntimeScope;
pub use table::gone_table;
