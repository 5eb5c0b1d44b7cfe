//! Whose code is on this thread's stack: the scopes whose task is being
//! polled or cancelled (its future dropped), or whose blocking job runs
//! here.
//!
//! A host may unload a plugin from code that the plugin's own code called
//! (a host service, a callback): its task's poll is then on the stack, and
//! that task's future may use the plugin's instance. Destroying the instance
//! there would free it under the running code, so the host asks
//! [`RuntimeScope::running_here`] and hands the destruction to
//! [`RunningHere::after_return`], which runs it once the outermost frame
//! of the scope's code on this thread has returned (and, for a task, its
//! future has been dropped).

use std::cell::{Cell, RefCell};
use std::marker::PhantomData;

use crate::scope::{RuntimeScope, Scope};

/// Work deferred by [`RunningHere::after_return`].
pub type AfterReturn = Box<dyn FnOnce() + Send>;

/// One frame of a scope's code, on the native stack of its caller (see
/// [`Frame::enter`]); frames are linked innermost first. Every task poll
/// enters one, so entering and leaving touch two `Cell`s and nothing else.
pub(crate) struct Frame {
    scope: usize,
    outer: Cell<*const Frame>,
}

struct Frames {
    /// The innermost frame, null if none: every linked frame is alive (a
    /// frame is unlinked before its `run_as` returns, or unwinds).
    top: Cell<*const Frame>,
    /// Whether `deferred` may hold work: checked as each frame is left.
    any_deferred: Cell<bool>,
}

thread_local! {
    static FRAMES: Frames = const { Frames { top: Cell::new(std::ptr::null()), any_deferred: Cell::new(false) } };
    /// Work to run when the scope's last frame on this thread returns.
    static DEFERRED: RefCell<Vec<(usize, AfterReturn)>> = const { RefCell::new(Vec::new()) };
}

/// What identifies a scope here: its address (unique while it lives, and
/// it lives while its code runs).
pub(crate) fn key_of(scope: &Scope) -> usize {
    scope as *const Scope as usize
}

/// Runs `body` as code of `scope` (a key from [`key_of`]): while it runs,
/// the scope is [running here](RuntimeScope::running_here); work deferred
/// meanwhile runs when the outermost such frame on this thread is left.
pub(crate) fn run_as<R>(scope: usize, body: impl FnOnce() -> R) -> R {
    let frame = Frame::new(scope);
    let _entered = frame.enter();
    body()
}

impl Frame {
    /// A frame for code of `scope` (a key from [`key_of`]), not entered yet.
    #[inline]
    pub(crate) fn new(scope: usize) -> Frame {
        Frame { scope, outer: Cell::new(std::ptr::null()) }
    }

    /// Links this frame on top until the returned guard drops: code run
    /// meanwhile is the scope's (what [`run_as`] does around a closure,
    /// for a loop that keeps its code straight).
    #[inline]
    pub(crate) fn enter(&self) -> Leave<'_> {
        FRAMES.with(|frames| {
            self.outer.set(frames.top.get());
            frames.top.set(self);
        });
        Leave { frame: self }
    }
}

/// Unlinks its frame when dropped (also when the code unwinds).
pub(crate) struct Leave<'a> {
    frame: &'a Frame,
}

impl Drop for Leave<'_> {
    #[inline]
    fn drop(&mut self) {
        let deferred = FRAMES.with(|frames| {
            frames.top.set(self.frame.outer.get());
            frames.any_deferred.get()
        });
        if deferred && !is_running(self.frame.scope) {
            run_deferred(self.frame.scope);
        }
    }
}

/// Runs the work deferred for `scope`, outside any borrow: a job may defer
/// more (it runs other code), so take until none is left.
#[cold]
fn run_deferred(scope: usize) {
    loop {
        let job = DEFERRED.with_borrow_mut(|deferred| {
            let at = deferred.iter().position(|(of, _)| *of == scope);
            let job = at.map(|at| deferred.remove(at).1);
            FRAMES.with(|frames| frames.any_deferred.set(!deferred.is_empty()));
            job
        });
        match job {
            Some(job) => job(),
            None => break,
        }
    }
}

fn is_running(scope: usize) -> bool {
    let mut frame = FRAMES.with(|frames| frames.top.get());
    while !frame.is_null() {
        // SAFETY: linked frames are alive (see `Frames::top`).
        let linked = unsafe { &*frame };
        if linked.scope == scope {
            return true;
        }
        frame = linked.outer.get();
    }
    false
}

impl RuntimeScope {
    /// Whether code of this scope's owner is running on this thread, below
    /// the caller (one of its tasks is being polled or its future dropped,
    /// or one of its blocking jobs runs here): if so, where to defer work
    /// until it has returned.
    pub fn running_here(&self) -> Option<RunningHere> {
        let scope = key_of(&self.scope);
        is_running(scope).then_some(RunningHere { scope, thread: PhantomData })
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
        FRAMES.with(|frames| frames.any_deferred.set(true));
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
        let (outer, inner) = (key_of(&scope.scope), key_of(&other.scope));
        run_as(outer, || {
            run_as(inner, || {
                run_as(outer, || {
                    let counter = Arc::clone(&ran);
                    let here = scope.running_here().expect("its code is on the stack");
                    here.after_return(Box::new(move || {
                        counter.fetch_add(1, Ordering::SeqCst);
                    }));
                    assert!(other.running_here().is_some());
                });
            });
            assert_eq!(ran.load(Ordering::SeqCst), 0, "an outer frame of the scope is still running");
        });
        assert_eq!(ran.load(Ordering::SeqCst), 1);
        assert!(scope.running_here().is_none() && other.running_here().is_none());
    }
}
