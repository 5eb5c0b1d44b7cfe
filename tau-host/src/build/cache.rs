//! The cache's layout on disk, and listing and collecting it.
//!
//! ```text
//! <root>/                               $TAU_CACHE_DIR, else ~/.tau/buildcache (see default_cache_dir)
//!   CACHEDIR.TAG                        tells backup tools to skip it
//!   rustc-info.json                     `rustc -vV` outputs by toolchain identity
//!   <environment hash>/                 one per build environment
//!     environment                       what the environment is (the hashed text)
//!     lock                              held while cargo runs in this environment
//!     target/                           the cargo target directory all its plugins share
//!     owners/<profile>-<lib name>       the plugin whose library `target/` holds now
//!     <crate name>.<path hash>/         one per plugin source directory
//!       lock                            held while its library is replaced or checked
//!       <profile>/lib<name>.so .d       the library and its dep file, copied out of target/
//!       <profile>/stamp.json            the source directory, the files watched, the environment variables read
//! ```

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::environment::{hex, RUSTC_INFO_FILE};
use super::files::disk_size;

/// The file in an environment directory that describes it.
pub(crate) const ENVIRONMENT_FILE: &str = "environment";
const TAG_FILE: &str = "CACHEDIR.TAG";
const TAG: &str = "Signature: 8a477f597d28d172789f06886806bc55\n\
# This directory is tau's plugin build cache (`tau cache ls`, `tau cache gc`).\n";
/// The target directory of tau before environments (one for everything).
const LEGACY_TARGET: &str = "target";

/// One plugin source directory's place in an environment.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    /// `<environment>/<crate name>.<path hash>`.
    pub dir: PathBuf,
}

impl Entry {
    /// The entry of the crate `package` whose canonical directory is `source`.
    pub fn new(environment_dir: &Path, package: &str, source: &Path) -> Entry {
        let hash = hex(&Sha256::digest(source.as_os_str().as_encoded_bytes()));
        Entry { dir: environment_dir.join(format!("{package}.{}", &hash[..16])) }
    }

    pub fn lock(&self) -> PathBuf {
        self.dir.join("lock")
    }

    pub fn profile_dir(&self, profile: &str) -> PathBuf {
        self.dir.join(profile)
    }

    pub fn stamp(&self, profile: &str) -> PathBuf {
        self.profile_dir(profile).join("stamp.json")
    }
}

/// Creates `root` with its `CACHEDIR.TAG` if it does not exist yet; it
/// and the parents it makes are private (mode 0700).
pub(crate) fn create_root(root: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(root)?;
    let tag = root.join(TAG_FILE);
    if !tag.exists() {
        super::files::write_atomically(&tag, TAG.as_bytes())?;
    }
    Ok(())
}

/// What `tau cache ls` shows.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheListing {
    /// The cache root.
    pub root: PathBuf,
    /// The environments, the current one first.
    pub environments: Vec<EnvironmentListing>,
    /// The directory of tau before environments existed, if it is there.
    pub legacy_target: Option<(PathBuf, u64)>,
}

/// One environment in a [`CacheListing`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct EnvironmentListing {
    /// Its hash (the directory's name).
    pub hash: String,
    /// Its directory.
    pub path: PathBuf,
    /// Whether it is the environment this host builds in.
    pub current: bool,
    /// The compiler's version line (`rustc 1.95.0 (...)`).
    pub rustc: String,
    /// Bytes used, in all.
    pub size: u64,
    /// Bytes used by the shared dependency builds (`target/`).
    pub dependencies_size: u64,
    /// The plugins built in it.
    pub plugins: Vec<PluginListing>,
}

/// One plugin in an [`EnvironmentListing`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PluginListing {
    /// `<crate name>.<path hash>`.
    pub name: String,
    /// The source directory it was built from.
    pub source: Option<PathBuf>,
    /// The profiles built (`debug`, `release`).
    pub profiles: Vec<String>,
    /// Bytes used.
    pub size: u64,
}

/// A directory `tau cache gc` removed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Removed {
    /// What was removed.
    pub path: PathBuf,
    /// Its size.
    pub size: u64,
}

