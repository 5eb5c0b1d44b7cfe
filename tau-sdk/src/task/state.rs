//! The task cell's state word: flag bits and a reference count in one
//! atomic, in the manner of async-task's `state.rs`.
//!
//! The bits, and what each promises:
//!
//! - `COMPLETE`: the future (or closure) is gone and the result is stored,
//!   or was dropped. Set once, with Release, by whoever completes the task
//!   (the driver thread, or the blocking thread that ran the closure); until
//!   then only that thread touches the stage, afterwards only the output's
//!   owner does.
//! - `ABORT`: abort was requested. Set once; the driver sees it at the
//!   task's next poll (or at once, through the runtime's `abort`), a
//!   blocking closure only before it starts.
//! - `JOIN_INTEREST`: a `JoinHandle` exists and will read the output.
//!   Cleared (while not `COMPLETE`) when it is dropped. The output is
//!   dropped by whoever sees the other side last: the completer if the
//!   interest is gone when it sets `COMPLETE`, else the `JoinHandle`.
//! - `STARTED`: a blocking closure began to run, so abort can no longer stop it.
//! - the reference count (from `REF_ONE` up): the runtime (or pool) holds
//!   one until it releases the task, the `JoinHandle` one, each
//!   `AbortHandle` one. The cell is freed by the release that takes it to 0.

#[cfg(all(loom, test))]
use loom::sync::atomic::{AtomicUsize, Ordering};
#[cfg(not(all(loom, test)))]
use std::sync::atomic::{AtomicUsize, Ordering};

const COMPLETE: usize = 1;
const ABORT: usize = 1 << 1;
const JOIN_INTEREST: usize = 1 << 2;
const STARTED: usize = 1 << 3;
const REF_ONE: usize = 1 << 4;

pub(crate) struct State(AtomicUsize);

impl State {
    /// A new task with a `JoinHandle` and `refs` references.
    pub(crate) fn new(refs: usize) -> State {
        State(AtomicUsize::new(JOIN_INTEREST | (refs * REF_ONE)))
    }

    /// True once `COMPLETE` is set; Acquire, so the output is visible.
    pub(crate) fn is_complete(&self) -> bool {
        self.0.load(Ordering::Acquire) & COMPLETE != 0
    }

    pub(crate) fn is_aborted(&self) -> bool {
        self.0.load(Ordering::Acquire) & ABORT != 0
    }

    /// Sets `COMPLETE` (the result is stored); returns true if a
    /// `JoinHandle` will read it, false if the completer must drop it.
    pub(crate) fn complete(&self) -> bool {
        self.0.fetch_or(COMPLETE, Ordering::AcqRel) & JOIN_INTEREST != 0
    }

    /// Requests abort; returns true if this is the first request for a task
    /// not yet complete, which the caller passes on to the runtime.
    pub(crate) fn request_abort(&self) -> bool {
        self.0.fetch_or(ABORT, Ordering::AcqRel) & (COMPLETE | ABORT) == 0
    }

    /// A blocking closure is about to run; returns false if abort came first
    /// (then it must not run).
    pub(crate) fn start(&self) -> bool {
        self.0.fetch_or(STARTED, Ordering::AcqRel) & ABORT == 0
    }

    /// The `JoinHandle` goes away; returns true if the task is complete, so
    /// that the caller owns the output and must drop it.
    pub(crate) fn drop_join_interest(&self) -> bool {
        let mut state = self.0.load(Ordering::Acquire);
        loop {
            if state & COMPLETE != 0 {
                return true;
            }
            match self.0.compare_exchange_weak(
                state,
                state & !JOIN_INTEREST,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return false,
                Err(actual) => state = actual,
            }
        }
    }

    pub(crate) fn ref_inc(&self) {
        self.0.fetch_add(REF_ONE, Ordering::Relaxed);
    }

