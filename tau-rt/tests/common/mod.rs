//! Helpers shared by the test files: driving a runtime through its raw table.
#![allow(dead_code)]

use std::ffi::c_void;

use tau_rt::abi::{FfiWaker, RawFuture, RuntimeTable, BLOCK_ON_DONE, POLL_PENDING, POLL_READY};

/// Drives `table`'s runtime until `done` returns true, calling `step` on each poll.
pub fn drive(table: &RuntimeTable, mut step: impl FnMut() -> bool) {
    struct Main<'a>(&'a mut dyn FnMut() -> bool);
    unsafe extern "C" fn poll_main(data: *mut c_void, waker: *const FfiWaker) -> tau_rt::abi::PollStatus {
        // SAFETY: `data` is the `Main` below, borrowed for the block_on call.
        let main = unsafe { &mut *(data as *mut Main<'_>) };
        if (main.0)() {
            POLL_READY
        } else {
            // SAFETY: borrowed for this call.
            unsafe { &*waker }.wake_by_ref();
            POLL_PENDING
        }
    }
    let mut main = Main(&mut step);
    let future = RawFuture { data: (&mut main as *mut Main<'_>).cast(), poll: poll_main };
    let park = tau_park_waker();
    // SAFETY: the table is alive; `main` and `park` outlive the call.
    assert_eq!(unsafe { (table.block_on)(table.rt, future, &park) }, BLOCK_ON_DONE);
}

/// A waker that does nothing (block_on only uses it when another thread drives).
pub fn tau_park_waker() -> FfiWaker {
    unsafe extern "C" fn clone(data: *const c_void) -> FfiWaker {
        FfiWaker { data, vtable: &NOOP }
    }
    unsafe extern "C" fn noop(_: *const c_void) {}
    static NOOP: tau_rt::abi::FfiWakerVTable =
        tau_rt::abi::FfiWakerVTable { clone, wake: noop, wake_by_ref: noop, drop: noop };
    FfiWaker { data: std::ptr::null(), vtable: &NOOP }
}
