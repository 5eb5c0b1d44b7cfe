//! Records what a host compares with a plugin before it runs any of the
//! plugin's code: the compiler that builds this SDK
//! (`tau::plugin::RUSTC_VERSION`), and a hash of this SDK's sources
//! (`tau::plugin::SDK_SOURCE_HASH`): two builds of tau-sdk 0.1.0 from
//! different checkouts may lay out a type that crosses by value (a
//! `JoinHandle`, a oneshot) differently, and the version alone would not tell.

use std::path::{Path, PathBuf};
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

    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("Cargo.toml"), root.join("build.rs")];
    collect(&root.join("src"), &mut files);
    files.sort();
    let mut hash = Fnv::new();
    for file in &files {
        let relative = file.strip_prefix(&root).expect("under the crate");
        let bytes = std::fs::read(file).unwrap_or_else(|error| {
            panic!("tau-sdk: reading {} to hash the sources: {error}", file.display())
        });
        // Names and lengths too, so that moving bytes between files changes the hash.
        hash.write(relative.to_string_lossy().replace('\\', "/").as_bytes());
        hash.write(&(bytes.len() as u64).to_le_bytes());
        hash.write(&bytes);
    }
    println!("cargo:rustc-env=TAU_SDK_SOURCE_HASH={:016x}", hash.0);
    for watched in ["src", "Cargo.toml", "build.rs"] {
        println!("cargo:rerun-if-changed={watched}");
    }
}

/// Every file under `dir`, recursively.
fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("tau-sdk: listing {} to hash the sources: {error}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            collect(&path, files);
        } else {
            files.push(path);
        }
    }
}

/// FNV-1a, 64 bits: it tells builds apart by accident, not against an adversary.
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}
