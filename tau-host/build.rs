//! Records how the host itself is compiled (target, panic strategy, target
//! features): part of the plugin build environment's hash.

fn main() {
    for (from, to) in [
        ("TARGET", "TAU_HOST_TARGET"),
        ("CARGO_CFG_PANIC", "TAU_HOST_PANIC"),
        ("CARGO_CFG_TARGET_FEATURE", "TAU_HOST_TARGET_FEATURES"),
    ] {
        println!("cargo:rustc-env={to}={}", std::env::var(from).unwrap_or_default());
    }
    println!("cargo:rerun-if-changed=build.rs");
}
