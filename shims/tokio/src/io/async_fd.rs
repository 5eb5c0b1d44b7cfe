use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::task::{ready, Context, Poll};

use super::poll_evented::Registration;
use super::{Interest, Ready};

/// Readiness of a file descriptor from the host's reactor, as
/// `tokio::io::unix::AsyncFd`.
///
/// It does not close the fd: `inner` does, when dropped, after the fd left
/// the reactor. Readiness is kept until cleared: once an operation returns
/// `WouldBlock`, clear it through the guard (its `try_io` does) and wait
/// again.
///
/// ```
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
/// use tokio::io::unix::AsyncFd;
///
/// #[tokio::main]
/// async fn main() {
///     let (mut left, right) = UnixStream::pair().unwrap();
///     right.set_nonblocking(true).unwrap();
///     let fd = AsyncFd::new(right).unwrap();
///     left.write_all(b"hi").unwrap();
///     let mut buf = [0; 2];
///     let read = fd.async_io(tokio::io::Interest::READABLE, |inner| (&*inner).read(&mut buf)).await;
///     assert_eq!(read.unwrap(), 2);
///     assert_eq!(&buf, b"hi");
/// }
/// # main();
/// ```
pub struct AsyncFd<T: AsRawFd> {
    // Declared first: leaves the reactor before `inner` can close the fd.
    registration: Registration,
    inner: Option<T>,
    interest: Interest,
}

/// Registering an [`AsyncFd`] failed: the error, and the value back.
pub struct AsyncFdRegisterError<T> {
    inner: T,
    cause: io::Error,
}

impl<T> AsyncFdRegisterError<T> {
    /// The value and the error.
    pub fn into_parts(self) -> (T, io::Error) {
        (self.inner, self.cause)
    }
}

impl<T> fmt::Display for AsyncFdRegisterError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.cause, f)
    }
}

impl<T> fmt::Debug for AsyncFdRegisterError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.cause, f)
    }
}

impl<T> std::error::Error for AsyncFdRegisterError<T> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.cause)
    }
}

impl<T> From<AsyncFdRegisterError<T>> for io::Error {
    fn from(error: AsyncFdRegisterError<T>) -> io::Error {
        error.cause
    }
}

impl<T: AsRawFd> AsyncFd<T> {
    /// Registers `inner`'s fd for readable and writable readiness.
    ///
    /// # Errors
    /// The OS error for an fd that cannot be polled (a regular file:
    /// `EPERM`) or is already registered; an error off the runtime's thread.
    #[track_caller]
    pub fn new(inner: T) -> io::Result<AsyncFd<T>> {
        AsyncFd::with_interest(inner, Interest::READABLE | Interest::WRITABLE)
    }

    /// Registers `inner`'s fd for `interest`.
    #[track_caller]
    pub fn with_interest(inner: T, interest: Interest) -> io::Result<AsyncFd<T>> {
        AsyncFd::try_with_interest(inner, interest).map_err(io::Error::from)
    }

    /// Registers `inner`'s fd for readable and writable readiness, giving
    /// `inner` back on failure, as tokio's `AsyncFd::register`.
    ///
    /// # Safety
    /// `inner.as_raw_fd()` is a valid, open fd that stays open, refers to the
    /// same file description and is what `as_raw_fd` returns for as long as
    /// the `AsyncFd` owns `inner` (tokio's contract).
    #[track_caller]
    pub unsafe fn register(inner: T) -> Result<AsyncFd<T>, AsyncFdRegisterError<T>> {
        AsyncFd::try_with_interest(inner, Interest::READABLE | Interest::WRITABLE)
    }

    /// As [`register`](Self::register), for `interest`.
    ///
    /// # Safety
    /// As for [`register`](Self::register).
    #[track_caller]
    pub unsafe fn register_with_interest(
        inner: T,
        interest: Interest,
    ) -> Result<AsyncFd<T>, AsyncFdRegisterError<T>> {
        AsyncFd::try_with_interest(inner, interest)
    }

    /// As [`new`](Self::new), giving `inner` back on failure.
    #[track_caller]
    pub fn try_new(inner: T) -> Result<AsyncFd<T>, AsyncFdRegisterError<T>> {
        AsyncFd::try_with_interest(inner, Interest::READABLE | Interest::WRITABLE)
    }

