//! Building plugin crates with cargo, and the build cache.
//!
//! [`Builder::build`] turns a plugin crate directory into a library:
//!
//! 1. **The environment** ([`Environment`]): the compiler, flags and
//!    patched crates plugins are built with, hashed once per `Builder`. Its
//!    hash names a directory of the cache, `<root>/<hash>/`, so a new
//!    compiler or a changed tau-sdk starts every plugin afresh.
//! 2. **The up-to-date check** ([`Builder::check_up_to_date`]): the
//!    plugin's cached library, `<root>/<hash>/<crate>.<path hash>/`, is used
//!    without running cargo when the files its dep file lists, its manifest,
//!    lock file and cargo configs are all older than it, and the environment
//!    variables the build read (recorded in its stamp) are unchanged. This
//!    takes well under a millisecond; cargo's own no-op build takes hundreds.
//! 3. **Otherwise cargo** builds it into the environment's one target
//!    directory, so plugins share their compiled dependencies, and the
//!    library and its dep file are copied into the plugin's entry. Builds
//!    and checks lock the entry, so concurrent `tau build`s of one plugin
//!    both succeed and a check never sees half a replacement.
//!
//! Libraries are loaded from the cache, so nothing in it is used unless
//! only this user could have written it: the root and the directories above
//! it are checked before anything in it is read, the directories and files
//! of a plugin's entry before they are trusted (the rules are in `trust.rs`).
//!
//! ```no_run
//! # fn main() -> Result<(), tau_host::BuildError> {
//! let builder = tau_host::Builder::new();
//! let built = builder.build("plugins/example-plugin".as_ref())?;
//! println!("{} (cargo ran: {})", built.library.display(), built.ran_cargo);
//! // Nothing changed since: the library is reused without cargo.
//! assert!(builder.check_up_to_date("plugins/example-plugin".as_ref()).is_ok());
//! # Ok(()) }
//! ```

mod cache;
mod cargo;
pub mod depfile;
mod environment;
mod files;
mod fresh;
mod lock;
mod patches;
pub mod vendor;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

pub use cache::{CacheListing, EnvironmentListing, PluginListing, Removed};
pub use environment::{Environment, EnvironmentError};
pub use fresh::Stale;
pub use patches::{default_patches_file, patch_table, read_patches, Patch};
pub use vendor::VendorError;

use crate::error::BuildError;
use crate::trust::Refused;
use cache::{Entry, ENVIRONMENT_FILE};
use fresh::Stamp;

/// Where plugin builds go: `$TAU_CACHE_DIR`; else `.tau/buildcache` in the
/// home directory (`$HOME`, else this user's entry in the password
/// database, as under cron, systemd or `env -i`); else
/// `$XDG_CACHE_HOME/tau/buildcache`. Never a shared temporary directory:
/// without any of these it is [`BuildError::NoCacheDir`].
pub fn default_cache_dir() -> Result<PathBuf, BuildError> {
    choose_cache_dir(
        std::env::var_os("TAU_CACHE_DIR"),
        std::env::var_os("HOME"),
        password_database_home,
        std::env::var_os("XDG_CACHE_HOME"),
    )
    .ok_or(BuildError::NoCacheDir)
}

/// [`default_cache_dir`]'s choice; empty variables count as unset, and a
/// relative `XDG_CACHE_HOME` is ignored (as its specification says).
fn choose_cache_dir(
    tau_cache_dir: Option<OsString>,
    home: Option<OsString>,
    password_database_home: impl FnOnce() -> Option<PathBuf>,
    xdg_cache_home: Option<OsString>,
) -> Option<PathBuf> {
    let set = |value: Option<OsString>| value.filter(|value| !value.is_empty()).map(PathBuf::from);
    if let Some(dir) = set(tau_cache_dir) {
        return Some(dir);
    }
    if let Some(home) = set(home).or_else(password_database_home) {
        return Some(home.join(".tau").join("buildcache"));
    }
    set(xdg_cache_home).filter(|dir| dir.is_absolute()).map(|dir| dir.join("tau").join("buildcache"))
}

