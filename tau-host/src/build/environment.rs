//! The build environment: everything outside a plugin's own directory that
//! decides what its library contains.
//!
//! Its hash names the environment's directory in the cache, so a new
//! compiler, other rustflags or a changed patched crate (tau-sdk, a shim)
//! give every plugin a fresh directory, and nothing else does. It covers:
//! - `rustc -vV` of the compiler cargo will use;
//! - the host's target, panic strategy and target features, and the
//!   environment variables and `$CARGO_HOME` config that set rustflags or
//!   profiles for cargo;
//! - the text of `patches.list` and a content hash of each patched crate
//!   with its path dependencies (what goes into its library: `tests/`,
//!   `benches/`, `examples/`, `target/` and hidden directories are left out).
//!
//! Running `rustc -vV` takes 7–12 ms, more than the whole up-to-date check,
//! so its output is kept in `<cache>/rustc-info.json`, keyed by the
//! identity (size, mtime, inode) of the rustc binary and, behind a rustup
//! proxy, of rustup's settings and every installed toolchain's rustc.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::rc::Rc;

use sha2::{Digest, Sha256};

use super::files::write_atomically;
use super::patches::{parse_patches, read_patches_text, Patch};
use crate::error::BuildError;

/// The file in the cache root that remembers `rustc -vV` outputs.
pub(crate) const RUSTC_INFO_FILE: &str = "rustc-info.json";
/// How many toolchains' outputs it remembers.
const RUSTC_INFO_ENTRIES: usize = 8;

/// Environment variables that change what cargo builds. `CARGO_TARGET_*`
/// only for the per-target keys (cargo sets `CARGO_TARGET_TMPDIR` for tests,
/// which must not count).
fn counts(name: &str) -> bool {
    matches!(
        name,
        "RUSTFLAGS"
            | "CARGO_ENCODED_RUSTFLAGS"
            | "RUSTC"
            | "RUSTC_WRAPPER"
            | "RUSTC_WORKSPACE_WRAPPER"
            | "RUSTC_BOOTSTRAP"
    ) || name.starts_with("CARGO_PROFILE_")
        || (name.starts_with("CARGO_BUILD_")
            && !matches!(name, "CARGO_BUILD_JOBS" | "CARGO_BUILD_TARGET_DIR"))
        || (name.starts_with("CARGO_TARGET_")
            && ["_RUSTFLAGS", "_LINKER"].iter().any(|suffix| name.ends_with(suffix)))
}

/// Why the build environment could not be computed (the `source` of
/// [`BuildError::Environment`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnvironmentError {
    /// rustc could not be started.
    #[error("cannot run `{} -vV`: {source}; is Rust installed (or set RUSTC)?", .rustc.display())]
    RustcNotRun {
        /// The rustc cargo would run.
        rustc: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// `rustc -vV` failed.
    #[error("`{} -vV` failed ({status}): {stderr}", .rustc.display())]
    RustcFailed {
        /// The rustc cargo would run.
        rustc: PathBuf,
        /// Its exit status.
        status: std::process::ExitStatus,
        /// What it printed on stderr.
        stderr: String,
    },
    /// A patched crate's file or directory could not be read.
    #[error("{}: {source}", .path.display())]
    Unreadable {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A patched crate's `Cargo.toml` does not parse.
    #[error("{}: {source}", .path.display())]
    Manifest {
        /// The manifest.
        path: PathBuf,
        /// Why.
        source: toml::de::Error,
    },
    /// A dependency says `workspace = true` outside a workspace.
    #[error("{}: `{dependency}.workspace = true`, but no workspace above it", .dir.display())]
    NoWorkspace {
        /// The crate's directory.
        dir: PathBuf,
        /// The dependency.
        dependency: String,
    },
}

/// Maps an IO error on `path` to an [`EnvironmentError::Unreadable`].
fn unreadable(path: &Path) -> impl FnOnce(std::io::Error) -> EnvironmentError {
    let path = path.to_path_buf();
    move |source| EnvironmentError::Unreadable { path, source }
}

/// A computed build environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Environment {
    hash: String,
    description: String,
    rustc: PathBuf,
    patches: Vec<Patch>,
}

impl Environment {
    /// The short hash naming its cache directory (16 hex digits).
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// The text that was hashed: what the environment is, line by line. It
    /// is also written to `<environment>/environment` in the cache.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The rustc binary the environment was read from.
    pub fn rustc(&self) -> &Path {
        &self.rustc
    }

