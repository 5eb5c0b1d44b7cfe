use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::{sleep_until, Instant, Sleep};

/// How late a tick may be before it counts as missed (tokio uses the same margin).
const MISSED_MARGIN: Duration = Duration::from_millis(5);

/// Ticks every `period`, the first tick completing at once.
///
/// # Panics
/// If `period` is zero.
///
/// ```
/// use std::time::Duration;
/// tau::block_on(async {
///     let mut ticks = tau::time::interval(Duration::from_millis(2));
///     let first = ticks.tick().await;
///     let second = ticks.tick().await;
///     assert!(second - first >= Duration::from_millis(2));
/// });
/// ```
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// Ticks every `period`, the first tick at `start`.
///
/// # Panics
/// If `period` is zero.
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(period > Duration::ZERO, "`period` must be non-zero.");
    Interval {
        delay: Box::pin(sleep_until(start)),
        period,
        missed_tick_behavior: MissedTickBehavior::default(),
    }
}

/// What an [`Interval`] does when ticks were missed (the task was busy past
/// one or more deadlines).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks at once, one after another, until caught up
    /// with the original schedule.
    #[default]
    Burst,
    /// Fire one tick now and continue `period` after it: the schedule shifts.
    Delay,
    /// Fire one tick now and continue at the next tick of the original
    /// schedule, skipping the missed ones.
    Skip,
}

impl MissedTickBehavior {
    /// The deadline after a tick that was due at `due` and observed at `now`.
    fn next_deadline(self, due: Instant, now: Instant, period: Duration) -> Instant {
        match self {
            MissedTickBehavior::Burst => due.checked_add(period).unwrap_or_else(Instant::far_future),
            MissedTickBehavior::Delay => now.checked_add(period).unwrap_or_else(Instant::far_future),
            MissedTickBehavior::Skip => {
                let late = now.duration_since(due).as_nanos();
                let into_period = (late % period.as_nanos()) as u64;
                now.checked_add(period)
                    .map(|next| next - Duration::from_nanos(into_period))
                    .unwrap_or_else(Instant::far_future)
            }
        }
    }
}

/// A stream of ticks; see [`interval`].
#[derive(Debug)]
pub struct Interval {
    delay: Pin<Box<Sleep>>,
    period: Duration,
    missed_tick_behavior: MissedTickBehavior,
}

impl Interval {
    /// Waits for the next tick and returns the instant it was due.
    ///
    /// Cancel-safe: dropping the future loses no tick.
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if self.delay.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        let due = self.delay.deadline();
        let now = Instant::now();
        let next = if now.saturating_duration_since(due) > MISSED_MARGIN {
            self.missed_tick_behavior.next_deadline(due, now, self.period)
        } else {
            due.checked_add(self.period).unwrap_or_else(Instant::far_future)
        };
        self.delay.as_mut().reset(next);
        Poll::Ready(due)
    }

    /// Restarts the schedule: the next tick is one period from now.
    pub fn reset(&mut self) {
        self.delay.as_mut().reset(Instant::after(self.period).unwrap_or_else(Instant::far_future));
    }

    /// Restarts the schedule with a tick right away.
    pub fn reset_immediately(&mut self) {
        self.delay.as_mut().reset(Instant::now());
    }

    /// Restarts the schedule with the next tick after `after`.
    pub fn reset_after(&mut self, after: Duration) {
        self.delay.as_mut().reset(Instant::after(after).unwrap_or_else(Instant::far_future));
    }

    /// Restarts the schedule with the next tick at `deadline`.
    pub fn reset_at(&mut self, deadline: Instant) {
        self.delay.as_mut().reset(deadline);
    }

    /// The missed-tick behaviour.
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed_tick_behavior
    }

    /// Sets the missed-tick behaviour.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed_tick_behavior = behavior;
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }
}

use std::future::Future;