/// This user's home directory in the password database, if it has one that
/// exists (`nobody`'s is `/nonexistent`).
#[cfg(unix)]
fn password_database_home() -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let mut buffer = vec![0u8; 1024];
    loop {
        // SAFETY: `passwd` is plain data; all zeroes is a valid value.
        let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the call, the buffer for
        // `buffer.len()` bytes; getpwuid_r writes the entry's strings there.
        let status = unsafe {
            libc::getpwuid_r(
                crate::trust::user_id(),
                &mut entry,
                buffer.as_mut_ptr().cast(),
                buffer.len(),
                &mut found,
            )
        };
        if status == libc::ERANGE && buffer.len() < 1 << 20 {
            buffer.resize(buffer.len() * 2, 0);
            continue;
        }
        if status != 0 || found.is_null() || entry.pw_dir.is_null() {
            return None;
        }
        // SAFETY: on success `pw_dir` is a NUL-terminated string in `buffer`,
        // which outlives this borrow.
        let dir = unsafe { std::ffi::CStr::from_ptr(entry.pw_dir) };
        let dir = PathBuf::from(std::ffi::OsStr::from_bytes(dir.to_bytes()));
        return (dir.is_absolute() && dir.is_dir()).then_some(dir);
    }
}

#[cfg(not(unix))]
fn password_database_home() -> Option<PathBuf> {
    None
}

/// Checks that nobody but this user can change the cache at `root` (see
/// [`crate::trust`]): the directories on the way to it belong to root or
/// this user and are sticky if others may write them; the root itself, if
/// it exists, belongs to this user and only this user may write it.
fn check_root(root: &Path) -> Result<(), BuildError> {
    let untrusted =
        |refused: Refused| BuildError::UntrustedCache { path: refused.path, reason: refused.reason };
    crate::trust::check_route(root).map_err(untrusted)?;
    match std::fs::metadata(root) {
        Ok(metadata) => crate::trust::check_owner(root, &metadata).map_err(untrusted),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(BuildError::Cache { path: root.to_path_buf(), source }),
    }
}

/// The text of the dep file rustc wrote for `library` (cargo's copy of it
/// in `deps/`, which holds the `# env-dep:` lines cargo's own dep file
/// lacks): `deps/<name>.d` for the file in `deps/` that is the library
/// (hard-linked; its name may carry a hash), else `deps/<lib_name>.d`.
fn rustc_dep_file(library: &Path, lib_name: &str) -> Option<String> {
    let deps = library.parent()?.join("deps");
    let stem = |name: &str| {
        name.strip_prefix(std::env::consts::DLL_PREFIX)?
            .strip_suffix(std::env::consts::DLL_SUFFIX)
            .map(str::to_string)
    };
    let mut candidates = Vec::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let identity = |metadata: &std::fs::Metadata| (metadata.dev(), metadata.ino());
        let wanted = identity(&std::fs::metadata(library).ok()?);
        let prefix = format!("{}{lib_name}", std::env::consts::DLL_PREFIX);
        for entry in std::fs::read_dir(&deps).ok()?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(&prefix)
                && entry.metadata().is_ok_and(|metadata| identity(&metadata) == wanted)
            {
                candidates.extend(stem(&name));
            }
        }
    }
    candidates.push(lib_name.to_string());
    candidates.into_iter().find_map(|stem| std::fs::read_to_string(deps.join(format!("{stem}.d"))).ok())
}

/// Maps an IO error on `path` in the cache to a [`BuildError::Cache`].
fn cache_error(path: &Path) -> impl FnOnce(std::io::Error) -> BuildError {
    let path = path.to_path_buf();
    move |source| BuildError::Cache { path, source }
}

/// What [`Builder::build`] produced.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Built {
    /// The plugin library, in the cache.
    pub library: PathBuf,
    /// Whether cargo ran (`false`: the cached library was up to date).
    pub ran_cargo: bool,
}