    /// Gives back a reference; returns true if it was the last one.
    pub(crate) fn ref_dec(&self) -> bool {
        self.0.fetch_sub(REF_ONE, Ordering::AcqRel) / REF_ONE == 1
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use loom::cell::UnsafeCell;
    use loom::sync::atomic::AtomicUsize;
    use loom::sync::Arc;
    use loom::thread;

    use super::*;

    /// The parts of a task cell the state word guards: the output slot, and
    /// a count of outputs dropped.
    struct Cell {
        state: State,
        output: UnsafeCell<Option<Output>>,
        dropped: Arc<AtomicUsize>,
        freed: AtomicUsize,
    }

    struct Output(Arc<AtomicUsize>);

    impl Drop for Output {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    impl Cell {
        fn release(&self) {
            if self.state.ref_dec() {
                self.freed.fetch_add(1, Ordering::Relaxed);
            }
        }

        /// The driver: the task finishes (or is cancelled) and stores its output.
        fn complete(&self) {
            // SAFETY: before COMPLETE only the completer touches the slot.
            self.output.with_mut(|slot| unsafe { *slot = Some(Output(Arc::clone(&self.dropped))) });
            if !self.state.complete() {
                // SAFETY: no JoinHandle will read it: the completer owns it.
                self.output.with_mut(|slot| unsafe { *slot = None });
            }
            self.release();
        }

        /// The JoinHandle, dropped (detached) without reading the output.
        fn drop_join_handle(&self) {
            if self.state.drop_join_interest() {
                // SAFETY: COMPLETE with interest still set: the handle owns the output.
                self.output.with_mut(|slot| unsafe { *slot = None });
            }
            self.release();
        }
    }

    fn cell() -> (Arc<Cell>, Arc<AtomicUsize>) {
        let dropped = Arc::new(AtomicUsize::new(0));
        // References: the runtime, the JoinHandle, one AbortHandle.
        let cell = Cell {
            state: State::new(3),
            output: UnsafeCell::new(None),
            dropped: Arc::clone(&dropped),
            freed: AtomicUsize::new(0),
        };
        (Arc::new(cell), dropped)
    }

    /// Completion on the driver, the JoinHandle dropped on one thread and an
    /// AbortHandle aborting and dropped on another, in any interleaving:
    /// the output is dropped exactly once and the cell freed exactly once.
    #[test]
    fn complete_join_drop_and_abort_drop_the_output_exactly_once() {
        loom::model(|| {
            let (cell, dropped) = cell();
            let joiner = {
                let cell = Arc::clone(&cell);
                thread::spawn(move || cell.drop_join_handle())
            };
            let aborter = {
                let cell = Arc::clone(&cell);
                thread::spawn(move || {
                    // Forwarded only if it came before completion; a
                    // second request is never forwarded.
                    cell.state.request_abort();
                    assert!(!cell.state.request_abort());
                    cell.release();
                })
            };
            cell.complete();
            joiner.join().unwrap();
            aborter.join().unwrap();
            assert_eq!(dropped.load(Ordering::Relaxed), 1, "the output is dropped exactly once");
            assert_eq!(cell.freed.load(Ordering::Relaxed), 1, "the cell is freed exactly once");
        });
    }

    /// A JoinHandle that awaits the output takes it exactly once, whichever
    /// side finishes first, and an abort after completion is not forwarded.
    #[test]
    fn a_joined_output_is_taken_once_and_late_aborts_are_ignored() {
        loom::model(|| {
            let (cell, dropped) = cell();
            let driver = {
                let cell = Arc::clone(&cell);
                thread::spawn(move || cell.complete())
            };
            // The JoinHandle polls until COMPLETE, then takes the output.
            while !cell.state.is_complete() {
                thread::yield_now();
            }
            // SAFETY: COMPLETE observed with Acquire; the handle owns the output.
            let taken = cell.output.with_mut(|slot| unsafe { (*slot).take() });
            assert!(taken.is_some());
            drop(taken);
            assert!(!cell.state.request_abort(), "aborting a finished task does nothing");
            cell.drop_join_handle();
            driver.join().unwrap();
            cell.release(); // the AbortHandle
            assert_eq!(dropped.load(Ordering::Relaxed), 1);
            assert_eq!(cell.freed.load(Ordering::Relaxed), 1);
        });
    }
}
