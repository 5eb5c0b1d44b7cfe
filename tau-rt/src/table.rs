//! The `extern "C"` functions behind [`RuntimeTable`]. Each one resolves
//! the `rt` context to its scope, checks the thread and the scope once,
//! here at the boundary, and calls into the runtime. None of them unwinds
//! (a bug that panics here aborts the process, as `extern "C"` requires),
//! except `raise`, whose purpose that is.

use std::ffi::c_void;
use std::sync::Arc;

use crate::abi::{
    BlockOnStatus, BlockingJob, FfiWaker, PollStatus, RawFuture, RawTask, RtContext, RuntimeMetrics,
    RuntimeTable, ABI_VERSION, BLOCK_ON_GONE, ERR_GONE, ERR_NOT_DRIVER, POLL_GONE, POLL_NOT_DRIVER,
};
use crate::alloc::GLOBAL_ALLOCATOR;
use crate::key::Key;
use crate::runtime::Driver;
use crate::scope::Scope;
use crate::waker::TASK_WAKER_VTABLE;

/// The check of a call that registers with the timers or the reactor: its
/// scope is live and this thread drives the runtime; past it, the call
/// uses the driver's state directly. Polls go through
/// [`Driver::poll_resource`] instead, which answers a gone scope's own task
/// differently.
fn driver(scope: &Scope) -> Result<Driver<'_>, i32> {
    if scope.is_gone() {
        return Err(ERR_GONE);
    }
    scope.shared.driver().ok_or(ERR_NOT_DRIVER)
}

/// What a poll of a timer or IO readiness gets on a thread that does not
/// drive the runtime.
fn off_driver_poll_status(scope: &Scope) -> PollStatus {
    if scope.is_gone() {
        POLL_GONE
    } else {
        POLL_NOT_DRIVER
    }
}

pub(crate) fn build(rt: *const RtContext) -> RuntimeTable {
    RuntimeTable {
        abi_version: ABI_VERSION,
        size: std::mem::size_of::<RuntimeTable>() as u32,
        rt,
        task_waker_vtable: &TASK_WAKER_VTABLE,
        allocator: &GLOBAL_ALLOCATOR,
        retain,
        release,
        is_driver_thread,
        is_gone,
        now_ns,
        clock_control,
        spawn,
        abort,
        metrics,
        block_on,
        spawn_blocking,
        timer_poll,
        timer_cancel,
        timer_reset,
        io_register,
        io_poll_ready,
        io_clear_ready,
        io_deregister,
        signal_subscribe,
        signal_poll,
        signal_unsubscribe,
        tty_subscribe,
        tty_read,
        tty_mark,
        tty_poll_buffered,
        tty_set_raw,
        tty_is_raw,
        tty_unsubscribe,
        catch_unwind,
        raise,
    }
}

unsafe extern "C" fn retain(rt: *const RtContext) {
    // SAFETY: `rt` is the pointer of a live `Arc<Scope>` (table contract).
    unsafe { Arc::increment_strong_count(rt as *const Scope) }
}

unsafe extern "C" fn release(rt: *const RtContext) {
    // SAFETY: balances a `retain`; the scope stays valid until its last release.
    unsafe { Arc::decrement_strong_count(rt as *const Scope) }
}

unsafe extern "C" fn is_driver_thread(rt: *const RtContext) -> bool {
    // SAFETY: table contract.
    unsafe { Scope::from_rt(rt) }.shared.is_driver_thread()
}

unsafe extern "C" fn is_gone(rt: *const RtContext) -> bool {
    // SAFETY: table contract.
    unsafe { Scope::from_rt(rt) }.is_gone()
}

unsafe extern "C" fn now_ns(rt: *const RtContext) -> u64 {
    // SAFETY: table contract.
    unsafe { Scope::from_rt(rt) }.shared.clock.now()
}

