//! Vendored crates: third-party sources tau changes, materialised from the
//! crates.io registry at build time.
//!
//! A directory under `vendor/` holds only what tau wrote: `vendor.toml`
//! (the upstream crate, its version and the sha256 crates.io's index
//! records for it), a `Cargo.toml`, whole files under `overlay/`, and small
//! text edits listed in `vendor.toml`. Materialising it:
//!
//! 1. finds `<name>-<version>.crate` in cargo's registry cache, fetching it
//!    with `cargo fetch` if it is not there (registry access only);
//! 2. checks its sha256 against `vendor.toml`, refusing anything else;
//! 3. unpacks the entries `vendor.toml` copies (`src`, a licence) into the
//!    directory, copies `overlay/` over them and applies the edits, each of
//!    which must match exactly once;
//! 4. writes a stamp: the hash of everything tau wrote. While the stamp
//!    matches, materialising again does nothing; change an overlay or the
//!    version and the next build redoes it.
//!
//! Materialising holds an exclusive lock on the directory, so concurrent
//! builds (two `cargo test` binaries, two `tau build`s) never see half.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::environment::hex;
use crate::error::BuildError;

/// The file that makes a directory a vendored crate.
pub const VENDOR_FILE: &str = "vendor.toml";
/// Written last: the hash of what tau wrote, as materialised.
const STAMP_FILE: &str = ".tau-materialized";
const LOCK_FILE: &str = ".tau-materialize.lock";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    name: String,
    version: String,
    sha256: String,
    copy: Vec<String>,
    /// The directory of whole files copied over the package, relative to
    /// the vendored crate (`overlay` unless given: two versions of a crate
    /// can share one).
    overlay: Option<String>,
    /// Another vendored crate (its directory, relative to this one) whose
    /// edits apply here too, after this one's: two versions of a crate
    /// that share an overlay share its edits.
    edits_from: Option<String>,
    #[serde(default)]
    edit: Vec<Edit>,
}

impl Spec {
    /// `name version`, as messages name the package.
    fn package(&self) -> String {
        format!("{} {}", self.name, self.version)
    }

    fn overlay(&self, dir: &Path) -> PathBuf {
        dir.join(self.overlay.as_deref().unwrap_or("overlay"))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Edit {
    file: String,
    #[allow(dead_code)] // documentation for the reader of vendor.toml
    why: String,
    find: String,
    replace: String,
    /// How many times `find` occurs (each is replaced): 1 unless said.
    #[serde(default = "one")]
    times: usize,
}

fn one() -> usize {
    1
}

/// Materialises every vendored crate under `vendor_root` (the `vendor/`
/// next to `patches.list`). A missing `vendor_root` is nothing to do.
pub fn materialize_all(vendor_root: &Path) -> Result<(), BuildError> {
    let Ok(entries) = std::fs::read_dir(vendor_root) else { return Ok(()) };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|dir| dir.join(VENDOR_FILE).is_file())
        .collect();
    dirs.sort();
    for dir in dirs {
        materialize(&dir)?;
    }
    Ok(())
}

/// Why a vendored crate could not be materialised (the `source` of
/// [`BuildError::Vendor`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VendorError {
    /// A file or directory could not be read, written or locked.
    #[error("cannot {action} {}: {source}", .path.display())]
    Io {
        /// What was being done: "read", "write", "lock", …
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A `vendor.toml` does not parse.
    #[error("{} is malformed: {source}", .path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// Why.
        source: toml::de::Error,
    },
    /// The package in the registry cache is not the one `vendor.toml` names.
    #[error(
        "{} has sha256 {actual}, but {VENDOR_FILE} expects {expected} (the checksum crates.io \
         records for {package}); the registry cache may be corrupt: delete the file and build again",
        .archive.display()
    )]
    Checksum {
        /// The `.crate` file.
        archive: PathBuf,
        /// Its checksum.
        actual: String,
        /// The checksum `vendor.toml` gives.
        expected: String,
        /// `name version`.
        package: String,
    },
    /// cargo could not be run to fetch the package.
    #[error("could not run `{cargo} fetch`: {source}")]
    FetchSpawn {
        /// The cargo command.
        cargo: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// `cargo fetch` failed.
    #[error(
        "`cargo fetch` of {package} failed ({status}): {stderr}; tau needs the crates.io registry \
         (or a mirror configured for cargo) the first time"
    )]
    FetchFailed {
        /// `name version`.
        package: String,
        /// cargo's exit status.
        status: std::process::ExitStatus,
        /// What cargo printed on stderr.
        stderr: String,
    },
    /// `cargo fetch` succeeded but left no package where cargo keeps them.
    #[error("`cargo fetch` of {package} succeeded but {file} is not in {}", .cache.display())]
    NotFetched {
        /// `name version`.
        package: String,
        /// The `.crate` file name.
        file: String,
        /// cargo's registry cache.
        cache: PathBuf,
    },
    /// The package could not be unpacked.
    #[error("cannot unpack the package: {0}")]
    Unpack(#[source] std::io::Error),
    /// `copy` names an entry the package does not have.
    #[error("the package has no `{0}` to copy")]
    NoSuchEntry(String),
    /// An edit's text occurs another number of times than it says.
    #[error(
        "edit of {file}: the text to replace occurs {found} times, not {expected}; upstream \
         changed: update {VENDOR_FILE}"
    )]
    EditMismatch {
        /// The edited file, relative to the crate.
        file: String,
        /// How often the text occurs.
        found: usize,
        /// How often the edit says it does (`times`).
        expected: usize,
    },
}

