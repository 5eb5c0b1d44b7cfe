//! tau-rt: the single-threaded runtime that a tau host and all of its plugins
//! share: one executor, one timer queue, one IO reactor (epoll on Linux, `polling` elsewhere), queues
//! for wakes and aborts from other threads, and a blocking pool.
//!
//! Code never calls this crate's Rust API to use a runtime: it goes through
//! the C-ABI [`RuntimeTable`](abi::RuntimeTable) that [`Runtime::table`]
//! returns, exactly as a plugin does with the table its host hands it. The
//! `tau` SDK (package `tau-sdk`) wraps that table in tokio-style APIs.
//!
//! This crate knows nothing of plugins.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

#[cfg(not(target_pointer_width = "64"))]
compile_error!("tau-rt encodes task wakers in a pointer-sized word and needs a 64-bit target");

pub mod abi;
mod blocking;
mod clock;
mod poller;
mod reactor;
mod runtime;
mod slab;
mod table;
mod timer;
mod waker;

pub use clock::{now_ns, NEVER};
pub use runtime::{Runtime, RuntimeScope, RUNTIME_OWNER};
pub use table::{ERR_NOT_DRIVER_THREAD, NOT_DRIVER_THREAD};