unsafe extern "C" fn clock_control(rt: *const RtContext, op: u8, nanos: u64) -> i32 {
    use crate::abi::{
        CLOCK_ADVANCE, CLOCK_PAUSE, CLOCK_RESUME, ERR_CLOCK_NOT_PAUSED, ERR_CLOCK_PAUSED, ERR_CLOCK_SHARED,
    };
    use crate::clock::ClockError;
    // SAFETY: table contract.
    let scope = unsafe { Scope::from_rt(rt) };
    if scope.is_gone() {
        return ERR_GONE;
    }
    if scope.owner != crate::RUNTIME_OWNER {
        return ERR_CLOCK_SHARED;
    }
    let clock = &scope.shared.clock;
    let done = match op {
        CLOCK_PAUSE => clock.pause(),
        CLOCK_RESUME => clock.resume(),
        CLOCK_ADVANCE => clock.advance(nanos),
        _ => return libc::EINVAL,
    };
    match done {
        Ok(()) => {
            // Timers due at the new time fire at the driver's next turn.
            scope.shared.notify();
            0
        }
        Err(ClockError::AlreadyPaused) => ERR_CLOCK_PAUSED,
        Err(ClockError::NotPaused) => ERR_CLOCK_NOT_PAUSED,
    }
}

unsafe extern "C" fn gone_now_ns(_rt: *const RtContext) -> u64 {
    crate::clock::now_ns()
}

unsafe extern "C" fn gone_clock_control(_rt: *const RtContext, _op: u8, _nanos: u64) -> i32 {
    ERR_GONE
}

unsafe extern "C" fn spawn(rt: *const RtContext, task: RawTask) -> u64 {
    // SAFETY: table contract; the caller's reference keeps the scope alive.
    let scope = unsafe { Scope::from_rt(rt) };
    scope.shared.spawn(task, scope)
}

unsafe extern "C" fn abort(rt: *const RtContext, key: u64) {
    // SAFETY: table contract.
    unsafe { Scope::from_rt(rt) }.shared.abort(Key::from_raw(key))
}

unsafe extern "C" fn metrics(rt: *const RtContext, out: *mut RuntimeMetrics) {
    // SAFETY: table contract; `out` is a valid out-pointer.
    unsafe { *out = Scope::from_rt(rt).shared.metrics() }
}

unsafe extern "C" fn block_on(
    rt: *const RtContext,
    future: RawFuture,
    park: *const FfiWaker,
) -> BlockOnStatus {
    // SAFETY: table contract; `park` is borrowed for the call.
    unsafe { Scope::from_rt(rt).shared.block_on(future, &*park) }
}

unsafe extern "C" fn spawn_blocking(rt: *const RtContext, job: BlockingJob) -> u64 {
    // SAFETY: table contract.
    let scope = unsafe { Scope::from_rt(rt) };
    scope.shared.spawn_blocking(job, scope)
}

unsafe extern "C" fn timer_poll(
    rt: *const RtContext,
    key: *mut u64,
    deadline_ns: u64,
    waker: *const FfiWaker,
) -> PollStatus {
    // SAFETY: table contract; `key` and `waker` are valid for the call.
    let (scope, key, waker) = unsafe { (Scope::from_rt(rt), &mut *key, &*waker) };
    match scope.shared.driver() {
        Some(driver) => {
            driver.poll_resource(scope, waker, || driver.timer_poll(key, deadline_ns, waker, scope.owner))
        }
        None => off_driver_poll_status(scope),
    }
}

unsafe extern "C" fn timer_cancel(rt: *const RtContext, key: u64) {
    // SAFETY: table contract.
    unsafe { Scope::from_rt(rt) }.shared.timer_cancel(Key::from_raw(key));
}

unsafe extern "C" fn timer_reset(rt: *const RtContext, key: u64, deadline_ns: u64) {
    // SAFETY: table contract.
    unsafe { Scope::from_rt(rt) }.shared.timer_reset(Key::from_raw(key), deadline_ns);
}

