use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::Path;
use std::task::{ready, Context, Poll};

use socket2::SockAddr;

use super::addr::sock_addr;
use super::SocketAddr;
use crate::io::poll_evented::PollEvented;
use crate::io::Interest;
use crate::net::UnixSocket;
use crate::net::UnixStream;

/// A Unix listening socket, as `tokio::net::UnixListener`.
///
/// The socket file is not removed when the listener is dropped (as with
/// std and tokio); binding to an existing path fails with `AddrInUse`.
///
/// ```
/// use tokio::net::{UnixListener, UnixStream};
///
/// #[tokio::main]
/// async fn main() {
///     let dir = tempfile::tempdir().unwrap();
///     let path = dir.path().join("listener");
///     let listener = UnixListener::bind(&path).unwrap();
///     let client = UnixStream::connect(&path).await.unwrap();
///     let (server, peer) = listener.accept().await.unwrap();
///     assert!(peer.is_unnamed());
///     assert_eq!(server.local_addr().unwrap().as_pathname(), Some(path.as_path()));
///     drop(client);
/// }
/// # main();
/// ```
pub struct UnixListener {
    io: PollEvented<std::os::unix::net::UnixListener>,
}

impl UnixListener {
    /// Binds to `path` and listens (on Linux, a path starting with a NUL
    /// byte names the rest in the abstract namespace).
    ///
    /// # Errors
    /// `AddrInUse` if `path` exists, `bind`'s other errors, or off the
    /// runtime's thread.
    #[track_caller]
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixListener> {
        UnixListener::bind_sock_addr(&sock_addr(path.as_ref())?)
    }

    /// Binds to `socket_addr` and listens; see [`bind`](Self::bind).
    ///
    /// # Errors
    /// `InvalidInput` for an unnamed address, or as [`bind`](Self::bind).
    #[track_caller]
    pub fn bind_addr(socket_addr: &SocketAddr) -> io::Result<UnixListener> {
        UnixListener::bind_sock_addr(&socket_addr.to_sock_addr()?)
    }

    #[track_caller]
    fn bind_sock_addr(address: &SockAddr) -> io::Result<UnixListener> {
        let socket = UnixSocket::new_stream()?;
        socket.bind_sock_addr(address)?;
        socket.listen(1024)
    }

    /// Registers a listening, nonblocking std listener.
    #[track_caller]
    pub(crate) fn from_listening(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        Ok(UnixListener { io: PollEvented::with_interest(listener, Interest::READABLE)? })
    }

    /// Wraps a listening std listener, setting it nonblocking.
    ///
    /// # Errors
    /// Off the runtime's thread, or if it cannot be registered.
    #[track_caller]
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        UnixListener::from_listening(listener)
    }

    /// Leaves the reactor and returns the std listener, still nonblocking as
    /// in tokio (call `set_nonblocking(false)` to block on it).
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixListener> {
        Ok(self.io.into_inner())
    }

    /// The bound address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.io().local_addr().map(SocketAddr)
    }

    /// The socket's pending error (`SO_ERROR`), cleared by reading it.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.io().take_error()
    }

    /// Accepts a connection, returning it and the peer's address (unnamed
    /// unless the peer bound its socket).
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let (stream, address) = self.io.async_io(Interest::READABLE, |listener| listener.accept()).await?;
        Ok((UnixStream::accepted(stream)?, SocketAddr(address)))
    }

    /// Polls to accept a connection.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        let (stream, address) =
            ready!(self.io.poll_io(cx, Interest::READABLE, |listener| listener.accept()))?;
        Poll::Ready(UnixStream::accepted(stream).map(|stream| (stream, SocketAddr(address))))
    }
}

impl TryFrom<std::os::unix::net::UnixListener> for UnixListener {
    type Error = io::Error;

    /// [`UnixListener::from_std`].
    fn try_from(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        UnixListener::from_std(listener)
    }
}

impl AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> RawFd {
        self.io.io().as_raw_fd()
    }
}

impl AsFd for UnixListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.io().as_fd()
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.io.io(), f)
    }
}
