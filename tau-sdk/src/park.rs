//! Waking a parked thread: the thread in `block_on` while another thread
//! drives the runtime, and the thread in `oneshot::Receiver::blocking_recv`.
//!
//! As an [`FfiWaker`] an unparker keeps one data pointer (its `Arc`) across
//! clones, so the runtime can tell repeated registrations of one parker apart.

use std::ffi::c_void;
use std::sync::Arc;
use std::task::{Wake, Waker};
use std::thread::Thread;

use tau_rt::abi::{FfiWaker, FfiWakerVTable};

pub(crate) struct Unparker(Thread);

impl Unparker {
    /// An unparker for the calling thread.
    pub(crate) fn current() -> Arc<Unparker> {
        Arc::new(Unparker(std::thread::current()))
    }

    pub(crate) fn waker(self: &Arc<Self>) -> Waker {
        Waker::from(Arc::clone(self))
    }

    pub(crate) fn ffi_waker(self: &Arc<Self>) -> FfiWaker {
        FfiWaker { data: Arc::into_raw(Arc::clone(self)) as *const c_void, vtable: &PARK_VTABLE }
    }
}

impl Wake for Unparker {
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
    // SAFETY: data is `Arc::into_raw` of a live Unparker.
    unsafe { Arc::increment_strong_count(data as *const Unparker) };
    FfiWaker { data, vtable: &PARK_VTABLE }
}

unsafe extern "C" fn park_wake(data: *const c_void) {
    // SAFETY: we own one count; consumed here.
    unsafe { Arc::from_raw(data as *const Unparker) }.0.unpark();
}

unsafe extern "C" fn park_wake_by_ref(data: *const c_void) {
    // SAFETY: data is a live Arc pointer.
    unsafe { &*(data as *const Unparker) }.0.unpark();
}

unsafe extern "C" fn park_drop(data: *const c_void) {
    // SAFETY: releases one owned count.
    drop(unsafe { Arc::from_raw(data as *const Unparker) });
}
