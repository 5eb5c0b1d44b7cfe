//! Records the compiler that builds this SDK, so that a host can refuse a
//! plugin built by another one (`tau::plugin::RUSTC_VERSION`).

use std::process::Command;

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let version = Command::new(&rustc)
        .arg("-V")
        .output()
        .ok()
        .filter(|output| output.status.success())
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .map(|text| text.trim().to_string())
        .unwrap_or_else(|| panic!("tau-sdk: could not run `{rustc} -V` to record the compiler version"));
    println!("cargo:rustc-env=TAU_RUSTC_VERSION={version}");
    println!("cargo:rerun-if-env-changed=RUSTC");
}