    /// The patches builds inject: the ones that were hashed.
    pub fn patches(&self) -> &[Patch] {
        &self.patches
    }

    /// Computes the environment. `cache_root` holds the `rustc -vV` cache.
    pub(crate) fn compute(cache_root: &Path, patches_file: &Path) -> Result<Environment, BuildError> {
        let rustc = resolve_rustc();
        let mut text = String::new();
        let toolchain = toolchain_info(&rustc, cache_root)?;
        // The version, not the path: `tau` from a shell and under `cargo
        // test` may reach one compiler by different paths.
        let _ = writeln!(text, "rustc -vV:");
        for line in toolchain.lines() {
            let _ = writeln!(text, "  {line}");
        }
        let _ = writeln!(text, "host target: {}", env!("TAU_HOST_TARGET"));
        let _ = writeln!(text, "host panic strategy: {}", env!("TAU_HOST_PANIC"));
        let _ = writeln!(text, "host target features: {}", env!("TAU_HOST_TARGET_FEATURES"));
        let variables: BTreeMap<String, String> = std::env::vars_os()
            .filter_map(|(name, value)| {
                Some((name.into_string().ok()?, value.to_string_lossy().into_owned()))
            })
            .filter(|(name, _)| counts(name))
            .collect();
        for (name, value) in variables {
            let _ = writeln!(text, "env {name}={value:?}");
        }
        if let Some(home) = cargo_home() {
            for name in ["config.toml", "config"] {
                let path = home.join(name);
                if let Ok(bytes) = std::fs::read(&path) {
                    let _ = writeln!(
                        text,
                        "cargo config {}: sha256 {}",
                        path.display(),
                        hex(&Sha256::digest(&bytes))
                    );
                }
            }
        }
        // Vendored sources are materialised before anything is hashed or built.
        if let Some(root) = patches_file.parent() {
            super::vendor::materialize_all(&root.join("vendor"))?;
        }
        let list = read_patches_text(patches_file)?;
        let patches = parse_patches(&list, patches_file)?;
        let _ = writeln!(text, "patches.list {}:", patches_file.display());
        for line in list.lines() {
            let _ = writeln!(text, "  | {line}");
        }
        let mut hashed = Vec::new();
        for patch in &patches {
            let _ = writeln!(text, "patch {}:", patch.name);
            for (dir, hash) in crate_tree_hashes(&patch.path, &mut hashed)? {
                let _ = writeln!(text, "  {} sha256 {hash}", dir.display());
            }
        }
        let hash = hex(&Sha256::digest(text.as_bytes()))[..16].to_string();
        Ok(Environment { hash, description: text, rustc, patches })
    }
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut out, byte| {
        let _ = write!(out, "{byte:02x}");
        out
    })
}

fn cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
}

/// The rustc cargo will run, found as cargo finds it: `$RUSTC`, else the
/// first `rustc` on `PATH` (a rustup proxy, usually, which picks the
/// toolchain as it will for cargo).
fn resolve_rustc() -> PathBuf {
    let program = std::env::var_os("RUSTC")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(format!("rustc{}", std::env::consts::EXE_SUFFIX)));
    search_path(&program)
}

/// `program` itself if it names a directory, else its first match on PATH.
fn search_path(program: &Path) -> PathBuf {
    if program.components().count() > 1 {
        return program.to_path_buf();
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| program.to_path_buf())
}

