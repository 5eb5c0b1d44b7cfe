//! Opening a plugin library and validating its header and descriptor
//! before any of its code runs.
//!
//! Order: the path is a regular file (checked before it is opened: opening
//! a FIFO waits for a writer); it opens as a shared library (which runs its
//! static constructors: see below); it exports `TAU_PLUGIN`, a data object big
//! enough for the header's fixed prefix; the prefix's magic and ABI version
//! match; the symbol has the size of this host's header; the header's
//! inline rustc, tau-sdk (version and source hash) and runtime-ABI versions
//! and panic strategy match.
//! Only then does the host touch the library: it installs its allocator in
//! the header's slot, checks the descriptor's layout with `abi_stable`
//! (which calls functions the library supplies), and later calls `create`.
//!
//! These checks catch accidents (another compiler, another tau-sdk, a stale
//! or truncated file, a library that is not a plugin). They do not make
//! loading untrusted code safe: `dlopen` runs a library's constructors
//! before anything can be checked.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use abi_stable::abi_stability::abi_checking::{check_layout_compatibility_with_globals, CheckingGlobals};
use abi_stable::StableAbi;
use tau::plugin::abi::{
    PluginDescriptor, PluginHeader, HEADER_PREFIX_SIZE, PLUGIN_ABI_VERSION, PLUGIN_MAGIC, PLUGIN_SYMBOL,
};

use crate::error::LoadError;

/// Every library file this process mapped under its own name, by any host:
/// by path (the dynamic loader finds a loaded library by the name it was
/// opened with) and by file identity (and by device and inode, so a hard
/// link to a mapped file is the same file).
///
/// Libraries are never unmapped (`RTLD_NODELETE`, see [`dlopen`]), and a
/// second `dlopen` of a mapped file hands back the first mapping with its
/// statics, among them the plugin's runtime table, its allocator slot and
/// whatever the plugin keeps in a `static`. So a file is mapped under its
/// own name once, for its first instance; every later instance (a second
/// load, a reload after an unload, a load through a hard link, a rebuild in
/// place) maps a private copy, with statics of its own.
static MAPPED: Mutex<Mapped> = Mutex::new(Mapped { paths: Vec::new(), files: Vec::new() });

struct Mapped {
    paths: Vec<PathBuf>,
    files: Vec<FileId>,
}

/// What tells one file from another: its device and inode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct FileId {
    device: u64,
    inode: u64,
}

impl FileId {
    fn of(path: &Path) -> Option<FileId> {
        let metadata = std::fs::metadata(path).ok()?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            Some(FileId { device: metadata.dev(), inode: metadata.ino() })
        }
        #[cfg(not(unix))]
        {
            let _ = metadata;
            None
        }
    }
}

impl Mapped {
    /// Whether `canonical` can be mapped under its own name (never before,
    /// under this name or another); if so, it is recorded as mapped.
    fn claim(&mut self, canonical: &Path) -> bool {
        let Some(file) = FileId::of(canonical) else { return false };
        if self.files.contains(&file) || self.paths.iter().any(|path| path == canonical) {
            return false;
        }
        self.files.push(file);
        self.paths.push(canonical.to_path_buf());
        true
    }

    /// Forgets a claim whose `dlopen` failed (nothing was mapped).
    fn unclaim(&mut self, canonical: &Path) {
        let file = FileId::of(canonical);
        self.paths.retain(|path| path != canonical);
        self.files.retain(|mapped| Some(*mapped) != file);
    }
}

/// An open, validated plugin library. The library stays mapped while any
/// clone of the `Arc` lives (plugins, and calls still in flight), and in
/// fact for the life of the process.
pub(crate) struct Library {
    /// Kept for its Drop; everything borrowed from it is tied to its lifetime.
    _library: libloading::Library,
    path: PathBuf,
    descriptor: *const PluginDescriptor,
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

/// Opens `path` (its own mapping the first time, a private copy after) and
/// validates it.
pub(crate) fn open(path: &Path) -> Result<Arc<Library>, LoadError> {
    let path = path.to_path_buf();
    let Ok(metadata) = std::fs::metadata(&path) else {
        return Err(LoadError::NotFound { path });
    };
    // Before anything opens it: opening a FIFO waits for a writer.
    if !metadata.is_file() {
        return Err(LoadError::NotAFile { path, kind: kind_of(&metadata.file_type()) });
    }
    let canonical = path.canonicalize().unwrap_or_else(|_| path.clone());
    let first = mapped().claim(&canonical);
    let loaded = if first { dlopen(&canonical) } else { dlopen_copy(&canonical) };
    let library = loaded.map_err(|reason| {
        if first {
            mapped().unclaim(&canonical);
        }
        LoadError::Open { path: path.clone(), reason }
    })?;
    let descriptor = validate(&library, &path)?;
    Ok(Arc::new(Library { _library: library, path, descriptor }))
}

/// What a file that is not a regular one is, for the error.
fn kind_of(file_type: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO";
        }
        if file_type.is_socket() {
            return "a socket";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
    }
    if file_type.is_dir() {
        return "a directory";
    }
    "not a file"
}

