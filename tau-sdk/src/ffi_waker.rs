//! Conversions between `std::task::Waker` and the runtime table's
//! [`FfiWaker`], without allocating for the runtime's own wakers.
//!
//! The runtime hands task polls an `FfiWaker` whose vtable the SDK has seen
//! in a runtime table. Such wakers become std wakers that share the data word
//! and use one of a few static std vtables (one per known FFI vtable), so a
//! std waker made from a runtime waker turns back into the same runtime waker
//! with no allocation. Any other std waker (a parker, a `futures` executor's
//! waker) crosses boxed.

use std::ffi::c_void;
use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::task::{Context, RawWaker, RawWakerVTable, Waker};

pub use tau_rt::abi::FfiWaker;
use tau_rt::abi::FfiWakerVTable;

/// Runtime waker vtables seen so far (the host's, the embedded runtime's, ...).
static KNOWN: [AtomicPtr<FfiWakerVTable>; 4] = [
    AtomicPtr::new(std::ptr::null_mut()),
    AtomicPtr::new(std::ptr::null_mut()),
    AtomicPtr::new(std::ptr::null_mut()),
    AtomicPtr::new(std::ptr::null_mut()),
];

/// One std vtable per `KNOWN` slot; the slot tells which FFI vtable to call.
static STD_VTABLES: [RawWakerVTable; 4] = [known::<0>(), known::<1>(), known::<2>(), known::<3>()];

const fn known<const SLOT: usize>() -> RawWakerVTable {
    RawWakerVTable::new(
        known_clone::<SLOT>,
        known_wake::<SLOT>,
        known_wake_by_ref::<SLOT>,
        known_drop::<SLOT>,
    )
}

fn known_vtable(slot: usize) -> &'static FfiWakerVTable {
    // SAFETY: slots are only ever set to `'static` runtime vtables and never cleared.
    unsafe { &*KNOWN[slot].load(Ordering::Acquire) }
}

unsafe fn known_clone<const SLOT: usize>(data: *const ()) -> RawWaker {
    // SAFETY: `data` belongs to this slot's vtable; the clone is owned by the
    // new RawWaker. Runtime wakers clone to the same vtable (ABI contract).
    let cloned = ManuallyDrop::new(unsafe { (known_vtable(SLOT).clone)(data.cast()) });
    RawWaker::new(cloned.data.cast(), &STD_VTABLES[SLOT])
}

unsafe fn known_wake<const SLOT: usize>(data: *const ()) {
    // SAFETY: consumes the owned waker.
    unsafe { (known_vtable(SLOT).wake)(data.cast()) }
}

unsafe fn known_wake_by_ref<const SLOT: usize>(data: *const ()) {
    // SAFETY: `data` is a live waker of this slot.
    unsafe { (known_vtable(SLOT).wake_by_ref)(data.cast()) }
}

unsafe fn known_drop<const SLOT: usize>(data: *const ()) {
    // SAFETY: releases the owned waker exactly once.
    unsafe { (known_vtable(SLOT).drop)(data.cast()) }
}

/// Remembers a runtime's waker vtable so its wakers convert without allocating.
pub(crate) fn register_vtable(vtable: *const FfiWakerVTable) {
    if slot_of_ffi(vtable).is_some() {
        return;
    }
    for slot in &KNOWN {
        match slot.compare_exchange(
            std::ptr::null_mut(),
            vtable as *mut FfiWakerVTable,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => return,
            Err(existing) if std::ptr::eq(existing, vtable) => return,
            Err(_) => continue,
        }
    }
    // More than four runtime vtables: further ones cross boxed (correct, slower).
}

fn slot_of_ffi(vtable: *const FfiWakerVTable) -> Option<usize> {
    KNOWN.iter().position(|slot| std::ptr::eq(slot.load(Ordering::Relaxed), vtable))
}

fn slot_of_std(waker: &Waker) -> Option<usize> {
    STD_VTABLES.iter().position(|vtable| std::ptr::eq(waker.vtable(), vtable))
}

/// Runs `f` with a std waker borrowing `ffi` (valid for this call only).
pub(crate) fn with_std_waker<R>(ffi: &FfiWaker, f: impl FnOnce(&Waker) -> R) -> R {
    let raw = match slot_of_ffi(ffi.vtable) {
        Some(slot) => RawWaker::new(ffi.data.cast(), &STD_VTABLES[slot]),
        None => RawWaker::new((ffi as *const FfiWaker).cast(), &BORROWED_FFI),
    };
    // SAFETY: both vtables uphold the RawWaker contract for `raw`'s data;
    // ManuallyDrop keeps us from releasing a waker we only borrow.
    let waker = ManuallyDrop::new(unsafe { Waker::from_raw(raw) });
    f(&waker)
}

/// Turns the waker in `cx` into an owned [`FfiWaker`] for the runtime table.
///
/// Wakers of tau's own runtime convert without allocating; any other waker is
/// boxed and released exactly once when the returned `FfiWaker` is woken or
/// dropped.
///
/// ```
/// use std::future::poll_fn;
/// use std::task::Poll;
///
/// tau::block_on(async {
///     poll_fn(|cx| {
///         let waker = tau::io::make_ffi_waker(cx);
///         waker.wake(); // schedules this task again
///         Poll::Ready(())
///     })
///     .await;
/// });
/// ```
pub fn make_ffi_waker(cx: &Context<'_>) -> FfiWaker {
    owned_ffi(cx.waker())
}

