//! The worker of a multi-thread runtime of one's own: a thread that drives
//! the runtime while no thread blocks on it, as tokio's worker threads do.
//! Without it nothing would drive such a runtime between two `block_on`s:
//! a task spawned onto it would not run, and a sleep of it polled by
//! another runtime's thread (tokio-util's `TokioContext`) would never fire.
//!
//! A thread that calls `block_on` takes the role back: the worker lets go
//! while any `block_on` of the runtime runs, so that thread drives as it
//! does on a current-thread runtime (its future polled where its timers
//! and IO are driven, not through the remote path).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::thread::{JoinHandle, ThreadId};

/// What the worker and the threads that block on its runtime share.
#[derive(Default)]
pub(crate) struct Shared {
    state: Mutex<State>,
    /// Signalled when the last `block_on` ends, when the worker is stopped
    /// and when it lets go of the runtime.
    changed: Condvar,
}

#[derive(Default)]
struct State {
    /// `block_on`s of the runtime running now.
    blocking: usize,
    /// The worker holds the runtime's driver role (or is about to).
    driving: bool,
    stopping: bool,
    /// The worker's `block_on`, waiting to be told to let go.
    worker: Option<Waker>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Makes the worker let go of the runtime until the guard drops, and
    /// waits until it has: the caller then takes the driver role, so that
    /// its future is polled where the runtime is driven (an `AsyncFd` is
    /// created only there).
    pub(crate) fn blocking(self: &Arc<Self>) -> Blocking {
        let mut state = self.lock();
        state.blocking += 1;
        if let Some(waker) = state.worker.take() {
            waker.wake();
        }
        // On a thread that drives a runtime (the worker's own, in a task)
        // `block_on` panics: waiting for the worker here would deadlock.
        if !tau::__private::is_driving() {
            while state.driving {
                state = self.changed.wait(state).unwrap_or_else(std::sync::PoisonError::into_inner);
            }
        }
        drop(state);
        Blocking { shared: self.clone() }
    }

    fn stop(&self) {
        let waker = {
            let mut state = self.lock();
            state.stopping = true;
            state.worker.take()
        };
        self.changed.notify_all();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// A `block_on` of the runtime is running (see [`Shared::blocking`]).
pub(crate) struct Blocking {
    shared: Arc<Shared>,
}

impl Drop for Blocking {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.blocking -= 1;
        if state.blocking == 0 {
            self.shared.changed.notify_all();
        }
    }
}

/// The worker thread; dropping it stops the thread and waits for it.
pub(crate) struct Worker {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    /// Starts the thread that drives `runtime` while nobody blocks on it.
    ///
    /// # Errors
    /// If the thread cannot be spawned.
    pub(crate) fn start(runtime: tau::runtime::Handle) -> io::Result<Worker> {
        let shared = Arc::new(Shared::default());
        let thread = std::thread::Builder::new().name("tokio-runtime-worker".into()).spawn({
            let shared = shared.clone();
            move || drive(&runtime, &shared)
        })?;
        Ok(Worker { shared, thread: Some(thread) })
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    fn thread_id(&self) -> Option<ThreadId> {
        self.thread.as_ref().map(|thread| thread.thread().id())
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.shared.stop();
        // Dropped by one of the worker's own tasks (the runtime moved into
        // it): the thread ends once that task's poll returns.
        if self.thread_id() == Some(std::thread::current().id()) {
            return;
        }
        if let Some(thread) = self.thread.take() {
            // Its only panic is its runtime's being gone: nothing more to stop.
            let _ = thread.join();
        }
    }
}

fn drive(runtime: &tau::runtime::Handle, shared: &Arc<Shared>) {
    loop {
        {
            let mut state = shared.lock();
            while state.blocking > 0 && !state.stopping {
                state = shared.changed.wait(state).unwrap_or_else(std::sync::PoisonError::into_inner);
            }
            if state.stopping {
                return;
            }
            state.driving = true;
        }
        let _let_go = LetGoOnExit { shared };
        runtime.block_on(LetGo { shared });
    }
}

/// Clears `driving` once the worker's `block_on` returns, or unwinds (its
/// runtime gone), so that no `block_on` waits for it forever.
struct LetGoOnExit<'a> {
    shared: &'a Shared,
}

impl Drop for LetGoOnExit<'_> {
    fn drop(&mut self) {
        self.shared.lock().driving = false;
        self.shared.changed.notify_all();
    }
}

/// Ready when a `block_on` starts or the worker is stopped.
struct LetGo<'a> {
    shared: &'a Shared,
}

impl Future for LetGo<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.shared.lock();
        if state.blocking > 0 || state.stopping {
            return Poll::Ready(());
        }
        state.worker = Some(cx.waker().clone());
        Poll::Pending
    }
}
