//! Opening a plugin library and validating its descriptor before any of
//! its code runs.
//!
//! Order: the file opens as a shared library; it exports `TAU_PLUGIN`; the
//! header's magic and ABI version match (these two fields never move); the
//! descriptor's `abi_stable` layout matches the host's; then the rustc,
//! tau-sdk and runtime-ABI versions and the panic strategy. Only after all
//! of that does the host call the plugin's `create`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use abi_stable::abi_stability::abi_checking::{check_layout_compatibility_with_globals, CheckingGlobals};
use abi_stable::StableAbi;
use tau::plugin::abi::{PluginDescriptor, PluginHeader, PLUGIN_ABI_VERSION, PLUGIN_MAGIC, PLUGIN_SYMBOL};

use crate::error::LoadError;

/// Plugin library files (canonical paths) mapped in this process, by any host.
///
/// The dynamic loader maps a file once per process, and finds it again by
/// its name, so loading a path a second time gives the first mapping back.
/// Libraries are never unmapped (`RTLD_NODELETE`, see [`dlopen`]), so that
/// holds even after an unload. A private copy is loaded instead when the
/// path is open now (two instances must not share the plugin's statics,
/// among them the runtime table its code uses) and when the file changed
/// since it was mapped (rebuilt in place: the old mapping is stale code).
static MAPPED: Mutex<Mapped> = Mutex::new(Mapped { open: BTreeSet::new(), identities: BTreeMap::new() });

struct Mapped {
    /// Mapped under their own name and open now.
    open: BTreeSet<PathBuf>,
    /// Mapped under their own name at some point, with the file's identity then.
    identities: BTreeMap<PathBuf, FileIdentity>,
}

/// What tells one file from its replacement at the same path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FileIdentity {
    device: u64,
    inode: u64,
    len: u64,
    modified: Option<std::time::SystemTime>,
}

impl FileIdentity {
    fn of(path: &Path) -> Option<FileIdentity> {
        let metadata = std::fs::metadata(path).ok()?;
        #[cfg(unix)]
        let (device, inode) = {
            use std::os::unix::fs::MetadataExt;
            (metadata.dev(), metadata.ino())
        };
        #[cfg(not(unix))]
        let (device, inode) = (0, 0);
        Some(FileIdentity { device, inode, len: metadata.len(), modified: metadata.modified().ok() })
    }
}

impl Mapped {
    /// Whether `canonical` can be opened under its own name now; if so,
    /// it is registered as open.
    fn claim(&mut self, canonical: &Path) -> bool {
        if self.open.contains(canonical) {
            return false;
        }
        let identity = FileIdentity::of(canonical);
        match self.identities.get(canonical) {
            Some(mapped) if Some(*mapped) != identity => return false,
            Some(_) => {}
            None => {
                let Some(identity) = identity else { return false };
                self.identities.insert(canonical.to_path_buf(), identity);
            }
        }
        self.open.insert(canonical.to_path_buf());
        true
    }
}

/// An open, validated plugin library. The library stays mapped while any
/// clone of the `Arc` lives (plugins, and calls still in flight).
pub(crate) struct Library {
    /// Kept for its Drop (unmaps); everything borrowed from it is tied to its lifetime.
    _library: libloading::Library,
    path: PathBuf,
    /// The entry in [`MAPPED`]'s open set this load holds (None: a private copy was loaded).
    registered: Option<PathBuf>,
    descriptor: *const PluginDescriptor,
}

impl Drop for Library {
    fn drop(&mut self) {
        unregister(self.registered.as_ref());
    }
}

// SAFETY: the descriptor is immutable static data of the library, readable
// from any thread; libloading's Library is Send + Sync.
unsafe impl Send for Library {}
// SAFETY: as above.
unsafe impl Sync for Library {}

