//! The runtime's clock: the OS monotonic clock in nanoseconds, the same one
//! `std::time::Instant` reads, so deadlines mean the same in every copy of
//! tau-rt loaded into one process.

/// Deadline value meaning "never".
pub const NEVER: u64 = u64::MAX;

/// Nanoseconds on the monotonic clock.
pub fn now_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    #[cfg(target_vendor = "apple")]
    let clock = libc::CLOCK_UPTIME_RAW;
    #[cfg(not(target_vendor = "apple"))]
    let clock = libc::CLOCK_MONOTONIC;
    // SAFETY: `ts` is a valid, writable timespec.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime failed");
    (ts.tv_sec as u64) * 1_000_000_000 + ts.tv_nsec as u64
}

/// A runtime's clock: the monotonic clock, which tests may pause, advance
/// and resume (tokio's `time::pause`): while paused it stands still, and the
/// driver moves it to the next timer's deadline whenever nothing else can
/// run. Read from any thread; changed on the driver thread.
#[derive(Debug, Default)]
pub(crate) struct Clock {
    /// Where the timer wheel's millisecond ticks count from: a paused clock
    /// stands on a tick, so whole-millisecond sleeps end exactly on time.
    origin: u64,
    paused: std::sync::atomic::AtomicBool,
    /// The time while paused.
    frozen: std::sync::atomic::AtomicU64,
    /// Added to the monotonic clock while running (time skipped by a pause).
    offset: std::sync::atomic::AtomicU64,
}

/// Why a clock operation was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClockError {
    AlreadyPaused,
    NotPaused,
}

impl Clock {
    /// A running clock; its ticks count from now.
    pub(crate) fn new() -> Clock {
        Clock { origin: now_ns(), ..Clock::default() }
    }

    pub(crate) fn origin(&self) -> u64 {
        self.origin
    }

    pub(crate) fn now(&self) -> u64 {
        use std::sync::atomic::Ordering::Acquire;
        if self.paused.load(Acquire) {
            self.frozen.load(Acquire)
        } else {
            now_ns().wrapping_add(self.offset.load(Acquire))
        }
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.paused.load(std::sync::atomic::Ordering::Acquire)
    }

    pub(crate) fn pause(&self) -> Result<(), ClockError> {
        use std::sync::atomic::Ordering::Release;
        if self.is_paused() {
            return Err(ClockError::AlreadyPaused);
        }
        // Onto the next tick (less than 1 ms ahead), as a paused tokio
        // clock's time is: whole-millisecond sleeps then end exactly.
        let now = self.now();
        let tick = crate::timer::TICK_NS;
        let aligned = self.origin + now.saturating_sub(self.origin).div_ceil(tick) * tick;
        self.frozen.store(aligned, Release);
        self.paused.store(true, Release);
        Ok(())
    }

    pub(crate) fn resume(&self) -> Result<(), ClockError> {
        use std::sync::atomic::Ordering::Release;
        if !self.is_paused() {
            return Err(ClockError::NotPaused);
        }
        let frozen = self.frozen.load(std::sync::atomic::Ordering::Acquire);
        // Time goes on from where it stood: never backwards.
        self.offset.store(frozen.saturating_sub(now_ns()), Release);
        self.paused.store(false, Release);
        Ok(())
    }

    /// Moves a paused clock forward by `by` nanoseconds.
    pub(crate) fn advance(&self, by: u64) -> Result<(), ClockError> {
        if !self.is_paused() {
            return Err(ClockError::NotPaused);
        }
        self.frozen.fetch_add(by, std::sync::atomic::Ordering::AcqRel);
        Ok(())
    }

    /// Moves a paused clock to `deadline` if that is later (auto-advance).
    pub(crate) fn advance_to(&self, deadline: u64) {
        self.frozen.fetch_max(deadline, std::sync::atomic::Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_paused_clock_stands_still_advances_and_resumes_without_going_back() {
        let clock = Clock::new();
        assert_eq!(clock.resume(), Err(ClockError::NotPaused));
        assert_eq!(clock.advance(1), Err(ClockError::NotPaused));
        clock.pause().unwrap();
        assert_eq!(clock.pause(), Err(ClockError::AlreadyPaused));
        let frozen = clock.now();
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert_eq!(clock.now(), frozen);
        clock.advance(5_000_000_000).unwrap();
        assert_eq!(clock.now(), frozen + 5_000_000_000);
        clock.advance_to(frozen); // earlier: no change
        assert_eq!(clock.now(), frozen + 5_000_000_000);
        clock.resume().unwrap();
        assert!(clock.now() >= frozen + 5_000_000_000);
    }
}
