//! The driver role: which thread drives a runtime now (a thread-local), the
//! registry through which other threads find a runtime, and the hand-over
//! by which they queue work for the driver or take the role when it is free.
//!
//! Whoever drives, any thread may unload a plugin, shut the runtime down or
//! read its metrics: such work is an urgent operation handed to the current
//! driver, which runs it between two polls (see [`handover`]); only when no
//! thread drives does the caller take the role itself, for that operation.

mod handover;
mod registry;

use std::cell::Cell;

pub(crate) use handover::{Handover, Operation};
pub(crate) use registry::{lookup, register, unregister};

use crate::runtime::Shared;

thread_local! {
    /// The runtime this thread is driving right now, if any.
    static DRIVING: Cell<*const Shared> = const { Cell::new(std::ptr::null()) };
}

/// The runtime this thread drives (null: none).
pub(crate) fn driving() -> *const Shared {
    DRIVING.with(Cell::get)
}

/// True if this thread drives `shared` now.
pub(crate) fn is_driving(shared: &Shared) -> bool {
    std::ptr::eq(driving(), shared)
}

/// The driver role of `shared`, held by this thread until dropped. Dropping
/// it runs the urgent operations still queued, lets the role go and wakes
/// the threads parked waiting for it.
pub(crate) struct DriverGuard<'a> {
    shared: &'a Shared,
    previous: *const Shared,
}

impl<'a> DriverGuard<'a> {
    /// Takes the role if nobody holds it.
    pub(crate) fn try_acquire(shared: &'a Shared) -> Option<DriverGuard<'a>> {
        shared.handover().try_acquire().then(|| DriverGuard::acquired(shared))
    }

    /// For a thread that has just taken the role through the hand-over.
    pub(crate) fn acquired(shared: &'a Shared) -> DriverGuard<'a> {
        let previous = DRIVING.with(|cell| cell.replace(shared));
        DriverGuard { shared, previous }
    }
}

impl Drop for DriverGuard<'_> {
    fn drop(&mut self) {
        let parked = self.shared.handover().release(|ops| self.shared.run_remote_ops(ops));
        DRIVING.with(|cell| cell.set(self.previous));
        for waker in parked {
            waker.wake();
        }
    }
}
