//! Task wakers without reference counts.
//!
//! A task waker's data word is a [`WakerWord`]: its runtime's registry slot
//! and the task's key. Cloning copies the word, dropping does nothing.
//! Waking on the thread that drives the runtime schedules the task on the
//! spot (no atomics); waking from any other thread finds the runtime in the
//! registry and queues the wake, coalesced per task (see `remote`). A waker
//! that outlives its task or its runtime causes at most a spurious wake.

use std::ffi::c_void;

use crate::abi::{FfiWaker, FfiWakerVTable};
use crate::driver;
use crate::key::WakerWord;

/// Index marking the `block_on` future rather than a spawned task.
pub(crate) const MAIN_INDEX: u32 = u32::MAX;

pub(crate) static TASK_WAKER_VTABLE: FfiWakerVTable = FfiWakerVTable {
    clone: task_waker_clone,
    wake: task_waker_wake,
    wake_by_ref: task_waker_wake,
    drop: task_waker_drop,
};

pub(crate) fn task_waker(word: WakerWord) -> FfiWaker {
    FfiWaker { data: word.encode(), vtable: &TASK_WAKER_VTABLE }
}

unsafe extern "C" fn task_waker_clone(data: *const c_void) -> FfiWaker {
    FfiWaker { data, vtable: &TASK_WAKER_VTABLE }
}

unsafe extern "C" fn task_waker_drop(_data: *const c_void) {}

unsafe extern "C" fn task_waker_wake(data: *const c_void) {
    let word = WakerWord::decode(data);
    // SAFETY: `driving` is only non-null while the pointed-to runtime is
    // being driven by this thread, which keeps it alive.
    if let Some(shared) = unsafe { driver::driving().as_ref() } {
        if shared.slot() == word.runtime_slot {
            // SAFETY: it is the runtime this thread drives innermost.
            unsafe { shared.driver_unchecked() }.wake(word);
            return;
        }
    }
    if let Some(shared) = driver::lookup(word.runtime_slot) {
        shared.wake_remote(word);
    }
}

/// Test helpers shared by the runtime's unit tests.
#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A waker that does nothing (and owns nothing).
    pub(crate) fn noop_waker() -> FfiWaker {
        unsafe extern "C" fn clone(data: *const c_void) -> FfiWaker {
            FfiWaker { data, vtable: &NOOP }
        }
        unsafe extern "C" fn nothing(_data: *const c_void) {}
        static NOOP: FfiWakerVTable =
            FfiWakerVTable { clone, wake: nothing, wake_by_ref: nothing, drop: nothing };
        FfiWaker { data: std::ptr::null(), vtable: &NOOP }
    }
}