/// Builds plugin crates into the build cache. Cheap to clone; clones share
/// the environment, computed on first use.
#[derive(Clone, Debug)]
pub struct Builder {
    cargo: String,
    /// `None`: there is no default (see [`default_cache_dir`]) and none was given.
    cache_dir: Option<PathBuf>,
    patches_file: PathBuf,
    release: bool,
    quiet: bool,
    force: bool,
    /// Computed once it can be: a failure is computed again next time (the
    /// user may have installed rustc or fixed a patched crate meanwhile).
    environment: Arc<OnceLock<Environment>>,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

/// A plugin crate on disk.
struct Crate {
    /// Canonical.
    dir: PathBuf,
    manifest: PathBuf,
    package: String,
    /// The library's name (`[lib] name`, else the package's with `_`).
    lib_name: String,
}

impl Crate {
    fn locate(dir: &Path) -> Result<Crate, BuildError> {
        let manifest = dir.join("Cargo.toml");
        if !manifest.is_file() {
            return Err(BuildError::NotACrate { dir: dir.to_path_buf() });
        }
        let dir =
            dir.canonicalize().map_err(|source| BuildError::Cache { path: dir.to_path_buf(), source })?;
        let manifest = dir.join("Cargo.toml");
        let invalid = |message: String| BuildError::Manifest { path: manifest.clone(), message };
        let text = std::fs::read_to_string(&manifest).map_err(|error| invalid(error.to_string()))?;
        let table: toml::Table =
            text.parse().map_err(|error: toml::de::Error| invalid(error.message().to_string()))?;
        let package = table
            .get("package")
            .and_then(|package| package.get("name"))
            .and_then(|name| name.as_str())
            .ok_or_else(|| {
                invalid("no `[package] name`: give the directory of the plugin crate itself".into())
            })?
            .to_string();
        let lib_name = table
            .get("lib")
            .and_then(|lib| lib.get("name"))
            .and_then(|name| name.as_str())
            .map_or_else(|| package.replace('-', "_"), str::to_string);
        Ok(Crate { dir, manifest, package, lib_name })
    }
}

impl Builder {
    /// cargo from `$CARGO` (else `cargo`), the default cache directory and
    /// patches file, debug profile.
    pub fn new() -> Builder {
        Builder {
            cargo: std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string()),
            cache_dir: default_cache_dir().ok(),
            patches_file: default_patches_file(),
            release: false,
            quiet: false,
            force: false,
            environment: Arc::default(),
        }
    }

    /// Builds with the release profile (`--release`).
    pub fn release(mut self, release: bool) -> Builder {
        self.release = release;
        self
    }

    /// Passes `--quiet` to cargo (errors are still shown) and prints no
    /// `up-to-date (skipped)` line.
    pub fn quiet(mut self, quiet: bool) -> Builder {
        self.quiet = quiet;
        self
    }

    /// Always runs cargo, skipping the up-to-date check (`tau build --force`).
    pub fn force(mut self, force: bool) -> Builder {
        self.force = force;
        self
    }

    /// The cache root.
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Builder {
        self.cache_dir = Some(dir.into());
        self.environment = Arc::default();
        self
    }

    /// The patches file to read.
    pub fn patches_file(mut self, file: impl Into<PathBuf>) -> Builder {
        self.patches_file = file.into();
        self.environment = Arc::default();
        self
    }

    /// The cache root ([`BuildError::NoCacheDir`] when none was given and
    /// there is no default).
    pub fn cache_dir_path(&self) -> Result<&Path, BuildError> {
        self.cache_dir.as_deref().ok_or(BuildError::NoCacheDir)
    }

    /// The cache root, checked (see [`check_root`]) before anything in it
    /// is read or written.
    fn trusted_root(&self) -> Result<&Path, BuildError> {
        let root = self.cache_dir_path()?;
        check_root(root)?;
        Ok(root)
    }

    /// The patches file.
    pub fn patches_file_path(&self) -> &Path {
        &self.patches_file
    }

    /// The patches injected into builds.
    pub fn patches(&self) -> Result<Vec<Patch>, BuildError> {
        read_patches(&self.patches_file)
    }

    /// Materialises the vendored crates the patches use (`vendor/` next to
    /// the patches file; see [`vendor`]) and returns the patches: what a
    /// plain `cargo` build needs before it can use them. Builds do this
    /// themselves.
    pub fn prepare_patches(&self) -> Result<Vec<Patch>, BuildError> {
        if let Some(root) = self.patches_file.parent() {
            vendor::materialize_all(&root.join("vendor"))?;
        }
        self.patches()
    }

    /// The build environment, computed on the first call that succeeds.
    /// Checks the cache root first, every time (it holds what the
    /// environment and every build read).
    pub fn environment(&self) -> Result<&Environment, BuildError> {
        let root = self.trusted_root()?;
        if let Some(computed) = self.environment.get() {
            return Ok(computed);
        }
        let computed = Environment::compute(root, &self.patches_file)?;
        Ok(self.environment.get_or_init(|| computed))
    }

    /// The environment's directory in the cache.
    pub fn environment_dir(&self) -> Result<PathBuf, BuildError> {
        let environment = self.environment()?;
        Ok(self.cache_dir_path()?.join(environment.hash()))
    }

    /// The cargo target directory the environment's plugins share.
    pub fn target_dir(&self) -> Result<PathBuf, BuildError> {
        Ok(self.environment_dir()?.join("target"))
    }