unsafe extern "C" fn io_register(rt: *const RtContext, fd: i32, interest: u8, key: *mut u64) -> i32 {
    // SAFETY: table contract.
    let scope = unsafe { Scope::from_rt(rt) };
    let driver = match driver(scope) {
        Ok(driver) => driver,
        Err(code) => return code,
    };
    match driver.io_register(fd, interest, scope.owner) {
        Ok(registered) => {
            // SAFETY: `key` is a valid out-pointer for the call.
            unsafe { *key = registered };
            0
        }
        Err(error) => error.raw_os_error().unwrap_or(libc::EIO),
    }
}

unsafe extern "C" fn io_poll_ready(
    rt: *const RtContext,
    key: u64,
    direction: u8,
    waker: *const FfiWaker,
) -> PollStatus {
    // SAFETY: table contract.
    let scope = unsafe { Scope::from_rt(rt) };
    match scope.shared.driver() {
        // Only a look: no waker, no budget (see the table's docs).
        Some(_) if scope.is_gone() && waker.is_null() => POLL_GONE,
        Some(driver) if waker.is_null() => driver.io_peek_ready(Key::from_raw(key), direction),
        Some(driver) => {
            // SAFETY: table contract: a non-null `waker` is borrowed for the call.
            let waker = unsafe { &*waker };
            driver.poll_resource(scope, waker, || driver.io_poll_ready(Key::from_raw(key), direction, waker))
        }
        None => off_driver_poll_status(scope),
    }
}

unsafe extern "C" fn io_clear_ready(rt: *const RtContext, key: u64, direction: u8) {
    // SAFETY: table contract.
    // Through a revoked scope too, as before the revoke: a stale clear is harmless.
    if let Some(driver) = unsafe { Scope::from_rt(rt) }.shared.driver() {
        driver.io_clear_ready(Key::from_raw(key), direction);
    }
}

unsafe extern "C" fn io_deregister(rt: *const RtContext, key: u64, fd: i32) -> i32 {
    // SAFETY: table contract.
    let scope = unsafe { Scope::from_rt(rt) };
    // Through a revoked scope too: the revoke may still be on its way to the
    // driver, and then the registration (and the fd in the poller) is still
    // there. A key the revoke or shutdown already removed finds nothing.
    match scope.shared.io_deregister(Key::from_raw(key), fd) {
        Ok(()) => 0,
        Err(error) => error.raw_os_error().unwrap_or(libc::ENOENT),
    }
}

// ----- the table of no runtime ----------------------------------------------------

/// A table that belongs to no runtime: spawns are cancelled at once,
/// blocking jobs dropped, timers and IO report [`POLL_GONE`] and
/// [`ERR_GONE`], `block_on` returns [`BLOCK_ON_GONE`]. A plugin's code is
/// left with it after the plugin's unload, so that code still running then
/// (a stream the host kept) gets clear answers instead of starting a
/// runtime of its own.
pub fn gone_table() -> &'static RuntimeTable {
    &GONE
}

static GONE: RuntimeTable = RuntimeTable {
    abi_version: ABI_VERSION,
    size: std::mem::size_of::<RuntimeTable>() as u32,
    rt: std::ptr::null(),
    task_waker_vtable: &TASK_WAKER_VTABLE,
    allocator: &GLOBAL_ALLOCATOR,
    retain: gone_nothing,
    release: gone_nothing,
    is_driver_thread: gone_false,
    is_gone: gone_true,
    now_ns: gone_now_ns,
    clock_control: gone_clock_control,
    spawn: gone_spawn,
    abort: gone_abort,
    metrics: gone_metrics,
    block_on: gone_block_on,
    spawn_blocking: gone_spawn_blocking,
    timer_poll: gone_timer_poll,
    timer_cancel: gone_abort,
    timer_reset: gone_timer_reset,
    io_register: gone_io_register,
    io_poll_ready: gone_io_poll_ready,
    io_clear_ready: gone_io_clear_ready,
    io_deregister: gone_io_deregister,
    signal_subscribe: gone_signal_subscribe,
    signal_poll,
    signal_unsubscribe,
    tty_subscribe: gone_tty_subscribe,
    tty_read,
    tty_mark,
    tty_poll_buffered,
    tty_set_raw,
    tty_is_raw,
    tty_unsubscribe,
    catch_unwind,
    raise,
};

