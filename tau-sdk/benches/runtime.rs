//! Runtime benchmark: the same workloads on tau and on tokio's current-thread
//! runtime, in one process.
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-bench cargo bench -p tau-sdk --bench runtime
//! ```
//!
//! Workloads (see BENCHMARKS.md for the results and the targets):
//!
//! - (a) spawn 1,000,000 trivial tasks from inside `block_on`, keep the
//!   `JoinHandle`s in a `Vec`, then await each: tasks per second.
//! - (b) 100,000 concurrent sleeps of pseudo-random length in [0, 100 ms)
//!   (same seeded lengths for both runtimes): wall time and process CPU time
//!   (`getrusage(RUSAGE_SELF)`, user + sys).
//! - (b') extra, not required by the issue: the same with the first 1,000
//!   lengths only (deadlines ~100 µs apart): CPU time.
//! - (c) two tasks handing a counter back and forth through a single-slot
//!   cell ([`Slot`]: an `AtomicU64` plus an `AtomicWaker`, identical for both
//!   runtimes): 1,000,000 handoffs (500,000 round trips). One handoff = one
//!   `send` that wakes the peer task parked in `recv`, and that peer's poll
//!   that takes the value.
//! - (d) cross-thread wake latency: a task parks on a [`CrossWake`] cell; an
//!   OS thread waits until it is armed, sleeps 50 µs (so the runtime is
//!   parked in its poller), stamps the time and wakes it; the task stamps
//!   the time when it is polled again. 10,000 rounds; p50 and p99.
//! - (e) idle CPU: on a dedicated thread, a task sleeps 10 s while the
//!   `block_on` future sleeps 2 s; CPU time of the runtime thread
//!   (`getrusage(RUSAGE_THREAD)`) over those 2 s, in ms per idle second.
//!
//! Each workload runs once as a warm-up on each runtime (for (b), the warm-up
//! also measures how late sleeps fire; (e) has none), then 3 measured runs
//! alternating tau and tokio; throughputs and times keep the best run,
//! latency percentiles and idle CPU the median run.
//!
//! Without `--bench` (`cargo test --benches`), sizes are divided by 100: a
//! smoke test, not a measurement. `BENCH_ONLY=<a|b|b1k|c|d|e>-<tau|tokio>`
//! runs one workload once at full size, for `perf` or `strace`.

use std::future::{poll_fn, Future};
use std::hint::black_box;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use atomic_waker::AtomicWaker;

const SPAWN_TASKS: usize = 1_000_000;
const SLEEP_TASKS: usize = 100_000;
const SLEEP_MAX_US: u64 = 100_000;
/// The extra workload (b'): sparse timers.
const SPARSE_SLEEP_TASKS: usize = 1_000;
const SLEEP_SEED: u64 = 0x9E37_79B9_7F4A_7C15;
const HANDOFFS: u64 = 1_000_000;
const WAKE_ROUNDS: usize = 10_000;
/// How long the waking thread waits after the task is armed, so that the
/// runtime thread has gone to sleep in its poller before the wake.
const WAKE_DELAY: Duration = Duration::from_micros(50);
const IDLE_WINDOW: Duration = Duration::from_secs(2);
const IDLE_PENDING_TIMER: Duration = Duration::from_secs(10);
const RUNS: usize = 3;

// ----- shared helpers -------------------------------------------------------------

/// xorshift64*: a tiny seeded generator, so both runtimes sleep the same lengths.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

fn sleep_lengths() -> Arc<Vec<u64>> {
    let mut rng = XorShift(SLEEP_SEED);
    Arc::new((0..SLEEP_TASKS).map(|_| rng.next() % SLEEP_MAX_US).collect())
}

#[derive(Clone, Copy, Default)]
struct Usage {
    cpu: Duration,
    voluntary_switches: i64,
}

fn usage(who: libc::c_int) -> Usage {
    let mut raw = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `raw` is a valid, writable rusage.
    let rc = unsafe { libc::getrusage(who, raw.as_mut_ptr()) };
    assert_eq!(rc, 0, "getrusage failed: {}", std::io::Error::last_os_error());
    // SAFETY: getrusage filled it in (and it was zeroed before).
    let raw = unsafe { raw.assume_init() };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Usage { cpu: tv(raw.ru_utime) + tv(raw.ru_stime), voluntary_switches: raw.ru_nvcsw }
}

