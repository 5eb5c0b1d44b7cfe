//! The runtime, as `tokio::runtime`: in a plugin it is the host's one
//! runtime; elsewhere (a plugin's own `cargo test`, a program) each
//! [`Runtime`] is a fresh tau runtime driven by the thread that calls
//! [`Runtime::block_on`]. A multi-thread one of one's own also has one
//! worker thread, which drives it while nobody blocks on it, as tokio's
//! workers do: its tasks and timers progress between `block_on`s, and a
//! sleep of it polled by another runtime's thread fires.
//!
//! Both flavours run their tasks on one executor thread at a time. A
//! multi-thread runtime is accepted (its worker count is ignored) so that
//! code written for one runs unchanged; what only real worker threads can do —
//! [`task::block_in_place`](crate::task::block_in_place) — panics with a
//! message that names the alternative. [`Handle::runtime_flavor`] reports
//! the flavour the runtime was built with.
//!
//! ```
//! let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
//! let answer = runtime.block_on(async { tokio::spawn(async { 42 }).await.unwrap() });
//! assert_eq!(answer, 42);
//! ```

mod builder;
mod handle;
#[allow(clippy::module_inception)]
mod runtime;

pub use builder::{Builder, LocalOptions, UnhandledPanic};
pub use handle::{EnterGuard, Handle, RuntimeFlavor, TryCurrentError};
pub use runtime::{LocalRuntime, Runtime, RuntimeMetrics};

mod id;
pub use id::Id;
mod worker;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// What a runtime of this library was built as, by id, for handles found
/// through `Handle::current` (which tau's context does not carry).
#[derive(Clone)]
pub(crate) struct Built {
    pub(crate) flavor: RuntimeFlavor,
    pub(crate) name: Option<Arc<str>>,
    /// Built with `enable_io` / `enable_time`.
    pub(crate) io: bool,
    pub(crate) time: bool,
    /// A multi-thread runtime's worker (see [`worker`]).
    pub(crate) worker: Option<Arc<worker::Shared>>,
}

static BUILT: Mutex<Option<HashMap<Id, Built>>> = Mutex::new(None);

/// Set once a runtime without a driver was built: until then the checks
/// below are one relaxed load.
static SOME_DRIVER_DISABLED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub(crate) fn remember(id: Id, built: Option<Built>) {
    if built.as_ref().is_some_and(|built| !(built.io && built.time)) {
        SOME_DRIVER_DISABLED.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    let mut map = BUILT.lock().unwrap_or_else(|poison| poison.into_inner());
    let map = map.get_or_insert_with(HashMap::new);
    match built {
        Some(built) => map.insert(id, built),
        None => map.remove(&id),
    };
}

pub(crate) fn built(id: Id) -> Option<Built> {
    let map = BUILT.lock().unwrap_or_else(|poison| poison.into_inner());
    map.as_ref().and_then(|map| map.get(&id).cloned())
}

/// The current runtime's record, if it is one this library built.
fn current_built() -> Option<Built> {
    let handle = tau::runtime::Handle::try_current().ok()?;
    built(Id::new(handle.id()))
}

/// Panics with tokio's message if the current runtime was built without
/// `enable_io`.
#[track_caller]
pub(crate) fn expect_io_enabled() {
    if SOME_DRIVER_DISABLED.load(std::sync::atomic::Ordering::Relaxed)
        && current_built().is_some_and(|built| !built.io)
    {
        panic!("A Tokio 1.x context was found, but IO is disabled. Call `enable_io` on the runtime builder to enable IO.");
    }
}

/// Panics with tokio's message if the current runtime was built without
/// `enable_time`.
#[track_caller]
pub(crate) fn expect_time_enabled() {
    if SOME_DRIVER_DISABLED.load(std::sync::atomic::Ordering::Relaxed)
        && current_built().is_some_and(|built| !built.time)
    {
        panic!(
            "A Tokio 1.x context was found, but timers are disabled. Call `enable_time` on the runtime builder to enable timers."
        );
    }
}

pub(crate) fn is_multi_thread(id: Id) -> bool {
    built(id).is_some_and(|built| built.flavor == RuntimeFlavor::MultiThread)
}

/// True if `error` is an IO error saying that the resource's runtime is
/// gone (shut down, or its plugin unloaded), as tokio's.
pub fn is_rt_shutdown_err(error: &std::io::Error) -> bool {
    tau::io::is_runtime_gone(error)
}