/// `rustc -vV` of `rustc`, from the cache when the toolchain is unchanged.
fn toolchain_info(rustc: &Path, cache_root: &Path) -> Result<String, EnvironmentError> {
    let key = toolchain_identity(rustc);
    let cache_file = cache_root.join(RUSTC_INFO_FILE);
    let mut cached: serde_json::Map<String, serde_json::Value> = std::fs::read(&cache_file)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default();
    if let Some(output) = cached.get(&key).and_then(|value| value.as_str()) {
        return Ok(output.to_string());
    }
    let output = Command::new(rustc)
        .arg("-vV")
        .current_dir(if cache_root.is_dir() { cache_root } else { Path::new("/") })
        .output()
        .map_err(|source| EnvironmentError::RustcNotRun { rustc: rustc.to_path_buf(), source })?;
    if !output.status.success() {
        return Err(EnvironmentError::RustcFailed {
            rustc: rustc.to_path_buf(),
            status: output.status,
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    while cached.len() >= RUSTC_INFO_ENTRIES {
        let oldest = cached.keys().next().cloned().expect("not empty");
        cached.remove(&oldest);
    }
    cached.insert(key, serde_json::Value::String(text.clone()));
    // A cache that cannot be written only costs the next start 10 ms.
    if super::cache::create_root(cache_root).is_ok() {
        let _ = write_atomically(
            &cache_file,
            serde_json::to_string_pretty(&cached).unwrap_or_default().as_bytes(),
        );
    }
    Ok(text)
}

/// What identifies the toolchain behind `rustc` without running it.
fn toolchain_identity(rustc: &Path) -> String {
    let mut key = format!("{}|{}", rustc.display(), file_identity(rustc));
    let real = rustc.canonicalize().unwrap_or_else(|_| rustc.to_path_buf());
    let is_rustup = real.file_name().is_some_and(|name| name.to_string_lossy().starts_with("rustup"));
    if is_rustup {
        let home = std::env::var_os("RUSTUP_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".rustup")))
            .unwrap_or_default();
        let toolchain = std::env::var("RUSTUP_TOOLCHAIN").unwrap_or_default();
        let _ = write!(key, "|rustup {toolchain}|{}", file_identity(&home.join("settings.toml")));
        let mut toolchains: Vec<PathBuf> = std::fs::read_dir(home.join("toolchains"))
            .into_iter()
            .flatten()
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .collect();
        toolchains.sort();
        for toolchain in toolchains {
            let _ = write!(key, "|{}", file_identity(&toolchain.join("bin").join("rustc")));
        }
    }
    key
}

/// Size, mtime and inode of a file (following links), or `-`.
fn file_identity(path: &Path) -> String {
    let Ok(metadata) = std::fs::metadata(path) else { return "-".to_string() };
    let modified = metadata
        .modified()
        .ok()
        .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |since| since.as_nanos());
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&metadata);
    #[cfg(not(unix))]
    let inode = 0;
    format!("{}:{modified}:{inode}", metadata.len())
}

/// Content hashes of the crate in `dir` and of its path dependencies, each
/// crate once (`seen` carries across patches).
fn crate_tree_hashes(
    dir: &Path,
    seen: &mut Vec<PathBuf>,
) -> Result<Vec<(PathBuf, String)>, EnvironmentError> {
    let mut manifests = Manifests::default();
    let mut hashes = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let dir = dir.canonicalize().map_err(unreadable(&dir))?;
        if seen.contains(&dir) {
            continue;
        }
        seen.push(dir.clone());
        let workspace = manifests.workspace_of(&dir);
        hashes.push((dir.clone(), crate_hash(&dir, workspace.as_ref())?));
        let manifest = manifests.read(&dir.join("Cargo.toml"))?;
        pending.extend(path_dependencies(&dir, &manifest.table, workspace.as_ref())?);
    }
    Ok(hashes)
}

/// Directory names inside a crate that do not go into its library.
fn skipped(name: &str) -> bool {
    name.starts_with('.') || matches!(name, "target" | "tests" | "benches" | "examples")
}

/// A `Cargo.toml`: its text (hashed) and its parsed table.
struct Manifest {
    text: String,
    table: toml::Table,
}

/// Manifests read while hashing, each read and parsed once (the crates of
/// one workspace share its root manifest).
#[derive(Default)]
struct Manifests(std::collections::HashMap<PathBuf, Rc<Manifest>>);

impl Manifests {
    fn read(&mut self, path: &Path) -> Result<Rc<Manifest>, EnvironmentError> {
        if let Some(manifest) = self.0.get(path) {
            return Ok(Rc::clone(manifest));
        }
        let text = std::fs::read_to_string(path).map_err(unreadable(path))?;
        let table =
            text.parse().map_err(|source| EnvironmentError::Manifest { path: path.to_path_buf(), source })?;
        let manifest = Rc::new(Manifest { text, table });
        self.0.insert(path.to_path_buf(), Rc::clone(&manifest));
        Ok(manifest)
    }

    /// The nearest ancestor of `dir` (above it) whose manifest has
    /// `[workspace]`, with that manifest.
    fn workspace_of(&mut self, dir: &Path) -> Option<(PathBuf, Rc<Manifest>)> {
        dir.ancestors().skip(1).find_map(|ancestor| {
            let path = ancestor.join("Cargo.toml");
            let manifest = if path.is_file() { self.read(&path).ok()? } else { return None };
            manifest.table.contains_key("workspace").then(|| (ancestor.to_path_buf(), manifest))
        })
    }
}

/// SHA-256 over the relative path, length and content of every file of the
/// crate's library sources (sorted), plus the manifest of its workspace.
fn crate_hash(dir: &Path, workspace: Option<&(PathBuf, Rc<Manifest>)>) -> Result<String, EnvironmentError> {
    let mut files = Vec::new();
    collect_files(dir, &mut files).map_err(unreadable(dir))?;
    files.sort();
    let mut hasher = Sha256::new();
    for file in &files {
        let bytes = std::fs::read(file).map_err(unreadable(file))?;
        let relative = file.strip_prefix(dir).unwrap_or(file);
        hasher.update(relative.to_string_lossy().as_bytes());
        hasher.update([0]);
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(&bytes);
    }
    if let Some((_, manifest)) = workspace {
        hasher.update(b"workspace manifest\0");
        hasher.update(manifest.text.as_bytes());
    }
    Ok(hex(&hasher.finalize()))
}

fn collect_files(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let path = entry.path();
        if kind.is_dir() {
            if !skipped(&entry.file_name().to_string_lossy()) {
                collect_files(&path, files)?;
            }
        } else if kind.is_file() || (kind.is_symlink() && path.is_file()) {
            files.push(path);
        }
    }
    Ok(())
}

