//! Plugin benchmarks (issue 3): what calling, loading and running a plugin
//! costs, with the example plugin built in release.
//!
//! ```text
//! cargo bench -p tau-host --bench plugins
//! ```
//!
//! - (a) a sync export through its descriptor: `plugin.typed::<(i64, i64), i64>("add")`
//!   once, then `TypedExport::call` in a loop, against the same `add` compiled
//!   into this binary (`#[inline(never)]`, arguments and result through
//!   `black_box`). ns per call for both, and the difference. 50,000,000 calls
//!   per round, 5 rounds, median round.
//! - (b) async round trip: `host.block_on(plugin.spawn_call("double", ..))`,
//!   µs per round trip (100,000 per round, median of 5 rounds); and 10,000
//!   calls in flight (spawned, then awaited in order, all inside one
//!   `block_on`), calls per second (median of 5 rounds).
//! - (c) `Host::load(<built library>)` (open, validate, create) and
//!   `Host::unload`, 200 times each after 20 warm-ups: median and p99.
//!   Every load after a file's first maps a private copy of it (statics of
//!   its own; see tau-host's `library` module), so each of these copies the
//!   library into the private directory, maps and relocates it anew.
//! - (e) allocation-heavy work: `churn(1000)` (1,000 strings and vectors
//!   made, kept in a map, freed) in the plugin, whose allocations go
//!   through the host's allocator (here the system's) by the runtime
//!   table, against the same function compiled into this binary, which
//!   calls the system allocator directly. µs per call over 11 alternating
//!   rounds of 2,000 calls: the fastest round of each, and the medians.
//! - (d) `tau call <built library> add 1 2` as a whole process (the bench
//!   profile's `tau` binary), 30 runs after one warm-up: median and max wall
//!   time; each run's output must be `3`.
//!
//! The plugin is built with `tau_host::Builder` (release, quiet) into
//! `$TAU_CACHE_DIR`, else `<workspace>/target/tau-cache`. Without `--bench`
//! (`cargo test --benches`) sizes are divided by 1,000: a smoke test, not a
//! measurement. Figures are printed, never asserted. `BENCH_ONLY=b` runs
//! only (b), once at full size, for `perf` or callgrind.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use tau_host::{Builder, Host, PluginCall};

const SYNC_CALLS: u64 = 50_000_000;
const SYNC_ROUNDS: usize = 5;
const ROUND_TRIPS: u64 = 100_000;
const IN_FLIGHT: u64 = 10_000;
const ASYNC_ROUNDS: usize = 5;
const LOADS: usize = 200;
const LOAD_WARMUPS: usize = 20;
const PROCESS_RUNS: usize = 30;
const CHURN_ITEMS: u64 = 1_000;
const CHURN_CALLS: u64 = 2_000;
const CHURN_ROUNDS: usize = 11;

/// The example plugin's `add`, compiled into the bench.
#[inline(never)]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// The example plugin's `churn`, compiled into the bench.
#[inline(never)]
fn churn(n: u64) -> u64 {
    let mut map = std::collections::BTreeMap::new();
    for i in 0..n {
        map.insert(format!("key-{i}"), vec![i; 4]);
    }
    map.iter().map(|(key, value)| (key.len() + value.len()) as u64).sum()
}

struct Sizes {
    sync_calls: u64,
    round_trips: u64,
    in_flight: u64,
    loads: usize,
    process_runs: usize,
    churn_calls: u64,
}

impl Sizes {
    fn new(full: bool) -> Sizes {
        let div = if full { 1 } else { 1_000 };
        Sizes {
            sync_calls: SYNC_CALLS / div,
            round_trips: ROUND_TRIPS / div,
            in_flight: IN_FLIGHT / div,
            loads: if full { LOADS } else { 5 },
            process_runs: if full { PROCESS_RUNS } else { 2 },
            churn_calls: if full { CHURN_CALLS } else { 2 },
        }
    }
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

/// Nearest-rank percentile of durations.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tau-host is in the workspace").to_path_buf()
}

fn build_example_plugin() -> PathBuf {
    let cache_dir = std::env::var_os("TAU_CACHE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/tau-cache"));
    let builder = Builder::new().release(true).quiet(true).cache_dir(cache_dir);
    let started = Instant::now();
    let library = builder
        .build(&workspace().join("plugins/example-plugin"))
        .expect("building the example plugin")
        .library;
    eprintln!("built {} in {:.1} s", library.display(), started.elapsed().as_secs_f64());
    library
}