    /// As [`with_interest`](Self::with_interest), giving `inner` back on failure.
    #[track_caller]
    pub fn try_with_interest(inner: T, interest: Interest) -> Result<AsyncFd<T>, AsyncFdRegisterError<T>> {
        match Registration::new(inner.as_raw_fd(), interest) {
            Ok(registration) => Ok(AsyncFd { registration, inner: Some(inner), interest }),
            Err(cause) => Err(AsyncFdRegisterError { inner, cause }),
        }
    }

    /// The wrapped value.
    pub fn get_ref(&self) -> &T {
        self.inner.as_ref().expect("AsyncFd used after into_inner")
    }

    /// The wrapped value, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.as_mut().expect("AsyncFd used after into_inner")
    }

    /// Leaves the reactor and returns the wrapped value.
    pub fn into_inner(mut self) -> T {
        self.inner.take().expect("AsyncFd used after into_inner")
    }

    /// The interest it was registered with.
    pub fn interest(&self) -> Interest {
        self.interest
    }

    /// Polls for read readiness.
    pub fn poll_read_ready<'a>(&'a self, cx: &mut Context<'_>) -> Poll<io::Result<AsyncFdReadyGuard<'a, T>>> {
        let ready = ready!(self.registration.poll_ready(cx, Interest::READABLE))?;
        Poll::Ready(Ok(AsyncFdReadyGuard { fd: self, ready }))
    }

    /// Polls for read readiness, with a guard giving mutable access.
    pub fn poll_read_ready_mut<'a>(
        &'a mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyMutGuard<'a, T>>> {
        let ready = ready!(self.registration.poll_ready(cx, Interest::READABLE))?;
        Poll::Ready(Ok(AsyncFdReadyMutGuard { fd: self, ready }))
    }

    /// Polls for write readiness.
    pub fn poll_write_ready<'a>(
        &'a self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyGuard<'a, T>>> {
        let ready = ready!(self.registration.poll_ready(cx, Interest::WRITABLE))?;
        Poll::Ready(Ok(AsyncFdReadyGuard { fd: self, ready }))
    }

    /// Polls for write readiness, with a guard giving mutable access.
    pub fn poll_write_ready_mut<'a>(
        &'a mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyMutGuard<'a, T>>> {
        let ready = ready!(self.registration.poll_ready(cx, Interest::WRITABLE))?;
        Poll::Ready(Ok(AsyncFdReadyMutGuard { fd: self, ready }))
    }

    /// Waits for any readiness in `interest`.
    pub async fn ready(&self, interest: Interest) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        let ready = self.registration.readiness(interest).await?;
        Ok(AsyncFdReadyGuard { fd: self, ready })
    }

    /// Waits for any readiness in `interest`, with a mutable guard.
    pub async fn ready_mut(&mut self, interest: Interest) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        let ready = self.registration.readiness(interest).await?;
        Ok(AsyncFdReadyMutGuard { fd: self, ready })
    }

    /// Waits until readable.
    pub async fn readable(&self) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        self.ready(Interest::READABLE).await
    }

    /// Waits until readable, with a mutable guard.
    pub async fn readable_mut(&mut self) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        self.ready_mut(Interest::READABLE).await
    }

    /// Waits until writable.
    pub async fn writable(&self) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        self.ready(Interest::WRITABLE).await
    }

    /// Waits until writable, with a mutable guard.
    pub async fn writable_mut(&mut self) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        self.ready_mut(Interest::WRITABLE).await
    }

    /// Runs `f` once ready for `interest`, retrying after `WouldBlock`.
    pub async fn async_io<R>(
        &self,
        interest: Interest,
        mut f: impl FnMut(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        let inner = self.get_ref();
        self.registration.async_io(interest, || f(inner)).await
    }

    /// As [`async_io`](Self::async_io), with mutable access.
    pub async fn async_io_mut<R>(
        &mut self,
        interest: Interest,
        mut f: impl FnMut(&mut T) -> io::Result<R>,
    ) -> io::Result<R> {
        let registration = &self.registration;
        let inner = self.inner.as_mut().expect("AsyncFd used after into_inner");
        poll_fn(|cx| registration.poll_io(cx, interest, || f(inner))).await
    }

    /// Runs `f` now; on `WouldBlock` clears `interest`'s readiness.
    pub fn try_io<R>(&self, interest: Interest, f: impl FnOnce(&T) -> io::Result<R>) -> io::Result<R> {
        self.registration.try_io(interest, || f(self.get_ref()))
    }

    /// As [`try_io`](Self::try_io), with mutable access.
    pub fn try_io_mut<R>(
        &mut self,
        interest: Interest,
        f: impl FnOnce(&mut T) -> io::Result<R>,
    ) -> io::Result<R> {
        let inner = self.inner.as_mut().expect("AsyncFd used after into_inner");
        self.registration.try_io(interest, || f(inner))
    }
}

