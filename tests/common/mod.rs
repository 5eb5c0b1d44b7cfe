//! Shared by the end-to-end tests: plugin builds into one cache under the
//! workspace's target directory, each built once per test process.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use tau_host::{Builder, Host};

pub mod http_server;
pub mod kube_api;

/// The repository's root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tau-host lives in the workspace").to_path_buf()
}

/// The build cache the tests share (also across test binaries and runs).
pub fn cache_dir() -> PathBuf {
    workspace().join("target").join("tau-cache")
}

pub fn builder() -> Builder {
    Builder::new().cache_dir(cache_dir()).quiet(true)
}

pub fn host() -> Host {
    Host::with_builder(builder(), tau::runtime::Runtime::new().expect("runtime"))
}

/// The directory of `plugins/<name>`.
pub fn plugin_dir(name: &str) -> PathBuf {
    workspace().join("plugins").join(name)
}

/// Builds `plugins/<name>` (once per process) and returns its library.
pub fn library(name: &str) -> PathBuf {
    library_in(&plugin_dir(name))
}

/// Builds `examples/<name>` (once per process) and returns its library.
pub fn example(name: &str) -> PathBuf {
    library_in(&workspace().join("examples").join(name))
}

fn library_in(dir: &Path) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<PathBuf, PathBuf>>> = OnceLock::new();
    let built = BUILT.get_or_init(Default::default);
    // Held across the build: cargo would serialise on its lock anyway.
    let mut built = built.lock().unwrap_or_else(|poison| poison.into_inner());
    built
        .entry(dir.to_path_buf())
        .or_insert_with(|| {
            builder().build(dir).unwrap_or_else(|error| panic!("building {}: {error}", dir.display())).library
        })
        .clone()
}

/// Runs one of a plugin's exports (async or sync) to completion.
pub fn run<R: Send + 'static, A: tau_host::Args>(
    host: &Host,
    plugin: tau_host::PluginId,
    export: &str,
    args: A,
) -> R {
    let call = host.plugin(plugin).unwrap().spawn_call::<R, A>(export, args).unwrap();
    host.block_on(call).unwrap_or_else(|error| panic!("{export}: {error}"))
}

/// Runs `f` on a blocking-pool thread while this thread drives the host's
/// runtime (so plugins' tasks make progress meanwhile); `f`'s result.
pub fn off_runtime<T: Send + 'static>(host: &Host, f: impl FnOnce() -> T + Send + 'static) -> T {
    host.block_on(async move { tau::task::spawn_blocking(f).await.expect("the blocking job panicked") })
}

/// Lets the host's runtime run (yielding up to 1000 times) until `done`.
pub fn yield_until(host: &Host, mut done: impl FnMut() -> bool) {
    host.block_on(async {
        for _ in 0..1000 {
            if done() {
                return;
            }
            tau::task::yield_now().await;
        }
    });
}

/// Runs `body` and returns what it returns; if it is still running after
/// `limit`, ends the process (a hung test would hold the run until its
/// harness gave up) saying what did not finish and whether the process was
/// burning CPU meanwhile (a spin, the worse bug) or idle (a hang).
pub fn within<T>(limit: std::time::Duration, what: &str, body: impl FnOnce() -> T) -> T {
    let (finished, done) = std::sync::mpsc::channel::<()>();
    let what = what.to_string();
    let cpu_before = process_cpu_time();
    let watchdog = std::thread::spawn(move || {
        if done.recv_timeout(limit) == Err(std::sync::mpsc::RecvTimeoutError::Timeout) {
            let cpu = process_cpu_time().saturating_sub(cpu_before);
            let state =
                if cpu.as_secs_f64() > limit.as_secs_f64() / 2.0 { "spinning" } else { "idle: a hang" };
            eprintln!(
                "{what}: still running after {limit:?}; the process used {cpu:?} of CPU meanwhile ({state})"
            );
            std::process::abort();
        }
    });
    let result = body();
    let _ = finished.send(());
    let _ = watchdog.join();
    result
}

/// The CPU time this process has used (user and system), from /proc.
pub fn process_cpu_time() -> std::time::Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command (which may hold spaces) and its ')'.
    let fields: Vec<&str> =
        stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let ticks = |index: usize| fields.get(index).and_then(|field| field.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime: fields 14 and 15 of the line, from 1; 11 and 12 of these, from 0.
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    std::time::Duration::from_millis((ticks(11) + ticks(12)) * 1000 / per_second)
}
