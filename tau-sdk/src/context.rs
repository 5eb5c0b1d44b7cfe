//! Which runtime table this code talks to.
//!
//! In order: the runtime entered on this thread (inside `Runtime::block_on`,
//! a `Handle::enter` guard, or a blocking-pool closure), else the table the
//! host handed this plugin, else the embedded runtime, started on first use.

use std::cell::Cell;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::OnceLock;

use tau_rt::abi::{RuntimeTable, ABI_VERSION};

use crate::ffi_waker;

/// A reference to a runtime table. `counted` tables belong to runtimes that
/// can be dropped (made with `Runtime::new`), so holders that may outlive a
/// scope take a reference with `retain`; the host's table and the embedded
/// runtime live for the whole time this code is loaded.
#[derive(Clone, Copy)]
pub(crate) struct TableRef {
    table: &'static RuntimeTable,
    counted: bool,
}

// SAFETY: the table is immutable and its functions are thread-safe (ABI contract).
unsafe impl Send for TableRef {}
// SAFETY: as above.
unsafe impl Sync for TableRef {}

impl TableRef {
    /// # Safety
    /// `table` must stay valid while this reference (or a retained copy) is in use.
    pub(crate) unsafe fn new(table: &RuntimeTable, counted: bool) -> TableRef {
        ffi_waker::register_vtable(table.task_waker_vtable);
        // SAFETY: lifetime extended per the function contract.
        let table: &'static RuntimeTable = unsafe { &*(table as *const RuntimeTable) };
        TableRef { table, counted }
    }

    pub(crate) fn get(self) -> &'static RuntimeTable {
        self.table
    }

    /// Takes a reference keeping the runtime's table alive (no-op for tables
    /// that live forever).
    pub(crate) fn retain(self) {
        if self.counted {
            // SAFETY: the table is alive (we hold it) and `rt` is its context.
            unsafe { (self.table.retain)(self.table.rt) }
        }
    }

    /// Drops a reference taken by [`retain`](Self::retain).
    pub(crate) fn release(self) {
        if self.counted {
            // SAFETY: balances a `retain`.
            unsafe { (self.table.release)(self.table.rt) }
        }
    }
}

thread_local! {
    static ENTERED: Cell<Option<TableRef>> = const { Cell::new(None) };
}

static HOST_TABLE: AtomicPtr<RuntimeTable> = AtomicPtr::new(std::ptr::null_mut());
static EMBEDDED: OnceLock<(tau_rt::Runtime, TableRef)> = OnceLock::new();

/// The table code on this thread uses now.
pub(crate) fn current() -> TableRef {
    if let Some(entered) = ENTERED.with(Cell::get) {
        return entered;
    }
    host().unwrap_or_else(embedded)
}

/// The entered or host runtime, without starting the embedded one.
pub(crate) fn try_current() -> Option<TableRef> {
    ENTERED.with(Cell::get).or_else(host).or_else(|| EMBEDDED.get().map(|(_, table)| *table))
}

fn host() -> Option<TableRef> {
    let table = HOST_TABLE.load(Ordering::Acquire);
    // SAFETY: a host table stays valid until the plugin is unloaded, after
    // which none of this plugin's code runs.
    (!table.is_null()).then(|| unsafe { TableRef::new(&*table, false) })
}

fn embedded() -> TableRef {
    EMBEDDED
        .get_or_init(|| {
            let runtime = tau_rt::Runtime::new()
                .unwrap_or_else(|error| panic!("tau: could not start the embedded runtime: {error}"));
            // SAFETY: the embedded runtime lives in a static and is never dropped.
            let table = unsafe { TableRef::new(runtime.table(), false) };
            (runtime, table)
        })
        .1
}

/// Makes `table` the current runtime on this thread until the guard drops.
pub(crate) fn enter(table: TableRef) -> EnterGuard {
    let previous = ENTERED.with(|cell| cell.replace(Some(table)));
    EnterGuard { previous }
}

pub(crate) struct EnterGuard {
    previous: Option<TableRef>,
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        ENTERED.with(|cell| cell.set(self.previous));
    }
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
    /// A host table was already installed.
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
            HostTableError::AlreadySet => write!(f, "a host runtime table is already installed"),
        }
    }
}

impl std::error::Error for HostTableError {}

/// Forgets the host's table (the plugin instance is gone; a new load installs a new one).
pub(crate) fn clear_host_table() {
    HOST_TABLE.store(std::ptr::null_mut(), Ordering::Release);
}

/// Installs the host's runtime table (called by the plugin's generated init).
///
/// # Safety
/// `table` must stay valid until this plugin is unloaded.
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
    HOST_TABLE
        .compare_exchange(
            std::ptr::null_mut(),
            table as *mut RuntimeTable,
            Ordering::AcqRel,
            Ordering::Acquire,
        )
        .map(|_| ())
        .map_err(|_| HostTableError::AlreadySet)
}
