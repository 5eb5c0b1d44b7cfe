//! A background timer: [`start`](TickerPlugin::start) spawns a task that
//! sleeps `period_ms` again and again and counts the wakes, and records the
//! worst lateness of a wake; [`ticks`](TickerPlugin::ticks) reads them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Default)]
pub struct TickerPlugin;

static TICKS: AtomicU64 = AtomicU64::new(0);
static WORST_LATENESS_US: AtomicU64 = AtomicU64::new(0);

#[tau::plugin]
impl TickerPlugin {
    /// Starts the ticker (it runs until the plugin is unloaded).
    #[tau::export]
    pub fn start(&self, period_ms: u64) -> String {
        let period = Duration::from_millis(period_ms);
        tau::spawn(async move {
            loop {
                let due = Instant::now() + period;
                tau::time::sleep(period).await;
                let late = Instant::now().saturating_duration_since(due);
                WORST_LATENESS_US.fetch_max(late.as_micros() as u64, Ordering::Relaxed);
                TICKS.fetch_add(1, Ordering::Relaxed);
            }
        });
        "started".to_string()
    }

    /// Starts a ticker that works: each wake holds the thread for `work_us`
    /// microseconds (as a plugin doing real work per tick does), then it
    /// sleeps `period_ms` again. Counted in [`ticks`](Self::ticks).
    #[tau::export]
    pub fn start_working(&self, period_ms: u64, work_us: u64) -> String {
        let period = Duration::from_millis(period_ms);
        let work = Duration::from_micros(work_us);
        // From zero: a library loaded again is the same mapping, statics and all.
        TICKS.store(0, Ordering::Relaxed);
        tau::spawn(async move {
            loop {
                let started = Instant::now();
                while started.elapsed() < work {
                    std::hint::spin_loop();
                }
                tau::time::sleep(period).await;
                TICKS.fetch_add(1, Ordering::Relaxed);
            }
        });
        "started".to_string()
    }

    /// How many times the ticker has woken so far.
    #[tau::export]
    pub fn ticks(&self) -> u64 {
        TICKS.load(Ordering::Relaxed)
    }

    /// The latest a wake has been, in microseconds.
    #[tau::export]
    pub fn worst_lateness_us(&self) -> u64 {
        WORST_LATENESS_US.load(Ordering::Relaxed)
    }
}
