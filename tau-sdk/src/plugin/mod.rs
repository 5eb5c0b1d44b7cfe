//! Writing plugins: a plugin is an ordinary crate built as a `cdylib`, with
//! one `impl` annotated `#[tau::plugin]` whose `#[tau::export]` methods a
//! host (or the `tau` command) can call.
//!
//! ```toml
//! [lib]
//! crate-type = ["cdylib", "rlib"]
//! [dependencies]
//! tau-sdk = "0.1"
//! ```
//!
//! ```
//! use std::sync::atomic::{AtomicU64, Ordering};
//! use std::time::Duration;
//!
//! #[derive(Default)]
//! pub struct Greeter {
//!     calls: AtomicU64,
//! }
//!
//! #[tau::plugin]
//! impl Greeter {
//!     /// Says hello.
//!     #[tau::export]
//!     pub fn greet(&self, name: String) -> String {
//!         self.calls.fetch_add(1, Ordering::Relaxed);
//!         format!("hello, {name}")
//!     }
//!
//!     /// Doubles `x`, after a while.
//!     #[tau::export]
//!     pub async fn slow_double(&self, x: i64) -> i64 {
//!         tau::time::sleep(Duration::from_millis(1)).await;
//!         x * 2
//!     }
//! }
//! # fn main() {
//! // The methods stay ordinary methods, so a plugin tests itself with plain
//! // `cargo test` on the embedded runtime:
//! let greeter = Greeter::default();
//! assert_eq!(greeter.greet("tau".into()), "hello, tau");
//! assert_eq!(tau::block_on(greeter.slow_double(21)), 42);
//! # }
//! ```
//!
//! # The rules
//!
//! - The plugin type is built with `fn new() -> Self` if the impl has one,
//!   else with `Default`. It must be `Send + Sync`: calls may run
//!   concurrently, so mutable state goes in atomics or locks.
//! - Exports take `&self` and owned parameters; they may be `async`, and an
//!   async export may hold `&self` across awaits (the instance lives until
//!   unload, and unload cancels the plugin's tasks first).
//! - Parameters and results: integers, floats, `bool`, `char`, `String`,
//!   `Vec<u8>`, `Option<T>` and `Result<T, E>` of those, types that derive
//!   `abi_stable::StableAbi`, and any other owned `Send + 'static` value
//!   (channels, boxed streams): host and plugins are built by the same
//!   compiler, and the plugin allocates with the host's allocator (the
//!   macro installs a forwarding `#[global_allocator]`), so Rust values
//!   cross as they are. Typed calls check each type's name, size, alignment
//!   and build ([`abi::TypeIdentity`] says exactly what is compared). A
//!   stream an export returns (also inside an `Option`, `Result`, `Vec` or
//!   tuple: see [`Guard`]) gives out the items it holds and ends when the
//!   plugin is unloaded, and a panic in it ends it too.
//! - Because of the forwarding allocator, a crate with `#[tau::plugin]`
//!   cannot be linked into a program that has a `#[global_allocator]` of its
//!   own (its `rlib` in a test binary that sets one, say).
//! - Text calls (the command line) parse arguments and render results with
//!   the rules of [`TextValue`].
//! - Optional hooks in the impl: `fn on_load(&self)` and
//!   `fn on_unload(&self)`, returning `()` or `Result<(), E: Display>`. A
//!   failing or panicking `on_load` fails the load.
//! - A panic in an export is caught: the call fails with its message, and the
//!   plugin keeps working.
//!
//! What the macros generate is described in [`abi`].

/// The descriptor table: defined in `tau-abi`, the one home of the ABI.
pub use tau_abi::plugin as abi;
mod text;

pub use crate::__private::crossing::{Guard, Guarding};
pub use text::TextValue;

/// The rustc that built this SDK (`rustc -V`): a plugin must have been built
/// by the host's.
pub const RUSTC_VERSION: &str = env!("TAU_RUSTC_VERSION");

/// This SDK's version: a plugin must have been built against the host's.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// A hash of this SDK's sources (its `src/`, `Cargo.toml` and `build.rs`),
/// 16 hex digits: a plugin must have been built against the very sources
/// of the host's SDK, not only its version.
pub const SDK_SOURCE_HASH: &str = env!("TAU_SDK_SOURCE_HASH");