fn mapped() -> std::sync::MutexGuard<'static, Mapped> {
    MAPPED.lock().unwrap_or_else(|poison| poison.into_inner())
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
        // cdylib that is only std's own setup; no plugin code runs before
        // `create` (see the module docs for what this does not protect against).
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

/// Loads a private copy of `path`, made in a directory only this user can
/// write (so nobody can swap the file between the copy and the `dlopen`),
/// and removed again once mapped.
///
/// Copies are named `<pid>-<n>-<file name>`, `n` counting this process's
/// copies. Something already at that name is not ours: a leftover of a
/// process that had this pid and died before removing its copy (or is
/// someone else's). It is skipped for the next name, never replaced.
fn dlopen_copy(path: &Path) -> Result<libloading::Library, String> {
    static COPIES: AtomicU64 = AtomicU64::new(0);
    /// Names skipped before giving up: a crash leaves a few copies at most.
    const SKIPS: usize = 1000;
    let dir =
        crate::private_dir::copies_dir().map_err(|error| format!("cannot make a private copy: {error}"))?;
    let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let mut skipped = 0;
    let copy = loop {
        let copy =
            dir.join(format!("{}-{}-{name}", std::process::id(), COPIES.fetch_add(1, Ordering::Relaxed)));
        match crate::private_dir::copy_new(path, &copy) {
            Ok(()) => break copy,
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists && skipped < SKIPS => {
                skipped += 1
            }
            Err(error) => {
                let advice = if error.kind() == std::io::ErrorKind::AlreadyExists {
                    format!(
                        " ({SKIPS} names before it were taken too: remove what is left over in {})",
                        dir.display()
                    )
                } else {
                    String::new()
                };
                return Err(format!("copying it to {}: {error}{advice}", copy.display()));
            }
        }
    };
    let loaded = dlopen(&copy);
    // The mapping outlives the file.
    let _ = std::fs::remove_file(&copy);
    loaded
}

/// Checks the header and descriptor (see the module docs for the order),
/// installs the host's allocator; returns the descriptor.
fn validate(library: &libloading::Library, path: &Path) -> Result<*const PluginDescriptor, LoadError> {
    let not_a_plugin = |reason: String| LoadError::NotAPlugin { path: path.to_path_buf(), reason };
    let incompatible = |what: String| LoadError::Incompatible { path: path.to_path_buf(), what };
    let symbol = format!("{PLUGIN_SYMBOL}\0");
    // SAFETY: only the symbol's address is taken; it is read after the checks below.
    let header: *const PluginHeader = match unsafe { library.get::<*const PluginHeader>(symbol.as_bytes()) } {
        Ok(symbol) => *symbol,
        Err(_) => return Err(not_a_plugin(format!("it exports no `{PLUGIN_SYMBOL}` symbol"))),
    };
    let size = crate::symbol::object_size(header.cast()).map_err(not_a_plugin)?;
    if size.is_some_and(|size| size < HEADER_PREFIX_SIZE) {
        return Err(not_a_plugin(format!(
            "`{PLUGIN_SYMBOL}` is {} bytes, too small for a tau header",
            size.unwrap_or(0)
        )));
    }
    // SAFETY: the symbol is a data object of at least the prefix's size
    // (magic and version, fixed forever); unaligned reads, as it is unchecked.
    let (magic, abi_version) = unsafe {
        (
            std::ptr::read_unaligned(header.cast::<[u8; 8]>()),
            std::ptr::read_unaligned(header.cast::<u8>().add(8).cast::<u32>()),
        )
    };
    if magic != PLUGIN_MAGIC {
        return Err(not_a_plugin(format!("`{PLUGIN_SYMBOL}` does not start with tau's magic bytes")));
    }
    if abi_version != PLUGIN_ABI_VERSION {
        return Err(incompatible(format!(
            "built for plugin ABI version {abi_version}, but this host speaks version {PLUGIN_ABI_VERSION}"
        )));
    }
    let expected = std::mem::size_of::<PluginHeader>();
    if let Some(size) = size.filter(|&size| size != expected) {
        return Err(incompatible(format!(
            "its header is {size} bytes, this host's is {expected}: built against another tau-sdk"
        )));
    }
    if header.align_offset(std::mem::align_of::<PluginHeader>()) != 0 {
        return Err(not_a_plugin(format!("`{PLUGIN_SYMBOL}` is not aligned as a tau header")));
    }
    // SAFETY: magic, version and size match, and it is aligned: it is a header.
    let header = unsafe { &*header };
    if header.header_size as usize != expected {
        return Err(incompatible(format!(
            "its header says it is {} bytes, this host's is {expected}: built against another tau-sdk",
            header.header_size
        )));
    }
    check_versions(header).map_err(incompatible)?;
    // Before any of the library's functions runs (the layout check calls some).
    if !header.allocator.install(&tau_rt::GLOBAL_ALLOCATOR) {
        return Err(incompatible(
            "its allocator slot already holds another allocator (the library was set up by another program)"
                .to_string(),
        ));
    }
    check_layout(header).map_err(incompatible)?;
    Ok(header.descriptor)
}

