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
/// The first subscription to `SIGINT` in the process replaces its default
/// action (ending the process) for good, as tokio's does.
///
/// # Errors
/// If the signal cannot be subscribed to (the runtime is gone).
pub async fn ctrl_c() -> io::Result<()> {
    let mut interrupts = unix::signal(unix::SignalKind::interrupt())?;
    interrupts.recv().await;
    Ok(())
}