unsafe extern "C" fn gone_nothing(_rt: *const RtContext) {}

unsafe extern "C" fn gone_false(_rt: *const RtContext) -> bool {
    false
}

unsafe extern "C" fn gone_true(_rt: *const RtContext) -> bool {
    true
}

unsafe extern "C" fn gone_spawn(_rt: *const RtContext, task: RawTask) -> u64 {
    // SAFETY: handed to us, never accepted nor counted: refused as a spawn
    // onto a gone scope is.
    unsafe { crate::runtime::end_task(task, None, false) };
    0
}

unsafe extern "C" fn gone_abort(_rt: *const RtContext, _key: u64) {}

unsafe extern "C" fn gone_timer_reset(_rt: *const RtContext, _key: u64, _deadline: u64) {}

unsafe extern "C" fn gone_metrics(_rt: *const RtContext, out: *mut RuntimeMetrics) {
    // SAFETY: `out` is a valid out-pointer (table contract).
    unsafe { *out = RuntimeMetrics::default() }
}

unsafe extern "C" fn gone_block_on(
    _rt: *const RtContext,
    _future: RawFuture,
    _park: *const FfiWaker,
) -> BlockOnStatus {
    BLOCK_ON_GONE
}

unsafe extern "C" fn gone_spawn_blocking(_rt: *const RtContext, job: BlockingJob) -> u64 {
    // SAFETY: the job is ours to drop, unrun, once.
    unsafe { (job.drop)(job.data) };
    0
}

unsafe extern "C" fn gone_timer_poll(
    _rt: *const RtContext,
    _key: *mut u64,
    _deadline: u64,
    _waker: *const FfiWaker,
) -> PollStatus {
    POLL_GONE
}

unsafe extern "C" fn gone_io_register(_rt: *const RtContext, _fd: i32, _interest: u8, _key: *mut u64) -> i32 {
    ERR_GONE
}

unsafe extern "C" fn gone_io_poll_ready(
    _rt: *const RtContext,
    _key: u64,
    _direction: u8,
    _waker: *const FfiWaker,
) -> PollStatus {
    POLL_GONE
}

unsafe extern "C" fn gone_io_clear_ready(_rt: *const RtContext, _key: u64, _direction: u8) {}

unsafe extern "C" fn gone_io_deregister(_rt: *const RtContext, _key: u64, _fd: i32) -> i32 {
    0
}

unsafe extern "C" fn signal_subscribe(rt: *const RtContext, signal: i32, key: *mut u64) -> i32 {
    // SAFETY: table contract.
    if unsafe { Scope::from_rt(rt) }.is_gone() {
        return ERR_GONE;
    }
    match crate::signal::subscribe(signal, rt as usize) {
        Ok(subscribed) => {
            // SAFETY: `key` is a valid out-pointer (table contract).
            unsafe { *key = subscribed };
            0
        }
        Err(errno) => errno,
    }
}

/// Subscriptions are process-wide, not the scope's: a value that outlived
/// its plugin still polls and ends its own.
unsafe extern "C" fn signal_poll(_rt: *const RtContext, key: u64, waker: *const FfiWaker) -> PollStatus {
    // SAFETY: `waker` is borrowed for the call (table contract).
    match crate::signal::poll(key, unsafe { &*waker }) {
        Some(true) => crate::abi::POLL_READY,
        Some(false) => crate::abi::POLL_PENDING,
        None => POLL_GONE,
    }
}

unsafe extern "C" fn signal_unsubscribe(_rt: *const RtContext, key: u64) {
    crate::signal::unsubscribe(key);
}

unsafe extern "C" fn gone_signal_subscribe(_rt: *const RtContext, _signal: i32, _key: *mut u64) -> i32 {
    ERR_GONE
}

