//! The runtime table: the C ABI through which plugins (and the embedded
//! runtime of standalone code) reach a tau runtime (built by `tau-rt`).
//!
//! Ownership rules for every pointer that crosses this ABI:
//! - [`FfiWaker`] values passed *by value* transfer ownership: the receiver
//!   must either wake it (consuming it) or drop it, exactly once.
//!   Wakers passed as `*const FfiWaker` are borrowed for the call only; the
//!   runtime clones them if it keeps them.
//! - A [`RawTask`]'s `data` is owned by the plugin's task cell; the runtime
//!   holds one reference from `spawn` until it calls `release`, after which it
//!   never touches `data` again.
//! - A [`RawFuture`] is borrowed for the duration of `block_on`.
//! - A [`BlockingJob`] is owned by the runtime once passed to
//!   `spawn_blocking`: it calls exactly one of `run` or `drop`.
//! - The table itself and its `rt` context stay valid while the caller holds
//!   a reference taken with `retain`. A plugin's table is its *scope*: after
//!   the plugin is unloaded the scope is revoked (work through it is refused
//!   or reports [`POLL_GONE`] / [`ERR_GONE`]) but stays valid for every
//!   holder of a reference.
//! - The [`AllocatorTable`] is `'static` in the program that made the table.

use std::ffi::c_void;

/// Bumped whenever the layout or meaning of [`RuntimeTable`] changes.
pub const ABI_VERSION: u32 = 6;

/// What a poll through the table reports: a task's or future's `poll`
/// ([`POLL_PENDING`], [`POLL_READY`]), or the runtime's answer to a timer,
/// IO, signal or terminal poll (which may also be [`POLL_NOT_DRIVER`] or
/// [`POLL_GONE`]). A `u8` on the wire.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PollStatus(pub u8);

/// `poll` result: the future is not finished.
pub const POLL_PENDING: PollStatus = PollStatus(0);
/// `poll` result: the future finished (or was cancelled); it must not be polled again.
pub const POLL_READY: PollStatus = PollStatus(1);
/// `timer_poll` / `io_poll_ready` result: called off the driver thread.
pub const POLL_NOT_DRIVER: PollStatus = PollStatus(2);
/// `timer_poll` / `io_poll_ready` result: the scope was revoked (its plugin
/// unloaded) or the runtime shut down, or the IO key is not registered.
pub const POLL_GONE: PollStatus = PollStatus(3);
/// `io_poll_ready` result: ready, and the poller reported the direction
/// closed for good (a hang-up; for reads also the peer's half-close), so it
/// stays ready through clears. What tokio's `Ready::is_read_closed` /
/// `is_write_closed` report.
pub const POLL_READY_CLOSED: PollStatus = PollStatus(4);

/// `io_register` / `io_deregister` error code: called off the driver thread.
pub const ERR_NOT_DRIVER: i32 = -1;
/// `io_register` error code: the scope was revoked or the runtime shut down.
pub const ERR_GONE: i32 = -2;
/// `clock_control` through a scope that is not the runtime's own (a
/// plugin's): the clock is shared by everyone on the runtime.
pub const ERR_CLOCK_SHARED: i32 = -3;
/// `clock_control`: pause of a paused clock.
pub const ERR_CLOCK_PAUSED: i32 = -4;
/// `clock_control`: resume or advance of a clock that is not paused.
pub const ERR_CLOCK_NOT_PAUSED: i32 = -5;

/// `clock_control` operation: stop the clock.
pub const CLOCK_PAUSE: u8 = 1;
/// `clock_control` operation: start a paused clock again.
pub const CLOCK_RESUME: u8 = 2;
/// `clock_control` operation: move a paused clock forward by `nanos`.
pub const CLOCK_ADVANCE: u8 = 3;

/// What `block_on` reports. A `u8` on the wire.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BlockOnStatus(pub u8);

/// `block_on` result: the future completed.
pub const BLOCK_ON_DONE: BlockOnStatus = BlockOnStatus(0);
/// `block_on` result: this thread is already driving a runtime.
pub const BLOCK_ON_NESTED: BlockOnStatus = BlockOnStatus(1);
/// `block_on` result: another thread drives the runtime; the park waker was
/// stored and is woken when the driver lets go.
pub const BLOCK_ON_BUSY: BlockOnStatus = BlockOnStatus(2);
/// `block_on` result: the table belongs to no runtime any more (the table a
/// plugin's code is left with after its unload).
pub const BLOCK_ON_GONE: BlockOnStatus = BlockOnStatus(3);

