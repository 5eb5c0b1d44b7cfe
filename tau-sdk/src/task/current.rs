//! The task being polled on this thread, for [`id`](super::id) and [`try_id`](super::try_id).

use std::cell::Cell;

use super::Id;

thread_local! {
    static CURRENT: Cell<u64> = const { Cell::new(0) };
}

pub(crate) struct CurrentGuard {
    previous: u64,
}

pub(crate) fn enter(id: Id) -> CurrentGuard {
    CurrentGuard { previous: CURRENT.with(|current| current.replace(id.as_u64())) }
}

impl Drop for CurrentGuard {
    fn drop(&mut self) {
        CURRENT.with(|current| current.set(self.previous));
    }
}

/// The id of the task that is running, or `None` outside a task.
///
/// ```
/// tau::block_on(async {
///     assert!(tau::task::try_id().is_none()); // block_on's future is not a task
///     let handle = tau::spawn(async { tau::task::try_id() });
///     let id = handle.id();
///     assert_eq!(handle.await.unwrap(), Some(id));
/// });
/// ```
pub fn try_id() -> Option<Id> {
    let raw = CURRENT.with(Cell::get);
    (raw != 0).then(|| Id::from_raw(raw))
}

/// The id of the task that is running.
///
/// # Panics
/// Outside a task (for example directly in `block_on`'s future), like tokio.
#[track_caller]
pub fn id() -> Id {
    try_id().expect("Can't get a task id when not inside a task")
}
