//! The tokio shim against real tokio (issue 12): the same workloads
//! (`benches/common/tokio_workloads.rs`, tokio's API only) run through the
//! shim in a plugin on the host's runtime, and on real tokio's
//! current-thread runtime in this binary, alternating, in one run.
//!
//! ```text
//! cargo bench -p tau-host --bench tokio_shim
//! ```
//!
//! For each workload: the median of 5 rounds on each side, and the ratio
//! tokio / tau (above 1.0: tau is faster). TCP echo also reports each
//! side's median p99 round-trip latency. The plugin is built in release
//! with `tau_host::Builder`. Without `--bench` (`cargo test --benches`)
//! sizes are divided by 100: a smoke test, not a measurement. Figures are
//! printed, never asserted; checksums must match between the two sides.
//!
//! Arguments other than flags pick workloads by export name
//! (`cargo bench -p tau-host --bench tokio_shim -- tcp_echo`), and
//! `TAU_BENCH_SIDE=tau` or `=tokio` runs one side only, for profiling one
//! runtime (`strace -c -f`, `perf`) without the other.

#[path = "common/sides.rs"]
mod sides;

#[path = "common/tokio_workloads.rs"]
#[allow(dead_code)]
mod workloads;

use std::path::Path;

use tau_host::{Builder, Host, PluginId};

const ROUNDS: usize = 5;

struct Workload {
    name: &'static str,
    export: &'static str,
    size: u64,
    /// Extra argument (TCP echo's message size), 0 if none.
    extra: u64,
    unit: &'static str,
}

const WORKLOADS: &[Workload] = &[
    Workload {
        name: "mpsc bounded(1024), 1M messages",
        export: "mpsc_throughput",
        size: 1_000_000,
        extra: 0,
        unit: "msg",
    },
    Workload {
        name: "Notify ping-pong, 100k round trips",
        export: "notify_ping_pong",
        size: 100_000,
        extra: 0,
        unit: "rt",
    },
    Workload {
        name: "oneshot ping-pong, 100k round trips",
        export: "oneshot_ping_pong",
        size: 100_000,
        extra: 0,
        unit: "rt",
    },
    Workload {
        name: "spawn + join, 100k tasks",
        export: "spawn_join",
        size: 100_000,
        extra: 0,
        unit: "task",
    },
    Workload { name: "100k sleeps of 1-10 ms", export: "sleeps", size: 100_000, extra: 0, unit: "sleep" },
    Workload {
        name: "TCP echo, 20k round trips of 64 B",
        export: "tcp_echo",
        size: 20_000,
        extra: 64,
        unit: "rt",
    },
    Workload {
        name: "TCP stream, 1 GiB through io::copy",
        export: "tcp_stream",
        size: 1 << 30,
        extra: 0,
        unit: "B",
    },
];

fn on_tokio(runtime: &tokio::runtime::Runtime, workload: &Workload, size: u64) -> (u64, u64, u64) {
    let measured = runtime.block_on(async {
        match workload.export {
            "mpsc_throughput" => workloads::mpsc_throughput(size).await,
            "notify_ping_pong" => workloads::notify_ping_pong(size).await,
            "oneshot_ping_pong" => workloads::oneshot_ping_pong(size).await,
            "spawn_join" => workloads::spawn_join(size).await,
            "sleeps" => workloads::sleeps(size).await,
            "tcp_echo" => workloads::tcp_echo(size, workload.extra as usize).await,
            "tcp_stream" => workloads::tcp_stream(size).await,
            other => unreachable!("no workload {other}"),
        }
    });
    (measured.nanos, measured.checksum, measured.p99_nanos)
}

fn on_tau(host: &Host, plugin: PluginId, workload: &Workload, size: u64) -> (u64, u64, u64) {
    let plugin = host.plugin(plugin).unwrap();
    let call = if workload.extra == 0 {
        plugin.spawn_call::<(u64, u64, u64), _>(workload.export, (size,))
    } else {
        plugin.spawn_call::<(u64, u64, u64), _>(workload.export, (size, workload.extra))
    };
    host.block_on(call.unwrap()).unwrap()
}

fn main() {
    let settings = sides::Settings::from_env();
    let (scale, run_tau, run_tokio) = (settings.scale as u64, settings.run_tau, settings.run_tokio);
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let cache_dir = std::env::var_os("TAU_CACHE_DIR")
        .map(Into::into)
        .unwrap_or_else(|| workspace.join("target").join("tau-cache"));
    let builder = Builder::new().release(true).quiet(true).cache_dir(cache_dir);
    let library = builder
        .build(&workspace.join("plugins/tokio-bench-plugin"))
        .expect("building tokio-bench-plugin")
        .library;
    let mut host = Host::with_builder(builder, tau::runtime::Runtime::new().unwrap());
    let plugin = host.load(&library).expect("loading tokio-bench-plugin");
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();

    println!("tokio shim in a plugin (tau) vs real tokio current-thread, median of {ROUNDS} rounds");
    println!("{:<40} {:>14} {:>14} {:>12}", "workload", "tau", "tokio", "tokio/tau");
    for workload in WORKLOADS.iter().filter(|w| settings.wants(|picked| w.export.contains(picked))) {
        let size = (workload.size / scale).max(1);
        let (mut tau_times, mut tokio_times, mut tau_p99, mut tokio_p99) = (vec![], vec![], vec![], vec![]);
        for _ in 0..ROUNDS {
            let tau_sum = run_tau.then(|| {
                let (nanos, sum, p99) = on_tau(&host, plugin, workload, size);
                tau_times.push(nanos);
                tau_p99.push(p99);
                sum
            });
            let tokio_sum = run_tokio.then(|| {
                let (nanos, sum, p99) = on_tokio(&tokio, workload, size);
                tokio_times.push(nanos);
                tokio_p99.push(p99);
                sum
            });
            if let (Some(tau_sum), Some(tokio_sum)) = (tau_sum, tokio_sum) {
                assert_eq!(tau_sum, tokio_sum, "{}: the two sides computed different results", workload.name);
            }
        }
        let (tau, tokio_time) = (sides::median(tau_times), sides::median(tokio_times));
        let per = |nanos: u64| {
            if workload.unit == "B" {
                format!("{:.2} GB/s", size as f64 / nanos as f64)
            } else {
                format!("{:.1} ns/{}", nanos as f64 / size as f64, workload.unit)
            }
        };
        println!(
            "{:<40} {:>14} {:>14} {:>11.2}x",
            workload.name,
            per(tau),
            per(tokio_time),
            tokio_time as f64 / tau as f64
        );
        if workload.export == "tcp_echo" {
            let (tau_p99, tokio_p99) = (sides::median(tau_p99), sides::median(tokio_p99));
            println!(
                "{:<40} {:>11.1} µs {:>11.1} µs {:>11.2}x",
                "  p99 round trip",
                tau_p99 as f64 / 1e3,
                tokio_p99 as f64 / 1e3,
                tokio_p99 as f64 / tau_p99 as f64
            );
        }
    }
    host.unload(plugin).unwrap();
}