/// Maps an IO error on `path` to a [`VendorError::Io`].
fn io_error(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> VendorError {
    let path = path.to_path_buf();
    move |source| VendorError::Io { action, path, source }
}

/// Reads and parses a `vendor.toml`.
fn read_spec(path: &Path) -> Result<(Spec, String), VendorError> {
    let text = std::fs::read_to_string(path).map_err(io_error("read", path))?;
    let spec = toml::from_str(&text)
        .map_err(|source| VendorError::Malformed { path: path.to_path_buf(), source })?;
    Ok((spec, text))
}

/// Materialises the vendored crate in `dir` (see the module docs).
pub fn materialize(dir: &Path) -> Result<(), BuildError> {
    materialize_from(dir, &registry_cache())
}

/// [`materialize`] with cargo's registry cache at `cache`.
fn materialize_from(dir: &Path, cache: &Path) -> Result<(), BuildError> {
    materialize_in(dir, cache)
        .map_err(|source| BuildError::Vendor { dir: dir.to_path_buf(), source: Box::new(source) })
}

fn materialize_in(dir: &Path, cache: &Path) -> Result<(), VendorError> {
    let (mut spec, mut spec_text) = read_spec(&dir.join(VENDOR_FILE))?;
    if let Some(shared) = &spec.edits_from {
        let (other, text) = read_spec(&dir.join(shared).join(VENDOR_FILE))?;
        spec.edit.extend(other.edit);
        // The shared edits are part of what this crate is made of.
        spec_text.push_str(&text);
    }
    let overlay = spec.overlay(dir);
    let stamp = stamp_of(&overlay, &spec_text).map_err(io_error("read", &overlay))?;
    if is_current(dir, &spec, &stamp) {
        return Ok(());
    }
    let lock = dir.join(LOCK_FILE);
    let _lock = DirLock::acquire(&lock).map_err(io_error("lock", &lock))?;
    if is_current(dir, &spec, &stamp) {
        return Ok(()); // another process did it while we waited
    }
    let archive = find_or_fetch(&spec, cache)?;
    let bytes = std::fs::read(&archive).map_err(io_error("read", &archive))?;
    let actual = hex(&Sha256::digest(&bytes));
    if actual != spec.sha256 {
        return Err(VendorError::Checksum {
            archive,
            actual,
            expected: spec.sha256.clone(),
            package: spec.package(),
        });
    }
    let _ = std::fs::remove_file(dir.join(STAMP_FILE));
    unpack(dir, &spec, &bytes)?;
    apply_overlay(&overlay, dir).map_err(io_error("copy the overlay", &overlay))?;
    for edit in &spec.edit {
        apply_edit(dir, edit)?;
    }
    let stamp_file = dir.join(STAMP_FILE);
    std::fs::write(&stamp_file, &stamp).map_err(io_error("write", &stamp_file))
}

/// Up to date: the stamp matches and every copied entry is there.
fn is_current(dir: &Path, spec: &Spec, stamp: &str) -> bool {
    std::fs::read_to_string(dir.join(STAMP_FILE)).is_ok_and(|written| written == stamp)
        && spec.copy.iter().all(|entry| dir.join(entry).exists())
}

/// The hash of `vendor.toml` and every file under `overlay` (path and bytes).
fn stamp_of(overlay: &Path, spec_text: &str) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    hasher.update(spec_text.as_bytes());
    let mut files = Vec::new();
    collect_files(overlay, &mut files)?;
    files.sort();
    for file in files {
        hasher.update(file.strip_prefix(overlay).unwrap_or(&file).to_string_lossy().as_bytes());
        hasher.update(std::fs::read(&file)?);
    }
    Ok(hex(&hasher.finalize()))
}