fn process_usage() -> Usage {
    usage(libc::RUSAGE_SELF)
}

#[cfg(target_os = "linux")]
fn thread_usage() -> Usage {
    usage(libc::RUSAGE_THREAD)
}

#[cfg(not(target_os = "linux"))]
fn thread_usage() -> Usage {
    usage(libc::RUSAGE_SELF)
}

/// A single-slot handoff cell: `send` stores a non-zero value and wakes the
/// receiver; `recv` takes it or parks. Runtime-agnostic, so both runtimes
/// run the identical primitive in (c).
struct Slot {
    value: AtomicU64,
    waker: AtomicWaker,
}

impl Slot {
    fn new() -> Slot {
        Slot { value: AtomicU64::new(0), waker: AtomicWaker::new() }
    }

    fn send(&self, value: u64) {
        debug_assert_ne!(value, 0);
        let previous = self.value.swap(value, Ordering::AcqRel);
        debug_assert_eq!(previous, 0, "slot overwritten");
        self.waker.wake();
    }

    fn recv(&self) -> Recv<'_> {
        Recv { slot: self }
    }
}

struct Recv<'a> {
    slot: &'a Slot,
}

impl Future for Recv<'_> {
    type Output = u64;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u64> {
        let slot = self.slot;
        let value = slot.value.swap(0, Ordering::AcqRel);
        if value != 0 {
            return Poll::Ready(value);
        }
        slot.waker.register(cx.waker());
        match slot.value.swap(0, Ordering::AcqRel) {
            0 => Poll::Pending,
            value => Poll::Ready(value),
        }
    }
}

/// The cell of (d): the OS thread stamps the time and fires; the task
/// observes the firing when it is polled again.
struct CrossWake {
    base: Instant,
    fired: AtomicBool,
    stamp_ns: AtomicU64,
    waker: AtomicWaker,
}

impl CrossWake {
    fn now_ns(&self) -> u64 {
        self.base.elapsed().as_nanos() as u64
    }

    /// The waking thread: for each arming, wait `WAKE_DELAY`, stamp, wake.
    fn run_waker_thread(self: Arc<Self>, armed: mpsc::Receiver<()>) -> std::thread::JoinHandle<()> {
        std::thread::spawn(move || {
            while armed.recv().is_ok() {
                std::thread::sleep(WAKE_DELAY);
                self.stamp_ns.store(self.now_ns(), Ordering::Relaxed);
                self.fired.store(true, Ordering::Release);
                self.waker.wake();
            }
        })
    }

