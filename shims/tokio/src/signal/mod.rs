//! Signals, as `tokio::signal`: through the host's one handler per signal
//! (no handler is ever installed by plugin code, where it would outlive
//! the plugin), fanned out to every subscriber. tau's `tau::signal`.
//!
//! ```no_run
//! #[tokio::main]
//! async fn main() {
//!     tokio::signal::ctrl_c().await.unwrap();
//!     println!("interrupted");
//! }
//! ```

pub use tau::signal::ctrl_c;

/// Unix signals, as `tokio::signal::unix`.
pub mod unix {
    pub use tau::signal::unix::{signal, Signal, SignalKind};
}