// ----- (a) sync call through the descriptor vs a direct call ---------------------------

/// ns per call of the in-binary `add`.
fn direct_round(calls: u64) -> f64 {
    let started = Instant::now();
    for i in 0..calls {
        black_box(add(black_box(i as i64), black_box(1)));
    }
    started.elapsed().as_secs_f64() * 1e9 / calls as f64
}

/// ns per call of the plugin's `add` through `TypedExport::call`.
fn typed_round(host: &Host, id: tau_host::PluginId, calls: u64) -> f64 {
    let plugin = host.plugin(id).expect("loaded");
    let typed = plugin.typed::<(i64, i64), i64>("add").expect("add is (i64, i64) -> i64");
    assert_eq!(typed.call((2, 3)).expect("add"), 5);
    let started = Instant::now();
    for i in 0..calls {
        black_box(typed.call((black_box(i as i64), black_box(1))).expect("add"));
    }
    started.elapsed().as_secs_f64() * 1e9 / calls as f64
}

struct SyncFigures {
    direct_ns: f64,
    typed_ns: f64,
}

fn bench_sync(host: &Host, id: tau_host::PluginId, sizes: &Sizes) -> SyncFigures {
    // Warm-up of both loops.
    direct_round(sizes.sync_calls / 10);
    typed_round(host, id, sizes.sync_calls / 10);
    let mut direct = Vec::new();
    let mut typed = Vec::new();
    for _ in 0..SYNC_ROUNDS {
        direct.push(direct_round(sizes.sync_calls));
        typed.push(typed_round(host, id, sizes.sync_calls));
    }
    let show = |values: &[f64]| values.iter().map(|v| format!("{v:.2}")).collect::<Vec<_>>().join(" ");
    eprintln!("(a) direct ns/call per round: {}", show(&direct));
    eprintln!("(a) typed  ns/call per round: {}", show(&typed));
    SyncFigures { direct_ns: median(&direct), typed_ns: median(&typed) }
}

// ----- (b) async round trips ----------------------------------------------------------

/// µs per `block_on(spawn_call("double", ..))`.
fn round_trip_round(host: &Host, id: tau_host::PluginId, calls: u64) -> f64 {
    let plugin = host.plugin(id).expect("loaded");
    let started = Instant::now();
    for i in 0..calls as i64 {
        let call: PluginCall<i64> = plugin.spawn_call("double", (i,)).expect("double");
        assert_eq!(host.block_on(call).expect("double"), 2 * i);
    }
    started.elapsed().as_secs_f64() * 1e6 / calls as f64
}

/// Calls per second with `calls` in flight: spawn all, then await each.
fn in_flight_round(host: &Host, id: tau_host::PluginId, calls: u64) -> f64 {
    let plugin = host.plugin(id).expect("loaded");
    let started = Instant::now();
    host.block_on(async {
        let pending: Vec<PluginCall<i64>> =
            (0..calls as i64).map(|i| plugin.spawn_call("double", (i,)).expect("double")).collect();
        for (i, call) in pending.into_iter().enumerate() {
            assert_eq!(call.await.expect("double"), 2 * i as i64);
        }
    });
    calls as f64 / started.elapsed().as_secs_f64()
}

struct AsyncFigures {
    round_trip_us: f64,
    in_flight_per_s: f64,
}

fn bench_async(host: &Host, id: tau_host::PluginId, sizes: &Sizes) -> AsyncFigures {
    round_trip_round(host, id, sizes.round_trips / 10 + 1);
    in_flight_round(host, id, sizes.in_flight);
    let mut round_trips = Vec::new();
    let mut in_flight = Vec::new();
    for _ in 0..ASYNC_ROUNDS {
        round_trips.push(round_trip_round(host, id, sizes.round_trips));
        in_flight.push(in_flight_round(host, id, sizes.in_flight));
    }
    let rounds = |values: &[f64], scale: f64| {
        values.iter().map(|v| format!("{:.2}", v * scale)).collect::<Vec<_>>().join(" ")
    };
    eprintln!("(b) round trip µs per round: {}", rounds(&round_trips, 1.0));
    eprintln!("(b) in flight M calls/s per round: {}", rounds(&in_flight, 1e-6));
    AsyncFigures { round_trip_us: median(&round_trips), in_flight_per_s: median(&in_flight) }
}

