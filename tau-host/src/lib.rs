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
//! - A path that is not a regular file (a FIFO, a device) is refused
//!   before it is opened.
//! - A library is checked before any of its functions runs: `TAU_PLUGIN`
//!   is a data object the size of a tau header (on Linux, the loader says);
//!   tau's magic and descriptor ABI version; the header's inline rustc,
//!   tau-sdk (version and source hash) and runtime-ABI versions and panic
//!   strategy; then the descriptor's layout (`abi_stable`, which calls
//!   into the library). A mismatch is an error naming what differs. `dlopen` runs the library's
//!   static constructors before any check: this guards against accidents,
//!   not against a malicious library.
//! - Plugins allocate with the host's global allocator (installed in the
//!   plugin before anything else runs), so a `String` or a `Box` may be
//!   freed on either side, whatever `#[global_allocator]` the host has.
//! - A panic in a plugin (constructor, `on_load`, an export, a task, a
//!   stream it returned) is caught in the plugin and reported; the host and
//!   the other plugins carry on.
//! - Each plugin reaches the runtime through its own scope, so the runtime
//!   knows which plugin owns every task, timer, IO registration and blocking
//!   job. Unload revokes the scope: it cancels them (dropping their futures,
//!   with their `Drop`), refuses new ones, wakes whoever waits on the
//!   plugin's timers and IO, then runs `on_unload` and drops the instance.
//!   Values of the plugin the host kept stay safe (see [`Host::unload`]).
//!   Unload, metrics and dropping the host work whichever thread drives the
//!   runtime.
//! - The library's code stays mapped (`RTLD_NODELETE`), because its std
//!   registered thread-exit destructors on threads that ran plugin code.
//!   A file is mapped under its own name once; every later instance (a
//!   second load, a reload, a hard link, a rebuild in place) is a private
//!   copy, made in a directory only this user can write, so no two
//!   instances share statics and a rebuilt plugin runs its new code.
//! - Typed calls check each type's name, layout and build (see
//!   `tau::plugin::abi::TypeIdentity`).
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
mod trust;

pub use build::{default_cache_dir, default_patches_file, patch_table, read_patches, Builder, Built, Patch};
pub use call::{Args, PluginCall};
pub use error::{BuildError, CallError, LoadError, UnloadError};
pub use host::{Host, Unloaded};
pub use plugin::{Export, Idle, Plugin, PluginId, TypedExport};