    /// One round on the task's side: register, arm the thread, wait for the
    /// wake; returns the wake-to-poll latency in ns.
    async fn round(&self, armed: &mpsc::Sender<()>) -> u64 {
        let mut sent = false;
        poll_fn(|cx| {
            if !self.fired.load(Ordering::Acquire) {
                self.waker.register(cx.waker());
            }
            if self.fired.swap(false, Ordering::AcqRel) {
                let now = self.now_ns();
                return Poll::Ready(now.saturating_sub(self.stamp_ns.load(Ordering::Relaxed)));
            }
            if !sent {
                sent = true;
                armed.send(()).expect("waker thread gone");
            }
            Poll::Pending
        })
        .await
    }
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

// ----- the workloads, once per runtime ----------------------------------------------

/// Results of (d) for one run, in µs.
#[derive(Clone, Copy, Debug)]
struct Latency {
    p50_us: f64,
    p99_us: f64,
    max_us: f64,
}

/// Results of (e) for one run.
#[derive(Clone, Copy, Debug)]
struct Idle {
    /// CPU time of the runtime thread per idle second, in ms.
    thread_ms_per_s: f64,
    /// CPU time of the whole process per idle second, in ms.
    process_ms_per_s: f64,
    /// Voluntary context switches of the runtime thread in the window (wake-ups).
    wakeups: i64,
}

macro_rules! workloads {
    ($module:ident, $new_runtime:expr, $spawn:path, $sleep:path, $yield_now:path) => {
        mod $module {
            use super::*;

            /// (a): returns the time to spawn and join `n` tasks.
            pub fn spawn_join(n: usize) -> Duration {
                let runtime = $new_runtime;
                let start = Instant::now();
                let sum = runtime.block_on(async move {
                    let mut handles = Vec::with_capacity(n);
                    for i in 0..n {
                        handles.push($spawn(async move { i as u64 }));
                    }
                    let mut sum = 0u64;
                    for handle in handles {
                        sum += handle.await.unwrap();
                    }
                    sum
                });
                let elapsed = start.elapsed();
                assert_eq!(sum, (n as u64) * (n as u64 - 1) / 2);
                elapsed
            }

            /// (b): returns (wall, process CPU, worst lateness if measured).
            pub fn sleeps(lengths: Arc<Vec<u64>>, lateness: bool) -> (Duration, Duration, Option<Duration>) {
                let runtime = $new_runtime;
                let longest = Duration::from_micros(lengths.iter().copied().max().unwrap_or(0));
                let cpu = process_usage();
                let start = Instant::now();
                let worst = runtime.block_on(async move {
                    let mut handles = Vec::with_capacity(lengths.len());
                    for &micros in lengths.iter() {
                        let length = Duration::from_micros(micros);
                        handles.push($spawn(async move {
                            let begun = lateness.then(Instant::now);
                            $sleep(length).await;
                            begun.map(|begun| begun.elapsed().saturating_sub(length))
                        }));
                    }
                    let mut worst: Option<Duration> = None;
                    for handle in handles {
                        if let Some(late) = handle.await.unwrap() {
                            worst = Some(worst.map_or(late, |worst| worst.max(late)));
                        }
                    }
                    worst
                });
                let wall = start.elapsed();
                let cpu = process_usage().cpu - cpu.cpu;
                assert!(wall >= longest, "slept {wall:?}, less than the longest sleep {longest:?}");
                (wall, cpu, worst)
            }

            /// (c): returns the time for `handoffs` handoffs between two tasks.
            pub fn ping_pong(handoffs: u64) -> Duration {
                let runtime = $new_runtime;
                let rounds = handoffs / 2;
                let a_to_b = Arc::new(Slot::new());
                let b_to_a = Arc::new(Slot::new());
                let start = Instant::now();
                let last = runtime.block_on(async move {
                    let (to_b, from_b) = (Arc::clone(&a_to_b), Arc::clone(&b_to_a));
                    let a = $spawn(async move {
                        let mut value = 1;
                        for _ in 0..rounds {
                            to_b.send(value);
                            value = from_b.recv().await + 1;
                        }
                        value
                    });
                    let b = $spawn(async move {
                        for _ in 0..rounds {
                            let value = a_to_b.recv().await;
                            b_to_a.send(value + 1);
                        }
                    });
                    let last = a.await.unwrap();
                    b.await.unwrap();
                    last
                });
                let elapsed = start.elapsed();
                assert_eq!(last, 2 * rounds + 1);
                elapsed
            }

            /// (d): wake-to-poll latency from another OS thread.
            pub fn cross_wake(rounds: usize) -> Latency {
                let runtime = $new_runtime;
                let cell = Arc::new(CrossWake {
                    base: Instant::now(),
                    fired: AtomicBool::new(false),
                    stamp_ns: AtomicU64::new(0),
                    waker: AtomicWaker::new(),
                });
                let (armed_tx, armed_rx) = mpsc::channel();
                let thread = Arc::clone(&cell).run_waker_thread(armed_rx);
                let mut latencies = runtime.block_on(async move {
                    let task = $spawn(async move {
                        let mut latencies = Vec::with_capacity(rounds);
                        for _ in 0..rounds {
                            latencies.push(cell.round(&armed_tx).await);
                        }
                        latencies
                    });
                    task.await.unwrap()
                });
                thread.join().unwrap();
                latencies.sort_unstable();
                let us = |ns: u64| ns as f64 / 1000.0;
                Latency {
                    p50_us: us(percentile(&latencies, 50.0)),
                    p99_us: us(percentile(&latencies, 99.0)),
                    max_us: us(*latencies.last().unwrap()),
                }
            }

            /// (e): CPU of an idle runtime with a long timer pending.
            pub fn idle(window: Duration) -> Idle {
                std::thread::spawn(move || {
                    let runtime = $new_runtime;
                    runtime.block_on(async move {
                        let pending = $spawn(async {
                            $sleep(IDLE_PENDING_TIMER).await;
                        });
                        // Let the task register its timer before the window opens.
                        $yield_now().await;
                        $yield_now().await;
                        let (thread0, process0) = (thread_usage(), process_usage());
                        $sleep(window).await;
                        let (thread1, process1) = (thread_usage(), process_usage());
                        pending.abort();
                        let _ = pending.await;
                        let per_s = |cpu: Duration| cpu.as_secs_f64() * 1000.0 / window.as_secs_f64();
                        Idle {
                            thread_ms_per_s: per_s(thread1.cpu - thread0.cpu),
                            process_ms_per_s: per_s(process1.cpu - process0.cpu),
                            wakeups: thread1.voluntary_switches - thread0.voluntary_switches,
                        }
                    })
                })
                .join()
                .unwrap()
            }
        }
    };
}

workloads!(
    on_tau,
    tau::runtime::Runtime::new().expect("tau runtime"),
    tau::spawn,
    tau::time::sleep,
    tau::task::yield_now
);

workloads!(
    on_tokio,
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime"),
    tokio::spawn,
    tokio::time::sleep,
    tokio::task::yield_now
);

// ----- running and reporting --------------------------------------------------------

/// Runs a warm-up on each runtime, then `RUNS` measured runs alternating
/// between them; returns the measured runs of (tau, tokio).
fn compare<T>(
    name: &str,
    mut tau: impl FnMut() -> T,
    mut tokio: impl FnMut() -> T,
    warm_up: bool,
) -> (Vec<T>, Vec<T>) {
    println!("running {name}...");
    if warm_up {
        black_box(tau());
        black_box(tokio());
    }
    let mut results = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        results.0.push(tau());
        results.1.push(tokio());
    }
    results
}

