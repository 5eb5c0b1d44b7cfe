use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::task::{Context, Poll};

use tau_rt::abi::{
    PollStatus, ERR_GONE, ERR_NOT_DRIVER, INTEREST_READ, INTEREST_WRITE, POLL_GONE, POLL_PENDING, POLL_READY,
    POLL_READY_CLOSED,
};

use super::Interest;
use crate::context::{self, TableRef};
use crate::ffi_waker;
use crate::runtime::Handle;

/// Readiness notifications for a file descriptor from the shared reactor,
/// as `tokio::io::unix::AsyncFd`.
///
/// `AsyncFd` wraps anything with a raw fd. It does not close the fd itself:
/// with `AsyncFd<RawFd>` the fd stays yours; with `AsyncFd<OwnedFd>` the
/// `OwnedFd` closes it when dropped, after deregistration. Dropping the
/// `AsyncFd` deregisters the fd, so it can be registered again.
///
/// Readiness is edge-triggered: once an operation returns `WouldBlock`, clear
/// the readiness ([`AsyncFdReadyGuard::clear_ready`] or
/// [`clear_read_ready`](Self::clear_read_ready)) and wait again.
///
/// Once its runtime is gone (the plugin that made it was unloaded, or the
/// runtime dropped) the fd is out of the reactor and every readiness poll
/// returns an error of kind `Other` saying so; dropping the `AsyncFd` is
/// still fine, from any thread.
///
/// ```
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
/// use tau::io::AsyncFd;
///
/// tau::block_on(async {
///     let (mut left, right) = UnixStream::pair().unwrap();
///     right.set_nonblocking(true).unwrap();
///     let fd = AsyncFd::new(right).unwrap();
///     left.write_all(b"hi").unwrap();
///     let mut guard = fd.readable().await.unwrap();
///     let mut buf = [0; 2];
///     let read = guard.try_io(|inner| inner.get_ref().read(&mut buf));
///     assert_eq!(read.unwrap().unwrap(), 2);
///     assert_eq!(&buf, b"hi");
/// });
/// ```
pub struct AsyncFd<T: AsRawFd> {
    inner: Option<T>,
    fd: RawFd,
    key: u64,
    interest: Interest,
    /// The runtime whose reactor it is registered with.
    table: TableRef,
}

impl<T: AsRawFd> AsyncFd<T> {
    /// Registers `inner`'s fd for readable and writable readiness.
    ///
    /// # Errors
    /// The OS error for an invalid or closed fd (`EBADF`), one that cannot be
    /// polled (`EPERM` for regular files), or one already registered
    /// (`EEXIST`); an error if called off the runtime's thread.
    #[track_caller]
    pub fn new(inner: T) -> io::Result<AsyncFd<T>> {
        AsyncFd::with_interest(inner, Interest::READABLE | Interest::WRITABLE)
    }

    /// Registers `inner`'s fd for the given interest; see [`new`](Self::new).
    #[track_caller]
    pub fn with_interest(inner: T, interest: Interest) -> io::Result<AsyncFd<T>> {
        AsyncFd::with_interest_on(inner, interest, context::current())
    }

    fn with_interest_on(inner: T, interest: Interest, table: TableRef) -> io::Result<AsyncFd<T>> {
        let fd = inner.as_raw_fd();
        // The fd stays open while `inner` lives, and we deregister before
        // dropping it.
        let key = table.io_register(fd, interest.bits()).map_err(register_error)?;
        Ok(AsyncFd { inner: Some(inner), fd, key, interest, table })
    }

    /// The wrapped value.
    pub fn get_ref(&self) -> &T {
        self.inner.as_ref().expect("AsyncFd inner taken")
    }