// ----- (c) load and unload ------------------------------------------------------------

struct LoadFigures {
    load_p50: Duration,
    load_p99: Duration,
    unload_p50: Duration,
    unload_p99: Duration,
}

fn bench_load(library: &Path, sizes: &Sizes) -> LoadFigures {
    let mut host = Host::new().expect("a runtime");
    let mut loads = Vec::with_capacity(sizes.loads);
    let mut unloads = Vec::with_capacity(sizes.loads);
    for round in 0..LOAD_WARMUPS + sizes.loads {
        let started = Instant::now();
        let id = host.load(library).expect("load");
        let loaded = started.elapsed();
        let started = Instant::now();
        host.unload(id).expect("unload");
        let unloaded = started.elapsed();
        if round >= LOAD_WARMUPS {
            loads.push(loaded);
            unloads.push(unloaded);
        }
    }
    loads.sort();
    unloads.sort();
    LoadFigures {
        load_p50: percentile(&loads, 50.0),
        load_p99: percentile(&loads, 99.0),
        unload_p50: percentile(&unloads, 50.0),
        unload_p99: percentile(&unloads, 99.0),
    }
}

// ----- (e) allocation-heavy work: forwarded to the host's allocator, or direct -------

/// µs per call of `work`.
fn churn_round(calls: u64, mut work: impl FnMut(u64) -> u64) -> f64 {
    let expected = churn(CHURN_ITEMS);
    let started = Instant::now();
    for _ in 0..calls {
        assert_eq!(black_box(work(black_box(CHURN_ITEMS))), expected);
    }
    started.elapsed().as_secs_f64() * 1e6 / calls as f64
}

struct ChurnFigures {
    direct_us: f64,
    forwarded_us: f64,
    direct_best_us: f64,
    forwarded_best_us: f64,
}

fn bench_churn(host: &Host, id: tau_host::PluginId, sizes: &Sizes) -> ChurnFigures {
    let plugin = host.plugin(id).expect("loaded");
    let typed = plugin.typed::<(u64,), u64>("churn").expect("churn is (u64) -> u64");
    let mut forwarded = |n| typed.call((n,)).expect("churn");
    churn_round(sizes.churn_calls / 10 + 1, churn);
    churn_round(sizes.churn_calls / 10 + 1, &mut forwarded);
    let mut direct = Vec::new();
    let mut through = Vec::new();
    for _ in 0..CHURN_ROUNDS {
        direct.push(churn_round(sizes.churn_calls, churn));
        through.push(churn_round(sizes.churn_calls, &mut forwarded));
    }
    let show = |values: &[f64]| values.iter().map(|v| format!("{v:.1}")).collect::<Vec<_>>().join(" ");
    eprintln!("(e) direct    µs/call per round: {}", show(&direct));
    eprintln!("(e) forwarded µs/call per round: {}", show(&through));
    let best = |values: &[f64]| values.iter().copied().fold(f64::INFINITY, f64::min);
    ChurnFigures {
        direct_us: median(&direct),
        forwarded_us: median(&through),
        direct_best_us: best(&direct),
        forwarded_best_us: best(&through),
    }
}

// ----- (d) `tau call` as a process ----------------------------------------------------

struct ProcessFigures {
    median: Duration,
    max: Duration,
}

/// The `tau` command (package tau-cli, which depends on this one, so cargo
/// cannot hand its path to this bench), built in release for it.
fn tau_binary() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("in the workspace");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--release", "-q", "-p", "tau-cli", "--bin", "tau"])
        .current_dir(workspace)
        .status()
        .expect("running cargo");
    assert!(status.success(), "building the tau command failed");
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace.join("target"), PathBuf::from);
    target.join("release").join("tau")
}

