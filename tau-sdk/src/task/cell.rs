//! The task cell: one allocation holding a spawned future (or a blocking
//! closure), then its output, shared by the runtime, the `JoinHandle` and any
//! `AbortHandle`s. Who may touch what is the state word's rule (`state.rs`).
//!
//! The cell holds a reference to the table it was spawned through, so
//! that `abort` stays safe for as long as any handle lives, even after the
//! plugin that spawned it was unloaded (its scope is then revoked, and
//! `abort` of a finished task does nothing).

use std::any::Any;
use std::cell::UnsafeCell;
use std::ffi::c_void;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};

use atomic_waker::AtomicWaker;
use tau_rt::abi::{BlockingJob, FfiWaker, PollStatus, RawTask, TaskVTable, POLL_PENDING, POLL_READY};

use super::state::State;
use super::{current, Id, JoinError};
use crate::context::{self, TableRef};
use crate::ffi_waker;

pub(crate) struct Header {
    state: State,
    join_waker: AtomicWaker,
    /// The runtime's key for `abort` (0 until the runtime binds the task).
    key: AtomicU64,
    id: AtomicU64,
    table: TableRef,
    vtable: &'static CellVTable,
    /// For a task of a `LocalSet`: schedules it there, so an abort is seen.
    local_waker: Option<Waker>,
}

pub(crate) struct CellVTable {
    /// Moves the output into `*dst` (a `Option<Result<T, JoinError>>`).
    take_output: unsafe fn(NonNull<Header>, dst: *mut ()),
    drop_output: unsafe fn(NonNull<Header>),
    dealloc: unsafe fn(NonNull<Header>),
}

pub(crate) enum Stage<Body, T> {
    Running(Body),
    Finished(Result<T, JoinError>),
    Consumed,
}

#[repr(C)]
struct Cell<Body, T> {
    header: Header,
    stage: UnsafeCell<Stage<Body, T>>,
}

struct VTables<Body, T>(std::marker::PhantomData<(Body, T)>);

impl<Body, T> VTables<Body, T> {
    const CELL: CellVTable = CellVTable {
        take_output: take_output::<Body, T>,
        drop_output: drop_output::<Body, T>,
        dealloc: dealloc::<Body, T>,
    };
}

impl<F: Future> VTables<F, F::Output> {
    const TASK: TaskVTable =
        TaskVTable { poll: poll_task::<F>, cancel: cancel_task::<F>, release: release_task, bind: bind_task };
}

fn cell<'a, Body, T>(header: NonNull<Header>) -> &'a Cell<Body, T> {
    // SAFETY: every header is the first field of a `#[repr(C)] Cell<Body, T>`
    // whose types the caller's vtable was instantiated with, alive while a
    // reference is held.
    unsafe { header.cast::<Cell<Body, T>>().as_ref() }
}

impl<Body, T> Cell<Body, T> {
    fn allocate(table: TableRef, body: Body, refs: usize) -> NonNull<Header> {
        Cell::<Body, T>::allocate_with(table, body, refs, None)
    }

    fn allocate_with(
        table: TableRef,
        body: Body,
        refs: usize,
        local_waker: Option<Waker>,
    ) -> NonNull<Header> {
        let cell = Box::new(Cell::<Body, T> {
            header: Header {
                state: State::new(refs),
                join_waker: AtomicWaker::new(),
                key: AtomicU64::new(0),
                id: AtomicU64::new(0),
                table,
                vtable: &VTables::<Body, T>::CELL,
                local_waker,
            },
            stage: UnsafeCell::new(Stage::<Body, T>::Running(body)),
        });
        NonNull::from(Box::leak(cell)).cast()
    }

    /// # Safety
    /// Only the driver thread before `COMPLETE`, or the output's owner after.
    #[allow(clippy::mut_from_ref)]
    unsafe fn stage(&self) -> &mut Stage<Body, T> {
        // SAFETY: exclusive access per the caller's contract.
        unsafe { &mut *self.stage.get() }
    }

    fn id(&self) -> Id {
        Id::from_raw(self.header.id.load(Ordering::Relaxed))
    }

