//! What the tau-vs-tokio benches (`tokio_shim`, `network`) share: how they
//! read their command line and environment, and how they summarise rounds.

/// The bench's settings: from `cargo bench` (`--bench`: full sizes, else a
/// smoke test at a hundredth), the names picked on the command line, and
/// the sides to run (both, or the one `TAU_BENCH_SIDE=tau|tokio` names, to
/// profile one runtime alone with `strace -c -f` or `perf`).
pub struct Settings {
    /// Sizes are divided by this: 1 when measuring, 100 for a smoke test.
    pub scale: usize,
    /// Workload or table names given as arguments (empty: all).
    pub picked: Vec<String>,
    pub run_tau: bool,
    pub run_tokio: bool,
}

impl Settings {
    pub fn from_env() -> Settings {
        let measuring = std::env::args().any(|arg| arg == "--bench");
        let picked = std::env::args().skip(1).filter(|arg| !arg.starts_with('-')).collect();
        let (run_tau, run_tokio) = match std::env::var("TAU_BENCH_SIDE").as_deref() {
            Err(_) => (true, true),
            Ok("tau") => (true, false),
            Ok("tokio") => (false, true),
            Ok(other) => panic!("TAU_BENCH_SIDE={other}: expected `tau` or `tokio` (or unset for both)"),
        };
        Settings { scale: if measuring { 1 } else { 100 }, picked, run_tau, run_tokio }
    }

    /// Whether `name` was picked (or nothing was, so everything runs);
    /// `matches` says whether an argument picks `name`.
    pub fn wants(&self, matches: impl Fn(&str) -> bool) -> bool {
        self.picked.is_empty() || self.picked.iter().any(|arg| matches(arg))
    }
}

/// The median; 1 for a side that did not run (so ratios stay finite).
pub fn median(mut values: Vec<u64>) -> u64 {
    values.sort_unstable();
    values.get(values.len() / 2).copied().unwrap_or(1)
}
