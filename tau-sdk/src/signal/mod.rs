//! Signals, as `tokio::signal`: delivered through the host's one handler
//! per signal (a plugin never installs a handler of its own, which would
//! outlive it), fanned out to every subscriber.
//!
//! ```no_run
//! # tau::block_on(async {
//! tau::signal::ctrl_c().await.unwrap();
//! println!("interrupted");
//! # });
//! ```

pub mod unix;

use std::io;

/// Completes at the next `SIGINT` (Ctrl-C) delivered after the call, as
/// `tokio::signal::ctrl_c`.
///
/// From the first call on, `SIGINT` no longer ends the process, as with
/// tokio, while the plugin (or the host's runtime) that called it is there:
/// once no subscription is left and that plugin is unloaded, the action
/// before it is back (the default, or the host's own handler).
///
/// # Errors
/// If the signal cannot be subscribed to (the runtime is gone).
pub async fn ctrl_c() -> io::Result<()> {
    let mut interrupts = unix::signal(unix::SignalKind::interrupt())?;
    interrupts.recv().await;
    Ok(())
}