    /// Drops the body (future or closure) in place, catching a panic from its Drop.
    ///
    /// # Safety
    /// As for [`stage`](Self::stage), before `COMPLETE`.
    unsafe fn drop_body(&self) -> Option<Box<dyn Any + Send>> {
        // The future's Drop sees its task's id, as in tokio.
        let _task = current::enter(self.id());
        catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: per the caller's contract.
            *unsafe { self.stage() } = Stage::Consumed;
        }))
        .err()
    }

    /// Stores the result and tells the `JoinHandle`, or drops the result if
    /// no `JoinHandle` is left to read it.
    ///
    /// # Safety
    /// The body is gone and `COMPLETE` is not yet set; called once.
    unsafe fn complete(&self, result: Result<T, JoinError>) {
        // SAFETY: not COMPLETE yet, so we own the stage.
        *unsafe { self.stage() } = Stage::Finished(result);
        if self.header.state.complete() {
            // The JoinHandle's waker may be anyone's (a foreign executor's),
            // and this runs inside `extern "C"`: contain a panic.
            let _ = catch_unwind(AssertUnwindSafe(|| self.header.join_waker.wake()));
        } else {
            // Nobody will read it: drop it now (its Drop may panic; contain
            // that), with the task's id current, as in tokio.
            let _task = current::enter(self.id());
            let _ = catch_unwind(AssertUnwindSafe(|| {
                // SAFETY: with no JoinHandle, the completer owns the output.
                *unsafe { self.stage() } = Stage::Consumed;
            }));
        }
    }

    /// Drops the body and completes as cancelled (or as panicked, if the
    /// body's Drop panicked).
    ///
    /// # Safety
    /// As for [`complete`](Self::complete), with the body still present.
    unsafe fn cancel(&self) {
        // SAFETY: per the contract.
        if !matches!(unsafe { self.stage() }, Stage::Running(_)) {
            return;
        }
        // SAFETY: per the contract.
        let result = match unsafe { self.drop_body() } {
            None => Err(JoinError::cancelled(self.id())),
            Some(payload) => Err(JoinError::panic(self.id(), payload)),
        };
        // SAFETY: the body is gone and the task was not complete.
        unsafe { self.complete(result) };
    }
}

unsafe fn take_output<Body, T>(header: NonNull<Header>, dst: *mut ()) {
    let cell = cell::<Body, T>(header);
    // SAFETY: called by the JoinHandle after observing COMPLETE (Acquire).
    let stage = unsafe { cell.stage() };
    match std::mem::replace(stage, Stage::Consumed) {
        Stage::Finished(result) => {
            // SAFETY: `dst` is a `*mut Option<Result<T, JoinError>>` from JoinHandle<T>.
            unsafe { *(dst as *mut Option<Result<T, JoinError>>) = Some(result) }
        }
        _ => panic!("JoinHandle polled after it returned its output"),
    }
}

unsafe fn drop_output<Body, T>(header: NonNull<Header>) {
    let cell = cell::<Body, T>(header);
    // SAFETY: called by the JoinHandle owner after observing COMPLETE.
    let stage = unsafe { cell.stage() };
    // The output's Drop sees its task's id, as in tokio.
    let _task = current::enter(cell.id());
    let _ = catch_unwind(AssertUnwindSafe(|| *stage = Stage::Consumed));
}

unsafe fn dealloc<Body, T>(header: NonNull<Header>) {
    // SAFETY: the last reference is gone; the cell was made by Box in `allocate`.
    let boxed = unsafe { Box::from_raw(header.cast::<Cell<Body, T>>().as_ptr()) };
    // Drops the stage (a panic in it is contained) and the table reference.
    let _ = catch_unwind(AssertUnwindSafe(move || drop(boxed)));
}

// ----- the handles' side ----------------------------------------------------------

/// A counted reference to a task cell, used by `JoinHandle` and `AbortHandle`.
pub(crate) struct RawRef {
    header: NonNull<Header>,
}

