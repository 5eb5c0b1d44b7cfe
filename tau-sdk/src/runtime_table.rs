//! The safe face of the runtime table: one method per function of
//! [`RuntimeTable`](tau_rt::abi::RuntimeTable), on the counted reference [`TableRef`] that keeps the
//! table valid. Every `(table.f)(table.rt, …)` call of the SDK is here,
//! except `retain` and `release`, which are `TableRef`'s own counting (in
//! `context.rs`). The one reason they are sound: the reference is held for
//! the call, so `rt` is live, and every pointer passed is valid for the call (borrowed
//! wakers are borrowed, out-pointers point to locals).
//!
//! Codes stay the table's (typed statuses, errnos with the table's own
//! negative codes): what they mean for a caller (tokio's error, a panic)
//! is the caller's to say.

use tau_rt::abi::{BlockOnStatus, BlockingJob, FfiWaker, PollStatus, RawFuture, RawTask, RuntimeMetrics};

use crate::context::TableRef;

/// A table status code (0 is success) as a `Result`.
fn code(code: i32) -> Result<(), i32> {
    if code == 0 {
        Ok(())
    } else {
        Err(code)
    }
}

// SAFETY (for every block below): `self` holds a reference to the table
// (`TableRef`'s invariant), so `table.rt` is live for the call; the other
// arguments are valid for the call as each function's docs in
// `tau_abi::runtime` require.
impl TableRef {
    /// True if the calling thread drives this runtime now.
    pub(crate) fn is_driver_thread(&self) -> bool {
        let table = self.get();
        // SAFETY: see above.
        unsafe { (table.is_driver_thread)(table.rt) }
    }

    /// True once the scope was revoked or the runtime shut down.
    pub(crate) fn is_gone(&self) -> bool {
        let table = self.get();
        // SAFETY: see above.
        unsafe { (table.is_gone)(table.rt) }
    }

    /// The runtime's clock, in nanoseconds.
    pub(crate) fn now_ns(&self) -> u64 {
        let table = self.get();
        // SAFETY: see above.
        unsafe { (table.now_ns)(table.rt) }
    }

    /// Pauses, resumes or advances the clock (`CLOCK_*`).
    pub(crate) fn clock_control(&self, op: u8, nanos: u64) -> Result<(), i32> {
        let table = self.get();
        // SAFETY: see above.
        code(unsafe { (table.clock_control)(table.rt, op, nanos) })
    }

    /// Spawns `task`, handing the runtime one of its references; its id.
    pub(crate) fn spawn(&self, task: RawTask) -> u64 {
        let table = self.get();
        // SAFETY: see above; `task` is a live cell whose reference the
        // runtime now owns.
        unsafe { (table.spawn)(table.rt, task) }
    }

    /// Aborts the task bound to `key`.
    pub(crate) fn abort(&self, key: u64) {
        let table = self.get();
        // SAFETY: see above.
        unsafe { (table.abort)(table.rt, key) }
    }

    /// The runtime's counts.
    pub(crate) fn metrics(&self) -> RuntimeMetrics {
        let table = self.get();
        let mut metrics = RuntimeMetrics::default();
        // SAFETY: see above; `metrics` is a valid out-pointer.
        unsafe { (table.metrics)(table.rt, &mut metrics) };
        metrics
    }

    /// Drives the runtime on this thread until `future` completes.
    pub(crate) fn block_on(&self, future: RawFuture, park: &FfiWaker) -> BlockOnStatus {
        let table = self.get();
        // SAFETY: see above; `future` is borrowed by the caller for the call.
        unsafe { (table.block_on)(table.rt, future, park) }
    }

    /// Runs `job` on the blocking pool, which now owns it; its id.
    pub(crate) fn spawn_blocking(&self, job: BlockingJob) -> u64 {
        let table = self.get();
        // SAFETY: see above.
        unsafe { (table.spawn_blocking)(table.rt, job) }
    }

    /// Polls the timer `*key` for `deadline_ns`.
    pub(crate) fn timer_poll(&self, key: &mut u64, deadline_ns: u64, waker: &FfiWaker) -> PollStatus {
        let table = self.get();
        // SAFETY: see above.
        unsafe { (table.timer_poll)(table.rt, key, deadline_ns, waker) }
    }

    /// Cancels the timer `key`.
    pub(crate) fn timer_cancel(&self, key: u64) {
        let table = self.get();
        // SAFETY: see above.
        unsafe { (table.timer_cancel)(table.rt, key) }
    }

    pub(crate) fn timer_reset(&self, key: u64, deadline_ns: u64) {
        let table = self.get();
        // SAFETY: see above.
        unsafe { (table.timer_reset)(table.rt, key, deadline_ns) }
    }

    /// Registers `fd` with the reactor: its key, or the table's code.
    pub(crate) fn io_register(&self, fd: i32, interest: u8) -> Result<u64, i32> {
        let table = self.get();
        let mut key = 0;
        // SAFETY: see above; `key` is a valid out-pointer.
        code(unsafe { (table.io_register)(table.rt, fd, interest, &mut key) }).map(|()| key)
    }

    /// Polls the readiness of `direction` of the registration `key`.
    pub(crate) fn io_poll_ready(&self, key: u64, direction: u8, waker: &FfiWaker) -> PollStatus {
        let table = self.get();
        // SAFETY: see above.
        unsafe { (table.io_poll_ready)(table.rt, key, direction, waker) }
    }

