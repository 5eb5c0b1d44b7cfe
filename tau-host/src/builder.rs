//! Building plugin crates with cargo.
//!
//! The host runs `cargo build --lib` on the crate, with `[patch.crates-io]`
//! entries from `patches.list` injected through `--config`, so a crate
//! anywhere on disk needs nothing but `tau-sdk = "0.1"` in its dependencies.
//! All plugins share one target directory, so shared dependencies (tau-sdk
//! itself first) compile once. cargo's progress and errors go to stderr as
//! usual; its JSON messages on stdout tell where the library is.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::BuildError;

/// One `[patch.crates-io]` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Patch {
    /// The crate replaced.
    pub name: String,
    /// The directory of the replacement.
    pub path: PathBuf,
}

/// Reads `patches.list`: one `<crate> <path>` per line, paths relative to
/// the file; `#` starts a comment.
pub fn read_patches(file: &Path) -> Result<Vec<Patch>, BuildError> {
    let text = std::fs::read_to_string(file).map_err(|error| BuildError::Patches {
        path: file.to_path_buf(),
        message: format!("cannot read it: {error}"),
    })?;
    let base = file.parent().unwrap_or(Path::new("."));
    let mut patches = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let mut words = line.split_whitespace();
        let (Some(name), Some(path), None) = (words.next(), words.next(), words.next()) else {
            return Err(BuildError::Patches {
                path: file.to_path_buf(),
                message: format!("line {}: expected `<crate> <path>`, found `{line}`", number + 1),
            });
        };
        let path = base.join(path);
        let path = path.canonicalize().map_err(|error| BuildError::Patches {
            path: file.to_path_buf(),
            message: format!("line {}: {}: {error}", number + 1, path.display()),
        })?;
        patches.push(Patch { name: name.to_string(), path });
    }
    Ok(patches)
}

/// The `patches.list` of this tau checkout (`TAU_PATCHES` overrides it).
pub fn default_patches_file() -> PathBuf {
    std::env::var_os("TAU_PATCHES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../patches.list"))
}

/// Where plugin builds go: `$TAU_CACHE_DIR`, else `~/.tau/buildcache`.
pub fn default_cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TAU_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(std::env::temp_dir);
    home.join(".tau").join("buildcache")
}

/// Builds plugin crates. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Builder {
    cargo: String,
    cache_dir: PathBuf,
    patches_file: PathBuf,
    release: bool,
    quiet: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    /// cargo from `$CARGO` (else `cargo`), the default cache directory and
    /// patches file, debug profile.
    pub fn new() -> Builder {
        Builder {
            cargo: std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string()),
            cache_dir: default_cache_dir(),
            patches_file: default_patches_file(),
            release: false,
            quiet: false,
        }
    }

    /// Builds with the release profile (`--release`).
    pub fn release(mut self, release: bool) -> Builder {
        self.release = release;
        self
    }

    /// Passes `--quiet` to cargo (errors are still shown).
    pub fn quiet(mut self, quiet: bool) -> Builder {
        self.quiet = quiet;
        self
    }

    /// Where builds go.
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Builder {
        self.cache_dir = dir.into();
        self
    }

    /// The patches file to read.
    pub fn patches_file(mut self, file: impl Into<PathBuf>) -> Builder {
        self.patches_file = file.into();
        self
    }

    /// The cache directory.
    pub fn cache_dir_path(&self) -> &Path {
        &self.cache_dir
    }

    /// The patches file.
    pub fn patches_file_path(&self) -> &Path {
        &self.patches_file
    }

    /// The shared cargo target directory.
    pub fn target_dir(&self) -> PathBuf {
        self.cache_dir.join("target")
    }

    /// The patches injected into builds.
    pub fn patches(&self) -> Result<Vec<Patch>, BuildError> {
        read_patches(&self.patches_file)
    }

    /// Builds the plugin crate in `dir` and returns the library's path.
    pub fn build(&self, dir: &Path) -> Result<PathBuf, BuildError> {
        let manifest = dir.join("Cargo.toml");
        if !manifest.is_file() {
            return Err(BuildError::NotACrate { dir: dir.to_path_buf() });
        }
        let manifest = manifest.canonicalize().unwrap_or(manifest);
        let mut command = Command::new(&self.cargo);
        command
            .arg("build")
            .arg("--lib")
            .arg("--manifest-path")
            .arg(&manifest)
            .arg("--target-dir")
            .arg(self.target_dir())
            .arg("--message-format=json-render-diagnostics");
        if self.release {
            command.arg("--release");
        }
        if self.quiet {
            command.arg("--quiet");
        }
        for patch in self.patches()? {
            command.arg("--config").arg(format!(
                "patch.crates-io.{}.path={}",
                patch.name,
                toml_string(&patch.path.to_string_lossy())
            ));
        }
        command.stdout(Stdio::piped()).stderr(Stdio::inherit());
        let mut child =
            command.spawn().map_err(|source| BuildError::Spawn { cargo: self.cargo.clone(), source })?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let library = find_library(BufReader::new(stdout), &manifest);
        let status =
            child.wait().map_err(|source| BuildError::Spawn { cargo: self.cargo.clone(), source })?;
        if !status.success() {
            return Err(BuildError::Cargo { dir: dir.to_path_buf(), status });
        }
        library.ok_or_else(|| BuildError::NoLibrary { dir: dir.to_path_buf() })
    }
}

/// Reads cargo's JSON messages until the end; returns the cdylib built for
/// the package at `manifest`.
fn find_library(messages: impl BufRead, manifest: &Path) -> Option<PathBuf> {
    let mut found = None;
    for line in messages.lines().map_while(Result::ok) {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(&line) else { continue };
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
    }
    found
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
    fn patches_list_lines() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sdk")).unwrap();
        let file = dir.path().join("patches.list");
        std::fs::write(&file, "# comment\n\ntau-sdk sdk # trailing\n").unwrap();
        let patches = read_patches(&file).unwrap();
        assert_eq!(
            patches,
            [Patch { name: "tau-sdk".into(), path: dir.path().join("sdk").canonicalize().unwrap() }]
        );

        std::fs::write(&file, "tau-sdk\n").unwrap();
        let error = read_patches(&file).unwrap_err().to_string();
        assert!(error.ends_with("line 1: expected `<crate> <path>`, found `tau-sdk`"), "{error}");

        std::fs::write(&file, "tau-sdk missing\n").unwrap();
        let error = read_patches(&file).unwrap_err().to_string();
        assert!(error.contains("line 1: ") && error.contains("missing"), "{error}");
    }

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
        assert_eq!(find_library(messages.as_bytes(), manifest), Some(PathBuf::from("/t/libp.so")));
        assert_eq!(find_library("not json\n".as_bytes(), manifest), None);
    }
}