    /// The wrapped value, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.as_mut().expect("AsyncFd inner taken")
    }

    /// Deregisters and returns the wrapped value.
    pub fn into_inner(mut self) -> T {
        self.deregister();
        self.inner.take().expect("AsyncFd inner taken")
    }

    /// The interest it was registered with.
    pub fn interest(&self) -> Interest {
        self.interest
    }

    /// A handle to the runtime whose reactor this fd is registered with.
    pub fn handle(&self) -> Handle {
        crate::runtime::Handle::from_table(self.table.clone())
    }

    /// The guard says whether the direction is closed for good.
    fn poll_ready(&self, cx: &mut Context<'_>, direction: u8) -> Poll<io::Result<AsyncFdReadyGuard<'_, T>>> {
        let status = ffi_waker::with_ffi_waker(cx.waker(), |waker| {
            self.table.io_poll_ready(self.key, direction, waker)
        });
        self.ready_from(status, direction)
    }

    /// What the reactor's answer `status` for `direction` means.
    fn ready_from(&self, status: PollStatus, direction: u8) -> Poll<io::Result<AsyncFdReadyGuard<'_, T>>> {
        let guard = |closed| Poll::Ready(Ok(AsyncFdReadyGuard { fd: self, direction, closed }));
        match status {
            POLL_READY => guard(false),
            POLL_READY_CLOSED => guard(true),
            POLL_PENDING => Poll::Pending,
            // Not ready yet, for a stream of an unloaded plugin giving out what it holds.
            POLL_GONE if context::is_draining() => Poll::Pending,
            POLL_GONE => Poll::Ready(Err(gone_error())),
            _ => Poll::Ready(Err(off_thread_error())),
        }
    }

    fn clear(&self, direction: u8) {
        self.table.io_clear_ready(self.key, direction)
    }

    /// Polls for read readiness; `Ready` gives a guard that can clear it.
    pub fn poll_read_ready<'a>(&'a self, cx: &mut Context<'_>) -> Poll<io::Result<AsyncFdReadyGuard<'a, T>>> {
        self.poll_ready(cx, INTEREST_READ)
    }

    /// Polls for write readiness; `Ready` gives a guard that can clear it.
    pub fn poll_write_ready<'a>(
        &'a self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyGuard<'a, T>>> {
        self.poll_ready(cx, INTEREST_WRITE)
    }

    /// The read readiness known now, without waiting: a guard as
    /// [`poll_read_ready`](Self::poll_read_ready) gives, or `Pending` if the
    /// reactor has not reported the fd readable. No waker is stored and no
    /// cooperative budget is spent, so a `try_read` built on it never stops
    /// early or steals a waiting task's wake (tokio's `try_io`).
    ///
    /// ```
    /// # tau::block_on(async {
    /// let (ours, _theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    /// ours.set_nonblocking(true).unwrap();
    /// let fd = tau::io::AsyncFd::new(ours).unwrap();
    /// tau::task::yield_now().await; // the reactor looks once
    /// assert!(fd.read_ready_now().is_pending(), "nothing was written");
    /// # });
    /// ```
    pub fn read_ready_now(&self) -> Poll<io::Result<AsyncFdReadyGuard<'_, T>>> {
        self.ready_from(self.table.io_peek_ready(self.key, INTEREST_READ), INTEREST_READ)
    }

    /// The write readiness known now, without waiting: see
    /// [`read_ready_now`](Self::read_ready_now).
    pub fn write_ready_now(&self) -> Poll<io::Result<AsyncFdReadyGuard<'_, T>>> {
        self.ready_from(self.table.io_peek_ready(self.key, INTEREST_WRITE), INTEREST_WRITE)
    }

    /// Waits until the fd is readable.
    pub async fn readable(&self) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        poll_fn(|cx| self.poll_ready(cx, INTEREST_READ)).await
    }

    /// Waits until the fd is writable.
    pub async fn writable(&self) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        poll_fn(|cx| self.poll_ready(cx, INTEREST_WRITE)).await
    }

    /// Forgets read readiness until the reactor reports the fd readable again.
    pub fn clear_read_ready(&self) {
        self.clear(INTEREST_READ);
    }

    /// Forgets read readiness after a stream read that filled less than its
    /// buffer: the receive buffer is empty, so the next read would only get
    /// `WouldBlock`, and skipping it saves a syscall per message (tokio does
    /// the same). An end of stream already queued with the data is not
    /// lost: the reactor keeps a direction it saw closed ready. Where the
    /// poller cannot report a peer's half-close (`TAU_POLLER=polling`), the
    /// readiness is kept and the next read finds out.
    pub fn clear_read_ready_drained(&self) {
        self.clear(INTEREST_READ | tau_rt::abi::CLEAR_DRAINED);
    }

    /// Forgets write readiness until the reactor reports the fd writable again.
    pub fn clear_write_ready(&self) {
        self.clear(INTEREST_WRITE);
    }

    /// Runs `f` once readable, retrying after `WouldBlock`.
    pub async fn async_io<R>(
        &self,
        interest: Interest,
        mut f: impl FnMut(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        loop {
            let mut guard =
                if interest.is_readable() { self.readable().await? } else { self.writable().await? };
            match guard.try_io(|fd| f(fd.get_ref())) {
                Ok(result) => return result,
                Err(_would_block) => continue,
            }
        }
    }

    fn deregister(&mut self) {
        if self.key == 0 {
            return;
        }
        // The fd is still open (inner not dropped yet), so off the driver
        // thread it leaves the poller before it can be closed. An error
        // means the fd was closed behind our back; the kernel forgets a
        // closed fd by itself.
        let _ = self.table.io_deregister(self.key, self.fd);
        self.key = 0;
    }
}