    /// The readiness of `direction` of the registration `key` now, storing
    /// no waker and spending no budget.
    pub(crate) fn io_peek_ready(&self, key: u64, direction: u8) -> PollStatus {
        let table = self.get();
        // SAFETY: see above; a null waker asks for a look only (table contract).
        unsafe { (table.io_poll_ready)(table.rt, key, direction, std::ptr::null()) }
    }

    /// Clears the readiness of `direction` of the registration `key`.
    pub(crate) fn io_clear_ready(&self, key: u64, direction: u8) {
        let table = self.get();
        // SAFETY: see above.
        unsafe { (table.io_clear_ready)(table.rt, key, direction) }
    }

    /// Deregisters `fd`, registered under `key`.
    pub(crate) fn io_deregister(&self, key: u64, fd: i32) -> Result<(), i32> {
        let table = self.get();
        // SAFETY: see above.
        code(unsafe { (table.io_deregister)(table.rt, key, fd) })
    }

    /// Subscribes to `signal`: the subscription's key, or the table's code.
    pub(crate) fn signal_subscribe(&self, signal: i32) -> Result<u64, i32> {
        let table = self.get();
        let mut key = 0;
        // SAFETY: see above; `key` is a valid out-pointer.
        code(unsafe { (table.signal_subscribe)(table.rt, signal, &mut key) }).map(|()| key)
    }

    /// Polls the signal subscription `key`.
    pub(crate) fn signal_poll(&self, key: u64, waker: &FfiWaker) -> PollStatus {
        let table = self.get();
        // SAFETY: see above.
        unsafe { (table.signal_poll)(table.rt, key, waker) }
    }

    /// Ends the signal subscription `key`.
    pub(crate) fn signal_unsubscribe(&self, key: u64) {
        let table = self.get();
        // SAFETY: see above.
        unsafe { (table.signal_unsubscribe)(table.rt, key) }
    }

    /// Subscribes to the terminal `fd` refers to: the key, or the code.
    pub(crate) fn tty_subscribe(&self, fd: i32) -> Result<u64, i32> {
        let table = self.get();
        let mut key = 0;
        // SAFETY: see above; `key` is a valid out-pointer.
        code(unsafe { (table.tty_subscribe)(table.rt, fd, &mut key) }).map(|()| key)
    }

    /// Reads into `buf` for the subscription `key`: (offset, count).
    pub(crate) fn tty_read(&self, key: u64, buf: &mut [u8]) -> Result<(u64, usize), i32> {
        let table = self.get();
        let (mut read, mut offset) = (0, 0);
        // SAFETY: see above; `buf` and the out-pointers are valid for the call.
        code(unsafe { (table.tty_read)(table.rt, key, buf.as_mut_ptr(), buf.len(), &mut read, &mut offset) })
            .map(|()| (offset, read))
    }

    /// Drains the tty; the next byte's offset in the stream of `key`.
    pub(crate) fn tty_mark(&self, key: u64) -> Result<u64, i32> {
        let table = self.get();
        let mut offset = 0;
        // SAFETY: see above; `offset` is a valid out-pointer.
        code(unsafe { (table.tty_mark)(table.rt, key, &mut offset) }).map(|()| offset)
    }

    /// Polls for bytes buffered for the subscription `key`.
    pub(crate) fn tty_poll_buffered(&self, key: u64, waker: &FfiWaker) -> PollStatus {
        let table = self.get();
        // SAFETY: see above.
        unsafe { (table.tty_poll_buffered)(table.rt, key, waker) }
    }

    /// Says whether the subscription `key` wants raw mode.
    pub(crate) fn tty_set_raw(&self, key: u64, on: bool) -> Result<(), i32> {
        let table = self.get();
        // SAFETY: see above.
        code(unsafe { (table.tty_set_raw)(table.rt, key, on) })
    }

    /// Whether the terminal of `key` is raw: `Ok(bool)` or the code.
    pub(crate) fn tty_is_raw(&self, key: u64) -> Result<bool, i32> {
        let table = self.get();
        // SAFETY: see above.
        match unsafe { (table.tty_is_raw)(table.rt, key) } {
            raw @ (0 | 1) => Ok(raw == 1),
            code => Err(code),
        }
    }

    /// Ends the terminal subscription `key`.
    pub(crate) fn tty_unsubscribe(&self, key: u64) {
        let table = self.get();
        // SAFETY: see above.
        unsafe { (table.tty_unsubscribe)(table.rt, key) }
    }

    /// Runs `body` inside the `catch_unwind` of the program that made the
    /// table; false if it panicked. Only for code of that program (a value
    /// the host handed over): a panic of this library's own std reaching
    /// there would abort.
    pub(crate) fn catch_unwind<F: FnOnce()>(&self, body: F) -> bool {
        unsafe extern "C-unwind" fn run<F: FnOnce()>(data: *mut std::ffi::c_void) {
            // SAFETY: `data` is the `Option<F>` below, alive for the call.
            if let Some(body) = unsafe { &mut *(data as *mut Option<F>) }.take() {
                body();
            }
        }
        let mut body = Some(body);
        let table = self.get();
        // SAFETY: see above; `run::<F>` is called with a pointer to `body`.
        unsafe {
            (table.catch_unwind)(table.rt, run::<F>, &mut body as *mut Option<F> as *mut std::ffi::c_void)
        }
    }

    /// Panics with `message` in the program that made the table (the
    /// host): for a panic of this library's code that the host called.
    pub(crate) fn raise(&self, message: &str) -> ! {
        let table = self.get();
        // SAFETY: see above; `message` is valid for the call.
        unsafe { (table.raise)(table.rt, message.as_ptr(), message.len()) }
    }
}