/// IO direction / interest bit: readable.
pub const INTEREST_READ: u8 = 1;
/// IO direction / interest bit: writable.
pub const INTEREST_WRITE: u8 = 2;
/// `io_clear_ready` flag, or-ed into the direction: the caller clears
/// because an operation did less than it asked (a stream read that filled
/// less than its buffer), not because of `WouldBlock`. The runtime honours
/// it only where its poller reports a peer's half-close (epoll's
/// `EPOLLRDHUP`), since otherwise an end of stream already queued with the
/// last data would never be reported again; elsewhere it keeps the readiness.
pub const CLEAR_DRAINED: u8 = 4;

/// Function table of an [`FfiWaker`].
#[repr(C)]
pub struct FfiWakerVTable {
    /// Returns a new owned waker for the same task.
    pub clone: unsafe extern "C" fn(data: *const c_void) -> FfiWaker,
    /// Wakes and consumes the waker.
    pub wake: unsafe extern "C" fn(data: *const c_void),
    /// Wakes without consuming.
    pub wake_by_ref: unsafe extern "C" fn(data: *const c_void),
    /// Releases the waker without waking.
    pub drop: unsafe extern "C" fn(data: *const c_void),
}

/// A C-ABI waker. Dropping it releases it; it is `Send + Sync` by contract.
#[repr(C)]
pub struct FfiWaker {
    /// Opaque data, interpreted only by `vtable`.
    pub data: *const c_void,
    /// The functions that act on `data`.
    pub vtable: *const FfiWakerVTable,
}

// SAFETY: every FfiWaker implementation must be thread-safe; this is part of
// the ABI contract (wakers are woken from reactor, timer and blocking threads).
unsafe impl Send for FfiWaker {}
// SAFETY: as above, `wake_by_ref` may be called from any thread.
unsafe impl Sync for FfiWaker {}

impl FfiWaker {
    /// Wakes the task, consuming the waker.
    #[inline]
    pub fn wake(self) {
        let this = std::mem::ManuallyDrop::new(self);
        // SAFETY: `this` is owned and not used again (ManuallyDrop skips Drop).
        unsafe { ((*this.vtable).wake)(this.data) }
    }

    /// Wakes the task, keeping the waker.
    #[inline]
    pub fn wake_by_ref(&self) {
        // SAFETY: the vtable belongs to this data by construction.
        unsafe { ((*self.vtable).wake_by_ref)(self.data) }
    }

    /// True if both wakers are the same data with the same functions.
    #[inline]
    pub fn will_wake(&self, other: &FfiWaker) -> bool {
        self.data == other.data && std::ptr::eq(self.vtable, other.vtable)
    }
}

impl Clone for FfiWaker {
    #[inline]
    fn clone(&self) -> Self {
        // SAFETY: the vtable belongs to this data by construction.
        unsafe { ((*self.vtable).clone)(self.data) }
    }
}

impl Drop for FfiWaker {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: we own this waker; it is released exactly once, here.
        unsafe { ((*self.vtable).drop)(self.data) }
    }
}

/// Functions of a spawned task. They live in the plugin that spawned it and
/// never unwind.
#[repr(C)]
pub struct TaskVTable {
    /// Polls the task once; returns [`POLL_READY`] when it finished (with a
    /// value, a panic, or because it saw its abort flag).
    pub poll: unsafe extern "C" fn(task: *const c_void, waker: *const FfiWaker) -> PollStatus,
    /// Drops the task's future without polling it (abort or shutdown); the
    /// task completes as cancelled.
    pub cancel: unsafe extern "C" fn(task: *const c_void),
    /// Gives up the runtime's reference; `task` is not used afterwards.
    pub release: unsafe extern "C" fn(task: *const c_void),
    /// Tells the task its id and the key under which `abort` finds it;
    /// called once, on the driver thread, before the first `poll`.
    pub bind: unsafe extern "C" fn(task: *const c_void, key: u64, id: u64),
}

/// A type-erased task handed to `spawn`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct RawTask {
    /// The task cell (owned by the plugin, see module docs).
    pub data: *const c_void,
    /// Its functions.
    pub vtable: *const TaskVTable,
}

