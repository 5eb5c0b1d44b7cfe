//! The glue tau's macros generate code against (`tau::__private`), in one
//! place: the C-ABI thunks' bodies (`ffi`), the compile-time checks with
//! their messages (`check`), the text rules (`codec`), how values and
//! streams cross (`crossing`), and the hooks tau's own crates use. None
//! of it is public API.

mod at_unload;
pub mod check;
mod codec;
pub mod crossing;
pub mod ffi;
mod hook;

use std::future::Future;

pub use crate::alloc::{ForwardingAllocator, ALLOCATOR};
pub use abi_stable;
pub use abi_stable::std_types;
pub use codec::{
    Codec, ParseByFromStr, ParseByTextValue, ParseUnsupported, RenderByDebug, RenderByDisplay,
    RenderByTextValue, RenderUnsupported,
};
pub use hook::HookResult;
pub use tau_abi::plugin as abi;

/// The runtime of the host that loaded this plugin, if one did (the
/// tokio shim's `Runtime::new` inside a plugin is a handle to it).
pub fn host_runtime() -> Option<crate::runtime::Handle> {
    crate::context::host().map(crate::runtime::Handle::from_table)
}

pub use at_unload::at_unload;

/// True if this thread drives the runtime it would use now: blocking
/// here would deadlock it (the tokio shim's `blocking_*` check).
pub fn is_driving() -> bool {
    crate::context::is_driving()
}

/// Body of `#[tau::main]`: a fresh runtime for the program.
pub fn run_main<F: Future>(future: F) -> F::Output {
    crate::runtime::Runtime::new()
        .unwrap_or_else(|error| panic!("tau: could not start the runtime: {error}"))
        .block_on(future)
}

/// Body of `#[tau::test]`: a fresh runtime per test, as `#[tokio::test]`.
pub fn run_test<F: Future>(future: F) -> F::Output {
    run_main(future)
}
