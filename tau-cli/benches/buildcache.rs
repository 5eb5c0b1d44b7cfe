//! The build cache, measured: `cargo bench -p tau-cli --bench buildcache`.
//!
//! In a fresh cache (a new directory under `target/`, removed at the end):
//!
//! 1. `plugins/example-plugin` is built (this compiles tau-sdk and its
//!    dependencies into the environment: not measured).
//! 2. **The up-to-date check** on it, unchanged (`Builder::check_up_to_date`),
//!    against **cargo's own no-op build** of it: the same cargo command tau
//!    runs (same target directory, patches and flags), side by side.
//! 3. **A whole `tau build` process** on it, unchanged: wall time from spawn
//!    to exit, the release `tau` binary.
//! 4. **Shared dependency builds**: two new plugin crates that both depend
//!    on `regex` and `serde_json` with `serde`'s derive (resolved from
//!    crates.io), built one after the other. The first compiles those; the
//!    second reuses them.
//!
//! Debug profile throughout, as `tau run` builds by default. Needs the
//! crates.io registry for `regex`, `serde` and `serde_json`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tau_host::Builder;

fn main() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("in the workspace").to_path_buf();
    let root = workspace.join("target").join(format!("tau-bench-cache-{}", std::process::id()));
    let builder = Builder::new().quiet(true).cache_dir(&root);
    let example = workspace.join("plugins/example-plugin");

    let started = Instant::now();
    builder.build(&example).expect("building the example plugin");
    eprintln!("prepared a fresh environment in {:.1} s", started.elapsed().as_secs_f64());
    builder.build(&example).expect("building the example plugin again");

    println!("# build cache (cargo bench -p tau-cli --bench buildcache)");
    let check = samples(1000, || {
        let started = Instant::now();
        builder.check_up_to_date(&example).expect("unchanged, so up to date");
        started.elapsed()
    });
    let cargo = samples(20, || {
        let started = Instant::now();
        let status = cargo_no_op(&builder, &example).status().expect("running cargo");
        assert!(status.success());
        started.elapsed()
    });
    report("up-to-date check, unchanged plugin", &check);
    report("cargo's no-op build of the same plugin", &cargo);
    println!("  -> the check is {:.0}x faster than cargo's no-op (median)", ratio(&cargo, &check));

    let tau = env!("CARGO_BIN_EXE_tau");
    let process = samples(50, || {
        let started = Instant::now();
        let output = Command::new(tau)
            .args(["build", "-q"])
            .arg(&example)
            .env("TAU_CACHE_DIR", &root)
            .stderr(Stdio::inherit())
            .output()
            .expect("running tau");
        assert!(output.status.success());
        started.elapsed()
    });
    report("whole `tau build` process, unchanged plugin", &process);

    // Outside the workspace (a crate under it would be taken for a member).
    let plugins = tempfile::tempdir().expect("a temporary directory");
    let plugins = plugins.path();
    let first = heavy_plugin(plugins, "heavy-one");
    let second = heavy_plugin(plugins, "heavy-two");
    let time = |dir: &Path| {
        let started = Instant::now();
        let built = builder.build(dir).expect("building a plugin with heavy dependencies");
        assert!(built.ran_cargo);
        started.elapsed()
    };
    let (first, second) = (time(&first), time(&second));
    println!("first plugin depending on regex, serde, serde_json: {:.2} s", first.as_secs_f64());
    println!("second plugin depending on the same: {:.2} s", second.as_secs_f64());
    println!("  -> the second builds {:.1}x faster", first.as_secs_f64() / second.as_secs_f64());

    let _ = std::fs::remove_dir_all(&root);
}

/// The cargo command `Builder::build` runs for `dir`, quiet.
fn cargo_no_op(builder: &Builder, dir: &Path) -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command
        .current_dir(dir)
        .args(["build", "--lib", "--quiet", "--message-format=json-render-diagnostics"])
        .arg("--manifest-path")
        .arg(dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(builder.target_dir().expect("the environment"))
        .stdout(Stdio::null());
    for patch in builder.patches().expect("patches.list") {
        command.arg("--config").arg(format!(
            "patch.crates-io.{}.path=\"{}\"",
            patch.name,
            patch.path.display()
        ));
    }
    command
}

/// A new plugin crate named `name` in `parent` whose export uses regex,
/// serde and serde_json.
fn heavy_plugin(parent: &Path, name: &str) -> PathBuf {
    let dir = parent.join(name);
    std::fs::create_dir_all(dir.join("src")).expect("creating a plugin crate");
    let manifest = format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2021"

[lib]
crate-type = ["cdylib"]

[dependencies]
tau-sdk = "0.1"
regex = "1"
serde = {{ version = "1", features = ["derive"] }}
serde_json = "1"
"#
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).expect("writing Cargo.toml");
    let source = r#"
#[derive(serde::Serialize, serde::Deserialize)]
struct Match {
    pattern: String,
    text: String,
    found: bool,
}

#[derive(Default)]
pub struct P;

#[tau::plugin]
impl P {
    /// Whether `pattern` matches `text`, as JSON.
    #[tau::export]
    pub fn matches(&self, pattern: String, text: String) -> Result<String, String> {
        let found = regex::Regex::new(&pattern).map_err(|e| e.to_string())?.is_match(&text);
        serde_json::to_string(&Match { pattern, text, found }).map_err(|e| e.to_string())
    }
}
"#;
    std::fs::write(dir.join("src/lib.rs"), source).expect("writing lib.rs");
    dir
}

fn samples(count: usize, mut measure: impl FnMut() -> Duration) -> Vec<Duration> {
    let mut samples: Vec<Duration> = (0..count).map(|_| measure()).collect();
    samples.sort();
    samples
}

fn percentile(samples: &[Duration], fraction: f64) -> Duration {
    samples[((samples.len() - 1) as f64 * fraction).round() as usize]
}

fn ratio(slow: &[Duration], fast: &[Duration]) -> f64 {
    percentile(slow, 0.5).as_secs_f64() / percentile(fast, 0.5).as_secs_f64()
}

fn report(what: &str, samples: &[Duration]) {
    let ms = |duration: Duration| duration.as_secs_f64() * 1e3;
    println!(
        "{what}: median {:.3} ms, p99 {:.3} ms, min {:.3} ms ({} runs)",
        ms(percentile(samples, 0.5)),
        ms(percentile(samples, 0.99)),
        ms(samples[0]),
        samples.len()
    );
}