// SAFETY: tasks handed to `spawn` must be Send (the SDK requires `F: Send`),
// because a remote spawn moves them to the driver thread.
unsafe impl Send for RawTask {}

/// A borrowed future driven by `block_on`.
#[repr(C)]
pub struct RawFuture {
    /// The future's state (borrowed for the call).
    pub data: *mut c_void,
    /// Polls it once; never unwinds.
    pub poll: unsafe extern "C" fn(data: *mut c_void, waker: *const FfiWaker) -> PollStatus,
}

/// A closure for the blocking pool: exactly one of `run` or `drop` is called.
#[repr(C)]
pub struct BlockingJob {
    /// The closure's state.
    pub data: *mut c_void,
    /// Runs and frees it, given the job's task id; never unwinds.
    pub run: unsafe extern "C" fn(data: *mut c_void, id: u64),
    /// Frees it without running (runtime shut down).
    pub drop: unsafe extern "C" fn(data: *mut c_void),
}

// SAFETY: the SDK only builds jobs from `F: FnOnce + Send + 'static`.
unsafe impl Send for BlockingJob {}

/// Counts a runtime reports through `metrics`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RuntimeMetrics {
    /// Tasks spawned and not yet finished or cancelled.
    pub alive_tasks: u64,
    /// Timers registered (sleeps that were polled and not yet completed or dropped).
    pub timers: u64,
    /// File descriptors registered with the reactor.
    pub io_registrations: u64,
    /// Times another thread woke the driver through the poller (a burst of
    /// remote spawns, wakes and aborts before the driver runs costs one).
    pub remote_notifies: u64,
    /// Operations other threads queued (spawns, wakes, aborts) that the
    /// driver has not taken yet; wakes of one task coalesce into one.
    pub remote_queue_depth: u64,
    /// Threads in the blocking pool.
    pub blocking_threads: u64,
    /// Blocking-pool threads waiting for work.
    pub idle_blocking_threads: u64,
}

/// An allocator as C-ABI functions, with `GlobalAlloc`'s contract: `size`
/// and `align` form a valid layout of non-zero size, and a block is freed
/// or resized with the layout it was made with.
#[repr(C)]
pub struct AllocatorTable {
    /// `GlobalAlloc::alloc`.
    pub alloc: unsafe extern "C" fn(size: usize, align: usize) -> *mut u8,
    /// `GlobalAlloc::alloc_zeroed`.
    pub alloc_zeroed: unsafe extern "C" fn(size: usize, align: usize) -> *mut u8,
    /// `GlobalAlloc::dealloc`.
    pub dealloc: unsafe extern "C" fn(ptr: *mut u8, size: usize, align: usize),
    /// `GlobalAlloc::realloc`.
    pub realloc: unsafe extern "C" fn(ptr: *mut u8, size: usize, align: usize, new_size: usize) -> *mut u8,
}

/// Opaque runtime context passed as the first argument of every function.
#[repr(C)]
pub struct RtContext {
    _private: [u8; 0],
}

/// The runtime table (host → plugin). Every function takes the table's `rt`.
#[repr(C)]
pub struct RuntimeTable {
    /// [`ABI_VERSION`] of the runtime that built this table.
    pub abi_version: u32,
    /// `size_of::<RuntimeTable>()` as the runtime sees it.
    pub size: u32,
    /// The runtime this table drives.
    pub rt: *const RtContext,
    /// The vtable of wakers the runtime hands to `poll`; lets the SDK
    /// recognise its runtime's wakers without allocating.
    pub task_waker_vtable: *const FfiWakerVTable,
    /// The global allocator of the program that made the table.
    pub allocator: *const AllocatorTable,

