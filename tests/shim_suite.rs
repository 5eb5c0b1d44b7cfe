//! The tokio shim's own tests (`shims/tokio/tests`, its doc examples):
//! run with cargo on the shim's package, which lives outside the workspace
//! because it depends on upstream tokio sources materialised at build time.

mod common;

use std::process::Command;

#[test]
fn the_tokio_shims_own_tests_pass() {
    let workspace = common::workspace();
    // Materialise vendor/tokio, as a plugin build would.
    common::builder().prepare_patches().expect("materialising the vendored sources");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["test", "--quiet", "--manifest-path"])
        .arg(workspace.join("shims/tokio/Cargo.toml"))
        .env("CARGO_TARGET_DIR", workspace.join("target/shim"))
        .env_remove("RUSTFLAGS")
        .output()
        .expect("running cargo");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the shim's tests failed:\n{stdout}\n{stderr}");
    let passed: usize = stdout
        .lines()
        .filter_map(|line| line.strip_prefix("test result: ok. "))
        .filter_map(|rest| rest.split(' ').next()?.parse::<usize>().ok())
        .sum();
    assert!(passed >= 100, "only {passed} shim tests ran:\n{stdout}");
}