pub(crate) fn owned_ffi(waker: &Waker) -> FfiWaker {
    if let Some(slot) = slot_of_std(waker) {
        // SAFETY: the data belongs to this slot's FFI vtable.
        return unsafe { (known_vtable(slot).clone)(waker.data().cast()) };
    }
    if std::ptr::eq(waker.vtable(), &OWNED_FFI) {
        // SAFETY: OWNED_FFI data is a live Box<FfiWaker>.
        return unsafe { &*(waker.data() as *const FfiWaker) }.clone();
    }
    let boxed = Box::into_raw(Box::new(waker.clone()));
    FfiWaker { data: boxed as *const c_void, vtable: &BOXED_STD }
}

/// Runs `f` with an `FfiWaker` borrowing `waker` (no allocation unless the
/// callee keeps a clone of a foreign waker).
pub(crate) fn with_ffi_waker<R>(waker: &Waker, f: impl FnOnce(&FfiWaker) -> R) -> R {
    let borrowed = if let Some(slot) = slot_of_std(waker) {
        FfiWaker { data: waker.data().cast(), vtable: known_vtable(slot) }
    } else if std::ptr::eq(waker.vtable(), &OWNED_FFI) {
        // SAFETY: OWNED_FFI data is a live Box<FfiWaker>; we copy its two words
        // and never drop the copy.
        let inner = unsafe { &*(waker.data() as *const FfiWaker) };
        FfiWaker { data: inner.data, vtable: inner.vtable }
    } else {
        FfiWaker { data: (waker as *const Waker).cast(), vtable: &BORROWED_STD }
    };
    let borrowed = ManuallyDrop::new(borrowed);
    f(&borrowed)
}

// --- a borrowed FfiWaker of unknown kind, as a std waker ---------------------

static BORROWED_FFI: RawWakerVTable = RawWakerVTable::new(ffi_clone, noop_consume, ffi_wake_by_ref, noop);

unsafe fn noop_consume(_data: *const ()) {
    // Waking a borrowed waker by value cannot release it (we do not own it);
    // std only calls `wake` on owned wakers, which never use this vtable.
}

unsafe fn noop(_data: *const ()) {}

// --- an owned, boxed FfiWaker as a std waker ----------------------------------

static OWNED_FFI: RawWakerVTable =
    RawWakerVTable::new(ffi_clone, owned_ffi_wake, ffi_wake_by_ref, owned_ffi_drop);

/// Clones the `FfiWaker` behind `data` (borrowed, or a live box) into a new box.
unsafe fn ffi_clone(data: *const ()) -> RawWaker {
    // SAFETY: data points to a live FfiWaker (borrowed during the poll, or boxed).
    let owned = unsafe { &*(data as *const FfiWaker) }.clone();
    RawWaker::new(Box::into_raw(Box::new(owned)) as *const (), &OWNED_FFI)
}

unsafe fn ffi_wake_by_ref(data: *const ()) {
    // SAFETY: as above.
    unsafe { &*(data as *const FfiWaker) }.wake_by_ref()
}

unsafe fn owned_ffi_wake(data: *const ()) {
    // SAFETY: we own the box; it is consumed here.
    unsafe { Box::from_raw(data as *mut FfiWaker) }.wake()
}

unsafe fn owned_ffi_drop(data: *const ()) {
    // SAFETY: we own the box; released exactly once.
    drop(unsafe { Box::from_raw(data as *mut FfiWaker) })
}

// --- a std waker as an FfiWaker -------------------------------------------------

/// Owned: data is a `Box<Waker>`.
static BOXED_STD: FfiWakerVTable = FfiWakerVTable {
    clone: boxed_std_clone,
    wake: boxed_std_wake,
    wake_by_ref: boxed_std_wake_by_ref,
    drop: boxed_std_drop,
};

/// Borrowed: data is a `&Waker` valid for one table call; clones are boxed.
static BORROWED_STD: FfiWakerVTable = FfiWakerVTable {
    clone: boxed_std_clone,
    wake: borrowed_std_wake,
    wake_by_ref: boxed_std_wake_by_ref,
    drop: borrowed_std_drop,
};

/// Runs a waker operation that may panic (a foreign waker's code) without
/// letting the panic unwind through `extern "C"`.
fn no_unwind(operation: impl FnOnce()) {
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(operation)).is_err() {
        eprintln!("tau: a waker panicked; the panic was contained");
    }
}

unsafe extern "C" fn boxed_std_clone(data: *const c_void) -> FfiWaker {
    // SAFETY: data points to a live Waker (boxed or borrowed).
    let waker = unsafe { &*(data as *const Waker) }.clone();
    FfiWaker { data: Box::into_raw(Box::new(waker)) as *const c_void, vtable: &BOXED_STD }
}

unsafe extern "C" fn boxed_std_wake(data: *const c_void) {
    // SAFETY: we own the box; consumed here.
    let waker = unsafe { Box::from_raw(data as *mut Waker) };
    no_unwind(move || waker.wake());
}

unsafe extern "C" fn boxed_std_wake_by_ref(data: *const c_void) {
    // SAFETY: data points to a live Waker.
    let waker = unsafe { &*(data as *const Waker) };
    no_unwind(|| waker.wake_by_ref());
}

unsafe extern "C" fn boxed_std_drop(data: *const c_void) {
    // SAFETY: we own the box; released exactly once.
    let waker = unsafe { Box::from_raw(data as *mut Waker) };
    no_unwind(move || drop(waker));
}

unsafe extern "C" fn borrowed_std_wake(data: *const c_void) {
    // A borrowed waker is never owned by the callee, so "wake and consume"
    // only wakes.
    // SAFETY: data points to a live Waker for the duration of the call.
    unsafe { boxed_std_wake_by_ref(data) }
}

unsafe extern "C" fn borrowed_std_drop(_data: *const c_void) {}
