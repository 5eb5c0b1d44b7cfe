//! Whose code is on this thread's stack: the scopes whose task is being
//! polled or cancelled (its future dropped), or whose blocking job runs
//! here, innermost last.
//!
//! A host may unload a plugin from code that the plugin's own code called
//! (a host service, a callback): its task's poll is then on the stack, and
//! that task's future may use the plugin's instance. Destroying the instance
//! there would free it under the running code, so the host asks
//! [`RuntimeScope::running_here`] and hands the destruction to
//! [`RunningHere::after_return`], which runs it once the outermost frame
//! of the scope's code on this thread has returned (and, for a task, its
//! future has been dropped).

use std::cell::RefCell;
use std::marker::PhantomData;

use crate::scope::{RuntimeScope, Scope};

/// Work deferred by [`RunningHere::after_return`].
pub type AfterReturn = Box<dyn FnOnce() + Send>;

/// This thread's frames. One thread-local, touched once on entering and
/// once on leaving: every task poll goes through here.
struct Frames {
    /// The scopes (by address) whose code runs on this thread, innermost last.
    running: Vec<usize>,
    /// Work to run when the scope's last frame on this thread returns.
    deferred: Vec<(usize, AfterReturn)>,
}

thread_local! {
    static FRAMES: RefCell<Frames> = const { RefCell::new(Frames { running: Vec::new(), deferred: Vec::new() }) };
}

/// Marks `scope`'s code as running on this thread until dropped; dropping
/// the outermost one runs what was deferred for the scope meanwhile.
pub(crate) struct Running {
    scope: usize,
}

/// What identifies a scope here: its address (unique while it lives, and
/// it lives while its code runs).
pub(crate) fn key_of(scope: &Scope) -> usize {
    scope as *const Scope as usize
}

impl Running {
    pub(crate) fn enter(scope: usize) -> Running {
        FRAMES.with_borrow_mut(|frames| frames.running.push(scope));
        Running { scope }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let outermost_with_work = FRAMES.with_borrow_mut(|frames| {
            let popped = frames.running.pop();
            debug_assert_eq!(popped, Some(self.scope), "frames are strictly nested");
            !frames.deferred.is_empty() && !frames.running.contains(&self.scope)
        });
        if !outermost_with_work {
            return;
        }
        // Run outside the borrow; a job may defer more (it runs other
        // code): take until none is left.
        loop {
            let job = FRAMES.with_borrow_mut(|frames| {
                let at = frames.deferred.iter().position(|(scope, _)| *scope == self.scope)?;
                Some(frames.deferred.remove(at).1)
            });
            match job {
                Some(job) => job(),
                None => break,
            }
        }
    }
}

impl RuntimeScope {
    /// Whether code of this scope's owner is running on this thread, below
    /// the caller (one of its tasks is being polled or its future dropped,
    /// or one of its blocking jobs runs here): if so, where to defer work
    /// until it has returned.
    pub fn running_here(&self) -> Option<RunningHere> {
        let scope = key_of(&self.scope);
        let running = FRAMES.with_borrow(|frames| frames.running.contains(&scope));
        running.then_some(RunningHere { scope, thread: PhantomData })
    }
}

/// Code of a scope running on this thread (see [`RuntimeScope::running_here`]).
#[must_use]
pub struct RunningHere {
    scope: usize,
    /// Deferred work is this thread's.
    thread: PhantomData<*const ()>,
}

impl RunningHere {
    /// Runs `job` on this thread once the scope's code below the caller has
    /// returned: after the task's poll and, if it was cancelled meanwhile,
    /// the drop of its future; after the blocking job and its accounting.
    pub fn after_return(self, job: AfterReturn) {
        FRAMES.with_borrow_mut(|frames| frames.deferred.push((self.scope, job)));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;

    #[test]
    fn deferred_work_runs_when_the_outermost_frame_of_its_scope_returns() {
        let runtime = crate::Runtime::new().unwrap();
        let (scope, other) = (runtime.scope(1), runtime.scope(2));
        assert!(scope.running_here().is_none());
        let ran = Arc::new(AtomicUsize::new(0));
        let outer = Running::enter(key_of(&scope.scope));
        let between = Running::enter(key_of(&other.scope));
        let inner = Running::enter(key_of(&scope.scope));
        let counter = Arc::clone(&ran);
        scope.running_here().expect("its code is on the stack").after_return(Box::new(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        }));
        assert!(other.running_here().is_some());
        drop(inner);
        drop(between);
        assert_eq!(ran.load(Ordering::SeqCst), 0, "an outer frame of the scope is still running");
        drop(outer);
        assert_eq!(ran.load(Ordering::SeqCst), 1);
        assert!(scope.running_here().is_none() && other.running_here().is_none());
    }
}
