//! `block_on`: drive the runtime on this thread until a future completes, or,
//! if another thread is driving it, poll the future here and park between wakes.

use std::any::Any;
use std::ffi::c_void;
use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;

use tau_rt::abi::{
    FfiWaker, FfiWakerVTable, RawFuture, BLOCK_ON_BUSY, BLOCK_ON_DONE, BLOCK_ON_NESTED, POLL_PENDING,
    POLL_READY,
};

use crate::context::{self, TableRef};
use crate::ffi_waker;

const NESTED_MESSAGE: &str = "Cannot start a runtime from within a runtime. This happens because a \
function (like `block_on`) attempted to block the current thread while the thread is being used to \
drive asynchronous tasks. Use `.await` instead, or move the blocking call into `tau::task::spawn_blocking`.";

struct Main<'a, F: Future> {
    future: Pin<&'a mut F>,
    output: Option<F::Output>,
    panic: Option<Box<dyn Any + Send>>,
}

unsafe extern "C" fn poll_main<F: Future>(data: *mut c_void, waker: *const FfiWaker) -> u8 {
    // SAFETY: `data` is the `Main` borrowed by `block_on` for this call.
    let main = unsafe { &mut *(data as *mut Main<'_, F>) };
    // SAFETY: `waker` is borrowed for this call.
    let polled = ffi_waker::with_std_waker(unsafe { &*waker }, |waker| {
        let mut cx = Context::from_waker(waker);
        catch_unwind(AssertUnwindSafe(|| main.future.as_mut().poll(&mut cx)))
    });
    match polled {
        Ok(Poll::Pending) => POLL_PENDING,
        Ok(Poll::Ready(output)) => {
            main.output = Some(output);
            POLL_READY
        }
        Err(payload) => {
            main.panic = Some(payload);
            POLL_READY
        }
    }
}

pub(crate) fn block_on<F: Future>(table: TableRef, future: F) -> F::Output {
    let _entered = context::enter(table);
    let mut main = Main { future: pin!(future), output: None, panic: None };
    let parker = Parker::new();
    let park_waker = parker.ffi_waker();
    let runtime = table.get();
    loop {
        let raw = RawFuture { data: (&mut main as *mut Main<'_, F>).cast(), poll: poll_main::<F> };
        // SAFETY: the table is alive (entered), `main` and `park_waker` outlive the call.
        let status = unsafe { (runtime.block_on)(runtime.rt, raw, &park_waker) };
        match status {
            BLOCK_ON_DONE => break,
            BLOCK_ON_NESTED => panic!("{NESTED_MESSAGE}"),
            BLOCK_ON_BUSY => {
                // Another thread drives the runtime: poll here, park until our
                // future is woken or the driver lets go, then try again.
                let waker = parker.waker();
                let mut cx = Context::from_waker(&waker);
                if let Poll::Ready(output) = main.future.as_mut().poll(&mut cx) {
                    return output;
                }
                std::thread::park();
            }
            other => unreachable!("unknown block_on status {other}"),
        }
    }
    if let Some(payload) = main.panic {
        resume_unwind(payload);
    }
    main.output.expect("block_on finished without output")
}

/// Wakes a parked thread. Its FFI form keeps one data pointer across clones
/// (an `Arc`), so the runtime can tell repeated registrations apart.
struct Parker {
    thread: Arc<ThreadUnparker>,
}

struct ThreadUnparker(Thread);

impl Wake for ThreadUnparker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

static PARK_VTABLE: FfiWakerVTable =
    FfiWakerVTable { clone: park_clone, wake: park_wake, wake_by_ref: park_wake_by_ref, drop: park_drop };

unsafe extern "C" fn park_clone(data: *const c_void) -> FfiWaker {
    // SAFETY: data is `Arc::into_raw` of a live ThreadUnparker.
    unsafe { Arc::increment_strong_count(data as *const ThreadUnparker) };
    FfiWaker { data, vtable: &PARK_VTABLE }
}

unsafe extern "C" fn park_wake(data: *const c_void) {
    // SAFETY: we own one count; consumed here.
    let unparker = unsafe { Arc::from_raw(data as *const ThreadUnparker) };
    unparker.0.unpark();
}

unsafe extern "C" fn park_wake_by_ref(data: *const c_void) {
    // SAFETY: data is a live Arc pointer.
    unsafe { &*(data as *const ThreadUnparker) }.0.unpark();
}

unsafe extern "C" fn park_drop(data: *const c_void) {
    // SAFETY: releases one owned count.
    drop(unsafe { Arc::from_raw(data as *const ThreadUnparker) });
}

impl Parker {
    fn new() -> Parker {
        Parker { thread: Arc::new(ThreadUnparker(std::thread::current())) }
    }

    fn waker(&self) -> Waker {
        Waker::from(Arc::clone(&self.thread))
    }

    fn ffi_waker(&self) -> FfiWaker {
        let data = Arc::into_raw(Arc::clone(&self.thread)) as *const c_void;
        FfiWaker { data, vtable: &PARK_VTABLE }
    }
}
