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

thread_local! {
    /// The scopes (by address) whose code runs on this thread, innermost last.
    static RUNNING: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
    /// Work to run when the scope's last frame on this thread returns.
    static DEFERRED: RefCell<Vec<(usize, AfterReturn)>> = const { RefCell::new(Vec::new()) };
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
        RUNNING.with_borrow_mut(|running| running.push(scope));
        Running { scope }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let outermost = RUNNING.with_borrow_mut(|running| {
            let popped = running.pop();
            debug_assert_eq!(popped, Some(self.scope), "frames are strictly nested");
            !running.contains(&self.scope)
        });
        if !outermost {
            return;
        }
        // A deferred job may defer more (it runs other code): take until none is left.
        loop {
            let job = DEFERRED.with_borrow_mut(|deferred| {
                let at = deferred.iter().position(|(scope, _)| *scope == self.scope)?;
                Some(deferred.remove(at).1)
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
        let running = RUNNING.with_borrow(|running| running.contains(&scope));
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
        DEFERRED.with_borrow_mut(|deferred| deferred.push((self.scope, job)));
    }
}
