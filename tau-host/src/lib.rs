//! # tau-host
//!
//! Load tau plugins into a process, call their exports and unload them, all
//! on one runtime shared by the host and every plugin. The `tau` command is
//! built on this library.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use tau_host::Host;
//!
//! let mut host = Host::new()?;
//! let greeter = host.load("plugins/example-plugin")?; // built with cargo, then loaded
//! let plugin = host.plugin(greeter).unwrap();
//!
//! // Typed calls, checked against the export's signature.
//! let sum: i64 = plugin.call("add", (2i64, 3i64))?;
//! assert_eq!(sum, 5);
//!
//! // Async exports run as tasks of the plugin on the shared runtime.
//! let call = plugin.spawn_call::<i64, _>("slow_double", (21i64,))?;
//! assert_eq!(host.block_on(call)?, 42);
//!
//! // Text calls, as the command line makes them.
//! assert_eq!(host.block_on(plugin.call_text("greet", &["tau"])?)?, "hello, tau");
//!
//! host.unload(greeter)?;
//! # Ok(()) }
//! ```
//!
//! What the host guarantees:
//! - A library is validated before any of its code runs: tau's magic and
//!   descriptor ABI version, the descriptor's layout (`abi_stable`), and the
//!   rustc, tau-sdk and runtime-ABI versions. A mismatch is an error naming
//!   what differs.
//! - A panic in a plugin (constructor, `on_load`, an export, a task) is
//!   caught in the plugin and reported as an error; the host and the other
//!   plugins carry on.
//! - Each plugin reaches the runtime through its own table, so the runtime
//!   knows which plugin owns every task, timer, IO registration and blocking
//!   job. Unload cancels them (dropping their futures, with their `Drop`),
//!   then runs `on_unload` and drops the instance. The library's code stays
//!   mapped (`RTLD_NODELETE`), because its std registered thread-exit
//!   destructors on threads that ran plugin code; loading the plugin again
//!   later works, and a second load of a file already open, or of a file
//!   rebuilt in place since it was mapped, loads a private copy, so two
//!   instances never share statics and a rebuilt plugin runs its new code.
//! - A crate directory is built through the build cache ([`build`]): an
//!   unchanged plugin is reused without running cargo.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub mod build;
mod call;
mod error;
mod host;
mod library;
mod plugin;
mod private_dir;
mod symbol;

pub use build::{default_cache_dir, default_patches_file, read_patches, Builder, Built, Patch};
pub use call::{Args, PluginCall};
pub use error::{BuildError, CallError, LoadError, UnloadError};
pub use host::{Host, Unloaded};
pub use plugin::{Export, Idle, Plugin, PluginId, TypedExport};