/// Compares the header's inline versions and panic strategy with the host's.
fn check_versions(header: &PluginHeader) -> Result<(), String> {
    if !header.rustc_version.is(tau::plugin::RUSTC_VERSION) {
        return Err(format!(
            "built with {}, host uses {}",
            header.rustc_version.to_string_lossy(),
            tau::plugin::RUSTC_VERSION
        ));
    }
    if !header.sdk_version.is(tau::plugin::SDK_VERSION) {
        return Err(format!(
            "built against tau-sdk {}, host uses tau-sdk {}",
            header.sdk_version.to_string_lossy(),
            tau::plugin::SDK_VERSION
        ));
    }
    if !header.sdk_source_hash.is(tau::plugin::SDK_SOURCE_HASH) {
        return Err(format!(
            "built against tau-sdk {} with sources hashed {}, but this host's tau-sdk {} has sources hashed {}: the same version, changed code; build the host and the plugin from the same tau-sdk",
            header.sdk_version.to_string_lossy(),
            header.sdk_source_hash.to_string_lossy(),
            tau::plugin::SDK_VERSION,
            tau::plugin::SDK_SOURCE_HASH
        ));
    }
    if let Err(tau_abi::runtime::Incompatible::Version { found, expected }) =
        tau_abi::runtime::check_abi_version(header.runtime_abi_version)
    {
        return Err(format!("speaks runtime table ABI version {found}, host speaks {expected}"));
    }
    if !header.panic_unwind {
        return Err(
            "built with panic = \"abort\", so a panic in it would take the host down; plugins need panic = \"unwind\""
                .to_string(),
        );
    }
    Ok(())
}

fn check_layout(header: &PluginHeader) -> Result<(), String> {
    // Fresh globals: the checker must keep nothing that points into the library.
    let globals = CheckingGlobals::new();
    // The plugin's layout lives in the library, which stays mapped; nothing
    // of it is kept (the error is rendered to a String at once).
    check_layout_compatibility_with_globals(PluginDescriptor::LAYOUT, header.layout, &globals)
        .map_err(|errors| format!("its descriptor's layout differs from the host's:\n{errors}"))
}

/// The dynamic loader's message without the repeated path.
fn loader_message(error: &libloading::Error) -> String {
    let text = error.to_string();
    match text.rsplit_once(": ") {
        Some((_, reason)) if !reason.is_empty() => reason.to_string(),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_claimed_once_by_path_or_by_identity() {
        let dir = std::env::temp_dir().join(format!("tau-mapped-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("libx.so");
        std::fs::write(&file, b"x").unwrap();
        let link = dir.join("libx-deadbeef.so");
        let _ = std::fs::remove_file(&link);
        std::fs::hard_link(&file, &link).unwrap();
        let mut mapped = Mapped { paths: Vec::new(), files: Vec::new() };
        assert!(mapped.claim(&file));
        assert!(!mapped.claim(&file), "a second instance gets a copy");
        assert!(!mapped.claim(&link), "a hard link is the same file");
        // A rebuild in place: a new file (new inode) at a mapped path.
        std::fs::remove_file(&file).unwrap();
        std::fs::write(&file, b"y").unwrap();
        assert!(!mapped.claim(&file), "the loader would find the old mapping by name");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
