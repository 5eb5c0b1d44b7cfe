//! Which runtime table this code talks to.
//!
//! In order: the runtime entered on this thread (inside `block_on`, a task's
//! poll, a blocking-pool closure, or a `Handle::enter` guard), else the
//! table the host handed this plugin. Outside of both, [`current`] panics
//! with tokio's message (there is no runtime to run the work); only
//! [`crate::block_on`], which drives what it starts, falls back to the
//! embedded runtime, started on first use.

use std::cell::Cell;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::sync::OnceLock;

use tau_rt::abi::{RuntimeTable, ABI_VERSION};

use crate::ffi_waker;

/// A counted reference to a runtime table: made with the table's `retain`,
/// given back with its `release` when dropped, so the table (and the scope
/// or runtime behind it) stays valid while this lives.
pub(crate) struct TableRef {
    table: &'static RuntimeTable,
}

// SAFETY: the table is immutable and its functions are thread-safe (ABI contract).
unsafe impl Send for TableRef {}
// SAFETY: as above.
unsafe impl Sync for TableRef {}

impl TableRef {
    /// Takes a new reference on `table`.
    ///
    /// # Safety
    /// `table` is valid now (the caller holds a reference to it, or it is
    /// kept alive for the duration of this call by its owner).
    pub(crate) unsafe fn retain(table: &RuntimeTable) -> TableRef {
        // SAFETY: per the contract; `rt` is the table's own context.
        unsafe { (table.retain)(table.rt) };
        // SAFETY: our reference keeps the table valid until `Drop`.
        TableRef { table: unsafe { &*(table as *const RuntimeTable) } }
    }

    pub(crate) fn get(&self) -> &RuntimeTable {
        self.table
    }
}

impl Clone for TableRef {
    fn clone(&self) -> Self {
        // SAFETY: we hold a reference, so the table is valid.
        unsafe { TableRef::retain(self.table) }
    }
}

impl Drop for TableRef {
    fn drop(&mut self) {
        // SAFETY: gives back the reference this value holds, once.
        unsafe { (self.table.release)(self.table.rt) }
    }
}

/// What is entered on a thread.
#[derive(Default)]
enum Entered {
    #[default]
    Nothing,
    /// By a scope that cannot end out of order (a task's poll, `block_on`, a
    /// blocking job): borrowed from it, valid until it ends, and then
    /// replaced by what it found.
    Scoped(*const RuntimeTable),
    /// By a public guard, which may be dropped in any order or forgotten:
    /// owned by the thread-local.
    Guarded(TableRef),
}

impl Entered {
    /// An owned form of the same: a scoped table gets a reference of its own.
    fn to_owned(&self) -> Entered {
        match self {
            Entered::Nothing => Entered::Nothing,
            // SAFETY: a scoped table is valid while it is entered, which it is now.
            Entered::Scoped(table) => Entered::Guarded(unsafe { TableRef::retain(&**table) }),
            Entered::Guarded(table) => Entered::Guarded(table.clone()),
        }
    }

    fn table(&self) -> Option<TableRef> {
        match self.to_owned() {
            Entered::Guarded(table) => Some(table),
            _ => None,
        }
    }
}

thread_local! {
    /// The table entered on this thread.
    static ENTERED: Cell<Entered> = const { Cell::new(Entered::Nothing) };
}

/// Runs `f` with what is entered on this thread.
fn with_entered<R>(f: impl FnOnce(&Entered) -> R) -> R {
    ENTERED.with(|cell| {
        let entered = cell.take();
        let result = f(&entered);
        cell.set(entered);
        result
    })
}

/// The host's table (null: not loaded by a host; the gone table after the unload).
static HOST_TABLE: AtomicPtr<RuntimeTable> = AtomicPtr::new(std::ptr::null_mut());
/// Threads between reading `HOST_TABLE` and retaining what they read; the
/// unload waits for them before it gives back the plugin's own reference.
static HOST_READERS: AtomicUsize = AtomicUsize::new(0);
static EMBEDDED: OnceLock<(tau_rt::Runtime, TableRef)> = OnceLock::new();

const NO_RUNTIME: &str = "there is no reactor running, must be called from the context of a tau runtime: \
inside `tau::block_on`, `#[tau::main]` or `#[tau::test]`, a task, a `Handle::enter` guard, or a plugin \
loaded by a host";

/// The table code on this thread uses now.
///
/// # Panics
/// Outside any runtime (see the module docs), with tokio's message.
#[track_caller]
pub(crate) fn current() -> TableRef {
    try_current().unwrap_or_else(|| panic!("{NO_RUNTIME}"))
}

/// The entered or host table, if there is one.
pub(crate) fn try_current() -> Option<TableRef> {
    with_entered(Entered::table).or_else(host)
}

/// The current table, or the embedded runtime's (started on first use).
pub(crate) fn current_or_embedded() -> TableRef {
    try_current().unwrap_or_else(|| embedded().clone())
}

fn host() -> Option<TableRef> {
    HOST_READERS.fetch_add(1, Ordering::SeqCst);
    let table = HOST_TABLE.load(Ordering::SeqCst);
    // SAFETY: the unload waits for `HOST_READERS` to drain before it gives
    // back the reference that keeps a host table valid, so what we read
    // here is valid until we have our own reference.
    let current = (!table.is_null()).then(|| unsafe { TableRef::retain(&*table) });
    HOST_READERS.fetch_sub(1, Ordering::SeqCst);
    current
}

