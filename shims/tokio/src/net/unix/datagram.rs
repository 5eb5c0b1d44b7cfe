//! Where [`UnixDatagram`](crate::net::UnixDatagram) is defined; hidden, as
//! tokio's `net::unix::datagram`.

use std::fmt;
use std::io;
use std::mem::MaybeUninit;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::Path;
use std::task::{ready, Context, Poll};

use bytes::BufMut;
use socket2::SockRef;
use upstream::io::ReadBuf;

use super::addr::sock_addr;
use super::SocketAddr;
use crate::io::poll_evented::PollEvented;
use crate::io::{Interest, Ready};
use crate::net::udp::{recv_into_buf_mut, recv_into_read_buf};
use crate::net::UnixSocket;

/// A Unix datagram socket, as `tokio::net::UnixDatagram`, on the host's
/// reactor. All methods take `&self`, so an `Arc<UnixDatagram>` can send
/// and receive from different tasks at once.
///
/// ```
/// use tokio::net::UnixDatagram;
///
/// #[tokio::main]
/// async fn main() {
///     let (left, right) = UnixDatagram::pair().unwrap();
///     left.send(b"ping").await.unwrap();
///     let mut buf = [0; 16];
///     let len = right.recv(&mut buf).await.unwrap();
///     assert_eq!(&buf[..len], b"ping");
/// }
/// # main();
/// ```
pub struct UnixDatagram {
    io: PollEvented<std::os::unix::net::UnixDatagram>,
}

/// `recv_from(2)` into `spare` through std, which reports the sender as a
/// std address (an unnamed one too).
fn recv_from_uninit(
    socket: &std::os::unix::net::UnixDatagram,
    spare: &mut [MaybeUninit<u8>],
) -> io::Result<(usize, std::os::unix::net::SocketAddr)> {
    // SAFETY: the slice goes straight to `recvfrom(2)`: nothing reads it,
    // and the kernel only writes initialised bytes into it.
    let spare = unsafe { &mut *(spare as *mut [MaybeUninit<u8>] as *mut [u8]) };
    socket.recv_from(spare)
}

impl UnixDatagram {
    #[track_caller]
    fn new(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        Ok(UnixDatagram { io: PollEvented::new(socket)? })
    }

    /// Registers a nonblocking std socket, failing with its pending error.
    #[track_caller]
    pub(crate) fn from_nonblocking(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        let datagram = UnixDatagram::new(socket)?;
        if let Some(error) = datagram.io.io().take_error()? {
            return Err(error);
        }
        Ok(datagram)
    }