    /// Takes a reference that keeps `rt` and this table alive.
    pub retain: unsafe extern "C" fn(rt: *const RtContext),
    /// Drops a reference taken by `retain`.
    pub release: unsafe extern "C" fn(rt: *const RtContext),
    /// True if the calling thread is currently driving this runtime.
    pub is_driver_thread: unsafe extern "C" fn(rt: *const RtContext) -> bool,
    /// True once nothing more is accepted through this table: its scope was
    /// revoked (the plugin unloaded) or the runtime shut down.
    pub is_gone: unsafe extern "C" fn(rt: *const RtContext) -> bool,
    /// Monotonic clock in nanoseconds (the clock deadlines are given in).
    pub now_ns: unsafe extern "C" fn(rt: *const RtContext) -> u64,
    /// Pauses, resumes or advances the runtime's clock (`CLOCK_*`), as
    /// tokio's `time::pause`/`resume`/`advance`: while paused, `now_ns`
    /// stands still, and the driver moves it to the next timer's deadline
    /// whenever no task can run and no IO is ready. Only through the
    /// runtime's own table ([`ERR_CLOCK_SHARED`] through a plugin's scope);
    /// 0, [`ERR_CLOCK_PAUSED`], [`ERR_CLOCK_NOT_PAUSED`] or [`ERR_GONE`].
    pub clock_control: unsafe extern "C" fn(rt: *const RtContext, op: u8, nanos: u64) -> i32,

    /// Spawns a task from any thread; returns its unique id. Through a
    /// revoked scope the task is cancelled at once (its `cancel` and
    /// `release` run before this returns).
    pub spawn: unsafe extern "C" fn(rt: *const RtContext, task: RawTask) -> u64,
    /// Aborts the task bound to `key`, from any thread. Unknown keys are ignored.
    pub abort: unsafe extern "C" fn(rt: *const RtContext, key: u64),
    /// Fills `out` with the runtime's counts: exact on the driver thread, as
    /// of the driver's last turn elsewhere.
    pub metrics: unsafe extern "C" fn(rt: *const RtContext, out: *mut RuntimeMetrics),
    /// Drives the runtime on this thread until `future` completes (see BLOCK_ON_*).
    pub block_on:
        unsafe extern "C" fn(rt: *const RtContext, future: RawFuture, park: *const FfiWaker) -> BlockOnStatus,
    /// Runs a closure on the blocking pool; returns its unique task id.
    /// Through a revoked scope the job is dropped at once.
    pub spawn_blocking: unsafe extern "C" fn(rt: *const RtContext, job: BlockingJob) -> u64,

    /// Polls the timer `*key` (0: none yet) for `deadline_ns`: returns
    /// [`POLL_READY`] once it fired (and resets `*key` to 0), else stores the
    /// waker (replacing a different one) and returns [`POLL_PENDING`]. A
    /// deadline that differs from the last poll's moves the timer, even one
    /// that fired. Driver thread only ([`POLL_NOT_DRIVER`]); [`POLL_GONE`]
    /// through a revoked scope.
    pub timer_poll: unsafe extern "C" fn(
        rt: *const RtContext,
        key: *mut u64,
        deadline_ns: u64,
        waker: *const FfiWaker,
    ) -> PollStatus,
    /// Cancels a timer, dropping its waker. From any thread: off the driver
    /// thread the cancel is queued for the driver.
    pub timer_cancel: unsafe extern "C" fn(rt: *const RtContext, key: u64),
    /// Moves a registered timer to `deadline_ns` now, keeping its waker
    /// (`Sleep::reset`): it fires for the new deadline, its waker woken at
    /// once if that has passed. From any thread: off the driver thread the
    /// move is queued for the driver. A key that is gone is left alone.
    pub timer_reset: unsafe extern "C" fn(rt: *const RtContext, key: u64, deadline_ns: u64),

    /// Registers `fd` with the reactor for `interest`; writes the key. Returns
    /// 0, an errno, [`ERR_NOT_DRIVER`] or [`ERR_GONE`]. Driver thread only.
    pub io_register: unsafe extern "C" fn(rt: *const RtContext, fd: i32, interest: u8, key: *mut u64) -> i32,
    /// Returns [`POLL_READY`] if `direction` is ready ([`POLL_READY_CLOSED`]
    /// if it is closed for good), else stores the waker ([`POLL_PENDING`]); [`POLL_GONE`] if the key is not registered (any
    /// more) or the scope was revoked; [`POLL_NOT_DRIVER`] off the driver thread.
    /// A null `waker` only looks (what a `try_io` asks): nothing is stored,
    /// the cooperative budget is neither checked nor spent, and
    /// [`POLL_PENDING`] means "not ready now".
    pub io_poll_ready: unsafe extern "C" fn(
        rt: *const RtContext,
        key: u64,
        direction: u8,
        waker: *const FfiWaker,
    ) -> PollStatus,
    /// Clears the readiness of `direction` until the next event. A direction
    /// the poller reported closed (hang-up, the peer's half-close) stays
    /// ready: no new event would come. An error alone (a datagram socket's
    /// ICMP error) is no end: the next operation reports it, once. With [`CLEAR_DRAINED`] or-ed in,
    /// see there.
    pub io_clear_ready: unsafe extern "C" fn(rt: *const RtContext, key: u64, direction: u8),
    /// Deregisters `fd`, registered under `key`; drops stored wakers. From
    /// any thread: off the driver thread the fd leaves the poller at once, on
    /// the calling thread (so before the caller closes it), and the rest is
    /// queued for the driver. Returns 0 or an errno.
    pub io_deregister: unsafe extern "C" fn(rt: *const RtContext, key: u64, fd: i32) -> i32,

