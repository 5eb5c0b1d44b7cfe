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

use crate::runtime::{Driver, Shared};

/// How many more runtimes one thread may hold the role of while it drives
/// one (an urgent operation run for an idle runtime from a task, say).
const MAX_OUTER: usize = 3;

thread_local! {
    /// The runtime this thread drives innermost, if any.
    static DRIVING: Cell<*const Shared> = const { Cell::new(std::ptr::null()) };
    /// The runtimes whose role this thread holds outside `DRIVING`, and how many.
    static OUTER: Cell<([*const Shared; MAX_OUTER], usize)> =
        const { Cell::new(([std::ptr::null(); MAX_OUTER], 0)) };
}

/// The runtime this thread drives innermost (null: none).
pub(crate) fn driving() -> *const Shared {
    DRIVING.with(Cell::get)
}

/// True if this thread holds `shared`'s role, innermost or not (work an
/// inner runtime runs may reach an outer one, which this thread drives).
pub(crate) fn is_driving(shared: &Shared) -> bool {
    if std::ptr::eq(driving(), shared) {
        return true;
    }
    let (outer, len) = OUTER.with(Cell::get);
    outer[..len].iter().any(|&driven| std::ptr::eq(driven, shared))
}

/// The driver role of `shared`, held by this thread until dropped. Dropping
/// it runs the urgent operations still queued, lets the role go and wakes
/// the threads parked waiting for it.
pub(crate) struct DriverGuard<'a> {
    shared: &'a Shared,
}

impl<'a> DriverGuard<'a> {
    /// Takes the role if nobody holds it.
    pub(crate) fn try_acquire(shared: &'a Shared) -> Option<DriverGuard<'a>> {
        shared.handover().try_acquire().then(|| DriverGuard::acquired(shared))
    }

    /// For a thread that has just taken the role through the hand-over.
    pub(crate) fn acquired(shared: &'a Shared) -> DriverGuard<'a> {
        let previous = DRIVING.with(|cell| cell.replace(shared));
        if !previous.is_null() {
            OUTER.with(|cell| {
                let (mut outer, len) = cell.get();
                assert!(len < MAX_OUTER, "a thread drives more than {} tau runtimes at once", MAX_OUTER + 1);
                outer[len] = previous;
                cell.set((outer, len + 1));
            });
        }
        DriverGuard { shared }
    }

    /// The driver's state, which this thread may reach while it holds the guard.
    pub(crate) fn driver(&self) -> Driver<'a> {
        self.shared.driver().expect("the guard holds the role")
    }
}

impl Drop for DriverGuard<'_> {
    fn drop(&mut self) {
        let parked = self.shared.handover().release(|ops| self.driver().run_remote_ops(ops));
        debug_assert!(std::ptr::eq(driving(), self.shared), "driver roles let go out of order");
        let previous = OUTER.with(|cell| {
            let (outer, len) = cell.get();
            if len == 0 {
                return std::ptr::null();
            }
            cell.set((outer, len - 1));
            outer[len - 1]
        });
        DRIVING.with(|cell| cell.set(previous));
        for waker in parked {
            waker.wake();
        }
    }
}
