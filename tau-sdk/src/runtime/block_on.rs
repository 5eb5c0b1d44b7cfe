//! `block_on`: drive the runtime on this thread until a future completes, or,
//! if another thread is driving it, poll the future here and park between wakes.

use std::any::Any;
use std::ffi::c_void;
use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::task::{Context, Poll};

use tau_rt::abi::{
    FfiWaker, PollStatus, RawFuture, BLOCK_ON_BUSY, BLOCK_ON_DONE, BLOCK_ON_GONE, BLOCK_ON_NESTED,
    POLL_PENDING, POLL_READY,
};

use crate::context::{self, TableRef};
use crate::ffi_waker;
use crate::park::Unparker;

const NESTED_MESSAGE: &str = "Cannot start a runtime from within a runtime. This happens because a \
function (like `block_on`) attempted to block the current thread while the thread is being used to \
drive asynchronous tasks. Use `.await` instead, or move the blocking call into `tau::task::spawn_blocking`.";

const GONE_MESSAGE: &str = "tau: `block_on` on the runtime of a plugin that was unloaded: its code may \
still run (a value it made outlived it), but it has no runtime any more";

struct Main<'a, F: Future> {
    future: Pin<&'a mut F>,
    output: Option<F::Output>,
    panic: Option<Box<dyn Any + Send>>,
}

unsafe extern "C" fn poll_main<F: Future>(data: *mut c_void, waker: *const FfiWaker) -> PollStatus {
    // SAFETY: `data` is the `Main` borrowed by `block_on` for this call.
    let main = unsafe { &mut *(data as *mut Main<'_, F>) };
    // SAFETY: `waker` is borrowed for this call.
    let polled = ffi_waker::with_std_waker(unsafe { &*waker }, |waker| {
        let mut cx = Context::from_waker(waker);
        let _budget = crate::task::coop::start_poll();
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

#[track_caller]
pub(crate) fn block_on<F: Future>(table: &TableRef, future: F) -> F::Output {
    let _entered = context::enter_scoped(table);
    let mut main = Main { future: pin!(future), output: None, panic: None };
    let parker = Unparker::current();
    let park_waker = parker.ffi_waker();
    loop {
        let raw = RawFuture { data: (&mut main as *mut Main<'_, F>).cast(), poll: poll_main::<F> };
        // `main` and `park_waker` outlive the call.
        let status = table.block_on(raw, &park_waker);
        match status {
            BLOCK_ON_DONE => break,
            BLOCK_ON_NESTED => panic!("{NESTED_MESSAGE}"),
            BLOCK_ON_GONE => panic!("{GONE_MESSAGE}"),
            BLOCK_ON_BUSY => {
                // Another thread drives the runtime: poll here, park until our
                // future is woken or the driver lets go, then try again.
                let waker = parker.waker();
                let mut cx = Context::from_waker(&waker);
                let budget = crate::task::coop::start_poll();
                let polled = main.future.as_mut().poll(&mut cx);
                drop(budget);
                if let Poll::Ready(output) = polled {
                    return output;
                }
                std::thread::park();
            }
            other => unreachable!("unknown block_on status {other:?}"),
        }
    }
    if let Some(payload) = main.panic {
        resume_unwind(payload);
    }
    main.output.expect("block_on finished without output")
}
