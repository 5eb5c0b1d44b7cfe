use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use socket2::{SockAddr, Socket};
use upstream::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::addr::sock_addr;
use super::split::{self, ReadHalf, WriteHalf};
use super::split_owned::{self, OwnedReadHalf, OwnedWriteHalf};
use super::{SocketAddr, UCred};
use crate::io::poll_evented::PollEvented;
use crate::io::{Interest, Ready};
use crate::net::UnixSocket;

/// A Unix stream connection, as `tokio::net::UnixStream`, on the host's
/// reactor.
///
/// ```
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
/// use tokio::net::UnixStream;
///
/// #[tokio::main]
/// async fn main() {
///     let (mut left, mut right) = UnixStream::pair().unwrap();
///     left.write_all(b"ping").await.unwrap();
///     let mut buf = [0; 4];
///     right.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"ping");
/// }
/// # main();
/// ```
pub struct UnixStream {
    io: PollEvented<std::os::unix::net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket at `path` (on Linux, a path starting with a
    /// NUL byte names the rest in the abstract namespace); the connect
    /// never blocks the runtime's thread.
    ///
    /// # Errors
    /// The connect's (`NotFound`, `ConnectionRefused`, …).
    pub async fn connect<P: AsRef<Path>>(path: P) -> io::Result<UnixStream> {
        let address = sock_addr(path.as_ref())?;
        UnixSocket::new_stream()?.connect_sock_addr(&address).await
    }

    /// Connects to `socket_addr`; see [`connect`](Self::connect).
    ///
    /// # Errors
    /// `InvalidInput` for an unnamed address, or the connect's.
    pub async fn connect_addr(socket_addr: &SocketAddr) -> io::Result<UnixStream> {
        let address = socket_addr.to_sock_addr()?;
        UnixSocket::new_stream()?.connect_sock_addr(&address).await
    }

    /// Starts a nonblocking connect of `socket` and waits for it on the
    /// reactor.
    pub(crate) async fn connect_socket(socket: Socket, address: &SockAddr) -> io::Result<UnixStream> {
        match socket.connect(address) {
            Ok(()) => {}
            Err(error) if error.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(error) => return Err(error),
        }
        let stream = UnixStream::new(socket.into())?;
        poll_fn(|cx| stream.io.poll_ready(cx, Interest::WRITABLE)).await?;
        if let Some(error) = stream.io.io().take_error()? {
            return Err(error);
        }
        Ok(stream)
    }

    /// A stream `accept` returned: taken as readable and writable until an
    /// operation says otherwise, as tokio's (its first read does not wait
    /// for the reactor).
    pub(crate) fn accepted(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        let stream = UnixStream::from_std(stream)?;
        stream.io.registration().assume_ready();
        Ok(stream)
    }

    #[track_caller]
    fn new(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream { io: PollEvented::new(stream)? })
    }