impl<T: AsRawFd> AsRawFd for AsyncFd<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.fd
    }
}

impl<T: AsRawFd> Drop for AsyncFd<T> {
    fn drop(&mut self) {
        self.deregister();
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFd<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFd").field("inner", &self.inner).field("interest", &self.interest).finish()
    }
}

/// Proof that an [`AsyncFd`] was ready in one direction.
pub struct AsyncFdReadyGuard<'a, T: AsRawFd> {
    fd: &'a AsyncFd<T>,
    direction: u8,
    closed: bool,
}

/// `try_io` saw `WouldBlock` and cleared the readiness.
#[derive(Debug)]
pub struct TryIoError(());

impl<'a, T: AsRawFd> AsyncFdReadyGuard<'a, T> {
    /// Forgets this readiness until the reactor reports it again.
    pub fn clear_ready(&mut self) {
        self.fd.clear(self.direction);
    }

    /// Keeps the readiness (the default when the guard is dropped).
    pub fn retain_ready(&mut self) {}

    /// True if the reactor saw this direction closed for good: for reads,
    /// the peer shut down its writing or hung up (reads give the end of
    /// stream or an error); for writes, a hang-up. Such readiness stays
    /// through clears. tokio's `Ready::is_read_closed`/`is_write_closed`.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// The `AsyncFd` this guard is for.
    pub fn get_ref(&self) -> &'a AsyncFd<T> {
        self.fd
    }

    /// Runs `f`; on `WouldBlock` clears the readiness and returns `Err(TryIoError)`.
    pub fn try_io<R>(
        &mut self,
        f: impl FnOnce(&'a AsyncFd<T>) -> io::Result<R>,
    ) -> Result<io::Result<R>, TryIoError> {
        match f(self.fd) {
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                self.clear_ready();
                Err(TryIoError(()))
            }
            result => Ok(result),
        }
    }
}

fn off_thread_error() -> io::Error {
    io::Error::other(
        "tau AsyncFd used off the runtime's thread: create and poll it inside a task or block_on",
    )
}

/// The error inside every "runtime gone" `io::Error` (see [`is_runtime_gone`]).
#[derive(Debug)]
struct RuntimeGone;

impl fmt::Display for RuntimeGone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "tau AsyncFd used after its runtime went away: the plugin whose code registered it was unloaded, or the runtime was dropped",
        )
    }
}

impl std::error::Error for RuntimeGone {}

pub(crate) fn gone_error() -> io::Error {
    io::Error::other(RuntimeGone)
}

/// True if `error` says the IO resource's runtime is gone (its plugin was
/// unloaded, or the runtime shut down), as `tokio::runtime::is_rt_shutdown_err`.
///
/// ```
/// let error = std::io::Error::other("something else");
/// assert!(!tau::io::is_runtime_gone(&error));
/// ```
pub fn is_runtime_gone(error: &io::Error) -> bool {
    error.get_ref().is_some_and(|inner| inner.is::<RuntimeGone>())
}

fn register_error(code: i32) -> io::Error {
    match code {
        ERR_NOT_DRIVER => off_thread_error(),
        ERR_GONE => gone_error(),
        errno => io::Error::from_raw_os_error(errno),
    }
}
