use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, RawFd};
use std::path::Path;

use socket2::{Domain, SockAddr, Socket, Type};

use super::addr::sock_addr;
use crate::net::{UnixDatagram, UnixListener, UnixStream};

/// A Unix socket not yet a stream, listener or datagram socket, as
/// `tokio::net::UnixSocket`: set options (through its fd), bind, then
/// [`connect`](Self::connect), [`listen`](Self::listen) or turn it into a
/// [`datagram`](Self::datagram) socket. Closed when dropped.
///
/// ```
/// use tokio::net::UnixSocket;
///
/// #[tokio::main]
/// async fn main() {
///     let dir = tempfile::tempdir().unwrap();
///     let path = dir.path().join("listener");
///     let socket = UnixSocket::new_stream().unwrap();
///     socket.bind(&path).unwrap();
///     let listener = socket.listen(16).unwrap();
///     let client = UnixSocket::new_stream().unwrap().connect(&path).await.unwrap();
///     let (_server, _) = listener.accept().await.unwrap();
///     assert_eq!(client.peer_addr().unwrap().as_pathname(), Some(path.as_path()));
/// }
/// # main();
/// ```
#[derive(Debug)]
pub struct UnixSocket {
    inner: Socket,
}

impl UnixSocket {
    /// A datagram socket (`socket(AF_UNIX, SOCK_DGRAM)`), nonblocking and
    /// close-on-exec.
    pub fn new_datagram() -> io::Result<UnixSocket> {
        UnixSocket::new(Type::DGRAM)
    }

    /// A stream socket (`socket(AF_UNIX, SOCK_STREAM)`), nonblocking and
    /// close-on-exec.
    pub fn new_stream() -> io::Result<UnixSocket> {
        UnixSocket::new(Type::STREAM)
    }

    fn new(ty: Type) -> io::Result<UnixSocket> {
        // `Socket::new` sets close-on-exec.
        let inner = Socket::new(Domain::UNIX, ty, None)?;
        inner.set_nonblocking(true)?;
        Ok(UnixSocket { inner })
    }

    fn is_datagram(&self) -> io::Result<bool> {
        Ok(self.inner.r#type()? == Type::DGRAM)
    }

    /// Binds to `path` (`bind(2)`).
    pub fn bind(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.inner.bind(&sock_addr(path.as_ref())?)
    }

    pub(crate) fn bind_sock_addr(&self, address: &SockAddr) -> io::Result<()> {
        self.inner.bind(address)
    }

    /// Listens (`listen(2)`) with the given backlog.
    ///
    /// # Errors
    /// On a socket from [`new_datagram`](Self::new_datagram), or `listen`'s.
    pub fn listen(self, backlog: u32) -> io::Result<UnixListener> {
        if self.is_datagram()? {
            return Err(io::Error::other("listen cannot be called on a datagram socket"));
        }
        self.inner.listen(i32::try_from(backlog).unwrap_or(i32::MAX))?;
        UnixListener::from_listening(self.inner.into())
    }

    /// Connects to the socket at `path`, without blocking the runtime's
    /// thread.
    ///
    /// # Errors
    /// On a socket from [`new_datagram`](Self::new_datagram), or the
    /// connect's (`NotFound`, `ConnectionRefused`, …).
    pub async fn connect(self, path: impl AsRef<Path>) -> io::Result<UnixStream> {
        if self.is_datagram()? {
            return Err(io::Error::other("connect cannot be called on a datagram socket"));
        }
        let address = sock_addr(path.as_ref())?;
        UnixStream::connect_socket(self.inner, &address).await
    }

    pub(crate) async fn connect_sock_addr(self, address: &SockAddr) -> io::Result<UnixStream> {
        UnixStream::connect_socket(self.inner, address).await
    }

    /// Turns the socket into a [`UnixDatagram`].
    ///
    /// # Errors
    /// On a socket from [`new_stream`](Self::new_stream), or if it cannot be
    /// registered.
    pub fn datagram(self) -> io::Result<UnixDatagram> {
        if !self.is_datagram()? {
            return Err(io::Error::other("datagram cannot be called on a stream socket"));
        }
        UnixDatagram::from_nonblocking(self.inner.into())
    }
}

impl AsRawFd for UnixSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}

impl AsFd for UnixSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

impl FromRawFd for UnixSocket {
    /// # Safety
    /// `fd` must be an open Unix socket that nothing else owns.
    unsafe fn from_raw_fd(fd: RawFd) -> UnixSocket {
        // SAFETY: the caller's contract.
        UnixSocket { inner: unsafe { Socket::from_raw_fd(fd) } }
    }
}

impl IntoRawFd for UnixSocket {
    fn into_raw_fd(self) -> RawFd {
        self.inner.into_raw_fd()
    }
}
