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

use tau_rt::abi::{Incompatible, RuntimeTable};

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

    /// The table, keeping the reference (see [`from_raw`](Self::from_raw)).
    fn into_raw(self) -> *const RuntimeTable {
        let table = self.table as *const RuntimeTable;
        std::mem::forget(self);
        table
    }

    /// Takes back a reference given up by [`into_raw`](Self::into_raw).
    ///
    /// # Safety
    /// `table` came from `into_raw`, and is taken back once.
    unsafe fn from_raw(table: *const RuntimeTable) -> TableRef {
        // SAFETY: per the contract, the reference is still held, so the table is valid.
        TableRef { table: unsafe { &*table } }
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

/// What is entered on a thread: a table, and whether the thread-local holds
/// a reference to it (entered by a public guard, which may be dropped in any
/// order, or forgotten) or borrows it (entered by a scope that ends in
/// order: a task's poll, `block_on`, a blocking job, which puts back what it
/// found before its table can go). Plain data, so that the thread-local
/// needs no destructor and stays a fast one.
#[derive(Clone, Copy)]
struct Entered {
    table: *const RuntimeTable,
    owned: bool,
}

const NOTHING: Entered = Entered { table: std::ptr::null(), owned: false };

impl Entered {
    /// A reference to the entered table, if there is one.
    fn table(self) -> Option<TableRef> {
        // SAFETY: an entered table is valid while it is entered (owned by
        // the thread-local, or by the scope that entered it).
        (!self.table.is_null()).then(|| unsafe { TableRef::retain(&*self.table) })
    }

    /// The same, with a reference of its own: what a guard keeps to put back.
    fn into_owned(self) -> Entered {
        if self.owned || self.table.is_null() {
            return self;
        }
        // SAFETY: as in `table`; the new reference is the guard's.
        let table = unsafe { TableRef::retain(&*self.table) };
        Entered { table: table.into_raw(), owned: true }
    }

    /// Gives back the reference this holds, if it owns one.
    fn release(self) {
        if self.owned {
            // SAFETY: an owned entry holds one reference, given back once, here.
            drop(unsafe { TableRef::from_raw(self.table) });
        }
    }
}

thread_local! {
    /// The table entered on this thread.
    static ENTERED: Cell<Entered> = const { Cell::new(NOTHING) };
    /// Gives back, when the thread ends, a reference a guard left entered
    /// (a guard forgotten, or one that put back a table entered before it).
    /// A thread-local of its own, so that `ENTERED` needs no destructor.
    static RELEASE_AT_EXIT: ReleaseAtExit = const { ReleaseAtExit };
}

thread_local! {
    /// Set while a stream of an unloaded plugin gives out what it holds
    /// (see [`draining`]).
    static DRAINING: Cell<bool> = const { Cell::new(false) };
}

/// Runs `poll` (a poll of a stream whose plugin is gone) so that what
/// waits on the gone runtime (a `Sleep`, an `AsyncFd`) stays pending
/// instead of completing: the stream gives what it already holds and
/// nothing it would make from now on.
pub(crate) fn draining<R>(poll: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            DRAINING.with(|flag| flag.set(self.0));
        }
    }
    let _restore = Restore(DRAINING.with(|flag| flag.replace(true)));
    poll()
}

/// True inside [`draining`].
pub(crate) fn is_draining() -> bool {
    DRAINING.with(Cell::get)
}

struct ReleaseAtExit;

impl Drop for ReleaseAtExit {
    fn drop(&mut self) {
        let _ = ENTERED.try_with(|cell| cell.replace(NOTHING).release());
    }
}

/// The host's table (null: not loaded by a host; the gone table after the unload).
static HOST_TABLE: AtomicPtr<RuntimeTable> = AtomicPtr::new(std::ptr::null_mut());
/// Threads between reading `HOST_TABLE` and retaining what they read; the
/// unload waits for them before it gives back the plugin's own reference.
static HOST_READERS: AtomicUsize = AtomicUsize::new(0);
static EMBEDDED: OnceLock<(tau_rt::Runtime, TableRef)> = OnceLock::new();

const NO_RUNTIME: &str =
    "there is no reactor running, must be called from the context of a Tokio 1.x runtime \
(tau: inside `tau::block_on`, `#[tau::main]` or `#[tau::test]`, a task, a `Handle::enter` guard, or a \
plugin loaded by a host)";

/// The table code on this thread uses now.
///
/// # Panics
/// Outside any runtime (see the module docs), with tokio's message.
#[track_caller]
pub(crate) fn current() -> TableRef {
    // A `match`, not a closure: the panic's location is the caller's.
    match try_current() {
        Some(table) => table,
        None => panic!("{NO_RUNTIME}"),
    }
}

/// The entered or host table, if there is one.
pub(crate) fn try_current() -> Option<TableRef> {
    ENTERED.with(Cell::get).table().or_else(host)
}

/// The current table, or the static gone table outside of any runtime.
pub(crate) fn current_or_gone() -> TableRef {
    // SAFETY: the gone table is static; retaining it is a no-op reference.
    try_current().unwrap_or_else(|| unsafe { TableRef::retain(tau_rt::gone_table()) })
}

/// The current table, or the embedded runtime's (started on first use).
pub(crate) fn current_or_embedded() -> TableRef {
    try_current().unwrap_or_else(|| embedded().clone())
}

pub(crate) fn host() -> Option<TableRef> {
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
#[inline]
pub(crate) fn enter_scoped(table: &TableRef) -> ScopedEnter {
    let wanted: *const RuntimeTable = table.get();
    let previous = ENTERED.with(|cell| {
        // Entered already (a host task polled in the host's `block_on`): nothing to do.
        let current = cell.get();
        (!std::ptr::eq(current.table, wanted)).then(|| cell.replace(Entered { table: wanted, owned: false }))
    });
    ScopedEnter { previous }
}

pub(crate) struct ScopedEnter {
    /// What to put back (`None`: the table was entered already).
    previous: Option<Entered>,
}

impl Drop for ScopedEnter {
    #[inline]
    fn drop(&mut self) {
        if let Some(previous) = self.previous {
            // A guard's table entered inside the scope and not left yet is released.
            ENTERED.with(|cell| cell.replace(previous)).release();
        }
    }
}

/// Makes `table` the current runtime on this thread until the guard drops,
/// in whatever order guards are dropped (or if one is forgotten): the
/// thread-local owns a reference to what a guard entered, and the guard one
/// to what it will put back.
pub(crate) fn enter(table: &TableRef) -> EnterGuard {
    RELEASE_AT_EXIT.with(|_| {}); // registers its destructor
    let entered = Entered { table: table.clone().into_raw(), owned: true };
    let previous = ENTERED.with(|cell| cell.replace(entered)).into_owned();
    EnterGuard { previous }
}

pub(crate) struct EnterGuard {
    previous: Entered,
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        ENTERED.with(|cell| cell.replace(self.previous)).release();
    }
}

/// True if this thread drives the runtime it would use now.
pub(crate) fn is_driving() -> bool {
    try_current().is_some_and(|table| table.is_driver_thread())
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
    view.check_compatible().map_err(|incompatible| match incompatible {
        Incompatible::Version { found, expected } => {
            HostTableError::AbiVersion { host: found, plugin: expected }
        }
        Incompatible::Size { found, expected } => HostTableError::Size { host: found, plugin: expected },
    })?;
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