fn embedded() -> &'static TableRef {
    &EMBEDDED
        .get_or_init(|| {
            let runtime = tau_rt::Runtime::new()
                .unwrap_or_else(|error| panic!("tau: could not start the embedded runtime: {error}"));
            ffi_waker::register_vtable(runtime.table().task_waker_vtable);
            // SAFETY: the runtime is alive; it lives in a static and is never dropped.
            let table = unsafe { TableRef::retain(runtime.table()) };
            (runtime, table)
        })
        .1
}

/// True once the embedded runtime was started (tests of this crate).
#[cfg(test)]
pub(crate) fn embedded_started() -> bool {
    EMBEDDED.get().is_some()
}

/// Makes `table` the current runtime on this thread for a scope that ends
/// in order (the returned value is dropped before `table`'s owner lets it
/// go, and never outlives the code that made it): no reference is taken.
pub(crate) fn enter_scoped(table: &TableRef) -> ScopedEnter {
    let previous = ENTERED.with(|cell| cell.replace(Entered::Scoped(table.get())));
    ScopedEnter { previous: Some(previous) }
}

pub(crate) struct ScopedEnter {
    previous: Option<Entered>,
}

impl Drop for ScopedEnter {
    fn drop(&mut self) {
        let inner = ENTERED.with(|cell| cell.replace(self.previous.take().unwrap_or_default()));
        drop(inner); // a guard's table entered inside the scope and not left: released
    }
}

/// Makes `table` the current runtime on this thread until the guard drops,
/// in whatever order guards are dropped (or if it is forgotten): the
/// thread-local owns a reference to what it holds, and the guard to what it
/// will put back.
pub(crate) fn enter(table: &TableRef) -> EnterGuard {
    let previous = ENTERED.with(|cell| {
        let previous = cell.take();
        let owned = previous.to_owned();
        cell.set(Entered::Guarded(table.clone()));
        owned
    });
    EnterGuard { previous: Some(previous) }
}

pub(crate) struct EnterGuard {
    previous: Option<Entered>,
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let inner = ENTERED.with(|cell| cell.replace(self.previous.take().unwrap_or_default()));
        drop(inner);
    }
}

/// True if this thread drives the runtime it would use now.
pub(crate) fn is_driving() -> bool {
    try_current().is_some_and(|table| {
        let table = table.get();
        // SAFETY: we hold a reference to the table.
        unsafe { (table.is_driver_thread)(table.rt) }
    })
}

/// Why a host table was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostTableError {
    /// The table's ABI version differs from the one this SDK was built for.
    AbiVersion {
        /// What the host's runtime speaks.
        host: u32,
        /// What this plugin's SDK speaks.
        plugin: u32,
    },
    /// The table is smaller than this SDK's idea of it.
    Size {
        /// Size reported by the table.
        host: u32,
        /// Size this SDK expects at least.
        plugin: u32,
    },
    /// A host table was already installed in this copy of the plugin.
    AlreadySet,
}

impl std::fmt::Display for HostTableError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HostTableError::AbiVersion { host, plugin } => write!(
                f,
                "runtime table ABI version {host} from the host, but this plugin speaks {plugin}; rebuild the plugin against the host's tau-sdk"
            ),
            HostTableError::Size { host, plugin } => write!(
                f,
                "runtime table of {host} bytes from the host, but this plugin needs {plugin}; rebuild the plugin against the host's tau-sdk"
            ),
            HostTableError::AlreadySet => write!(
                f,
                "this copy of the plugin already has a host runtime table; a host loads each instance from a fresh copy of the library"
            ),
        }
    }
}

impl std::error::Error for HostTableError {}

/// Installs the host's runtime table (called by the plugin's generated
/// `create`), keeping a reference to it until [`uninstall_host_table`].
///
/// # Safety
/// `table` points to a live table.
pub(crate) unsafe fn set_host_table(table: *const RuntimeTable) -> Result<(), HostTableError> {
    // SAFETY: per the contract, `table` points to a live table.
    let view = unsafe { &*table };
    if view.abi_version != ABI_VERSION {
        return Err(HostTableError::AbiVersion { host: view.abi_version, plugin: ABI_VERSION });
    }
    let needed = std::mem::size_of::<RuntimeTable>() as u32;
    if view.size < needed {
        return Err(HostTableError::Size { host: view.size, plugin: needed });
    }
    ffi_waker::register_vtable(view.task_waker_vtable);
    // SAFETY: the table is live (contract).
    let reference = unsafe { TableRef::retain(view) };
    HOST_TABLE
        .compare_exchange(
            std::ptr::null_mut(),
            table as *mut RuntimeTable,
            Ordering::SeqCst,
            Ordering::SeqCst,
        )
        .map_err(|_| HostTableError::AlreadySet)?;
    // The reference now belongs to `HOST_TABLE`, given back by `uninstall_host_table`.
    std::mem::forget(reference);
    Ok(())
}

/// Forgets the host's table (the plugin instance is gone): code of this
/// plugin that still runs gets the gone table from now on, and the
/// reference `set_host_table` took is given back.
pub(crate) fn uninstall_host_table() {
    let gone = tau_rt::gone_table() as *const RuntimeTable as *mut RuntimeTable;
    let previous = HOST_TABLE.swap(gone, Ordering::SeqCst);
    if previous.is_null() || previous == gone {
        return;
    }
    // Readers that saw `previous` retain it before they leave; wait for them.
    while HOST_READERS.load(Ordering::SeqCst) != 0 {
        std::thread::yield_now();
    }
    // SAFETY: `previous` is the table installed by `set_host_table`, whose
    // reference `HOST_TABLE` held until now; given back once, here.
    unsafe { ((*previous).release)((*previous).rt) };
}
