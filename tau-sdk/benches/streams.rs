//! Stream benchmark: tau's combinators against futures-util's, on the same
//! tau runtime, in one process.
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-bench cargo bench -p tau-sdk --bench streams
//! ```
//!
//! Workloads (results in BENCHMARKS.md):
//!
//! - (a) pipeline: `iter(0..10_000_000)` → `map` → `filter` (keeps half) →
//!   `then` (an async block that is ready at once) → `fold`. futures-util's
//!   `filter` and `fold` take async closures, so there the same closures are
//!   wrapped in `ready`. Items per second.
//! - (b) `buffer_unordered(64)` over 100,000 futures that each sleep a
//!   seeded pseudo-random 0–200 µs on tau's timer (the same lengths on both
//!   sides) and return their index; `fold` sums them. Futures per second of
//!   wall time, and process CPU time (user + sys) per future.
//!
//! One warm-up run of each, then 5 measured runs alternating tau and
//! futures-util; the best run counts. Both sides must produce the same
//! result, which is checked.
//!
//! Without `--bench` (`cargo test --benches`), sizes are divided by 100: a
//! smoke test, not a measurement.

use std::future::ready;
use std::hint::black_box;
use std::mem::MaybeUninit;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tau::runtime::Runtime;

const PIPELINE_ITEMS: u64 = 10_000_000;
const SLEEPING_FUTURES: u64 = 100_000;
const CONCURRENCY: usize = 64;
const SLEEP_MAX_NS: u64 = 200_000;
const RUNS: usize = 5;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Side {
    Tau,
    FuturesUtil,
}

fn map_step(x: u64) -> u64 {
    x.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 7
}

fn keep(x: &u64) -> bool {
    x & 1 == 0
}

fn fold_step(sum: u64, x: u64) -> u64 {
    sum.wrapping_add(x)
}

fn pipeline(runtime: &Runtime, side: Side, items: u64) -> u64 {
    runtime.block_on(async move {
        match side {
            Side::Tau => {
                use tau::stream::{self, StreamExt};
                stream::iter(0..items)
                    .map(map_step)
                    .filter(keep)
                    .then(|x| async move { black_box(x) ^ 0xFF })
                    .fold(0, fold_step)
                    .await
            }
            Side::FuturesUtil => {
                use futures::stream::{self, StreamExt};
                stream::iter(0..items)
                    .map(map_step)
                    .filter(|x| ready(keep(x)))
                    .then(|x| async move { black_box(x) ^ 0xFF })
                    .fold(0, |sum, x| ready(fold_step(sum, x)))
                    .await
            }
        }
    })
}

/// Seeded sleep lengths (xorshift64*), the same for both sides.
fn sleep_lengths(count: u64) -> Arc<Vec<Duration>> {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let lengths = (0..count)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            Duration::from_nanos(state.wrapping_mul(0x2545_F491_4F6C_DD1D) % SLEEP_MAX_NS)
        })
        .collect();
    Arc::new(lengths)
}

fn sleeping(runtime: &Runtime, side: Side, lengths: &Arc<Vec<Duration>>) -> u64 {
    let lengths = lengths.clone();
    let count = lengths.len();
    runtime.block_on(async move {
        let nap = move |index: usize| {
            let length = lengths[index];
            async move {
                tau::time::sleep(length).await;
                index as u64
            }
        };
        match side {
            Side::Tau => {
                use tau::stream::{self, StreamExt};
                stream::iter(0..count).map(nap).buffer_unordered(CONCURRENCY).fold(0, fold_step).await
            }
            Side::FuturesUtil => {
                use futures::stream::{self, StreamExt};
                let futures = stream::iter(0..count).map(nap).buffer_unordered(CONCURRENCY);
                futures.fold(0, |sum, x| ready(fold_step(sum, x))).await
            }
        }
    })
}

fn process_cpu() -> Duration {
    let mut raw = MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `raw` is a valid, writable rusage for getrusage to fill in.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, raw.as_mut_ptr()) };
    assert_eq!(rc, 0, "getrusage failed: {}", std::io::Error::last_os_error());
    // SAFETY: getrusage filled it in (and it was zeroed before).
    let raw = unsafe { raw.assume_init() };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(raw.ru_utime) + tv(raw.ru_stime)
}

struct Measured {
    wall: Duration,
    cpu: Duration,
}

/// Runs `work` once to warm up, then `RUNS` times alternating the sides;
/// returns the best (shortest wall time) run of each side.
fn measure(mut work: impl FnMut(Side) -> u64) -> [Measured; 2] {
    let expected = work(Side::Tau);
    assert_eq!(work(Side::FuturesUtil), expected, "both sides compute the same result");
    let mut best =
        [Side::Tau, Side::FuturesUtil].map(|_| Measured { wall: Duration::MAX, cpu: Duration::MAX });
    for _ in 0..RUNS {
        for (slot, side) in [Side::Tau, Side::FuturesUtil].into_iter().enumerate() {
            let (cpu, start) = (process_cpu(), Instant::now());
            let result = work(side);
            let (wall, cpu) = (start.elapsed(), process_cpu() - cpu);
            assert_eq!(result, expected, "{side:?} computed a different result");
            if wall < best[slot].wall {
                best[slot] = Measured { wall, cpu };
            }
        }
    }
    best
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing.
    let scale = if std::env::args().any(|arg| arg == "--bench") { 1 } else { 100 };
    let runtime = Runtime::new().expect("runtime");

    let items = PIPELINE_ITEMS / scale;
    let [tau, futures] = measure(|side| pipeline(&runtime, side, items));
    let rate = |m: &Measured| items as f64 / m.wall.as_secs_f64() / 1e6;
    println!("(a) map → filter → then → fold over {items} items (M items/s, best of {RUNS})");
    println!("    tau           {:8.1}", rate(&tau));
    println!("    futures-util  {:8.1}", rate(&futures));
    println!("    ratio tau/futures-util: {:.2}×", rate(&tau) / rate(&futures));

    let count = SLEEPING_FUTURES / scale;
    let lengths = sleep_lengths(count);
    let [tau, futures] = measure(|side| sleeping(&runtime, side, &lengths));
    let rate = |m: &Measured| count as f64 / m.wall.as_secs_f64() / 1e3;
    let cpu_per = |m: &Measured| m.cpu.as_secs_f64() * 1e9 / count as f64;
    println!("(b) buffer_unordered({CONCURRENCY}) over {count} futures sleeping 0–200 µs (best of {RUNS})");
    println!("    tau           {:8.1} k futures/s   {:7.0} ns CPU per future", rate(&tau), cpu_per(&tau));
    println!(
        "    futures-util  {:8.1} k futures/s   {:7.0} ns CPU per future",
        rate(&futures),
        cpu_per(&futures)
    );
    println!(
        "    ratio tau/futures-util: {:.2}× throughput, {:.2}× CPU efficiency",
        rate(&tau) / rate(&futures),
        cpu_per(&futures) / cpu_per(&tau)
    );
}
