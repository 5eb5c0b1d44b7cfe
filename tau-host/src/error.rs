//! Errors. Each message says what is wrong and what to do about it.

use std::path::PathBuf;

/// Why a plugin could not be loaded. Nothing of the plugin is left running
/// after any of these; the host and its other plugins carry on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The path does not exist.
    #[error("{}: no such file or directory; give the path of a plugin library or of a plugin crate directory", .path.display())]
    NotFound {
        /// The path given.
        path: PathBuf,
    },
    /// The path is neither a regular file nor a directory (a FIFO, a
    /// socket, a device): refused before it is opened, which for a FIFO
    /// would wait for a writer.
    #[error("{}: not a regular file ({kind}); give the path of a plugin library or of a plugin crate directory", .path.display())]
    NotAFile {
        /// The path given.
        path: PathBuf,
        /// What it is: "a FIFO", "a socket", "a character device"...
        kind: &'static str,
    },
    /// The file could not be opened as a shared library.
    #[error("{}: not a loadable shared library ({reason}); give a plugin built with `tau build`", .path.display())]
    Open {
        /// The library's path.
        path: PathBuf,
        /// What the dynamic loader said.
        reason: String,
    },
    /// A shared library without a valid tau descriptor.
    #[error("{}: a shared library, but not a tau plugin ({reason}); a plugin is a cdylib crate with a `#[tau::plugin]` impl", .path.display())]
    NotAPlugin {
        /// The library's path.
        path: PathBuf,
        /// What is missing.
        reason: String,
    },
    /// Built by a different compiler, SDK or ABI: refused before any of its code ran.
    #[error("{}: {what}; rebuild it with `tau build`", .path.display())]
    Incompatible {
        /// The library's path.
        path: PathBuf,
        /// What differs, e.g. "built with rustc 1.93.0, host uses rustc 1.95.0".
        what: String,
    },
    /// The same library is already loaded.
    #[error("{}: already loaded as plugin `{name}`; unload it first", .path.display())]
    AlreadyLoaded {
        /// The library's path.
        path: PathBuf,
        /// The loaded plugin's name.
        name: String,
    },
    /// The plugin's constructor or `on_load` failed or panicked.
    #[error("{}: plugin `{name}` failed to start: {message}", .path.display())]
    Init {
        /// The library's path.
        path: PathBuf,
        /// The plugin's name.
        name: String,
        /// What went wrong (the panic message or the returned error).
        message: String,
    },
    /// Building the plugin crate failed.
    #[error(transparent)]
    Build(#[from] BuildError),
}