impl<T: AsRawFd> AsRawFd for AsyncFd<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.get_ref().as_raw_fd()
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFd<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFd").field("inner", &self.inner).finish()
    }
}

/// `try_io` found the fd not ready (`WouldBlock`) and cleared the readiness.
#[derive(Debug)]
pub struct TryIoError(());

/// Readiness an [`AsyncFd`] was found with, as tokio's.
pub struct AsyncFdReadyGuard<'a, T: AsRawFd> {
    fd: &'a AsyncFd<T>,
    ready: Ready,
}

impl<'a, T: AsRawFd> AsyncFdReadyGuard<'a, T> {
    /// Forgets this readiness until the reactor reports it again.
    pub fn clear_ready(&mut self) {
        self.fd.registration.clear(self.ready);
    }

    /// Forgets `ready` (of this guard's readiness) until reported again.
    pub fn clear_ready_matching(&mut self, ready: Ready) {
        self.fd.registration.clear(self.ready & ready);
        self.ready = self.ready - ready;
    }

    /// Keeps the readiness (also what dropping the guard does).
    pub fn retain_ready(&mut self) {}

    /// The readiness found.
    pub fn ready(&self) -> Ready {
        self.ready
    }

    /// The `AsyncFd`.
    pub fn get_ref(&self) -> &'a AsyncFd<T> {
        self.fd
    }

    /// The wrapped value.
    pub fn get_inner(&self) -> &'a T {
        self.fd.get_ref()
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

impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFdReadyGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFdReadyGuard").field("ready", &self.ready).finish_non_exhaustive()
    }
}

/// As [`AsyncFdReadyGuard`], with mutable access to the `AsyncFd`.
pub struct AsyncFdReadyMutGuard<'a, T: AsRawFd> {
    fd: &'a mut AsyncFd<T>,
    ready: Ready,
}

impl<T: AsRawFd> AsyncFdReadyMutGuard<'_, T> {
    /// Forgets this readiness until the reactor reports it again.
    pub fn clear_ready(&mut self) {
        self.fd.registration.clear(self.ready);
    }

    /// Forgets `ready` (of this guard's readiness) until reported again.
    pub fn clear_ready_matching(&mut self, ready: Ready) {
        self.fd.registration.clear(self.ready & ready);
        self.ready = self.ready - ready;
    }

    /// Keeps the readiness (also what dropping the guard does).
    pub fn retain_ready(&mut self) {}

    /// The readiness found.
    pub fn ready(&self) -> Ready {
        self.ready
    }

    /// The `AsyncFd`.
    pub fn get_ref(&self) -> &AsyncFd<T> {
        self.fd
    }

    /// The `AsyncFd`, mutably.
    pub fn get_mut(&mut self) -> &mut AsyncFd<T> {
        self.fd
    }

    /// The wrapped value.
    pub fn get_inner(&self) -> &T {
        self.fd.get_ref()
    }

    /// The wrapped value, mutably.
    pub fn get_inner_mut(&mut self) -> &mut T {
        self.fd.get_mut()
    }

    /// Runs `f`; on `WouldBlock` clears the readiness and returns `Err(TryIoError)`.
    pub fn try_io<R>(
        &mut self,
        f: impl FnOnce(&mut AsyncFd<T>) -> io::Result<R>,
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

impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFdReadyMutGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFdReadyMutGuard").field("ready", &self.ready).finish_non_exhaustive()
    }
}
