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

use std::future::IntoFuture;

pub use tau::time::{advance, error, resume, Instant, Interval, MissedTickBehavior, Sleep, Timeout};

// The constructors check, as tokio's do, that the current runtime has its
// time driver (`Builder::enable_time`); the types are tau's.

/// Waits until `duration` has elapsed, as `tokio::time::sleep`.
///
/// # Panics
/// On a runtime of one's own built without `enable_time`.
#[track_caller]
pub fn sleep(duration: Duration) -> Sleep {
    crate::runtime::expect_time_enabled();
    tau::time::sleep(duration)
}

/// Waits until `deadline`, as `tokio::time::sleep_until`.
///
/// # Panics
/// As [`sleep`].
#[track_caller]
pub fn sleep_until(deadline: Instant) -> Sleep {
    crate::runtime::expect_time_enabled();
    tau::time::sleep_until(deadline)
}

/// Ticks every `period`, the first tick at once, as `tokio::time::interval`.
///
/// # Panics
/// If `period` is zero; as [`sleep`].
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    crate::runtime::expect_time_enabled();
    tau::time::interval(period)
}

/// Ticks every `period` from `start`, as `tokio::time::interval_at`.
///
/// # Panics
/// If `period` is zero; as [`sleep`].
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    crate::runtime::expect_time_enabled();
    tau::time::interval_at(start, period)
}

/// Requires `future` to finish within `duration`, as `tokio::time::timeout`.
///
/// # Panics
/// As [`sleep`].
#[track_caller]
pub fn timeout<F: IntoFuture>(duration: Duration, future: F) -> Timeout<F::IntoFuture> {
    crate::runtime::expect_time_enabled();
    tau::time::timeout(duration, future)
}

/// Requires `future` to finish by `deadline`, as `tokio::time::timeout_at`.
///
/// # Panics
/// As [`sleep`].
#[track_caller]
pub fn timeout_at<F: IntoFuture>(deadline: Instant, future: F) -> Timeout<F::IntoFuture> {
    crate::runtime::expect_time_enabled();
    tau::time::timeout_at(deadline, future)
}

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