    fn profile(&self) -> &'static str {
        if self.release {
            "release"
        } else {
            "debug"
        }
    }

    /// The cached library of the plugin crate in `dir`, if it is up to date
    /// (see the [module docs](self)); else why not. Never runs cargo.
    pub fn check_up_to_date(&self, dir: &Path) -> Result<PathBuf, Stale> {
        let doubt = |path: &Path, error: BuildError| Stale::Unreadable {
            path: path.to_path_buf(),
            reason: error.to_string(),
        };
        let krate = Crate::locate(dir).map_err(|error| doubt(dir, error))?;
        let environment_dir = self.environment_dir().map_err(|error| match error {
            BuildError::UntrustedCache { path, reason } => Stale::Untrusted { path, reason },
            error => doubt(self.cache_dir.as_deref().unwrap_or(dir), error),
        })?;
        let entry = Entry::new(&environment_dir, &krate.package, &krate.dir);
        fresh::check(&entry, self.profile(), &krate.dir)
    }

    /// Builds the plugin crate in `dir`, unless its cached library is up to
    /// date, and returns the library. Prints `up-to-date (skipped): <dir>`
    /// on stderr when it skips cargo (unless quiet).
    pub fn build(&self, dir: &Path) -> Result<Built, BuildError> {
        let krate = Crate::locate(dir)?;
        let environment = self.environment()?;
        let root = self.cache_dir_path()?;
        let environment_dir = root.join(environment.hash());
        let entry = Entry::new(&environment_dir, &krate.package, &krate.dir);
        let profile = self.profile();
        let skipped = |library: PathBuf| {
            if !self.quiet {
                eprintln!("up-to-date (skipped): {}", dir.display());
            }
            Ok(Built { library, ran_cargo: false })
        };
        if !self.force {
            if let Ok(library) = fresh::check(&entry, profile, &krate.dir) {
                return skipped(library);
            }
        }
        self.prepare(root, &environment_dir, environment)?;
        let profile_dir = entry.profile_dir(profile);
        files::create_dirs(&profile_dir).map_err(cache_error(&profile_dir))?;
        // What is built here is loaded from here: nobody else may change it.
        crate::trust::check_own_below(root, &profile_dir)
            .map_err(|refused| BuildError::UntrustedCache { path: refused.path, reason: refused.reason })?;
        let _entry_lock = lock::exclusive(&entry.lock()).map_err(cache_error(&entry.lock()))?;
        if !self.force {
            // Another process may have built it while we waited for the lock.
            if let Ok(library) = fresh::check_locked(&entry, profile, &krate.dir) {
                return skipped(library);
            }
        }
        let library = self.run_cargo(&krate, environment, &environment_dir, &entry)?;
        Ok(Built { library, ran_cargo: true })
    }

    /// Runs cargo on `krate` under the environment's lock and copies the
    /// library and its dep file into `entry`, stamped. The caller holds the
    /// entry's lock.
    fn run_cargo(
        &self,
        krate: &Crate,
        environment: &Environment,
        environment_dir: &Path,
        entry: &Entry,
    ) -> Result<PathBuf, BuildError> {
        let environment_lock = environment_dir.join("lock");
        let _environment_lock = lock::exclusive(&environment_lock).map_err(cache_error(&environment_lock))?;
        // The build's time, by the file system's clock (which can lag the
        // system clock): any later edit gets a time no earlier than this.
        let profile_dir = entry.profile_dir(self.profile());
        let started_file = profile_dir.join("started");
        let started = files::write_atomically(&started_file, b"")
            .and_then(|()| std::fs::metadata(&started_file)?.modified())
            .map_err(cache_error(&started_file))?;
        let target_dir = environment_dir.join("target");
        self.claim_library_name(environment_dir, &target_dir, krate).map_err(cache_error(&target_dir))?;
        // The environment cargo inherits, to tell what the build read from it.
        let environment_now: std::collections::HashMap<OsString, OsString> = std::env::vars_os().collect();
        let cargo::Built { library: built, build_script_out_dir, build_script_out_dirs } = cargo::Cargo {
            program: &self.cargo,
            dir: &krate.dir,
            manifest: &krate.manifest,
            target_dir: &target_dir,
            release: self.release,
            quiet: self.quiet,
            patches: environment.patches(),
        }
        .build()?;
        let library_name = built.file_name().expect("cargo names a file").to_string_lossy().into_owned();
        let dep_name = Path::new(&library_name).with_extension("d").to_string_lossy().into_owned();
        let library = profile_dir.join(&library_name);
        files::copy_atomically(&built.with_extension("d"), &profile_dir.join(&dep_name), started)
            .map_err(cache_error(&profile_dir))?;
        files::copy_atomically(&built, &library, started).map_err(cache_error(&library))?;
        let env = rustc_dep_file(&built, &krate.lib_name).map(|text| {
            let output = |dir: &PathBuf| std::fs::read_to_string(dir.parent()?.join("output")).ok();
            let own = build_script_out_dir.as_ref().and_then(output);
            let all: Vec<String> = build_script_out_dirs.iter().filter_map(output).collect();
            fresh::env_read(&text, own.as_deref(), &all, &environment_now)
        });
        let stamp = Stamp {
            source: krate.dir.clone(),
            library: library_name,
            dep_file: dep_name,
            watched: fresh::watched_files(&krate.dir),
            env,
        };
        let stamp_path = entry.stamp(self.profile());
        files::write_atomically(&stamp_path, stamp.to_json().as_bytes()).map_err(cache_error(&stamp_path))?;
        Ok(library)
    }

    /// Creates the cache root (checked again once it exists) and the
    /// environment's directory, described.
    fn prepare(
        &self,
        root: &Path,
        environment_dir: &Path,
        environment: &Environment,
    ) -> Result<(), BuildError> {
        cache::create_root(root).map_err(cache_error(root))?;
        check_root(root)?;
        files::create_dirs(environment_dir).map_err(cache_error(environment_dir))?;
        let description = environment_dir.join(ENVIRONMENT_FILE);
        if !description.exists() {
            files::write_atomically(&description, environment.description().as_bytes())
                .map_err(cache_error(&description))?;
        }
        Ok(())
    }

    /// Makes the shared target directory's `lib<name>` this crate's. Two
    /// plugin crates with one library name (two `my-plugin`s in different
    /// places) write the same file in `target/`, and cargo, seeing its own
    /// fingerprint fresh, would hand out the other's library; removing the
    /// file makes cargo build this one again. Called under the
    /// environment's lock.
    fn claim_library_name(
        &self,
        environment_dir: &Path,
        target_dir: &Path,
        krate: &Crate,
    ) -> std::io::Result<()> {
        let owners = environment_dir.join("owners");
        files::create_dirs(&owners)?;
        let owner_file = owners.join(format!("{}-{}", self.profile(), krate.lib_name));
        let owner = std::fs::read(&owner_file).ok();
        if owner.as_deref() == Some(krate.dir.as_os_str().as_encoded_bytes()) {
            return Ok(());
        }
        let file =
            format!("{}{}{}", std::env::consts::DLL_PREFIX, krate.lib_name, std::env::consts::DLL_SUFFIX);
        let profile_dir = target_dir.join(self.profile());
        for stale in [profile_dir.join("deps").join(&file), profile_dir.join(&file)] {
            match std::fs::remove_file(&stale) {
                Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(error),
                _ => {}
            }
        }
        files::write_atomically(&owner_file, krate.dir.as_os_str().as_encoded_bytes())
    }

    /// Lists the cache: environments (the current one marked), their
    /// plugins and sizes.
    pub fn list_cache(&self) -> Result<CacheListing, BuildError> {
        let root = self.trusted_root()?;
        let current = self.environment().ok().map(|environment| environment.hash().to_string());
        Ok(cache::list(root, current.as_deref()))
    }

    /// Removes the environments other than the current one (and the cache
    /// layout of tau before environments); with `all`, empties the cache of
    /// everything tau put there. Returns what was removed.
    pub fn collect_garbage(&self, all: bool) -> Result<Vec<Removed>, BuildError> {
        let root = self.trusted_root()?;
        let current = if all { None } else { Some(self.environment()?.hash().to_string()) };
        cache::collect(root, current.as_deref(), all).map_err(cache_error(root))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_is_never_in_a_shared_temporary_directory() {
        let some = |text: &str| Some(OsString::from(text));
        let cache =
            |tau: Option<OsString>, home: Option<OsString>, passwd: Option<&str>, xdg: Option<OsString>| {
                choose_cache_dir(tau, home, || passwd.map(PathBuf::from), xdg)
            };
        let dir = |text: &str| Some(PathBuf::from(text));
        assert_eq!(cache(some("/c"), some("/h"), Some("/p"), some("/x")), dir("/c"));
        assert_eq!(cache(None, some("/h"), Some("/p"), some("/x")), dir("/h/.tau/buildcache"));
        // cron, systemd, `env -i`: no HOME.
        assert_eq!(cache(some(""), None, Some("/p"), some("/x")), dir("/p/.tau/buildcache"));
        assert_eq!(cache(None, some(""), None, some("/x")), dir("/x/tau/buildcache"));
        assert_eq!(cache(None, None, None, some("relative")), None);
        assert_eq!(cache(None, None, None, None), None);
        let error = BuildError::NoCacheDir.to_string();
        assert!(error.contains("set TAU_CACHE_DIR (or HOME)"), "{error}");
    }
}
