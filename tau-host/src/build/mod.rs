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
//!    lock file and cargo configs are all older than it. This takes well
//!    under a millisecond; cargo's own no-op build takes hundreds.
//! 3. **Otherwise cargo** builds it into the environment's one target
//!    directory, so plugins share their compiled dependencies, and the
//!    library and its dep file are copied into the plugin's entry. Builds
//!    and checks lock the entry, so concurrent `tau build`s of one plugin
//!    both succeed and a check never sees half a replacement.
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

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

pub use cache::{CacheListing, EnvironmentListing, PluginListing, Removed};
pub use environment::{Environment, EnvironmentError};
pub use fresh::Stale;
pub use patches::{default_patches_file, patch_table, read_patches, Patch};
pub use vendor::VendorError;

use crate::error::BuildError;
use cache::{Entry, ENVIRONMENT_FILE};
use fresh::Stamp;

/// Where plugin builds go: `$TAU_CACHE_DIR`, else `~/.tau/buildcache`.
pub fn default_cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TAU_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(std::env::temp_dir);
    home.join(".tau").join("buildcache")
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
    cache_dir: PathBuf,
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
            cache_dir: default_cache_dir(),
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
        self.cache_dir = dir.into();
        self.environment = Arc::default();
        self
    }

    /// The patches file to read.
    pub fn patches_file(mut self, file: impl Into<PathBuf>) -> Builder {
        self.patches_file = file.into();
        self.environment = Arc::default();
        self
    }

    /// The cache root.
    pub fn cache_dir_path(&self) -> &Path {
        &self.cache_dir
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
    pub fn environment(&self) -> Result<&Environment, BuildError> {
        if let Some(computed) = self.environment.get() {
            return Ok(computed);
        }
        let computed = Environment::compute(&self.cache_dir, &self.patches_file)?;
        Ok(self.environment.get_or_init(|| computed))
    }

    /// The environment's directory in the cache.
    pub fn environment_dir(&self) -> Result<PathBuf, BuildError> {
        Ok(self.cache_dir.join(self.environment()?.hash()))
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
        let environment_dir = self.environment_dir().map_err(|error| doubt(&self.cache_dir, error))?;
        let entry = Entry::new(&environment_dir, &krate.package, &krate.dir);
        fresh::check(&entry, self.profile(), &krate.dir)
    }

    /// Builds the plugin crate in `dir`, unless its cached library is up to
    /// date, and returns the library. Prints `up-to-date (skipped): <dir>`
    /// on stderr when it skips cargo (unless quiet).
    pub fn build(&self, dir: &Path) -> Result<Built, BuildError> {
        let krate = Crate::locate(dir)?;
        let environment = self.environment()?;
        let environment_dir = self.cache_dir.join(environment.hash());
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
        self.prepare(&environment_dir, environment).map_err(cache_error(&environment_dir))?;
        let profile_dir = entry.profile_dir(profile);
        std::fs::create_dir_all(&profile_dir).map_err(cache_error(&profile_dir))?;
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
        let built = cargo::Cargo {
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
        let stamp = Stamp {
            source: krate.dir.clone(),
            library: library_name,
            dep_file: dep_name,
            watched: fresh::watched_files(&krate.dir),
        };
        let stamp_path = entry.stamp(self.profile());
        files::write_atomically(&stamp_path, stamp.to_json().as_bytes()).map_err(cache_error(&stamp_path))?;
        Ok(library)
    }

    /// Creates the cache root and the environment's directory, described.
    fn prepare(&self, environment_dir: &Path, environment: &Environment) -> std::io::Result<()> {
        cache::create_root(&self.cache_dir)?;
        std::fs::create_dir_all(environment_dir)?;
        let description = environment_dir.join(ENVIRONMENT_FILE);
        if !description.exists() {
            files::write_atomically(&description, environment.description().as_bytes())?;
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
        std::fs::create_dir_all(&owners)?;
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
    pub fn list_cache(&self) -> CacheListing {
        let current = self.environment().ok().map(|environment| environment.hash().to_string());
        cache::list(&self.cache_dir, current.as_deref())
    }

    /// Removes the environments other than the current one (and the cache
    /// layout of tau before environments); with `all`, empties the cache of
    /// everything tau put there. Returns what was removed.
    pub fn collect_garbage(&self, all: bool) -> Result<Vec<Removed>, BuildError> {
        let current = if all { None } else { Some(self.environment()?.hash().to_string()) };
        cache::collect(&self.cache_dir, current.as_deref(), all)
            .map_err(|source| BuildError::Cache { path: self.cache_dir.clone(), source })
    }
}
