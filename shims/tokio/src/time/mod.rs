//! Time, as `tokio::time`: tau's sleeps, timeouts and intervals on the
//! host's one timer queue (a hierarchical wheel, millisecond resolution as
//! tokio's), with tokio's names and semantics — `Sleep::reset`,
//! `MissedTickBehavior`, an interval's immediate first tick.
//!
//! ```
//! use std::time::Duration;
//!
//! #[tokio::main]
//! async fn main() {
//!     let start = tokio::time::Instant::now();
//!     tokio::time::sleep(Duration::from_millis(5)).await;
//!     assert!(start.elapsed() >= Duration::from_millis(5));
//!     let slow = tokio::time::timeout(Duration::from_millis(1), std::future::pending::<()>());
//!     assert!(slow.await.is_err());
//! }
//! # main();
//! ```
//!
//! [`pause`], [`resume`] and [`advance`] (and `start_paused`, as in
//! `#[tokio::test(start_paused = true)]`) work on a runtime of one's own —
//! a plugin's `cargo test`, a program — with tokio's auto-advance: while
//! paused, whenever no task can run and no IO is ready, time jumps to the
//! next timer. Inside a plugin loaded by a host they panic: the host's
//! clock is shared by every plugin.

pub use tau::time::{
    advance, error, interval, interval_at, resume, sleep, sleep_until, timeout, timeout_at, Instant,
    Interval, MissedTickBehavior, Sleep, Timeout,
};

/// Pauses the current runtime's clock, as `tokio::time::pause` (see
/// `tau::time::pause`: auto-advance while idle).
///
/// # Panics
/// On a runtime built with `new_multi_thread` (tokio's rule), if already
/// paused, outside of a runtime, or in a plugin loaded by a host.
#[track_caller]
pub fn pause() {
    if crate::runtime::Handle::try_current().is_ok_and(|handle| crate::runtime::is_multi_thread(handle.id()))
    {
        panic!(
            "`time::pause()` requires the `current_thread` Tokio runtime. This is the default \
             Runtime used by `#[tokio::test]."
        );
    }
    tau::time::pause();
}

/// `std::time::Duration`, re-exported as tokio does.
pub use std::time::Duration;