/// Whether `dir` is an environment directory tau made.
fn is_environment(dir: &Path) -> bool {
    let name = dir.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    name.len() == 16
        && name.bytes().all(|byte| byte.is_ascii_hexdigit() && !byte.is_ascii_uppercase())
        && dir.join(ENVIRONMENT_FILE).is_file()
}

/// Whether `dir` is the target directory of tau before environments.
fn is_legacy_target(dir: &Path) -> bool {
    dir.file_name().is_some_and(|name| name == LEGACY_TARGET) && dir.join(TAG_FILE).is_file()
}

fn children(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .collect();
    paths.sort();
    paths
}

/// Lists the cache at `root`; `current` is this host's environment hash.
pub(crate) fn list(root: &Path, current: Option<&str>) -> CacheListing {
    let mut environments: Vec<EnvironmentListing> = children(root)
        .into_iter()
        .filter(|dir| is_environment(dir))
        .map(|dir| list_environment(&dir, current))
        .collect();
    environments.sort_by_key(|environment| !environment.current);
    let legacy = root.join(LEGACY_TARGET);
    let legacy_target = is_legacy_target(&legacy).then(|| {
        let size = disk_size(&legacy);
        (legacy, size)
    });
    CacheListing { root: root.to_path_buf(), environments, legacy_target }
}

fn list_environment(dir: &Path, current: Option<&str>) -> EnvironmentListing {
    let hash = dir.file_name().unwrap_or_default().to_string_lossy().into_owned();
    let description = std::fs::read_to_string(dir.join(ENVIRONMENT_FILE)).unwrap_or_default();
    // The line after `rustc -vV:` is the version.
    let rustc = description
        .lines()
        .skip_while(|line| *line != "rustc -vV:")
        .nth(1)
        .map(|line| line.trim().to_string())
        .unwrap_or_default();
    let plugins = children(dir)
        .into_iter()
        .filter(|path| {
            path.is_dir() && path.file_name().is_some_and(|name| name.to_string_lossy().contains('.'))
        })
        .map(|path| list_plugin(&path))
        .collect();
    EnvironmentListing {
        current: current == Some(hash.as_str()),
        hash,
        path: dir.to_path_buf(),
        rustc,
        size: disk_size(dir),
        dependencies_size: disk_size(&dir.join("target")),
        plugins,
    }
}

fn list_plugin(dir: &Path) -> PluginListing {
    let mut source = None;
    let mut profiles = Vec::new();
    for profile in children(dir).into_iter().filter(|path| path.is_dir()) {
        let stamp = profile.join("stamp.json");
        let Some(stamp) = super::fresh::Stamp::read(&stamp).ok() else { continue };
        source.get_or_insert(stamp.source);
        profiles.push(profile.file_name().unwrap_or_default().to_string_lossy().into_owned());
    }
    PluginListing {
        name: dir.file_name().unwrap_or_default().to_string_lossy().into_owned(),
        source,
        profiles,
        size: disk_size(dir),
    }
}

/// Removes the environments other than `current` and the legacy target
/// directory; with `all`, every environment and tau's own files too.
/// Anything else in `root` is left alone: the root may be a directory
/// someone pointed `TAU_CACHE_DIR` at by mistake.
pub(crate) fn collect(root: &Path, current: Option<&str>, all: bool) -> std::io::Result<Vec<Removed>> {
    let mut removed = Vec::new();
    for path in children(root) {
        let environment = is_environment(&path);
        let doomed = if environment {
            all || path.file_name().and_then(|name| name.to_str()) != current
        } else {
            is_legacy_target(&path)
        };
        if !doomed {
            continue;
        }
        let size = disk_size(&path);
        // Wait for a build running in it to finish.
        let _lock = if environment { super::lock::exclusive(&path.join("lock")).ok() } else { None };
        std::fs::remove_dir_all(&path)?;
        removed.push(Removed { path, size });
    }
    if all {
        for name in [RUSTC_INFO_FILE, TAG_FILE] {
            let path = root.join(name);
            if let Ok(metadata) = std::fs::metadata(&path) {
                std::fs::remove_file(&path)?;
                removed.push(Removed { path, size: metadata.len() });
            }
        }
    }
    Ok(removed)
}
