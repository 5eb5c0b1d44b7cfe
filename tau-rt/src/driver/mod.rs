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

/// How many runtimes one thread may hold the role of at once (it drives
/// one, and an urgent operation of it runs one of another idle runtime...).
const MAX_HELD: usize = 4;

thread_local! {
    /// The runtimes whose role this thread holds, innermost last.
    static HELD: Cell<([*const Shared; MAX_HELD], usize)> =
        const { Cell::new(([std::ptr::null(); MAX_HELD], 0)) };
}

/// The runtime this thread drives innermost (null: none).
pub(crate) fn driving() -> *const Shared {
    let (held, len) = HELD.with(Cell::get);
    if len == 0 {
        std::ptr::null()
    } else {
        held[len - 1]
    }
}

/// True if this thread holds `shared`'s role, innermost or not (work an
/// inner runtime runs may reach an outer one, which this thread drives).
pub(crate) fn is_driving(shared: &Shared) -> bool {
    let (held, len) = HELD.with(Cell::get);
    held[..len].iter().any(|&driven| std::ptr::eq(driven, shared))
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
        HELD.with(|cell| {
            let (mut held, len) = cell.get();
            assert!(len < MAX_HELD, "a thread drives more than {MAX_HELD} tau runtimes at once");
            held[len] = shared;
            cell.set((held, len + 1));
        });
        DriverGuard { shared }
    }
}

impl Drop for DriverGuard<'_> {
    fn drop(&mut self) {
        let parked = self.shared.handover().release(|ops| self.shared.run_remote_ops(ops));
        HELD.with(|cell| {
            let (held, len) = cell.get();
            debug_assert!(
                len > 0 && std::ptr::eq(held[len - 1], self.shared),
                "driver roles let go out of order"
            );
            cell.set((held, len - 1));
        });
        for waker in parked {
            waker.wake();
        }
    }
}
