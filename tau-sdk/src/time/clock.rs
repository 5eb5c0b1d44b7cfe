//! Pausing the clock, as tokio's `time::pause`/`resume`/`advance`
//! (`test-util`): for tests that must not wait real time.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tau_rt::abi::{
    CLOCK_ADVANCE, CLOCK_PAUSE, CLOCK_RESUME, ERR_CLOCK_NOT_PAUSED, ERR_CLOCK_PAUSED, ERR_CLOCK_SHARED,
};

use crate::context;

const OUTSIDE: &str = "time cannot be frozen from outside the Tokio runtime";
const SHARED: &str = "tau: the clock cannot be paused from a plugin: it is the host's runtime's \
clock, shared by every plugin; pause it in a test of its own runtime (`#[tokio::test]`, `#[tau::test]`)";

/// Set by the first pause through this library: until then `Instant::now`
/// reads the OS clock directly, as tokio's does.
static DID_PAUSE: AtomicBool = AtomicBool::new(false);

pub(crate) fn was_ever_paused() -> bool {
    DID_PAUSE.load(Ordering::Acquire)
}

#[track_caller]
fn control(op: u8, nanos: u64) {
    let table = context::try_current().unwrap_or_else(|| panic!("{OUTSIDE}"));
    match table.clock_control(op, nanos).err().unwrap_or(0) {
        0 => {
            if op == CLOCK_PAUSE {
                DID_PAUSE.store(true, Ordering::Release);
            }
        }
        ERR_CLOCK_PAUSED => panic!("time is already frozen"),
        ERR_CLOCK_NOT_PAUSED => panic!("time is not frozen"),
        ERR_CLOCK_SHARED => panic!("{SHARED}"),
        _ => panic!("tau: the runtime is gone: the plugin that made this value was unloaded"),
    }
}

/// Stops the current runtime's clock, as `tokio::time::pause`: `Instant::now`
/// stands still, and whenever no task can run and no IO is ready, the clock
/// jumps to the next timer's deadline, so sleeps complete at once, in order.
///
/// ```
/// use std::time::Duration;
///
/// tau::block_on(async {
///     tau::time::pause();
///     let start = tau::time::Instant::now();
///     tau::time::sleep(Duration::from_secs(3600)).await; // no real hour passes
///     assert_eq!(start.elapsed(), Duration::from_secs(3600));
///     tau::time::resume();
/// });
/// ```
///
/// # Panics
/// If the clock is paused already ("time is already frozen"), outside of a
/// runtime, or in a plugin: the host's clock is shared by every plugin.
#[track_caller]
pub fn pause() {
    control(CLOCK_PAUSE, 0);
}

/// Starts a paused clock again, from where it stood, as `tokio::time::resume`.
///
/// # Panics
/// If the clock is not paused ("time is not frozen"); as [`pause`].
#[track_caller]
pub fn resume() {
    control(CLOCK_RESUME, 0);
}

/// Moves a paused clock forward by `duration`, firing the timers that became
/// due, then yields so that they run, as `tokio::time::advance`.
///
/// # Panics
/// If the clock is not paused ("time is not frozen"); as [`pause`].
pub async fn advance(duration: Duration) {
    control(CLOCK_ADVANCE, u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX));
    crate::task::yield_now().await;
}
