use std::fmt;

use super::cell::RawRef;
use super::Id;

/// A handle that aborts a task; `Clone + Send + Sync`, usable from any thread.
///
/// Dropping it does nothing to the task.
///
/// ```
/// tau::block_on(async {
///     let handle = tau::spawn(std::future::pending::<()>());
///     let abort = handle.abort_handle();
///     std::thread::spawn(move || abort.abort()).join().unwrap();
///     assert!(handle.await.unwrap_err().is_cancelled());
/// });
/// ```
pub struct AbortHandle {
    raw: RawRef,
    id: Id,
}

impl AbortHandle {
    pub(crate) fn new(raw: RawRef, id: Id) -> AbortHandle {
        AbortHandle { raw, id }
    }

    /// Aborts the task, with the same rules as [`JoinHandle::abort`](super::JoinHandle::abort).
    pub fn abort(&self) {
        self.raw.abort();
    }

    /// True once the task has finished: returned, panicked, or been cancelled.
    pub fn is_finished(&self) -> bool {
        self.raw.is_finished()
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        self.id
    }
}

impl Clone for AbortHandle {
    fn clone(&self) -> Self {
        AbortHandle { raw: self.raw.clone_ref(), id: self.id }
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle").field("id", &self.id).finish()
    }
}