    /// Waits for any readiness in `interest`; the next `try_*` may still
    /// return `WouldBlock`.
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        self.io.ready(interest).await
    }

    /// Waits until a datagram can be sent.
    pub async fn writable(&self) -> io::Result<()> {
        self.ready(Interest::WRITABLE).await.map(drop)
    }

    /// Polls for send readiness. Only the last task to poll is woken.
    pub fn poll_send_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(cx, Interest::WRITABLE).map_ok(drop)
    }

    /// Waits until a datagram may be received.
    pub async fn readable(&self) -> io::Result<()> {
        self.ready(Interest::READABLE).await.map(drop)
    }

    /// Polls for receive readiness. Only the last task to poll is woken.
    pub fn poll_recv_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(cx, Interest::READABLE).map_ok(drop)
    }

    /// A socket bound to `path` (on Linux, a path starting with a NUL byte
    /// names the rest in the abstract namespace).
    ///
    /// # Errors
    /// `AddrInUse` if `path` exists, `bind`'s other errors, or off the
    /// runtime's thread.
    #[track_caller]
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixDatagram> {
        let address = sock_addr(path.as_ref())?;
        let socket = UnixSocket::new_datagram()?;
        socket.bind_sock_addr(&address)?;
        socket.datagram()
    }

    /// A connected pair of unnamed sockets (`socketpair(2)`).
    #[track_caller]
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (left, right) = std::os::unix::net::UnixDatagram::pair()?;
        let (left, right) = (UnixDatagram::from_std(left)?, UnixDatagram::from_std(right)?);
        // Connected and empty: both ends can send at once, as in tokio.
        left.io.registration().assume_writable();
        right.io.registration().assume_writable();
        Ok((left, right))
    }

    /// Wraps a std socket, setting it nonblocking.
    ///
    /// # Errors
    /// Off the runtime's thread, or if it cannot be registered.
    #[track_caller]
    pub fn from_std(datagram: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        datagram.set_nonblocking(true)?;
        UnixDatagram::new(datagram)
    }

    /// Leaves the reactor and returns the std socket, still nonblocking as
    /// in tokio (call `set_nonblocking(false)` to block on it).
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixDatagram> {
        Ok(self.io.into_inner())
    }

    /// A socket bound to no address: it can [`send_to`](Self::send_to), or
    /// [`connect`](Self::connect) and [`send`](Self::send); its peers see an
    /// unnamed sender.
    #[track_caller]
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixSocket::new_datagram()?.datagram()
    }

    /// Sets the default destination of [`send`](Self::send) and the only
    /// source [`recv`](Self::recv) accepts.
    pub fn connect<P: AsRef<Path>>(&self, path: P) -> io::Result<()> {
        SockRef::from(self.io.io()).connect(&sock_addr(path.as_ref())?)
    }

    /// Sends `buf` to the connected peer, returning the bytes sent.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.async_io(Interest::WRITABLE, |socket| socket.send(buf)).await
    }

    /// Sends to the connected peer now; `WouldBlock` if it cannot.
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_io(Interest::WRITABLE, |socket| socket.send(buf))
    }

    /// Sends `buf` to the socket at `target` now; `WouldBlock` if it cannot.
    pub fn try_send_to<P: AsRef<Path>>(&self, buf: &[u8], target: P) -> io::Result<usize> {
        let target = sock_addr(target.as_ref())?;
        self.io.try_io(Interest::WRITABLE, |socket| SockRef::from(socket).send_to(buf, &target))
    }

    /// Receives one datagram from the connected peer into `buf`, returning
    /// its length; the part that does not fit in `buf` is discarded.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.async_io(Interest::READABLE, |socket| socket.recv(buf)).await
    }

    /// Receives a datagram now; `WouldBlock` if none is queued.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Interest::READABLE, |socket| socket.recv(buf))
    }

    /// [`try_recv_from`](Self::try_recv_from) into a `BufMut`'s spare
    /// capacity, advancing it.
    pub fn try_recv_buf_from<B: BufMut>(&self, buf: &mut B) -> io::Result<(usize, SocketAddr)> {
        let (len, from) = self.io.try_io(Interest::READABLE, |socket| {
            recv_into_buf_mut(buf, |spare| recv_from_uninit(socket, spare))
        })?;
        Ok((len, SocketAddr(from)))
    }

    /// [`recv_from`](Self::recv_from) into a `BufMut`'s spare capacity,
    /// advancing it.
    pub async fn recv_buf_from<B: BufMut>(&self, buf: &mut B) -> io::Result<(usize, SocketAddr)> {
        let (len, from) = self
            .io
            .async_io(Interest::READABLE, |socket| {
                recv_into_buf_mut(&mut *buf, |spare| recv_from_uninit(socket, spare))
            })
            .await?;
        Ok((len, SocketAddr(from)))
    }

    /// [`try_recv`](Self::try_recv) into a `BufMut`'s spare capacity,
    /// advancing it.
    pub fn try_recv_buf<B: BufMut>(&self, buf: &mut B) -> io::Result<usize> {
        self.io.try_io(Interest::READABLE, |socket| crate::net::read_into_buf_mut(socket.as_raw_fd(), buf))
    }

    /// [`recv`](Self::recv) into a `BufMut`'s spare capacity, advancing it.
    pub async fn recv_buf<B: BufMut>(&self, buf: &mut B) -> io::Result<usize> {
        self.io
            .async_io(Interest::READABLE, |socket| {
                crate::net::read_into_buf_mut(socket.as_raw_fd(), &mut *buf)
            })
            .await
    }

    /// Sends `buf` to the socket at `target`, returning the bytes sent.
    pub async fn send_to<P: AsRef<Path>>(&self, buf: &[u8], target: P) -> io::Result<usize> {
        let target = sock_addr(target.as_ref())?;
        self.io.async_io(Interest::WRITABLE, |socket| SockRef::from(socket).send_to(buf, &target)).await
    }

    /// Receives one datagram into `buf`, returning its length and sender;
    /// the part that does not fit in `buf` is discarded.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let (len, from) = self.io.async_io(Interest::READABLE, |socket| socket.recv_from(buf)).await?;
        Ok((len, SocketAddr(from)))
    }

    /// Polls a [`recv_from`](Self::recv_from) into `buf`'s unfilled part,
    /// returning the sender.
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<SocketAddr>> {
        let from = ready!(self.io.poll_io(cx, Interest::READABLE, |socket| {
            recv_into_read_buf(&mut *buf, |spare| recv_from_uninit(socket, spare))
        }))?;
        Poll::Ready(Ok(SocketAddr(from)))
    }

    /// Polls a send of `buf` to the socket at `target`.
    pub fn poll_send_to<P: AsRef<Path>>(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: P,
    ) -> Poll<io::Result<usize>> {
        let target = match sock_addr(target.as_ref()) {
            Ok(target) => target,
            Err(error) => return Poll::Ready(Err(error)),
        };
        self.io.poll_io(cx, Interest::WRITABLE, |socket| SockRef::from(socket).send_to(buf, &target))
    }

    /// Polls a [`send`](Self::send) to the connected peer.
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Interest::WRITABLE, |socket| socket.send(buf))
    }

    /// Polls a [`recv`](Self::recv) into `buf`'s unfilled part.
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        self.io.poll_io(cx, Interest::READABLE, |socket| {
            recv_into_read_buf(&mut *buf, |spare| SockRef::from(socket).recv(spare).map(|len| (len, ())))
        })
    }

    /// Receives a datagram and its sender now; `WouldBlock` if none is
    /// queued.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let (len, from) = self.io.try_io(Interest::READABLE, |socket| socket.recv_from(buf))?;
        Ok((len, SocketAddr(from)))
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

    /// The bound address (unnamed if unbound).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.io().local_addr().map(SocketAddr)
    }

    /// The address [`connect`](Self::connect)ed to; `NotConnected` if none.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.io().peer_addr().map(SocketAddr)
    }

    /// The socket's pending error (`SO_ERROR`), cleared by reading it.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.io().take_error()
    }

    /// Shuts down reads, writes or both (`shutdown(2)`).
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.io().shutdown(how)
    }
}

impl TryFrom<std::os::unix::net::UnixDatagram> for UnixDatagram {
    type Error = io::Error;

    /// [`UnixDatagram::from_std`].
    fn try_from(datagram: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        UnixDatagram::from_std(datagram)
    }
}

impl AsRawFd for UnixDatagram {
    fn as_raw_fd(&self) -> RawFd {
        self.io.io().as_raw_fd()
    }
}

impl AsFd for UnixDatagram {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.io().as_fd()
    }
}

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.io.io(), f)
    }
}
