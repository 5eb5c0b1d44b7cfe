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
//! The clock cannot be paused: it is the host's, shared by every plugin.
//! [`pause`], [`resume`] and [`advance`] panic saying so.

pub use tau::time::{
    error, interval, interval_at, sleep, sleep_until, timeout, timeout_at, Instant, Interval,
    MissedTickBehavior, Sleep, Timeout,
};

/// `std::time::Duration`, re-exported as tokio does.
pub use std::time::Duration;

const NO_PAUSE: &str = "tokio on tau: the clock cannot be paused, advanced or resumed: it is the \
host's one clock, shared by every plugin; test with real (short) durations instead";

/// Pauses the clock, as tokio's `test-util`.
///
/// # Panics
/// Always: see the [module docs](self).
#[track_caller]
pub fn pause() {
    panic!("{NO_PAUSE}");
}

/// Resumes a paused clock.
///
/// # Panics
/// Always: see the [module docs](self).
#[track_caller]
pub fn resume() {
    panic!("{NO_PAUSE}");
}

/// Advances a paused clock.
///
/// # Panics
/// Always: see the [module docs](self).
pub async fn advance(_duration: Duration) {
    panic!("{NO_PAUSE}");
}
