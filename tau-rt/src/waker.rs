//! Task wakers without reference counts.
//!
//! A task waker's data word encodes `runtime slot (16 bits) | task generation
//! (low 16 bits) | task index (32 bits)`. Cloning copies the word, dropping
//! does nothing. Waking on the thread that drives the runtime pushes the task
//! onto the local run queue (no atomics); waking from any other thread looks
//! the runtime up in a registry and goes through its remote queue. A waker that
//! outlives its task or its runtime causes at most a spurious wake.

use std::cell::Cell;
use std::ffi::c_void;
use std::sync::{Arc, RwLock, Weak};

use crate::abi::{FfiWaker, FfiWakerVTable};
use crate::runtime::Shared;

/// Index marking the `block_on` future rather than a spawned task.
pub(crate) const MAIN_INDEX: u32 = u32::MAX;

pub(crate) static TASK_WAKER_VTABLE: FfiWakerVTable = FfiWakerVTable {
    clone: task_waker_clone,
    wake: task_waker_wake,
    wake_by_ref: task_waker_wake,
    drop: task_waker_drop,
};

thread_local! {
    /// The runtime this thread is driving right now, if any.
    static DRIVING: Cell<*const Shared> = const { Cell::new(std::ptr::null()) };
}

/// Runtimes of this copy of tau-rt, by slot. A slot is taken at creation and
/// freed only by the runtime's `Drop`: a runtime under construction has no
/// strong reference yet, so "no strong reference" cannot mean "free".
static REGISTRY: RwLock<Vec<Option<Weak<Shared>>>> = RwLock::new(Vec::new());

pub(crate) fn encode(runtime_slot: u16, index: u32, generation: u16) -> *const c_void {
    (((runtime_slot as u64) << 48) | ((generation as u64) << 32) | index as u64) as usize as *const c_void
}

pub(crate) fn decode(data: *const c_void) -> (u16, u32, u16) {
    let word = data as usize as u64;
    ((word >> 48) as u16, word as u32, (word >> 32) as u16)
}

pub(crate) fn task_waker(runtime_slot: u16, index: u32, generation: u16) -> FfiWaker {
    FfiWaker { data: encode(runtime_slot, index, generation), vtable: &TASK_WAKER_VTABLE }
}

pub(crate) fn driving() -> *const Shared {
    DRIVING.with(Cell::get)
}

pub(crate) fn set_driving(shared: *const Shared) -> *const Shared {
    DRIVING.with(|cell| cell.replace(shared))
}

/// Claims a registry slot for a new runtime.
pub(crate) fn register(shared: Weak<Shared>) -> u16 {
    let mut registry = REGISTRY.write().unwrap_or_else(|poison| poison.into_inner());
    if let Some(slot) = registry.iter().position(Option::is_none) {
        registry[slot] = Some(shared);
        return slot as u16;
    }
    assert!(registry.len() < u16::MAX as usize, "more than 65535 live tau runtimes");
    registry.push(Some(shared));
    (registry.len() - 1) as u16
}

/// Frees a runtime's slot (from its `Drop`).
pub(crate) fn unregister(slot: u16) {
    let mut registry = REGISTRY.write().unwrap_or_else(|poison| poison.into_inner());
    registry[slot as usize] = None;
}

fn lookup(slot: u16) -> Option<Arc<Shared>> {
    let registry = REGISTRY.read().unwrap_or_else(|poison| poison.into_inner());
    registry.get(slot as usize).and_then(Option::as_ref).and_then(Weak::upgrade)
}

unsafe extern "C" fn task_waker_clone(data: *const c_void) -> FfiWaker {
    FfiWaker { data, vtable: &TASK_WAKER_VTABLE }
}

unsafe extern "C" fn task_waker_drop(_data: *const c_void) {}

unsafe extern "C" fn task_waker_wake(data: *const c_void) {
    let (slot, index, generation) = decode(data);
    let current = driving();
    // SAFETY: DRIVING is only non-null while the pointed-to runtime is being
    // driven by this thread, which keeps it alive.
    if let Some(shared) = unsafe { current.as_ref() } {
        if shared.slot() == slot {
            shared.wake_local(index, generation);
            return;
        }
    }
    if let Some(shared) = lookup(slot) {
        shared.wake_remote(data);
    }
}