    /// Subscribes to the process-wide delivery of `signal` (the host owns
    /// the one handler per signal; plugin code never installs one). Writes
    /// the key; returns 0, `EINVAL` for a signal that cannot be handled
    /// (`SIGKILL`, `SIGSTOP`, `SIGSEGV`, `SIGILL`, `SIGFPE`, out of range),
    /// another errno, or [`ERR_GONE`]. From any thread.
    pub signal_subscribe: unsafe extern "C" fn(rt: *const RtContext, signal: i32, key: *mut u64) -> i32,
    /// Returns [`POLL_READY`] once per batch of deliveries since the last
    /// ready poll, else stores the waker ([`POLL_PENDING`]); [`POLL_GONE`]
    /// for a key not subscribed. From any thread.
    pub signal_poll:
        unsafe extern "C" fn(rt: *const RtContext, key: u64, waker: *const FfiWaker) -> PollStatus,
    /// Ends a subscription, dropping its waker. The action the host's
    /// handler replaced is put back once a signal has no subscription and
    /// every scope that subscribed to it is revoked or dropped. Any thread.
    pub signal_unsubscribe: unsafe extern "C" fn(rt: *const RtContext, key: u64),

    /// Subscribes to the terminal `fd` refers to. The host owns each
    /// terminal once for the process: every subscriber's reads get every
    /// byte typed after it subscribed once, in order (the last 64 KiB for
    /// a subscriber that does not read), and raw mode is on while any subscriber
    /// wants it (the mode before it comes back when none does). Revoking
    /// the scope ends its subscriptions. Writes the key; returns 0,
    /// `ENOTTY` for an fd that is not a terminal, another errno, or
    /// [`ERR_GONE`]. From any thread.
    pub tty_subscribe: unsafe extern "C" fn(rt: *const RtContext, fd: i32, key: *mut u64) -> i32,
    /// Reads up to `len` bytes typed since this subscriber's last read
    /// into `buf`, draining the tty (for every subscriber) if this one has
    /// none buffered: returns 0 and writes the count to `*read` (0 means
    /// an end of file of the tty, once per end: Ctrl-D in cooked mode, or a
    /// hang-up) and the offset of the first byte in this
    /// subscriber's stream to `*offset`; `EAGAIN` if nothing is there now,
    /// another errno, or [`ERR_GONE`] for a subscription that ended. Never
    /// blocks; from any thread.
    pub tty_read: unsafe extern "C" fn(
        rt: *const RtContext,
        key: u64,
        buf: *mut u8,
        len: usize,
        read: *mut usize,
        offset: *mut u64,
    ) -> i32,
    /// Drains the tty (for every subscriber) and writes the offset the next
    /// byte of this subscriber's stream will have: what arrives past it
    /// came after the call (a query's reply, not the reply to another
    /// subscriber's earlier query). 0, an errno, or [`ERR_GONE`]. Any thread.
    pub tty_mark: unsafe extern "C" fn(rt: *const RtContext, key: u64, offset: *mut u64) -> i32,
    /// [`POLL_READY`] if a `tty_read` would return at once because bytes
    /// are buffered for this subscriber (another's read drained the tty) or
    /// an end of file is; else stores the waker, woken when bytes are
    /// buffered for it ([`POLL_PENDING`]). The tty itself becoming readable
    /// is the subscriber's to watch (`io_register` of its own fd).
    /// [`POLL_GONE`] for a subscription that ended. From any thread.
    pub tty_poll_buffered:
        unsafe extern "C" fn(rt: *const RtContext, key: u64, waker: *const FfiWaker) -> PollStatus,
    /// Says whether this subscriber wants raw mode (`on`); 0, an errno
    /// (the mode could not be read or set; the wish is then unchanged), or
    /// [`ERR_GONE`]. From any thread.
    pub tty_set_raw: unsafe extern "C" fn(rt: *const RtContext, key: u64, on: bool) -> i32,
    /// 1 if the subscriber's terminal is in raw mode (by anyone's wish), 0
    /// if not, [`ERR_GONE`] for a subscription that ended. From any thread.
    pub tty_is_raw: unsafe extern "C" fn(rt: *const RtContext, key: u64) -> i32,
    /// Ends a subscription (its wish for raw mode with it). From any thread.
    pub tty_unsubscribe: unsafe extern "C" fn(rt: *const RtContext, key: u64),