impl Library {
    /// The validated descriptor; valid while `self` is.
    pub(crate) fn descriptor(&self) -> &PluginDescriptor {
        // SAFETY: the descriptor is static data of the library, which stays
        // mapped while `self` lives.
        unsafe { &*self.descriptor }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

/// Opens `path` and validates its descriptor.
pub(crate) fn open(path: &Path) -> Result<Arc<Library>, LoadError> {
    let path = path.to_path_buf();
    if !path.exists() {
        return Err(LoadError::NotFound { path });
    }
    let canonical = path.canonicalize().unwrap_or_else(|_| path.clone());
    let first = mapped().claim(&canonical);
    let loaded = if first { dlopen(&path) } else { dlopen_copy(&path) };
    let library = match loaded {
        Ok(library) => library,
        Err(reason) => {
            unregister(first.then_some(&canonical));
            return Err(LoadError::Open { path, reason });
        }
    };
    let registered = first.then_some(canonical);
    let validated = validate(&library, &path);
    match validated {
        Ok(descriptor) => Ok(Arc::new(Library { _library: library, path, registered, descriptor })),
        Err(error) => {
            unregister(registered.as_ref());
            Err(error)
        }
    }
}

fn mapped() -> std::sync::MutexGuard<'static, Mapped> {
    MAPPED.lock().unwrap_or_else(|poison| poison.into_inner())
}

fn unregister(canonical: Option<&PathBuf>) {
    if let Some(canonical) = canonical {
        mapped().open.remove(canonical);
    }
}

/// Opens `path` with `RTLD_NODELETE`: unloading a plugin ends everything
/// of it (tasks, timers, IO, blocking jobs, the instance), but its code stays
/// mapped. The plugin's copy of std registers thread-exit destructors on
/// every thread that ran its code (the driver, blocking-pool threads); were
/// the code unmapped, those threads would crash when they exit (seen as a
/// SIGSEGV in `__nptl_deallocate_tsd` in the end-to-end tests).
fn dlopen(path: &Path) -> Result<libloading::Library, String> {
    #[cfg(unix)]
    {
        use libloading::os::unix::{Library, RTLD_LOCAL, RTLD_NOW};
        // SAFETY: loading a library runs its static initialisers. For a Rust
        // cdylib that is only std's own setup; no plugin code runs before `create`.
        unsafe { Library::open(Some(path), RTLD_NOW | RTLD_LOCAL | libc::RTLD_NODELETE) }
            .map(libloading::Library::from)
            .map_err(|error| loader_message(&error))
    }
    #[cfg(not(unix))]
    {
        // SAFETY: as above.
        unsafe { libloading::Library::new(path) }.map_err(|error| loader_message(&error))
    }
}

/// Loads a private copy of `path` (removed again once mapped).
fn dlopen_copy(path: &Path) -> Result<libloading::Library, String> {
    static COPIES: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let copy = std::env::temp_dir().join(format!(
        "tau-{}-{}-{name}",
        std::process::id(),
        COPIES.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::copy(path, &copy).map_err(|error| format!("copying it to {}: {error}", copy.display()))?;
    let loaded = dlopen(&copy);
    // The mapping outlives the file.
    let _ = std::fs::remove_file(&copy);
    loaded
}

/// Checks the header and descriptor; returns the descriptor.
fn validate(library: &libloading::Library, path: &Path) -> Result<*const PluginDescriptor, LoadError> {
    let path = path.to_path_buf();
    let symbol = format!("{PLUGIN_SYMBOL}\0");
    // SAFETY: the symbol's address is only read after the checks below.
    let header: *const PluginHeader = match unsafe { library.get::<*const PluginHeader>(symbol.as_bytes()) } {
        Ok(symbol) => *symbol,
        Err(_) => {
            return Err(LoadError::NotAPlugin {
                path,
                reason: format!("it exports no `{PLUGIN_SYMBOL}` symbol"),
            })
        }
    };
    // SAFETY: a `TAU_PLUGIN` symbol is at least a header's first two fields
    // (magic and version, fixed forever); the rest is read only once they match.
    let (magic, abi_version) = unsafe { ((*header).magic, (*header).abi_version) };
    if magic != PLUGIN_MAGIC {
        return Err(LoadError::NotAPlugin {
            path,
            reason: format!("`{PLUGIN_SYMBOL}` does not start with tau's magic bytes"),
        });
    }
    if abi_version != PLUGIN_ABI_VERSION {
        return Err(LoadError::Incompatible {
            path,
            what: format!(
                "built for plugin ABI version {abi_version}, but this host speaks version {PLUGIN_ABI_VERSION}"
            ),
        });
    }
    // SAFETY: magic and version match, so the header has this layout.
    let header = unsafe { &*header };
    check_layout(&path, header)?;
    let descriptor = header.descriptor;
    check_versions(&path, descriptor)?;
    Ok(descriptor)
}

fn check_layout(path: &Path, header: &PluginHeader) -> Result<(), LoadError> {
    // Fresh globals: the checker must keep nothing that points into a library
    // that may be unmapped later.
    let globals = CheckingGlobals::new();
    // SAFETY (of the 'static): the plugin's layout lives in the library, which
    // stays mapped for this call; nothing of it is kept afterwards (the
    // error is rendered to a String at once).
    let plugin_layout = header.layout;
    check_layout_compatibility_with_globals(PluginDescriptor::LAYOUT, plugin_layout, &globals).map_err(
        |errors| LoadError::Incompatible {
            path: path.to_path_buf(),
            what: format!("its descriptor's layout differs from the host's:\n{errors}"),
        },
    )
}

fn check_versions(path: &Path, descriptor: &PluginDescriptor) -> Result<(), LoadError> {
    let incompatible = |what: String| Err(LoadError::Incompatible { path: path.to_path_buf(), what });
    if descriptor.rustc_version.as_str() != tau::plugin::RUSTC_VERSION {
        return incompatible(format!(
            "built with {}, host uses {}",
            descriptor.rustc_version,
            tau::plugin::RUSTC_VERSION
        ));
    }
    if descriptor.sdk_version.as_str() != tau::plugin::SDK_VERSION {
        return incompatible(format!(
            "built against tau-sdk {}, host uses tau-sdk {}",
            descriptor.sdk_version,
            tau::plugin::SDK_VERSION
        ));
    }
    if descriptor.runtime_abi_version != tau_rt::abi::ABI_VERSION {
        return incompatible(format!(
            "speaks runtime table ABI version {}, host speaks {}",
            descriptor.runtime_abi_version,
            tau_rt::abi::ABI_VERSION
        ));
    }
    if !descriptor.panic_unwind {
        return incompatible(
            "built with panic = \"abort\", so a panic in it would take the host down; plugins need panic = \"unwind\""
                .to_string(),
        );
    }
    Ok(())
}

/// The dynamic loader's message without the repeated path.
fn loader_message(error: &libloading::Error) -> String {
    let text = error.to_string();
    match text.rsplit_once(": ") {
        Some((_, reason)) if !reason.is_empty() => reason.to_string(),
        _ => text,
    }
}
