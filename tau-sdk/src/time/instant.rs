use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::sync::OnceLock;
use std::time::Duration;

/// A point in time on the monotonic clock, as `tokio::time::Instant`: a thin
/// wrapper over `std::time::Instant` that converts both ways.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    std: std::time::Instant,
}

/// How far away "never" is for APIs that need a concrete `Instant` (about 30 years, as tokio).
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

impl Instant {
    /// Now: the current runtime's clock, which is the monotonic clock
    /// unless a test paused it ([`pause`](super::pause)).
    pub fn now() -> Instant {
        if !super::clock::was_ever_paused() {
            return Instant { std: std::time::Instant::now() };
        }
        match crate::context::try_current() {
            Some(table) => Instant::from_runtime_ns(table.now_ns()),
            None => Instant { std: std::time::Instant::now() },
        }
    }

    /// Wraps a std instant.
    pub fn from_std(std: std::time::Instant) -> Instant {
        Instant { std }
    }

    /// The std instant.
    pub fn into_std(self) -> std::time::Instant {
        self.std
    }

    /// Time from `earlier` to `self`; zero if `earlier` is later.
    pub fn duration_since(&self, earlier: Instant) -> Duration {
        self.std.saturating_duration_since(earlier.std)
    }

    /// Time from `earlier` to `self`, or `None` if `earlier` is later.
    pub fn checked_duration_since(&self, earlier: Instant) -> Option<Duration> {
        self.std.checked_duration_since(earlier.std)
    }

    /// Time from `earlier` to `self`; zero if `earlier` is later.
    pub fn saturating_duration_since(&self, earlier: Instant) -> Duration {
        self.std.saturating_duration_since(earlier.std)
    }

    /// Time since `self`.
    pub fn elapsed(&self) -> Duration {
        Instant::now().saturating_duration_since(*self)
    }

    /// `self + duration`, or `None` on overflow.
    pub fn checked_add(&self, duration: Duration) -> Option<Instant> {
        self.std.checked_add(duration).map(Instant::from_std)
    }

    /// `self - duration`, or `None` on underflow.
    pub fn checked_sub(&self, duration: Duration) -> Option<Instant> {
        self.std.checked_sub(duration).map(Instant::from_std)
    }

    pub(crate) fn far_future() -> Instant {
        Instant::now() + FAR_FUTURE
    }

    /// `now + duration`, or `None` when that is beyond what the clock can hold.
    pub(crate) fn after(duration: Duration) -> Option<Instant> {
        Instant::now().checked_add(duration)
    }

    /// This instant on the runtime's nanosecond clock, rounded so that a timer
    /// never fires before `self`.
    fn from_runtime_ns(ns: u64) -> Instant {
        let (std_anchor, runtime_anchor) = anchor();
        let std = if ns >= runtime_anchor {
            std_anchor + Duration::from_nanos(ns - runtime_anchor)
        } else {
            std_anchor.checked_sub(Duration::from_nanos(runtime_anchor - ns)).unwrap_or(std_anchor)
        };
        Instant { std }
    }

    pub(crate) fn to_runtime_ns(self) -> u64 {
        let (std_anchor, runtime_anchor) = anchor();
        match self.std.checked_duration_since(std_anchor) {
            Some(ahead) => runtime_anchor.saturating_add(nanos(ahead)).min(tau_rt::NEVER - 1),
            None => runtime_anchor.saturating_sub(nanos(std_anchor.duration_since(self.std))),
        }
    }
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// One reading of both clocks, std first, so that converted deadlines err
/// late, never early. The runtime's clock is the OS monotonic clock, read the
/// same way by every copy of tau-rt in the process, so no runtime is needed.
fn anchor() -> (std::time::Instant, u64) {
    static ANCHOR: OnceLock<(std::time::Instant, u64)> = OnceLock::new();
    *ANCHOR.get_or_init(|| (std::time::Instant::now(), tau_rt::now_ns()))
}

impl From<std::time::Instant> for Instant {
    fn from(std: std::time::Instant) -> Instant {
        Instant::from_std(std)
    }
}

impl From<Instant> for std::time::Instant {
    fn from(instant: Instant) -> std::time::Instant {
        instant.into_std()
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, duration: Duration) -> Instant {
        Instant::from_std(self.std + duration)
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, duration: Duration) {
        *self = *self + duration;
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;
    fn sub(self, duration: Duration) -> Instant {
        Instant::from_std(self.std - duration)
    }
}

impl SubAssign<Duration> for Instant {
    fn sub_assign(&mut self, duration: Duration) {
        *self = *self - duration;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.std.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 11, item 11: converting an instant for the runtime's timer
    /// reads the OS clock itself; it starts no runtime to ask one.
    #[test]
    fn converting_to_the_runtime_clock_starts_no_runtime() {
        let soon = Instant::now() + Duration::from_millis(5);
        let now = tau_rt::now_ns();
        let converted = soon.to_runtime_ns();
        assert!(converted >= now + 4_000_000 && converted < now + 1_000_000_000, "{converted} vs {now}");
        assert!(!crate::context::embedded_started());
    }
}