fn collect_files(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(()) };
    for entry in entries {
        let path = entry?.path();
        if path.is_dir() {
            collect_files(&path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}

/// `<name>-<version>.crate` in cargo's registry cache, fetched if absent.
fn find_or_fetch(spec: &Spec, cache: &Path) -> Result<PathBuf, VendorError> {
    let file = format!("{}-{}.crate", spec.name, spec.version);
    if let Some(found) = find_in_cache(cache, &file) {
        return Ok(found);
    }
    fetch(spec)?;
    find_in_cache(cache, &file).ok_or_else(|| VendorError::NotFetched {
        package: spec.package(),
        file,
        cache: cache.to_path_buf(),
    })
}

fn registry_cache() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"));
    home.join("registry").join("cache")
}

fn find_in_cache(cache: &Path, file_name: &str) -> Option<PathBuf> {
    let mut registries: Vec<PathBuf> =
        std::fs::read_dir(cache).ok()?.filter_map(|entry| entry.ok().map(|entry| entry.path())).collect();
    registries.sort();
    registries.into_iter().map(|registry| registry.join(file_name)).find(|file| file.is_file())
}

/// Downloads the crate into cargo's cache through a throwaway project.
fn fetch(spec: &Spec) -> Result<(), VendorError> {
    let project = tempfile_dir().map_err(io_error("make a directory in", &std::env::temp_dir()))?;
    let manifest = format!(
        "[package]\nname = \"tau-vendor-fetch\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
         [dependencies]\n{} = {{ version = \"={}\", default-features = false }}\n\n[workspace]\n",
        spec.name, spec.version
    );
    let write = |path: PathBuf, text: &str| std::fs::write(&path, text).map_err(io_error("write", &path));
    let src = project.path().join("src");
    std::fs::create_dir_all(&src).map_err(io_error("create", &src))?;
    write(project.path().join("Cargo.toml"), &manifest)?;
    write(project.path().join("src/lib.rs"), "")?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let output = Command::new(&cargo)
        .arg("fetch")
        .arg("--manifest-path")
        .arg(project.path().join("Cargo.toml"))
        .output()
        .map_err(|source| VendorError::FetchSpawn { cargo: cargo.clone(), source })?;
    if !output.status.success() {
        return Err(VendorError::FetchFailed {
            package: spec.package(),
            status: output.status,
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    Ok(())
}

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tempfile_dir() -> std::io::Result<TempDir> {
    let base = std::env::temp_dir();
    for attempt in 0..100u32 {
        let dir = base.join(format!("tau-vendor-{}-{attempt}", std::process::id()));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(TempDir(dir)),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(error) => return Err(error),
        }
    }
    Err(std::io::Error::other("no free temporary directory name"))
}

/// Unpacks the copied entries of the archive into `dir`, replacing old ones.
fn unpack(dir: &Path, spec: &Spec, archive: &[u8]) -> Result<(), VendorError> {
    let staging = dir.join(format!(".tau-unpack-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    let result = unpack_into(&staging, archive).and_then(|()| {
        let root = staging.join(format!("{}-{}", spec.name, spec.version));
        for entry in &spec.copy {
            let from = root.join(entry);
            if !from.exists() {
                return Err(VendorError::NoSuchEntry(entry.clone()));
            }
            let to = dir.join(entry);
            if to.is_dir() {
                std::fs::remove_dir_all(&to).map_err(io_error("remove", &to))?;
            } else if to.exists() {
                std::fs::remove_file(&to).map_err(io_error("remove", &to))?;
            }
            std::fs::rename(&from, &to).map_err(io_error("replace", &to))?;
        }
        Ok(())
    });
    let _ = std::fs::remove_dir_all(&staging);
    result
}

fn unpack_into(staging: &Path, archive: &[u8]) -> Result<(), VendorError> {
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(archive));
    // `unpack` refuses entries that would land outside `staging`.
    tar.unpack(staging).map_err(VendorError::Unpack)
}

/// Copies every file under `overlay` to the same place under `dir`.
fn apply_overlay(overlay: &Path, dir: &Path) -> std::io::Result<()> {
    let mut files = Vec::new();
    collect_files(overlay, &mut files)?;
    for file in files {
        let relative = file.strip_prefix(overlay).expect("under the overlay");
        let target = dir.join(relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut bytes = Vec::new();
        File::open(&file)?.read_to_end(&mut bytes)?;
        std::fs::write(&target, bytes)?;
    }
    Ok(())
}

fn apply_edit(dir: &Path, edit: &Edit) -> Result<(), VendorError> {
    let path = dir.join(&edit.file);
    let text = std::fs::read_to_string(&path).map_err(io_error("read", &path))?;
    match text.matches(edit.find.as_str()).count() {
        found if found == edit.times => {
            std::fs::write(&path, text.replace(&edit.find, &edit.replace)).map_err(io_error("write", &path))
        }
        found => Err(VendorError::EditMismatch { file: edit.file.clone(), found, expected: edit.times }),
    }
}

/// An exclusive `flock` on a file, released when dropped.
struct DirLock(File);

impl DirLock {
    fn acquire(path: &Path) -> std::io::Result<DirLock> {
        use std::os::fd::AsRawFd;
        let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(path)?;
        // SAFETY: `file` is an open fd for the duration of the call.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(DirLock(file))
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        use std::os::fd::AsRawFd;
        // SAFETY: the fd is open until `self.0` drops, after this.
        unsafe { libc::flock(self.0.as_raw_fd(), libc::LOCK_UN) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// A `.crate` with `src/lib.rs` and `LICENSE`, and its checksum.
    fn package(dir: &Path) -> (PathBuf, String) {
        let file = dir.join("fake-1.0.0.crate");
        let encoder =
            flate2::write::GzEncoder::new(File::create(&file).unwrap(), flate2::Compression::fast());
        let mut builder = tar::Builder::new(encoder);
        for (name, text) in
            [("fake-1.0.0/src/lib.rs", "pub fn a() {}\n// marker\n"), ("fake-1.0.0/LICENSE", "MIT\n")]
        {
            let mut header = tar::Header::new_gnu();
            header.set_size(text.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, name, text.as_bytes()).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap();
        let sum = hex(&Sha256::digest(std::fs::read(&file).unwrap()));
        (file, sum)
    }

    #[test]
    fn an_edit_replaces_as_many_occurrences_as_it_says_and_no_other_count() {
        let temp = tempfile::tempdir().unwrap();
        write(&temp.path().join("src/lib.rs"), "fn a() {}\nfn a() {}\n");
        let edit = |times: &str| -> Edit {
            toml::from_str(&format!(
                "file = \"src/lib.rs\"\nwhy = \"test\"\nfind = \"fn a\"\nreplace = \"fn b\"\n{times}"
            ))
            .unwrap()
        };
        let error = apply_edit(temp.path(), &edit("")).unwrap_err().to_string();
        assert!(error.contains("occurs 2 times, not 1"), "{error}");
        apply_edit(temp.path(), &edit("times = 2")).unwrap();
        assert_eq!(
            std::fs::read_to_string(temp.path().join("src/lib.rs")).unwrap(),
            "fn b() {}\nfn b() {}\n"
        );
    }

    #[test]
    fn edits_from_another_vendored_crate_apply_and_count_in_the_stamp() {
        let temp = tempfile::tempdir().unwrap();
        let (archive, sum) = package(temp.path());
        let cache = temp.path().join("cargo/registry/cache");
        std::fs::create_dir_all(cache.join("index.example")).unwrap();
        std::fs::copy(&archive, cache.join("index.example/fake-1.0.0.crate")).unwrap();
        let head = format!("name = \"fake\"\nversion = \"1.0.0\"\nsha256 = \"{sum}\"\ncopy = [\"src\"]\n");
        let edit = |replace: &str| {
            format!("[[edit]]\nfile = \"src/lib.rs\"\nwhy = \"test\"\nfind = \"// marker\"\nreplace = \"{replace}\"\n")
        };
        let (owner, sharer) = (temp.path().join("vendor/a"), temp.path().join("vendor/b"));
        write(&owner.join(VENDOR_FILE), &format!("{head}{}", edit("// edited")));
        write(&sharer.join(VENDOR_FILE), &format!("{head}edits_from = \"../a\"\n"));
        materialize_from(&sharer, &cache).unwrap();
        assert_eq!(std::fs::read_to_string(sharer.join("src/lib.rs")).unwrap(), "pub fn a() {}\n// edited\n");
        // A change of the shared edits makes the sharer materialise again.
        write(&owner.join(VENDOR_FILE), &format!("{head}{}", edit("// edited again")));
        materialize_from(&sharer, &cache).unwrap();
        assert_eq!(
            std::fs::read_to_string(sharer.join("src/lib.rs")).unwrap(),
            "pub fn a() {}\n// edited again\n"
        );
    }

    #[test]
    fn unpacks_overlays_edits_and_refuses_a_wrong_checksum() {
        let temp = tempfile::tempdir().unwrap();
        let (archive, sum) = package(temp.path());
        let dir = temp.path().join("vendor/fake");
        let spec = |sum: &str, find: &str| {
            format!(
                "name = \"fake\"\nversion = \"1.0.0\"\nsha256 = \"{sum}\"\ncopy = [\"src\", \"LICENSE\"]\n\
                 [[edit]]\nfile = \"src/lib.rs\"\nwhy = \"test\"\nfind = \"{find}\"\nreplace = \"// edited\"\n"
            )
        };
        write(&dir.join(VENDOR_FILE), &spec(&sum, "// marker"));
        write(&dir.join("overlay/src/extra.rs"), "pub fn b() {}\n");
        let bytes = std::fs::read(&archive).unwrap();
        let parsed: Spec = toml::from_str(&spec(&sum, "// marker")).unwrap();
        unpack(&dir, &parsed, &bytes).unwrap();
        apply_overlay(&dir.join("overlay"), &dir).unwrap();
        apply_edit(&dir, &parsed.edit[0]).unwrap();
        assert_eq!(std::fs::read_to_string(dir.join("src/lib.rs")).unwrap(), "pub fn a() {}\n// edited\n");
        assert_eq!(std::fs::read_to_string(dir.join("src/extra.rs")).unwrap(), "pub fn b() {}\n");
        assert_eq!(std::fs::read_to_string(dir.join("LICENSE")).unwrap(), "MIT\n");

        // An edit whose text is gone fails loudly.
        let error = apply_edit(&dir, &parsed.edit[0]).unwrap_err().to_string();
        assert!(error.contains("occurs 0 times"), "{error}");

        // A wrong checksum is refused before anything is unpacked.
        let registry = temp.path().join("cargo/registry/cache/index.example");
        std::fs::create_dir_all(&registry).unwrap();
        std::fs::copy(&archive, registry.join("fake-1.0.0.crate")).unwrap();
        write(&dir.join(VENDOR_FILE), &spec(&"0".repeat(64), "// marker"));
        let cache = temp.path().join("cargo/registry/cache");
        let error = materialize_from(&dir, &cache).unwrap_err().to_string();
        assert!(error.contains("has sha256") && error.contains(&sum), "{error}");

        // The right one materialises, and a second run is a no-op.
        write(&dir.join(VENDOR_FILE), &spec(&sum, "// marker"));
        materialize_from(&dir, &cache).unwrap();
        assert_eq!(std::fs::read_to_string(dir.join("src/lib.rs")).unwrap(), "pub fn a() {}\n// edited\n");
        let stamp = std::fs::read_to_string(dir.join(STAMP_FILE)).unwrap();
        std::fs::write(dir.join("src/lib.rs"), "changed by hand").unwrap();
        materialize_from(&dir, &cache).unwrap();
        assert_eq!(std::fs::read_to_string(dir.join("src/lib.rs")).unwrap(), "changed by hand");
        // A changed overlay redoes it.
        write(&dir.join("overlay/src/extra.rs"), "pub fn c() {}\n");
        materialize_from(&dir, &cache).unwrap();
        assert_ne!(std::fs::read_to_string(dir.join(STAMP_FILE)).unwrap(), stamp);
        assert_eq!(std::fs::read_to_string(dir.join("src/lib.rs")).unwrap(), "pub fn a() {}\n// edited\n");
        assert_eq!(std::fs::read_to_string(dir.join("src/extra.rs")).unwrap(), "pub fn c() {}\n");
    }
}