unsafe extern "C" fn tty_subscribe(rt: *const RtContext, fd: i32, key: *mut u64) -> i32 {
    // SAFETY: table contract.
    let scope = unsafe { Scope::from_rt(rt) };
    if scope.is_gone() {
        return ERR_GONE;
    }
    match crate::tty::subscribe(fd, rt as usize) {
        // A revoke that began meanwhile may have released the scope's
        // subscriptions before this one was there: it would outlive them.
        Ok(subscribed) if scope.is_gone() => {
            crate::tty::unsubscribe(subscribed);
            ERR_GONE
        }
        Ok(subscribed) => {
            // SAFETY: `key` is a valid out-pointer (table contract).
            unsafe { *key = subscribed };
            0
        }
        Err(errno) => errno,
    }
}

/// Like signal subscriptions, the terminal's are process-wide and keyed:
/// the revoke of their scope ends them, and a key that ended reports it.
unsafe extern "C" fn tty_read(
    _rt: *const RtContext,
    key: u64,
    buf: *mut u8,
    len: usize,
    read: *mut usize,
    offset: *mut u64,
) -> i32 {
    // SAFETY: `buf` is valid for `len` bytes for the call (table contract).
    let buf = unsafe { std::slice::from_raw_parts_mut(buf, len) };
    match crate::tty::read(key, buf) {
        Ok((first, count)) => {
            // SAFETY: `read` and `offset` are valid out-pointers (table contract).
            unsafe { (*read, *offset) = (count, first) };
            0
        }
        Err(libc::ENOENT) => ERR_GONE,
        Err(errno) => errno,
    }
}

unsafe extern "C" fn tty_mark(_rt: *const RtContext, key: u64, offset: *mut u64) -> i32 {
    match crate::tty::mark(key) {
        Ok(next) => {
            // SAFETY: `offset` is a valid out-pointer (table contract).
            unsafe { *offset = next };
            0
        }
        Err(libc::ENOENT) => ERR_GONE,
        Err(errno) => errno,
    }
}

unsafe extern "C" fn tty_poll_buffered(
    _rt: *const RtContext,
    key: u64,
    waker: *const FfiWaker,
) -> PollStatus {
    // SAFETY: `waker` is borrowed for the call (table contract).
    match crate::tty::poll_buffered(key, unsafe { &*waker }) {
        Some(true) => crate::abi::POLL_READY,
        Some(false) => crate::abi::POLL_PENDING,
        None => POLL_GONE,
    }
}

unsafe extern "C" fn tty_set_raw(_rt: *const RtContext, key: u64, on: bool) -> i32 {
    match crate::tty::set_raw(key, on) {
        Ok(()) => 0,
        Err(libc::ENOENT) => ERR_GONE,
        Err(errno) => errno,
    }
}

unsafe extern "C" fn tty_is_raw(_rt: *const RtContext, key: u64) -> i32 {
    crate::tty::is_raw(key).map_or(ERR_GONE, i32::from)
}

unsafe extern "C" fn tty_unsubscribe(_rt: *const RtContext, key: u64) {
    crate::tty::unsubscribe(key);
}

unsafe extern "C" fn gone_tty_subscribe(_rt: *const RtContext, _fd: i32, _key: *mut u64) -> i32 {
    ERR_GONE
}

unsafe extern "C-unwind" fn catch_unwind(
    _rt: *const RtContext,
    body: unsafe extern "C-unwind" fn(data: *mut c_void),
    data: *mut c_void,
) -> bool {
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: the table contract: `body` may be called with `data`.
        unsafe { body(data) }
    }));
    match caught {
        Ok(()) => true,
        Err(payload) => {
            // Dropping a payload can itself panic; contain that too.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(payload)));
            false
        }
    }
}

unsafe extern "C-unwind" fn raise(_rt: *const RtContext, message: *const u8, len: usize) -> ! {
    // SAFETY: the table contract: `message` points to `len` bytes.
    let bytes = unsafe { std::slice::from_raw_parts(message, len) };
    std::panic::resume_unwind(Box::new(String::from_utf8_lossy(bytes).into_owned()))
}
