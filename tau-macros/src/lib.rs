//! The macros of tau: `#[tau::plugin]` and `#[tau::export]`, which turn an
//! impl into a plugin, and attribute macros that run an `async fn` on tau's embedded runtime, the way
//! `#[tokio::main]` and `#[tokio::test]` do for tokio.
//!
//! Use them through the SDK, as `#[tau::main]` and `#[tau::test]`; this crate
//! is an implementation detail of `tau-sdk`.
//!
//! ```
//! async fn compute() -> std::io::Result<u32> {
//!     tau::spawn(async { 42 }).await.map_err(std::io::Error::from)
//! }
//!
//! #[tau::main]
//! async fn main() -> std::io::Result<()> {
//!     let value = compute().await?;
//!     assert_eq!(value, 42);
//!     Ok(())
//! }
//!
//! #[tau::test]
//! async fn computes() {
//!     assert_eq!(compute().await.unwrap(), 42);
//! }
//! ```
//!
//! # Expansion
//!
//! The function loses its `async` and its body moves into an `async move`
//! block handed to the SDK, which builds a runtime and drives the block to
//! completion on the current thread:
//!
//! ```text
//! fn main() -> std::io::Result<()> {
//!     ::tau::__private::run_main(async move {
//!         #[allow(clippy::diverging_sub_expression)]
//!         let __tau_output: std::io::Result<()> = { /* body */ };
//!         #[allow(unreachable_code)]
//!         __tau_output
//!     })
//! }
//! ```
//!
//! `#[tau::test]` calls `::tau::__private::run_test` instead and puts
//! `#[::core::prelude::v1::test]` first. Other attributes, doc comments and
//! the visibility are kept, in order.
//!
//! # Arguments
//!
//! - `crate = "path"`: where the SDK is, for a crate that renames the
//!   dependency (default `::tau`).
//! - `flavor = "current_thread"`: accepted so code moving from tokio compiles
//!   unchanged; it is tau's only flavor. `flavor = "multi_thread"`,
//!   `worker_threads` and `start_paused = true` are errors: tau has one
//!   single-threaded runtime, and no paused time yet.
//!
//! The function must be `async`, take no arguments and have no generic
//! parameters or where clause.

mod entry;
mod plugin;

use proc_macro::TokenStream;

/// The SDK's hidden module for this version of the macros: `__private0_1_0`
/// for 0.1.0 (tau-sdk names it the same way, and checks it in a test).
pub(crate) fn hidden_module() -> proc_macro2::Ident {
    let version = env!("CARGO_PKG_VERSION").replace(['.', '-'], "_");
    proc_macro2::Ident::new(&format!("__private{version}"), proc_macro2::Span::call_site())
}

/// Runs an `async fn` (usually `main`) on tau's runtime.
///
/// The function becomes a plain `fn` with the same name, attributes,
/// visibility and return type, whose body runs to completion on a fresh
/// runtime on the calling thread. `?` and `return` work in the body as in a
/// synchronous function.
///
/// ```
/// #[tau::main]
/// async fn main() -> Result<(), Box<dyn std::error::Error>> {
///     tau::time::sleep(std::time::Duration::from_millis(10)).await;
///     Ok(())
/// }
/// ```
///
/// A crate that renames the SDK dependency says where it is:
///
/// ```
/// use tau as sdk;
///
/// #[sdk::main(crate = "sdk")]
/// async fn main() {}
/// ```
///
/// See the [crate docs](crate) for the exact expansion and the arguments.
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand::expand(entry::parse::Kind::Main, args.into(), item.into()).into()
}

/// Runs an `async fn` test on a fresh tau runtime.
///
/// Adds `#[test]` itself (do not write it as well) and keeps the other
/// attributes, such as `#[should_panic]`, `#[ignore]` or `#[cfg(..)]`, in
/// order. The test may return a `Result`, like a synchronous test.
///
/// ```
/// #[tau::test]
/// async fn sleeps() {
///     tau::time::sleep(std::time::Duration::from_millis(1)).await;
/// }
///
/// #[tau::test]
/// #[should_panic(expected = "boom")]
/// async fn panics() {
///     panic!("boom");
/// }
/// ```
///
/// See the [crate docs](crate) for the exact expansion and the arguments.
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand::expand(entry::parse::Kind::Test, args.into(), item.into()).into()
}

/// Turns an `impl` into a tau plugin: generates the descriptor the host
/// reads, one C-ABI entry point per `#[tau::export]` method (typed and
/// text), and task wrappers for `async` exports.
///
/// ```
/// #[derive(Default)]
/// pub struct Adder;
///
/// #[tau::plugin]
/// impl Adder {
///     /// Adds two numbers.
///     #[tau::export]
///     pub fn add(&self, a: i64, b: i64) -> i64 {
///         a + b
///     }
/// }
/// # fn main() { assert_eq!(Adder.add(1, 2), 3); }
/// ```
///
/// The rules (receivers, types, hooks, construction) are in the SDK's
/// `tau::plugin` module docs; every violation is a compile error that says
/// what to write instead. `crate = "path"` names the SDK for a crate that
/// renames the dependency.
#[proc_macro_attribute]
pub fn plugin(args: TokenStream, item: TokenStream) -> TokenStream {
    plugin::expand::expand(args.into(), item.into()).into()
}

/// Marks a method of a `#[tau::plugin]` impl as callable by hosts. On its
/// own (outside such an impl) it is an error.
#[proc_macro_attribute]
pub fn export(_args: TokenStream, item: TokenStream) -> TokenStream {
    plugin::expand::expand_stray_export(item.into()).into()
}