    /// Waits for any readiness in `interest`; the next `try_*` may still
    /// return `WouldBlock`.
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        self.io.ready(interest).await
    }

    /// Waits until readable.
    pub async fn readable(&self) -> io::Result<()> {
        self.ready(Interest::READABLE).await.map(drop)
    }

    /// Polls for read readiness. Only the last task to poll is woken.
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(cx, Interest::READABLE).map_ok(drop)
    }

    /// Reads what is there now; `WouldBlock` if nothing is, `Ok(0)` at EOF.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Interest::READABLE, |mut stream| io::Read::read(&mut stream, buf))
    }

    /// Vectored [`try_read`](Self::try_read).
    pub fn try_read_vectored(&self, bufs: &mut [io::IoSliceMut<'_>]) -> io::Result<usize> {
        self.io.try_io(Interest::READABLE, |mut stream| io::Read::read_vectored(&mut stream, bufs))
    }

    /// [`try_read`](Self::try_read) into a `BufMut`, advancing it.
    pub fn try_read_buf<B: bytes::BufMut>(&self, buf: &mut B) -> io::Result<usize> {
        self.io.try_io(Interest::READABLE, |stream| crate::net::read_into_buf_mut(stream.as_raw_fd(), buf))
    }

    /// Waits until writable.
    pub async fn writable(&self) -> io::Result<()> {
        self.ready(Interest::WRITABLE).await.map(drop)
    }

    /// Polls for write readiness. Only the last task to poll is woken.
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(cx, Interest::WRITABLE).map_ok(drop)
    }

    /// Writes what fits now; `WouldBlock` if nothing does.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_io(Interest::WRITABLE, |mut stream| io::Write::write(&mut stream, buf))
    }

    /// Vectored [`try_write`](Self::try_write).
    pub fn try_write_vectored(&self, buf: &[io::IoSlice<'_>]) -> io::Result<usize> {
        self.io.try_io(Interest::WRITABLE, |mut stream| io::Write::write_vectored(&mut stream, buf))
    }

    /// Runs `f` now; on `WouldBlock` clears `interest`'s readiness, so the
    /// next wait sleeps until the reactor reports it again.
    pub fn try_io<R>(&self, interest: Interest, f: impl FnOnce() -> io::Result<R>) -> io::Result<R> {
        self.io.try_io(interest, |_| f())
    }

    /// Runs `f` once ready for `interest`, waiting again after each
    /// `WouldBlock`.
    pub async fn async_io<R>(
        &self,
        interest: Interest,
        mut f: impl FnMut() -> io::Result<R>,
    ) -> io::Result<R> {
        self.io.async_io(interest, |_| f()).await
    }

    /// Wraps a connected std stream, setting it nonblocking.
    ///
    /// # Errors
    /// Off the runtime's thread, or if it cannot be registered.
    #[track_caller]
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        UnixStream::new(stream)
    }

    /// Leaves the reactor and returns the std stream, still nonblocking as
    /// in tokio (call `set_nonblocking(false)` to block on it).
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixStream> {
        Ok(self.io.into_inner())
    }

    /// A connected pair of unnamed streams (`socketpair(2)`).
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (left, right) = std::os::unix::net::UnixStream::pair()?;
        let (left, right) = (UnixStream::from_std(left)?, UnixStream::from_std(right)?);
        // Connected and empty: both ends can write at once, as in tokio.
        left.io.registration().assume_writable();
        right.io.registration().assume_writable();
        Ok((left, right))
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.io().local_addr().map(SocketAddr)
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.io().peer_addr().map(SocketAddr)
    }

    /// The peer process's credentials, as recorded when it connected.
    pub fn peer_cred(&self) -> io::Result<UCred> {
        super::ucred::peer_cred(self.io.io())
    }

    /// The socket's pending error (`SO_ERROR`), cleared by reading it.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.io().take_error()
    }

    /// Shuts down `how`; a stream whose peer is gone counts as shut down.
    pub(crate) fn shutdown_std(&self, how: Shutdown) -> io::Result<()> {
        match self.io.io().shutdown(how) {
            Err(error) if error.kind() == io::ErrorKind::NotConnected => Ok(()),
            result => result,
        }
    }

    /// Borrowed read and write halves, usable at the same time.
    #[allow(clippy::needless_lifetimes)]
    pub fn split<'a>(&'a mut self) -> (ReadHalf<'a>, WriteHalf<'a>) {
        split::split(self)
    }

    /// Owned halves that may move to different tasks;
    /// [`reunite`](OwnedReadHalf::reunite) puts them back together.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        split_owned::into_split(self)
    }

    pub(crate) fn poll_read_priv(&self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        self.io.poll_read(cx, buf)
    }

    pub(crate) fn poll_write_priv(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io.poll_write(cx, buf)
    }

    pub(crate) fn poll_write_vectored_priv(
        &self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.io.poll_write_vectored(cx, bufs)
    }
}

impl AsyncRead for UnixStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        self.poll_read_priv(cx, buf)
    }
}

impl AsyncWrite for UnixStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_write_priv(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored_priv(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Shuts the write half down (`shutdown(Write)`), as tokio.
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown_std(Shutdown::Write))
    }
}

impl TryFrom<std::os::unix::net::UnixStream> for UnixStream {
    type Error = io::Error;

    /// [`UnixStream::from_std`].
    fn try_from(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        UnixStream::from_std(stream)
    }
}

impl AsRef<UnixStream> for UnixStream {
    fn as_ref(&self) -> &UnixStream {
        self
    }
}

impl AsRawFd for UnixStream {
    fn as_raw_fd(&self) -> RawFd {
        self.io.io().as_raw_fd()
    }
}

impl AsFd for UnixStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.io().as_fd()
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.io.io(), f)
    }
}