// SAFETY: the header's shared state is atomic; the output crosses threads only
// when `T: Send`, which JoinHandle's own Send bound requires.
unsafe impl Send for RawRef {}
// SAFETY: as above; `&RawRef` only reads atomics.
unsafe impl Sync for RawRef {}

impl RawRef {
    fn header(&self) -> &Header {
        // SAFETY: we hold a reference, so the cell is alive.
        unsafe { self.header.as_ref() }
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.header().state.is_complete()
    }

    pub(crate) fn clone_ref(&self) -> RawRef {
        self.header().state.ref_inc();
        RawRef { header: self.header }
    }

    /// Requests abort: see `JoinHandle::abort`.
    pub(crate) fn abort(&self) {
        let header = self.header();
        if !header.state.request_abort() {
            return;
        }
        let key = header.key.load(Ordering::Acquire);
        if key != 0 {
            // A revoked scope, or a shut-down runtime, ignores the abort.
            header.table.abort(key);
        }
        // key == 0: a spawn not yet accepted (it sees ABORT at its first poll)
        // or a blocking closure (it sees ABORT if it has not started).
        if let Some(waker) = &header.local_waker {
            // A `LocalSet`'s task: its set polls it next and sees ABORT.
            waker.wake_by_ref();
        }
    }

    /// Polls for the output; registers `waker` while it is not there.
    pub(crate) fn poll_output<T>(&self, waker: &Waker) -> Poll<Result<T, JoinError>> {
        let header = self.header();
        if !header.state.is_complete() {
            header.join_waker.register(waker);
            if !header.state.is_complete() {
                return Poll::Pending;
            }
        }
        let mut output: Option<Result<T, JoinError>> = None;
        // SAFETY: COMPLETE was observed with Acquire and the JoinHandle owns
        // the output; `output` has the type the vtable writes.
        unsafe { (header.vtable.take_output)(self.header, (&mut output as *mut Option<_>).cast()) };
        Poll::Ready(output.expect("task output present"))
    }

    /// Drops the JoinHandle's interest: the output (now or later) is dropped
    /// by whoever sees it last.
    pub(crate) fn drop_join_interest(&self) {
        let header = self.header();
        if header.state.drop_join_interest() {
            // SAFETY: COMPLETE with JOIN_INTEREST still set: we own the output.
            unsafe { (header.vtable.drop_output)(self.header) };
        }
    }
}

impl Drop for RawRef {
    fn drop(&mut self) {
        release_ref(self.header);
    }
}

fn release_ref(header: NonNull<Header>) {
    // SAFETY: the caller holds one reference.
    let header_ref = unsafe { header.as_ref() };
    if header_ref.state.ref_dec() {
        // SAFETY: that was the last reference.
        unsafe { (header_ref.vtable.dealloc)(header) };
    }
}

// ----- spawning ---------------------------------------------------------------------

/// Spawns `future` on `table`'s runtime; returns the JoinHandle's reference and the id.
pub(crate) fn spawn<F>(table: TableRef, future: F) -> (RawRef, Id)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let header = Cell::<F, F::Output>::allocate(table, future, 2);
    let task = RawTask { data: header.as_ptr() as *const c_void, vtable: &VTables::<F, F::Output>::TASK };
    // SAFETY: the header is alive (we hold the JoinHandle's reference). The
    // runtime takes one of the cell's two references.
    let id = unsafe { header.as_ref() }.table.spawn(task);
    // SAFETY: header is alive (we still hold the JoinHandle's reference). The
    // runtime also hands the id to `bind` before the first poll; this store
    // covers a task cancelled without being bound (spawned after shutdown).
    unsafe { header.as_ref() }.id.store(id, Ordering::Relaxed);
    (RawRef { header }, Id::from_raw(id))
}