fn best(runs: &[Duration]) -> Duration {
    runs.iter().copied().min().unwrap()
}

fn median(runs: &[f64]) -> f64 {
    let mut sorted = runs.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

/// Which way a figure is better, to orient the ratio so that > 1 means tau is better.
#[derive(Clone, Copy)]
enum Better {
    Higher,
    Lower,
}

struct Row {
    workload: &'static str,
    metric: &'static str,
    tau: f64,
    tokio: f64,
    better: Better,
    decimals: usize,
}

impl Row {
    fn ratio(&self) -> String {
        let ratio = match self.better {
            Better::Higher => self.tau / self.tokio,
            Better::Lower => self.tokio / self.tau,
        };
        if ratio.is_finite() {
            format!("{ratio:.2}")
        } else {
            "n/a".to_string()
        }
    }

    fn cells(&self) -> [String; 5] {
        let d = self.decimals;
        [
            self.workload.to_string(),
            self.metric.to_string(),
            format!("{:.d$}", self.tau),
            format!("{:.d$}", self.tokio),
            self.ratio(),
        ]
    }
}

fn print_table(rows: &[Row]) {
    let header = ["workload", "metric", "tau", "tokio", "ratio"];
    let cells: Vec<[String; 5]> = rows.iter().map(Row::cells).collect();
    let mut widths = header.map(str::len);
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
    let line = |row: &[String; 5]| {
        let [w0, w1, w2, w3, w4] = widths;
        println!("{:<w0$}  {:<w1$}  {:>w2$}  {:>w3$}  {:>w4$}", row[0], row[1], row[2], row[3], row[4]);
    };
    line(&header.map(String::from));
    println!("{}", "-".repeat(widths.iter().sum::<usize>() + 8));
    cells.iter().for_each(line);
}

fn print_markdown(rows: &[Row]) {
    println!("| workload | metric | tau | tokio | ratio (>1: tau better) |");
    println!("|---|---|---:|---:|---:|");
    for row in rows {
        let [workload, metric, tau, tokio, ratio] = row.cells();
        println!("| {workload} | {metric} | {tau} | {tokio} | {ratio} |");
    }
}

/// `BENCH_ONLY=<workload>-<runtime>` (e.g. `b-tau`): runs that one workload
/// once at full size and prints its raw result, for profiling with perf or strace.
fn run_one(spec: &str) {
    let lengths = sleep_lengths();
    let started = Instant::now();
    let result = match spec {
        "a-tau" => format!("{:?}", on_tau::spawn_join(SPAWN_TASKS)),
        "a-tokio" => format!("{:?}", on_tokio::spawn_join(SPAWN_TASKS)),
        "b-tau" => format!("{:?}", on_tau::sleeps(lengths, false)),
        "b-tokio" => format!("{:?}", on_tokio::sleeps(lengths, false)),
        "b1k-tau" => format!("{:?}", on_tau::sleeps(Arc::new(lengths[..SPARSE_SLEEP_TASKS].to_vec()), false)),
        "b1k-tokio" => {
            format!("{:?}", on_tokio::sleeps(Arc::new(lengths[..SPARSE_SLEEP_TASKS].to_vec()), false))
        }
        "c-tau" => format!("{:?}", on_tau::ping_pong(HANDOFFS)),
        "c-tokio" => format!("{:?}", on_tokio::ping_pong(HANDOFFS)),
        "d-tau" => format!("{:?}", on_tau::cross_wake(WAKE_ROUNDS)),
        "d-tokio" => format!("{:?}", on_tokio::cross_wake(WAKE_ROUNDS)),
        "e-tau" => format!("{:?}", on_tau::idle(IDLE_WINDOW)),
        "e-tokio" => format!("{:?}", on_tokio::idle(IDLE_WINDOW)),
        other => panic!("BENCH_ONLY={other}: expected <a|b|b1k|c|d|e>-<tau|tokio>"),
    };
    println!("{spec}: {result} (total {:?})", started.elapsed());
}

fn main() {
    if let Ok(spec) = std::env::var("BENCH_ONLY") {
        run_one(&spec);
        return;
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing
    // of the sort: keep that run short.
    let quick = !std::env::args().any(|arg| arg == "--bench");
    let scale = |n: usize| if quick { (n / 100).max(2) } else { n };
    let started = Instant::now();
    let mut rows = Vec::new();

    // (a)
    let tasks = scale(SPAWN_TASKS);
    let (tau, tokio) =
        compare("(a) spawn + join", || on_tau::spawn_join(tasks), || on_tokio::spawn_join(tasks), true);
    let per_s = |runs: &[Duration]| tasks as f64 / best(runs).as_secs_f64();
    rows.push(Row {
        workload: "(a) spawn+join 1M tasks",
        metric: "tasks/s (M)",
        tau: per_s(&tau) / 1e6,
        tokio: per_s(&tokio) / 1e6,
        better: Better::Higher,
        decimals: 2,
    });

    // (b)
    let lengths = sleep_lengths();
    let lengths = Arc::new(lengths[..scale(SLEEP_TASKS)].to_vec());
    let (_, _, tau_late) = on_tau::sleeps(Arc::clone(&lengths), true);
    let (_, _, tokio_late) = on_tokio::sleeps(Arc::clone(&lengths), true);
    let (tau, tokio) = compare(
        "(b) 100k sleeps",
        || on_tau::sleeps(Arc::clone(&lengths), false),
        || on_tokio::sleeps(Arc::clone(&lengths), false),
        false, // the lateness run above was the warm-up
    );
    let walls =
        |runs: &[(Duration, Duration, Option<Duration>)]| best(&runs.iter().map(|r| r.0).collect::<Vec<_>>());
    let cpus =
        |runs: &[(Duration, Duration, Option<Duration>)]| best(&runs.iter().map(|r| r.1).collect::<Vec<_>>());
    rows.push(Row {
        workload: "(b) 100k sleeps <= 100 ms",
        metric: "CPU time (ms)",
        tau: cpus(&tau).as_secs_f64() * 1e3,
        tokio: cpus(&tokio).as_secs_f64() * 1e3,
        better: Better::Lower,
        decimals: 1,
    });
    rows.push(Row {
        workload: "(b) 100k sleeps <= 100 ms",
        metric: "wall time (ms)",
        tau: walls(&tau).as_secs_f64() * 1e3,
        tokio: walls(&tokio).as_secs_f64() * 1e3,
        better: Better::Lower,
        decimals: 1,
    });
    let ms = |late: Option<Duration>| late.map_or(f64::NAN, |late| late.as_secs_f64() * 1e3);
    println!(
        "    (b) worst lateness of a sleep (warm-up run): tau {:.2} ms, tokio {:.2} ms",
        ms(tau_late),
        ms(tokio_late)
    );

    // (b'), not in the issue's list: the same with 1,000 sleeps, i.e. sparse
    // deadlines (~100 µs apart), where timer coalescing matters most.
    let sparse = Arc::new(lengths[..scale(SPARSE_SLEEP_TASKS)].to_vec());
    let (tau, tokio) = compare(
        "(b') 1k sleeps",
        || on_tau::sleeps(Arc::clone(&sparse), false),
        || on_tokio::sleeps(Arc::clone(&sparse), false),
        true,
    );
    rows.push(Row {
        workload: "(b') 1k sleeps <= 100 ms (extra)",
        metric: "CPU time (ms)",
        tau: cpus(&tau).as_secs_f64() * 1e3,
        tokio: cpus(&tokio).as_secs_f64() * 1e3,
        better: Better::Lower,
        decimals: 1,
    });

    // (c)
    let handoffs = scale(HANDOFFS as usize) as u64;
    let (tau, tokio) = compare(
        "(c) ping-pong handoffs",
        || on_tau::ping_pong(handoffs),
        || on_tokio::ping_pong(handoffs),
        true,
    );
    let per_s = |runs: &[Duration]| handoffs as f64 / best(runs).as_secs_f64();
    rows.push(Row {
        workload: "(c) 1M handoffs between 2 tasks",
        metric: "handoffs/s (M)",
        tau: per_s(&tau) / 1e6,
        tokio: per_s(&tokio) / 1e6,
        better: Better::Higher,
        decimals: 2,
    });

    // (d)
    let rounds = scale(WAKE_ROUNDS);
    let (tau, tokio) = compare(
        "(d) cross-thread wake",
        || on_tau::cross_wake(rounds),
        || on_tokio::cross_wake(rounds),
        true,
    );
    for (label, runs) in [("tau", &tau), ("tokio", &tokio)] {
        let runs: Vec<String> = runs
            .iter()
            .map(|l| format!("p50 {:.1} p99 {:.1} max {:.1}", l.p50_us, l.p99_us, l.max_us))
            .collect();
        println!("    (d) {label} runs (µs): {}", runs.join(" | "));
    }
    let p = |runs: &[Latency], f: fn(&Latency) -> f64| median(&runs.iter().map(f).collect::<Vec<_>>());
    rows.push(Row {
        workload: "(d) cross-thread wake latency",
        metric: "p50 (µs)",
        tau: p(&tau, |l| l.p50_us),
        tokio: p(&tokio, |l| l.p50_us),
        better: Better::Lower,
        decimals: 1,
    });
    rows.push(Row {
        workload: "(d) cross-thread wake latency",
        metric: "p99 (µs)",
        tau: p(&tau, |l| l.p99_us),
        tokio: p(&tokio, |l| l.p99_us),
        better: Better::Lower,
        decimals: 1,
    });

    // (e)
    let window = if quick { Duration::from_millis(50) } else { IDLE_WINDOW };
    let (tau, tokio) = compare("(e) idle CPU", || on_tau::idle(window), || on_tokio::idle(window), false);
    for (label, runs) in [("tau", &tau), ("tokio", &tokio)] {
        let runs: Vec<String> = runs
            .iter()
            .map(|i| {
                format!(
                    "thread {:.3} ms/s, process {:.3} ms/s, {} wake-ups",
                    i.thread_ms_per_s, i.process_ms_per_s, i.wakeups
                )
            })
            .collect();
        println!("    (e) {label} runs: {}", runs.join(" | "));
    }
    rows.push(Row {
        workload: "(e) idle, 10 s timer pending",
        metric: "CPU ms per idle s",
        tau: median(&tau.iter().map(|i| i.thread_ms_per_s).collect::<Vec<_>>()),
        tokio: median(&tokio.iter().map(|i| i.thread_ms_per_s).collect::<Vec<_>>()),
        better: Better::Lower,
        decimals: 3,
    });

    println!();
    println!("ratio: > 1 means tau is better (throughput: tau/tokio; time, latency, CPU: tokio/tau)");
    if quick {
        println!("(quick mode: sizes divided by 100; run with `cargo bench` for real figures)");
    }
    print_table(&rows);
    println!();
    println!("Markdown:");
    println!();
    print_markdown(&rows);
    println!();
    println!("total bench time: {:.1} s", started.elapsed().as_secs_f64());
}
