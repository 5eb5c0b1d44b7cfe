//! Running cargo on a plugin crate.
//!
//! `cargo build --lib`, with `[patch.crates-io]` entries from
//! `patches.list` injected through `--config`, so a crate anywhere on disk
//! needs nothing but `tau-sdk = "0.1"` in its dependencies. It runs in the
//! crate's directory, so the crate's own `.cargo/config.toml` applies as it
//! would for `cargo build` there. cargo's progress and errors go to stderr
//! as usual; its JSON messages on stdout tell where the library is.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::patches::{patch_entries, Patch};
use crate::error::BuildError;

/// One cargo invocation.
pub(crate) struct Cargo<'a> {
    pub program: &'a str,
    /// The crate's directory (canonical) and manifest.
    pub dir: &'a Path,
    pub manifest: &'a Path,
    pub target_dir: &'a Path,
    pub release: bool,
    pub quiet: bool,
    pub patches: &'a [Patch],
}

/// What a cargo run built for the crate.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Built {
    /// The cdylib, in the target directory.
    pub library: PathBuf,
    /// Where the crate's build script wrote (`OUT_DIR`), if it has one;
    /// its directory holds the script's `output`.
    pub build_script_out_dir: Option<PathBuf>,
    /// Where every build script of the build wrote, the crate's included.
    pub build_script_out_dirs: Vec<PathBuf>,
}

impl Cargo<'_> {
    /// Builds the crate; returns its cdylib in the target directory.
    pub fn build(&self) -> Result<Built, BuildError> {
        let mut command = Command::new(self.program);
        command
            .current_dir(self.dir)
            .arg("build")
            .arg("--lib")
            .arg("--manifest-path")
            .arg(self.manifest)
            .arg("--target-dir")
            .arg(self.target_dir)
            .arg("--message-format=json-render-diagnostics");
        if self.release {
            command.arg("--release");
        }
        if self.quiet {
            command.arg("--quiet");
        }
        for entry in patch_entries(self.patches) {
            let prefix = format!("patch.crates-io.{}", entry.key);
            command
                .arg("--config")
                .arg(format!("{prefix}.path={}", toml_string(&entry.path.to_string_lossy())));
            if let Some(package) = entry.package {
                command.arg("--config").arg(format!("{prefix}.package={}", toml_string(package)));
            }
        }
        command.stdout(Stdio::piped()).stderr(Stdio::inherit());
        let spawn_error = |source| BuildError::Spawn { cargo: self.program.to_string(), source };
        let mut child = command.spawn().map_err(spawn_error)?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let library = find_library(BufReader::new(stdout), self.manifest);
        let status = child.wait().map_err(spawn_error)?;
        if !status.success() {
            return Err(BuildError::Cargo { dir: self.dir.to_path_buf(), status });
        }
        library.ok_or_else(|| BuildError::NoLibrary { dir: self.dir.to_path_buf() })
    }
}

/// Reads cargo's JSON messages until the end; returns the cdylib built for
/// the package at `manifest`, and its build script's `OUT_DIR`. (cargo
/// reports a build script as run even when it was fresh.)
fn find_library(messages: impl BufRead, manifest: &Path) -> Option<Built> {
    let mut found = None;
    let mut package = None;
    let mut out_dirs = std::collections::HashMap::new();
    for line in messages.lines().map_while(Result::ok) {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(&line) else { continue };
        if message["reason"] == "build-script-executed" {
            if let (Some(id), Some(dir)) = (message["package_id"].as_str(), message["out_dir"].as_str()) {
                out_dirs.insert(id.to_string(), PathBuf::from(dir));
            }
            continue;
        }
        if message["reason"] != "compiler-artifact" {
            continue;
        }
        if message["manifest_path"].as_str().map(Path::new) != Some(manifest) {
            continue;
        }
        let is_cdylib = message["target"]["crate_types"]
            .as_array()
            .is_some_and(|types| types.iter().any(|kind| kind == "cdylib"));
        if !is_cdylib {
            continue;
        }
        let filenames = message["filenames"].as_array().into_iter().flatten();
        found = filenames
            .filter_map(|name| name.as_str())
            .map(PathBuf::from)
            .find(|path| is_shared_library(path));
        package = message["package_id"].as_str().map(str::to_string);
    }
    let build_script_out_dir = package.and_then(|package| out_dirs.get(&package).cloned());
    let mut build_script_out_dirs: Vec<PathBuf> = out_dirs.into_values().collect();
    build_script_out_dirs.sort();
    found.map(|library| Built { library, build_script_out_dir, build_script_out_dirs })
}

fn is_shared_library(path: &Path) -> bool {
    matches!(path.extension().and_then(|ext| ext.to_str()), Some("so" | "dylib" | "dll"))
}

/// A TOML basic string.
fn toml_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_strings_escape() {
        assert_eq!(toml_string(r#"a "b" \c"#), r#""a \"b\" \\c""#);
    }

    #[test]
    fn finds_the_cdylib_of_the_package() {
        let manifest = Path::new("/p/Cargo.toml");
        let messages = [
            r#"{"reason":"compiler-artifact","manifest_path":"/dep/Cargo.toml","target":{"crate_types":["cdylib"]},"filenames":["/t/libdep.so"]}"#,
            r#"{"reason":"compiler-artifact","manifest_path":"/p/Cargo.toml","target":{"crate_types":["cdylib","rlib"]},"filenames":["/t/libp.so","/t/libp.rlib"]}"#,
            r#"{"reason":"build-finished","success":true}"#,
        ]
        .join("\n");
        let built = |out_dir: Option<&str>, all: &[&str]| {
            Some(Built {
                library: PathBuf::from("/t/libp.so"),
                build_script_out_dir: out_dir.map(PathBuf::from),
                build_script_out_dirs: all.iter().map(PathBuf::from).collect(),
            })
        };
        assert_eq!(find_library(messages.as_bytes(), manifest), built(None, &[]));
        let with_script = [
            r#"{"reason":"build-script-executed","package_id":"dep 1.0.0","out_dir":"/t/build/dep-1/out"}"#,
            r#"{"reason":"build-script-executed","package_id":"p 0.1.0","out_dir":"/t/build/p-2/out"}"#,
            r#"{"reason":"compiler-artifact","package_id":"p 0.1.0","manifest_path":"/p/Cargo.toml","target":{"crate_types":["cdylib"]},"filenames":["/t/libp.so"]}"#,
        ]
        .join("\n");
        assert_eq!(
            find_library(with_script.as_bytes(), manifest),
            built(Some("/t/build/p-2/out"), &["/t/build/dep-1/out", "/t/build/p-2/out"])
        );
        assert_eq!(find_library("not json\n".as_bytes(), manifest), None);
    }
}