/// The directories of the path dependencies (normal and build, any target)
/// of the crate in `dir` with manifest `manifest`; `{ workspace = true }`
/// resolved in `workspace`.
fn path_dependencies(
    dir: &Path,
    manifest: &toml::Table,
    workspace: Option<&(PathBuf, Rc<Manifest>)>,
) -> Result<Vec<PathBuf>, EnvironmentError> {
    let mut tables: Vec<&toml::Table> = Vec::new();
    let sections = ["dependencies", "build-dependencies"];
    tables.extend(sections.iter().filter_map(|key| manifest.get(*key)?.as_table()));
    for target in manifest.get("target").and_then(|t| t.as_table()).into_iter().flat_map(|t| t.values()) {
        tables.extend(sections.iter().filter_map(|key| target.get(*key)?.as_table()));
    }
    let mut dirs = Vec::new();
    for (name, dependency) in tables.into_iter().flatten() {
        let Some(dependency) = dependency.as_table() else { continue };
        if let Some(path) = dependency.get("path").and_then(|path| path.as_str()) {
            dirs.push(dir.join(path));
        } else if dependency.get("workspace").and_then(|flag| flag.as_bool()) == Some(true) {
            let (root, workspace) = workspace.ok_or_else(|| EnvironmentError::NoWorkspace {
                dir: dir.to_path_buf(),
                dependency: name.clone(),
            })?;
            let path = workspace
                .table
                .get("workspace")
                .and_then(|w| w.get("dependencies"))
                .and_then(|deps| deps.get(name))
                .and_then(|dep| dep.get("path"))
                .and_then(|path| path.as_str());
            if let Some(path) = path {
                dirs.push(root.join(path));
            }
        }
    }
    Ok(dirs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// A workspace with `sdk` (patched) depending on `rt` by workspace path.
    fn workspace() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        // The cache goes in it: only this user may write it, whatever the umask.
        std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
        let root = dir.path();
        write(
            &root.join("Cargo.toml"),
            "[workspace]\nmembers = [\"sdk\", \"rt\"]\n[workspace.dependencies]\nrt = { path = \"rt\" }\n",
        );
        write(
            &root.join("sdk/Cargo.toml"),
            "[package]\nname = \"sdk\"\n[dependencies]\nrt.workspace = true\n",
        );
        write(&root.join("sdk/src/lib.rs"), "pub fn sdk() {}\n");
        write(&root.join("sdk/tests/t.rs"), "#[test] fn t() {}\n");
        write(&root.join("rt/Cargo.toml"), "[package]\nname = \"rt\"\n");
        write(&root.join("rt/src/lib.rs"), "pub fn rt() {}\n");
        write(&root.join("patches.list"), "sdk sdk\n");
        dir
    }

    fn environment(root: &Path) -> Environment {
        Environment::compute(&root.join("cache"), &root.join("patches.list")).unwrap()
    }

    #[test]
    fn a_failure_says_what_is_wrong_and_is_retried_once_fixed() {
        let dir = workspace();
        let root = dir.path();
        let builder = crate::build::Builder::new()
            .cache_dir(root.join("cache"))
            .patches_file(root.join("patches.list"));

        write(&root.join("rt/Cargo.toml"), "[package\n");
        match builder.environment() {
            Err(BuildError::Environment { source }) => match *source {
                EnvironmentError::Manifest { ref path, .. } => assert_eq!(path, &root.join("rt/Cargo.toml")),
                other => panic!("expected a manifest error, got {other}"),
            },
            other => panic!("expected an environment error, got {:?}", other.map(|_| ())),
        }

        write(
            &root.join("sdk/Cargo.toml"),
            "[package]\nname = \"sdk\"\n[dependencies]\nx = { workspace = true }\n",
        );
        std::fs::remove_file(root.join("Cargo.toml")).unwrap();
        let error = builder.environment().map(|_| ()).unwrap_err();
        assert!(
            matches!(&error, BuildError::Environment { source } if matches!(**source, EnvironmentError::NoWorkspace { .. })),
            "{error}"
        );

        std::fs::remove_file(root.join("patches.list")).unwrap();
        let error = builder.environment().map(|_| ()).unwrap_err();
        assert!(matches!(error, BuildError::Patches { .. }), "{error}");

        // Fixed: the next call computes it (a failure is not cached).
        write(&root.join("patches.list"), "rt rt\n");
        write(&root.join("rt/Cargo.toml"), "[package]\nname = \"rt\"\n");
        let computed = builder.environment().unwrap().hash().to_string();
        assert_eq!(computed, environment(root).hash());
    }

    #[test]
    fn a_patched_crate_or_its_path_dependency_changes_the_hash() {
        let dir = workspace();
        let root = dir.path();
        let first = environment(root);
        assert_eq!(first.hash().len(), 16);
        assert_eq!(environment(root), first, "computed twice, the same");
        assert!(first.description().contains("patch sdk:"), "{}", first.description());

        write(&root.join("sdk/src/lib.rs"), "pub fn sdk() { /* changed */ }\n");
        let second = environment(root);
        assert_ne!(second.hash(), first.hash(), "an edit of the patched crate");

        write(&root.join("rt/src/lib.rs"), "pub fn rt() { /* changed */ }\n");
        let third = environment(root);
        assert_ne!(third.hash(), second.hash(), "an edit of its path dependency");

        write(&root.join("sdk/src/new.rs"), "");
        assert_ne!(environment(root).hash(), third.hash(), "a new file");
    }

    #[test]
    fn what_does_not_go_into_the_library_does_not_count() {
        let dir = workspace();
        let root = dir.path();
        let first = environment(root);
        // Rewriting a file with the same content: only its mtime changes.
        write(&root.join("sdk/src/lib.rs"), "pub fn sdk() {}\n");
        write(&root.join("sdk/tests/t.rs"), "#[test] fn changed() {}\n");
        write(&root.join("sdk/target/debug/x"), "build output");
        write(&root.join("sdk/.git/HEAD"), "ref");
        assert_eq!(environment(root), first);
    }

    #[test]
    fn the_patches_list_text_counts() {
        let dir = workspace();
        let root = dir.path();
        let first = environment(root);
        write(&root.join("patches.list"), "# a comment\nsdk sdk\n");
        assert_ne!(environment(root).hash(), first.hash());
    }

    #[test]
    fn rustc_output_is_cached_by_toolchain_identity() {
        let dir = workspace();
        let root = dir.path();
        environment(root);
        let cache = root.join("cache").join(RUSTC_INFO_FILE);
        let cached: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&std::fs::read(&cache).unwrap()).unwrap();
        assert_eq!(cached.len(), 1);
        let output = cached.values().next().unwrap().as_str().unwrap();
        assert!(output.starts_with("rustc "), "{output}");
        // The cached text is what the next start uses, without running rustc.
        let key = cached.keys().next().unwrap().clone();
        let forged = serde_json::json!({ key: "rustc 0.0.0-forged\n" });
        std::fs::write(&cache, forged.to_string()).unwrap();
        assert!(environment(root).description().contains("rustc 0.0.0-forged"));
    }

    #[test]
    fn only_cargo_s_build_variables_count() {
        assert!(
            counts("RUSTFLAGS") && counts("CARGO_ENCODED_RUSTFLAGS") && counts("CARGO_PROFILE_DEV_OPT_LEVEL")
        );
        assert!(counts("CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS") && counts("CARGO_BUILD_RUSTFLAGS"));
        assert!(!counts("CARGO_TARGET_TMPDIR") && !counts("CARGO_TARGET_DIR") && !counts("CARGO_PKG_NAME"));
        assert!(!counts("CARGO_BUILD_JOBS") && !counts("PATH") && !counts("CARGO"));
    }
}