unsafe extern "C" fn poll_task<F: Future>(task: *const c_void, waker: *const FfiWaker) -> PollStatus {
    let header = NonNull::new(task as *mut Header).expect("null task");
    let cell = cell::<F, F::Output>(header);
    if cell.header.state.is_aborted() {
        // SAFETY: the runtime polls on the driver thread; not complete yet.
        unsafe { cell.cancel() };
        return POLL_READY;
    }
    // SAFETY: driver thread, not complete: we own the stage.
    let Stage::Running(future) = (unsafe { cell.stage() }) else {
        return POLL_READY;
    };
    // SAFETY: the future never moves: it lives in the heap cell until dropped in place.
    let future = unsafe { Pin::new_unchecked(future) };
    // SAFETY: `waker` is borrowed for this call.
    let polled = ffi_waker::with_std_waker(unsafe { &*waker }, |waker| {
        // The task's own runtime is current while it runs, whoever drives:
        // what it spawns goes where it was spawned. A `LocalSet`'s task runs
        // in the runtime that polls its set, current already.
        let _runtime = cell.header.local_waker.is_none().then(|| context::enter_scoped(&cell.header.table));
        let _task = current::enter(cell.id());
        let _budget = super::coop::start_poll();
        let mut cx = Context::from_waker(waker);
        catch_unwind(AssertUnwindSafe(|| {
            // A future whose poll panics is dropped while the panic unwinds
            // (its Drop sees `thread::panicking()`), as tokio's.
            let drop_on_unwind = DropBodyOnUnwind(cell);
            let polled = future.poll(&mut cx);
            std::mem::forget(drop_on_unwind);
            polled
        }))
    });
    let result = match polled {
        Ok(Poll::Pending) => {
            if cell.header.state.is_aborted() {
                // SAFETY: as above.
                unsafe { cell.cancel() };
                return POLL_READY;
            }
            return POLL_PENDING;
        }
        Ok(Poll::Ready(output)) => Ok(output),
        Err(payload) => Err(JoinError::panic(cell.id(), payload)),
    };
    // SAFETY: as above; tokio drops the future before storing the output.
    let result = match (unsafe { cell.drop_body() }, result) {
        (Some(payload), Ok(_)) => Err(JoinError::panic(cell.id(), payload)),
        (_, result) => result,
    };
    // SAFETY: the future is gone and the task was not complete.
    unsafe { cell.complete(result) };
    POLL_READY
}

/// Drops a task's future if its poll unwinds: see `poll_task`.
struct DropBodyOnUnwind<'a, Body, T>(&'a Cell<Body, T>);

impl<Body, T> Drop for DropBodyOnUnwind<'_, Body, T> {
    fn drop(&mut self) {
        // SAFETY: only armed inside `poll_task`, on the driver thread before
        // COMPLETE, and dropped only by the unwinding of the future's poll,
        // which no longer uses the future. A panic of the future's own Drop
        // is caught inside (the poll's panic is the one the JoinError keeps).
        let _ = unsafe { self.0.drop_body() };
    }
}

unsafe extern "C" fn cancel_task<F: Future>(task: *const c_void) {
    let header = NonNull::new(task as *mut Header).expect("null task");
    // SAFETY: the runtime cancels on the driver thread, only tasks it has not
    // seen complete.
    unsafe { cell::<F, F::Output>(header).cancel() };
}

unsafe extern "C" fn release_task(task: *const c_void) {
    release_ref(NonNull::new(task as *mut Header).expect("null task"));
}

unsafe extern "C" fn bind_task(task: *const c_void, key: u64, id: u64) {
    // SAFETY: the runtime holds a reference while it binds.
    let header = unsafe { &*(task as *const Header) };
    header.id.store(id, Ordering::Relaxed);
    header.key.store(key, Ordering::Release);
}

// ----- tasks of a LocalSet ---------------------------------------------------------

/// The owner's reference to a task a `LocalSet` polls itself, on its thread.
pub(crate) struct LocalRef {
    header: NonNull<Header>,
    vtable: &'static TaskVTable,
    /// Seen finished: nothing of the future is left to drop.
    finished: std::cell::Cell<bool>,
}