fn tau_call(tau: &Path, library: &Path) -> Duration {
    let started = Instant::now();
    let output =
        Command::new(tau).arg("call").arg(library).args(["add", "1", "2"]).output().expect("running tau");
    let elapsed = started.elapsed();
    assert!(output.status.success(), "tau call failed: {}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "3");
    elapsed
}

fn bench_process(library: &Path, sizes: &Sizes) -> ProcessFigures {
    let tau = tau_binary();
    tau_call(&tau, library);
    let mut runs: Vec<Duration> = (0..sizes.process_runs).map(|_| tau_call(&tau, library)).collect();
    runs.sort();
    ProcessFigures { median: runs[runs.len() / 2], max: *runs.last().expect("runs") }
}

// ----- report -------------------------------------------------------------------------

fn verdict(pass: bool) -> &'static str {
    if pass {
        "PASS"
    } else {
        "MISS"
    }
}

fn main() {
    let full = std::env::args().any(|arg| arg == "--bench");
    let sizes = Sizes::new(full);
    if !full {
        eprintln!("smoke run (no --bench): sizes divided by 1,000, figures are not meaningful");
    }
    let library = build_example_plugin();

    let load = bench_load(&library, &sizes);

    let mut host = Host::new().expect("a runtime");
    let id = host.load(&library).expect("load");
    if std::env::var("BENCH_ONLY").as_deref() == Ok("b") {
        // Only the async round trips, once each at full size: for perf or callgrind.
        let round_trip = round_trip_round(&host, id, ROUND_TRIPS);
        let in_flight = in_flight_round(&host, id, IN_FLIGHT);
        eprintln!("(b) round trip {round_trip:.2} µs, in flight {:.2} M calls/s", in_flight / 1e6);
        return;
    }
    let sync = bench_sync(&host, id, &sizes);
    let run_async = bench_async(&host, id, &sizes);
    let churned = bench_churn(&host, id, &sizes);
    host.unload(id).expect("unload");
    drop(host);

    let process = bench_process(&library, &sizes);

    let overhead = sync.typed_ns - sync.direct_ns;
    let rows = [
        ("(a) add, direct call", format!("{:.2} ns/call", sync.direct_ns), "-".to_string(), ""),
        ("(a) add, TypedExport::call", format!("{:.2} ns/call", sync.typed_ns), "-".to_string(), ""),
        (
            "(a) descriptor overhead",
            format!("{overhead:+.2} ns/call"),
            "<= 5 ns".to_string(),
            verdict(overhead <= 5.0),
        ),
        ("(b) spawn_call round trip", format!("{:.2} µs", run_async.round_trip_us), "-".to_string(), ""),
        (
            "(b) 10k calls in flight",
            format!("{:.2} M calls/s", run_async.in_flight_per_s / 1e6),
            "-".to_string(),
            "",
        ),
        (
            "(c) load, median",
            format!("{:.1} µs", micros(load.load_p50)),
            "< 1 ms".to_string(),
            verdict(load.load_p50 < Duration::from_millis(1)),
        ),
        (
            "(c) load, p99",
            format!("{:.1} µs", micros(load.load_p99)),
            "< 1 ms".to_string(),
            verdict(load.load_p99 < Duration::from_millis(1)),
        ),
        ("(c) unload, median", format!("{:.1} µs", micros(load.unload_p50)), "-".to_string(), ""),
        ("(c) unload, p99", format!("{:.1} µs", micros(load.unload_p99)), "-".to_string(), ""),
        (
            "(e) churn(1000), direct system allocator, best / median",
            format!("{:.1} / {:.1} µs", churned.direct_best_us, churned.direct_us),
            "-".to_string(),
            "",
        ),
        (
            "(e) churn(1000) in the plugin, forwarded, best / median",
            format!(
                "{:.1} / {:.1} µs ({:.3}x / {:.3}x)",
                churned.forwarded_best_us,
                churned.forwarded_us,
                churned.forwarded_best_us / churned.direct_best_us,
                churned.forwarded_us / churned.direct_us
            ),
            "-".to_string(),
            "",
        ),
        (
            "(d) tau call add 1 2, median",
            format!("{:.1} ms", process.median.as_secs_f64() * 1e3),
            "< 50 ms".to_string(),
            verdict(process.median < Duration::from_millis(50)),
        ),
        (
            "(d) tau call add 1 2, max",
            format!("{:.1} ms", process.max.as_secs_f64() * 1e3),
            "< 50 ms".to_string(),
            verdict(process.max < Duration::from_millis(50)),
        ),
    ];
    println!();
    println!("| figure | value | target | met? |");
    println!("|---|---:|---|---|");
    for (name, value, target, met) in rows {
        println!("| {name} | {value} | {target} | {met} |");
    }
}
