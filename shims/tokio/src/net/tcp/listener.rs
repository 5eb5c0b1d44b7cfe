use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{ready, Context, Poll};

use super::TcpStream;
use crate::io::poll_evented::PollEvented;
use crate::io::Interest;
use crate::net::addr::{first_success, ToSocketAddrs};

/// A TCP listening socket, as `tokio::net::TcpListener`.
///
/// Bound with `SO_REUSEADDR` (as tokio, through mio), so a port whose
/// listener was dropped — by an unloaded plugin too — can be bound again at once.
pub struct TcpListener {
    io: PollEvented<std::net::TcpListener>,
}

impl TcpListener {
    /// Binds to `address`, trying each resolved address in turn.
    ///
    /// # Errors
    /// The last address's error (`AddrInUse`, …), or the resolver's.
    pub async fn bind<A: ToSocketAddrs>(address: A) -> io::Result<TcpListener> {
        first_success(address, |address| async move { TcpListener::bind_addr(address) }).await
    }

    fn bind_addr(address: SocketAddr) -> io::Result<TcpListener> {
        let socket = super::TcpSocket::for_address(address)?;
        socket.set_reuseaddr(true)?;
        socket.bind(address)?;
        socket.listen(1024)
    }

    pub(crate) fn from_listening(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener { io: PollEvented::with_interest(listener, Interest::READABLE)? })
    }

    /// Accepts a connection.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, address) = self.io.async_io(Interest::READABLE, |listener| listener.accept()).await?;
        Ok((TcpStream::accepted(stream)?, address))
    }

    /// Polls to accept a connection.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let (stream, address) =
            ready!(self.io.poll_io(cx, Interest::READABLE, |listener| listener.accept()))?;
        Poll::Ready(TcpStream::accepted(stream).map(|stream| (stream, address)))
    }

    /// Wraps a listening std socket, setting it nonblocking.
    #[track_caller]
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        TcpListener::from_listening(listener)
    }

    /// Leaves the reactor and returns the std listener, set blocking again.
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        let listener = self.io.into_inner();
        listener.set_nonblocking(false)?;
        Ok(listener)
    }

    /// The bound address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.io().local_addr()
    }

    /// `IP_TTL`.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.io().ttl()
    }

    /// Sets `IP_TTL`.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.io().set_ttl(ttl)
    }

    /// The socket's pending error.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.io().take_error()
    }
}

impl TryFrom<std::net::TcpListener> for TcpListener {
    type Error = io::Error;

    fn try_from(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        TcpListener::from_std(listener)
    }
}

impl AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> RawFd {
        self.io.io().as_raw_fd()
    }
}

impl AsFd for TcpListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.io().as_fd()
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.io.io(), f)
    }
}