/// Makes a task cell for `future` that the caller polls through the returned
/// [`LocalRef`]; `waker` schedules it with its set. `id` is its task id.
///
/// Not `Send`: the future is only ever polled and dropped through the
/// `LocalRef`, which is `!Send`, on the thread that made it.
pub(crate) fn spawn_local_cell<F>(table: TableRef, future: F, id: u64, waker: Waker) -> (RawRef, LocalRef)
where
    F: Future + 'static,
    F::Output: 'static,
{
    let header = Cell::<F, F::Output>::allocate_with(table, future, 2, Some(waker));
    // SAFETY: we hold both references.
    unsafe { header.as_ref() }.id.store(id, Ordering::Relaxed);
    (
        RawRef { header },
        LocalRef { header, vtable: &VTables::<F, F::Output>::TASK, finished: std::cell::Cell::new(false) },
    )
}

impl LocalRef {
    /// Polls the task once; true once it is finished (or saw its abort).
    pub(crate) fn poll(&self, waker: &Waker) -> bool {
        if self.finished.get() {
            return true;
        }
        let finished = ffi_waker::with_ffi_waker(waker, |waker| {
            // SAFETY: the cell is alive (we hold a reference); the owner polls
            // on its one thread, never concurrently, only before it finished.
            unsafe { (self.vtable.poll)(self.header.as_ptr() as *const c_void, waker) == POLL_READY }
        });
        self.finished.set(finished);
        finished
    }

    /// Drops the future unpolled; the task completes as cancelled.
    pub(crate) fn cancel(&self) {
        if !self.finished.replace(true) {
            // SAFETY: as for `poll`: the owner's thread, not finished.
            unsafe { (self.vtable.cancel)(self.header.as_ptr() as *const c_void) }
        }
    }
}

impl Drop for LocalRef {
    /// Cancels a task not finished yet, so that its `!Send` future is
    /// dropped here, on its thread, never by a `JoinHandle` elsewhere.
    fn drop(&mut self) {
        self.cancel();
        release_ref(self.header);
    }
}

// ----- blocking closures ------------------------------------------------------------

/// Runs `f` on `table`'s blocking pool; returns the JoinHandle's reference and the id.
pub(crate) fn spawn_blocking<F, R>(table: TableRef, f: F) -> (RawRef, Id)
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let header = Cell::<F, R>::allocate(table, f, 2);
    let job = BlockingJob {
        data: header.as_ptr() as *mut c_void,
        run: run_blocking::<F, R>,
        drop: drop_blocking::<F, R>,
    };
    // SAFETY: the header is alive (we hold the JoinHandle's reference). The
    // pool takes one of the cell's two references.
    let id = unsafe { header.as_ref() }.table.spawn_blocking(job);
    // The pool hands the id to `run`; a job dropped unrun (shutdown) keeps this one.
    // SAFETY: header is alive (we hold the JoinHandle's reference).
    unsafe { header.as_ref() }.id.store(id, Ordering::Relaxed);
    (RawRef { header }, Id::from_raw(id))
}

unsafe extern "C" fn run_blocking<F: FnOnce() -> R, R>(job: *mut c_void, id: u64) {
    let header = NonNull::new(job as *mut Header).expect("null job");
    let cell = cell::<F, R>(header);
    cell.header.id.store(id, Ordering::Relaxed);
    if !cell.header.state.start() {
        // Aborted before it started: it never runs (tokio's rule).
        // SAFETY: the pool thread owns the stage until COMPLETE.
        unsafe { cell.cancel() };
    } else {
        // SAFETY: as above.
        let Stage::Running(f) = std::mem::replace(unsafe { cell.stage() }, Stage::Consumed) else {
            unreachable!("blocking job run twice")
        };
        let _runtime = context::enter_scoped(&cell.header.table);
        let _task = current::enter(cell.id());
        let result =
            catch_unwind(AssertUnwindSafe(f)).map_err(|payload| JoinError::panic(cell.id(), payload));
        // SAFETY: the closure is consumed; not complete yet.
        unsafe { cell.complete(result) };
    }
    release_ref(header);
}

unsafe extern "C" fn drop_blocking<F: FnOnce() -> R, R>(job: *mut c_void) {
    let header = NonNull::new(job as *mut Header).expect("null job");
    // SAFETY: the pool owns the stage of a job it never ran.
    unsafe { cell::<F, R>(header).cancel() };
    release_ref(header);
}
