//! Time: sleeps, timeouts and intervals on the shared runtime's timer queue,
//! with tokio's names and semantics.

mod clock;
pub mod error;
mod instant;
mod interval;
mod sleep;
mod timeout;

pub use clock::{advance, pause, resume};
pub use instant::Instant;
pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use sleep::{sleep, sleep_until, Sleep};
pub use timeout::{timeout, timeout_at, Timeout};
