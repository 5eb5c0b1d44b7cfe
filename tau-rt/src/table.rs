//! The `extern "C"` functions behind [`RuntimeTable`]. Each one resolves the
//! `rt` context to the runtime and calls into it; none of them unwinds (a bug
//! that panics here aborts the process, as `extern "C"` requires).

use std::sync::Arc;

use crate::abi::{
    BlockingJob, FfiWaker, RawFuture, RawTask, RtContext, RuntimeMetrics, RuntimeTable, ABI_VERSION,
    POLL_PENDING, POLL_READY,
};
use crate::runtime::{Scope, Shared};
use crate::waker::TASK_WAKER_VTABLE;

/// `timer_poll` / `io_poll_ready` result: called off the driver thread.
pub const NOT_DRIVER_THREAD: u8 = 2;
/// `io_register` / `io_deregister` error code: called off the driver thread.
pub const ERR_NOT_DRIVER_THREAD: i32 = -1;

pub(crate) fn build(rt: *const RtContext) -> RuntimeTable {
    RuntimeTable {
        abi_version: ABI_VERSION,
        size: std::mem::size_of::<RuntimeTable>() as u32,
        rt,
        task_waker_vtable: &TASK_WAKER_VTABLE,
        retain,
        release,
        is_driver_thread,
        now_ns,
        spawn,
        abort,
        metrics,
        block_on,
        spawn_blocking,
        timer_poll,
        timer_cancel,
        io_register,
        io_poll_ready,
        io_clear_ready,
        io_deregister,
    }
}

/// # Safety
/// `rt` must come from a live runtime's (or runtime scope's) table.
unsafe fn scope<'a>(rt: *const RtContext) -> &'a Scope {
    // SAFETY: per the function contract, every table's `rt` is its live Scope.
    unsafe { &*(rt as *const Scope) }
}

/// # Safety
/// As for [`scope`].
unsafe fn shared<'a>(rt: *const RtContext) -> &'a Shared {
    // SAFETY: a live scope points to its runtime's live `Shared`.
    unsafe { &*scope(rt).shared }
}

unsafe extern "C" fn retain(rt: *const RtContext) {
    // SAFETY: the scope's `shared` is the pointer of a live `Arc<Shared>`.
    unsafe { Arc::increment_strong_count(scope(rt).shared) }
}

unsafe extern "C" fn release(rt: *const RtContext) {
    // SAFETY: balances a `retain`; the Arc stays valid until its last release.
    unsafe { Arc::decrement_strong_count(scope(rt).shared) }
}

unsafe extern "C" fn is_driver_thread(rt: *const RtContext) -> bool {
    // SAFETY: table contract.
    unsafe { shared(rt) }.is_driver_thread()
}

unsafe extern "C" fn now_ns(_rt: *const RtContext) -> u64 {
    crate::clock::now_ns()
}

unsafe extern "C" fn spawn(rt: *const RtContext, task: RawTask) -> u64 {
    // SAFETY: table contract.
    let scope = unsafe { scope(rt) };
    // SAFETY: as above.
    unsafe { shared(rt) }.spawn(task, scope.owner)
}

unsafe extern "C" fn abort(rt: *const RtContext, key: u64) {
    // SAFETY: table contract.
    unsafe { shared(rt) }.abort(key)
}

unsafe extern "C" fn metrics(rt: *const RtContext, out: *mut RuntimeMetrics) {
    // SAFETY: table contract; `out` is a valid out-pointer.
    unsafe { *out = shared(rt).metrics() }
}

unsafe extern "C" fn block_on(rt: *const RtContext, future: RawFuture, park: *const FfiWaker) -> u8 {
    // SAFETY: table contract; `park` is borrowed for the call.
    unsafe { shared(rt).block_on(future, &*park) }
}

unsafe extern "C" fn spawn_blocking(rt: *const RtContext, job: BlockingJob) -> u64 {
    // SAFETY: table contract.
    let (shared, scope) = unsafe { (shared(rt), scope(rt)) };
    shared.spawn_blocking(job, scope.owner)
}

unsafe extern "C" fn timer_poll(
    rt: *const RtContext,
    key: *mut u64,
    deadline_ns: u64,
    waker: *const FfiWaker,
) -> u8 {
    // SAFETY: table contract; `key` and `waker` are valid for the call.
    let (shared, owner, key, waker) = unsafe { (shared(rt), scope(rt).owner, &mut *key, &*waker) };
    if !shared.is_driver_thread() {
        return NOT_DRIVER_THREAD;
    }
    if shared.timer_poll(key, deadline_ns, waker, owner) {
        POLL_READY
    } else {
        POLL_PENDING
    }
}

unsafe extern "C" fn timer_cancel(rt: *const RtContext, key: u64) {
    // SAFETY: table contract.
    let shared = unsafe { shared(rt) };
    shared.timer_cancel_anywhere(key);
}

unsafe extern "C" fn io_register(rt: *const RtContext, fd: i32, interest: u8, key: *mut u64) -> i32 {
    // SAFETY: table contract.
    let (shared, owner) = unsafe { (shared(rt), scope(rt).owner) };
    if !shared.is_driver_thread() {
        return ERR_NOT_DRIVER_THREAD;
    }
    match shared.io_register(fd, interest, owner) {
        Ok(registered) => {
            // SAFETY: `key` is a valid out-pointer for the call.
            unsafe { *key = registered };
            0
        }
        Err(error) => error.raw_os_error().unwrap_or(libc::EIO),
    }
}

unsafe extern "C" fn io_poll_ready(
    rt: *const RtContext,
    key: u64,
    direction: u8,
    waker: *const FfiWaker,
) -> u8 {
    // SAFETY: table contract; `waker` is borrowed for the call.
    let (shared, waker) = unsafe { (shared(rt), &*waker) };
    if !shared.is_driver_thread() {
        return NOT_DRIVER_THREAD;
    }
    if shared.io_poll_ready(key, direction, waker) {
        POLL_READY
    } else {
        POLL_PENDING
    }
}

unsafe extern "C" fn io_clear_ready(rt: *const RtContext, key: u64, direction: u8) {
    // SAFETY: table contract.
    let shared = unsafe { shared(rt) };
    if shared.is_driver_thread() {
        shared.io_clear_ready(key, direction);
    }
}

unsafe extern "C" fn io_deregister(rt: *const RtContext, key: u64) -> i32 {
    // SAFETY: table contract.
    let shared = unsafe { shared(rt) };
    if !shared.is_driver_thread() {
        return ERR_NOT_DRIVER_THREAD;
    }
    match shared.io_deregister(key) {
        Ok(()) => 0,
        Err(error) => error.raw_os_error().unwrap_or(libc::ENOENT),
    }
}