    /// Runs `body(data)` inside `catch_unwind` of the program that made the
    /// table; false if it panicked (the payload is dropped here). A panic
    /// in that program's code (a stream the host handed to a plugin, polled
    /// by the plugin's code) can only be caught by that program's std: the
    /// plugin's would abort on it. `body` lets such a panic unwind through
    /// it, and nothing else: a panic of the plugin's own std must not reach
    /// here. From any thread.
    pub catch_unwind: unsafe extern "C-unwind" fn(
        rt: *const RtContext,
        body: unsafe extern "C-unwind" fn(data: *mut c_void),
        data: *mut c_void,
    ) -> bool,
    /// Panics with `message` (`len` bytes of UTF-8) in the program that
    /// made the table, without its panic hook (the plugin's printed it):
    /// a panic of a plugin's code that the host called (a closure or a
    /// future a plugin handed out), caught by the plugin's std, goes on
    /// as the host's own. The one function of the table that unwinds:
    /// into its caller, through the plugin's frames, to the host's.
    pub raise: unsafe extern "C-unwind" fn(rt: *const RtContext, message: *const u8, len: usize) -> !,
}

// SAFETY: the table is immutable after construction and every function in it
// is callable from any thread (thread restrictions are documented per fn and
// checked at run time).
unsafe impl Send for RuntimeTable {}
// SAFETY: as above.
unsafe impl Sync for RuntimeTable {}

/// Why a runtime table, or a plugin's promise of one, does not fit this build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Incompatible {
    /// Another [`ABI_VERSION`].
    Version {
        /// The version found (the table's, or the one a plugin speaks).
        found: u32,
        /// [`ABI_VERSION`] of this build.
        expected: u32,
    },
    /// A table smaller than this build's [`RuntimeTable`].
    Size {
        /// The table's `size`.
        found: u32,
        /// `size_of::<RuntimeTable>()` in this build.
        expected: u32,
    },
}

impl std::fmt::Display for Incompatible {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Incompatible::Version { found, expected } => {
                write!(f, "runtime table ABI version {found}, but this build speaks {expected}")
            }
            Incompatible::Size { found, expected } => {
                write!(f, "a runtime table of {found} bytes, but this build needs {expected}")
            }
        }
    }
}

impl std::error::Error for Incompatible {}

/// The one check of a runtime table ABI version against this build's: a
/// host checks the version a plugin's header says it speaks, a plugin the
/// table it is handed (with [`RuntimeTable::check_compatible`]).
///
/// ```
/// use tau_abi::runtime::{check_abi_version, Incompatible, ABI_VERSION};
///
/// assert_eq!(check_abi_version(ABI_VERSION), Ok(()));
/// assert_eq!(
///     check_abi_version(ABI_VERSION + 1),
///     Err(Incompatible::Version { found: ABI_VERSION + 1, expected: ABI_VERSION })
/// );
/// ```
pub fn check_abi_version(found: u32) -> Result<(), Incompatible> {
    if found == ABI_VERSION {
        Ok(())
    } else {
        Err(Incompatible::Version { found, expected: ABI_VERSION })
    }
}

impl RuntimeTable {
    /// Checks that this table, made by another build, is one this build can
    /// use: the same [`ABI_VERSION`] and at least this build's size.
    pub fn check_compatible(&self) -> Result<(), Incompatible> {
        check_abi_version(self.abi_version)?;
        let expected = std::mem::size_of::<RuntimeTable>() as u32;
        if self.size < expected {
            return Err(Incompatible::Size { found: self.size, expected });
        }
        Ok(())
    }
}