/// Why a plugin crate could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The directory has no `Cargo.toml`.
    #[error("{}: no Cargo.toml here; give a plugin crate directory (make one with `tau new <PATH>`)", .dir.display())]
    NotACrate {
        /// The directory given.
        dir: PathBuf,
    },
    /// cargo could not be started.
    #[error("could not run `{cargo}`: {source}; is cargo installed and on PATH (or set CARGO)?")]
    Spawn {
        /// The cargo command.
        cargo: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// cargo failed (its diagnostics were shown on stderr).
    #[error("building {} failed: cargo exited with {status} (its errors are above)", .dir.display())]
    Cargo {
        /// The crate directory.
        dir: PathBuf,
        /// cargo's exit status.
        status: std::process::ExitStatus,
    },
    /// The crate built, but produced no `cdylib`.
    #[error("{}: the crate builds no cdylib; add `[lib] crate-type = [\"cdylib\"]` to its Cargo.toml", .dir.display())]
    NoLibrary {
        /// The crate directory.
        dir: PathBuf,
    },
    /// The crate's `Cargo.toml` could not be read.
    #[error("{}: {message}", .path.display())]
    Manifest {
        /// The manifest.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The build environment could not be determined (rustc did not run,
    /// a patched crate is unreadable).
    #[error("cannot determine the plugin build environment: {source}")]
    Environment {
        /// What went wrong.
        source: Box<crate::build::EnvironmentError>,
    },
    /// The build cache could not be written.
    #[error("build cache: {}: {source}; check its permissions, or set TAU_CACHE_DIR to another directory", .path.display())]
    Cache {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The build cache, or a directory on the way to it or in it, could be
    /// changed by someone else, who could then have their code loaded.
    #[error("build cache: {}: {reason}; plugin libraries are loaded from the cache, so it and what is in it must belong to this user with no write access for group or others, and every directory above it must belong to root or this user and, if others may write it, be sticky (like /tmp): fix the owner or mode (`chmod go-w`), or set TAU_CACHE_DIR to a directory only you can write", .path.display())]
    UntrustedCache {
        /// The directory or file at fault.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// No build cache directory was given and there is no default: no
    /// `TAU_CACHE_DIR`, no home directory, no `XDG_CACHE_HOME`.
    #[error("no directory for the build cache: TAU_CACHE_DIR and HOME are not set, this user has no home directory in the password database, and XDG_CACHE_HOME is not set; set TAU_CACHE_DIR (or HOME) to a directory only you can write (tau does not put the cache in a shared temporary directory)")]
    NoCacheDir,
    /// A vendored crate (`vendor/<name>/vendor.toml`) could not be
    /// materialised from the registry.
    #[error("vendored crate {}: {source}", .dir.display())]
    Vendor {
        /// Its directory.
        dir: PathBuf,
        /// What went wrong, and what to do.
        source: Box<crate::build::VendorError>,
    },
    /// `patches.list` could not be read or has a bad line.
    #[error("{}: {message}", .path.display())]
    Patches {
        /// The patches file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl From<crate::build::EnvironmentError> for BuildError {
    fn from(source: crate::build::EnvironmentError) -> Self {
        BuildError::Environment { source: Box::new(source) }
    }
}

fn colon(why: &str) -> String {
    if why.is_empty() {
        String::new()
    } else {
        format!(": {why}")
    }
}

/// Why a call failed. The plugin stays loaded and usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// No export of that name.
    #[error("plugin `{plugin}` has no export `{export}`; its exports are: {}", .available.join(", "))]
    UnknownExport {
        /// The plugin's name.
        plugin: String,
        /// The name asked for.
        export: String,
        /// The signatures of the exports it has.
        available: Vec<String>,
    },
    /// Wrong number of arguments.
    #[error("{}", tau_abi::plugin::arity_message(.export, .expected, *.given))]
    Arity {
        /// The export's name.
        export: String,
        /// Its parameters, `name: Type`.
        expected: Vec<String>,
        /// How many were given.
        given: usize,
    },
    /// A typed call's argument or result type differs from the export's
    /// (see `tau::plugin::abi::TypeIdentity` for what is compared).
    #[error("`{export}`: {what} is `{expected}`, but the call uses `{given}`{}", colon(.why))]
    Type {
        /// The export's name.
        export: String,
        /// Which part: "parameter `x`" or "the result".
        what: String,
        /// The type the plugin declares.
        expected: String,
        /// The type the caller used.
        given: String,
        /// Why they differ, when the names are the same (empty otherwise).
        why: String,
    },
    /// A blocking `call` of an async export.
    #[error("`{export}` is an async export; use `spawn_call` (or `call_text`) and await the returned `PluginCall`")]
    IsAsync {
        /// The export's name.
        export: String,
    },
    /// The export panicked (the panic was caught in the plugin).
    #[error("`{export}` panicked: {message}")]
    Panicked {
        /// The export's name.
        export: String,
        /// The panic message.
        message: String,
    },
    /// The async call's task was aborted (or its plugin unloaded).
    #[error("`{export}` was cancelled")]
    Cancelled {
        /// The export's name.
        export: String,
    },
    /// The call failed: an argument that does not parse, or an `Err` result in a text call.
    #[error("`{export}`: {message}")]
    Failed {
        /// The export's name.
        export: String,
        /// What went wrong.
        message: String,
    },
}

impl CallError {
    /// True if the call's task was aborted.
    pub fn is_cancelled(&self) -> bool {
        matches!(self, CallError::Cancelled { .. })
    }

    /// True if the plugin panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self, CallError::Panicked { .. })
    }
}

/// What went wrong while unloading; the plugin is gone either way.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UnloadError {
    /// No plugin with that id is loaded.
    #[error("no plugin with id {0} is loaded")]
    NotLoaded(u32),
    /// `on_unload` (or dropping the plugin) failed or panicked.
    #[error("plugin `{name}`: {message}")]
    Hook {
        /// The plugin's name.
        name: String,
        /// What went wrong.
        message: String,
    },
}
