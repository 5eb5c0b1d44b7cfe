use std::fmt;
use std::io;
use std::mem::MaybeUninit;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{ready, Context, Poll};

use bytes::BufMut;
use socket2::{Domain, Protocol, SockAddr, SockRef, Socket, Type};
use upstream::io::ReadBuf;

use crate::io::poll_evented::PollEvented;
use crate::io::{Interest, Ready};
use crate::net::addr::{first_success, resolve, ToSocketAddrs};

/// A UDP socket, as `tokio::net::UdpSocket`, on the host's reactor.
///
/// UDP is connectionless: [`send_to`](Self::send_to) and
/// [`recv_from`](Self::recv_from) talk to any peer; after
/// [`connect`](Self::connect), [`send`](Self::send) and [`recv`](Self::recv)
/// talk to that one. All methods take `&self`, so an `Arc<UdpSocket>` can
/// send and receive from different tasks at once.
///
/// ```
/// use tokio::net::UdpSocket;
///
/// #[tokio::main]
/// async fn main() {
///     let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     client.connect(server.local_addr().unwrap()).await.unwrap();
///     client.send(b"ping").await.unwrap();
///
///     let mut buf = [0; 16];
///     let (len, from) = server.recv_from(&mut buf).await.unwrap();
///     assert_eq!((&buf[..len], from), (&b"ping"[..], client.local_addr().unwrap()));
///     server.send_to(b"pong", from).await.unwrap();
///     let len = client.recv(&mut buf).await.unwrap();
///     assert_eq!(&buf[..len], b"pong");
/// }
/// # main();
/// ```
pub struct UdpSocket {
    io: PollEvented<std::net::UdpSocket>,
}

/// Runs `recv` on `buf`'s unfilled part and marks what it received filled:
/// the `poll_recv*`/`poll_peek*` of the datagram sockets.
pub(crate) fn recv_into_read_buf<R>(
    buf: &mut ReadBuf<'_>,
    recv: impl FnOnce(&mut [MaybeUninit<u8>]) -> io::Result<(usize, R)>,
) -> io::Result<R> {
    // SAFETY: `recv` hands the slice to the kernel, which writes bytes into
    // it and never de-initialises any.
    let (received, extra) = recv(unsafe { buf.unfilled_mut() })?;
    // SAFETY: the kernel initialised the first `received` bytes.
    unsafe { buf.assume_init(received) };
    buf.advance(received);
    Ok(extra)
}

/// Runs `recv` on `buf`'s spare capacity and advances it by what it
/// received: the `*recv_buf*` of the datagram sockets.
pub(crate) fn recv_into_buf_mut<B: BufMut, R>(
    buf: &mut B,
    recv: impl FnOnce(&mut [MaybeUninit<u8>]) -> io::Result<(usize, R)>,
) -> io::Result<(usize, R)> {
    // SAFETY: `recv` hands the slice to the kernel, which only writes
    // initialised bytes into it.
    let spare = unsafe { buf.chunk_mut().as_uninit_slice_mut() };
    let (received, extra) = recv(spare)?;
    // SAFETY: the kernel initialised the first `received` bytes of the chunk.
    unsafe { buf.advance_mut(received) };
    Ok((received, extra))
}

/// The IP address of a `SockAddr` the kernel reported for a UDP socket.
fn ip_address(address: SockAddr) -> io::Result<SocketAddr> {
    address.as_socket().ok_or_else(|| io::Error::other("sender not available"))
}

impl UdpSocket {
    /// Creates a UDP socket bound to `address`, trying each resolved address
    /// in turn. Port 0 asks the OS for a free port; see
    /// [`local_addr`](Self::local_addr). The socket is nonblocking and
    /// close-on-exec.
    ///
    /// # Errors
    /// The last address's error (`AddrInUse`, …), or the resolver's.
    pub async fn bind<A: ToSocketAddrs>(address: A) -> io::Result<UdpSocket> {
        first_success(address, |address| async move { UdpSocket::bind_addr(address) }).await
    }

    fn bind_addr(address: SocketAddr) -> io::Result<UdpSocket> {
        let socket = Socket::new(Domain::for_address(address), Type::DGRAM.cloexec(), Some(Protocol::UDP))?;
        socket.set_nonblocking(true)?;
        socket.bind(&SockAddr::from(address))?;
        UdpSocket::new(std::net::UdpSocket::from(socket))
    }

    #[track_caller]
    fn new(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        Ok(UdpSocket { io: PollEvented::new(socket)? })
    }

    /// Wraps a bound std socket, setting it nonblocking.
    ///
    /// # Errors
    /// Off the runtime's thread, or if it cannot be registered.
    #[track_caller]
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        UdpSocket::new(socket)
    }

    /// Leaves the reactor and returns the std socket, still nonblocking as
    /// in tokio (call `set_nonblocking(false)` to block on it).
    pub fn into_std(self) -> io::Result<std::net::UdpSocket> {
        Ok(self.io.into_inner())
    }

    fn socket(&self) -> SockRef<'_> {
        SockRef::from(self.io.io())
    }

    /// The bound address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.io().local_addr()
    }

    /// The address [`connect`](Self::connect)ed to; `NotConnected` if none.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.io().peer_addr()
    }

    /// Sets the default destination of [`send`](Self::send) and the only
    /// source [`recv`](Self::recv) accepts, trying each resolved address in
    /// turn.
    ///
    /// # Errors
    /// The last address's error, or the resolver's.
    pub async fn connect<A: ToSocketAddrs>(&self, address: A) -> io::Result<()> {
        let socket = self.io.io();
        first_success(address, |address| async move { socket.connect(address) }).await
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

    /// Sends `buf` to the connected peer, returning the bytes sent.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.async_io(Interest::WRITABLE, |socket| socket.send(buf)).await
    }

    /// Polls a [`send`](Self::send) to the connected peer.
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Interest::WRITABLE, |socket| socket.send(buf))
    }

    /// Sends to the connected peer now; `WouldBlock` if it cannot.
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_io(Interest::WRITABLE, |socket| socket.send(buf))
    }

    /// Waits until a datagram may be received.
    pub async fn readable(&self) -> io::Result<()> {
        self.ready(Interest::READABLE).await.map(drop)
    }

    /// Polls for receive readiness. Only the last task to poll is woken.
    pub fn poll_recv_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(cx, Interest::READABLE).map_ok(drop)
    }

    /// Receives one datagram from the connected peer into `buf`, returning
    /// its length; the part that does not fit in `buf` is discarded.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.async_io(Interest::READABLE | Interest::ERROR, |socket| socket.recv(buf)).await
    }

    /// Polls a [`recv`](Self::recv) into `buf`'s unfilled part.
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        self.io.poll_io(cx, Interest::READABLE, |socket| {
            recv_into_read_buf(&mut *buf, |spare| SockRef::from(socket).recv(spare).map(|len| (len, ())))
        })
    }

    /// Receives a datagram from the connected peer now; `WouldBlock` if
    /// none is queued.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Interest::READABLE, |socket| socket.recv(buf))
    }

    /// [`try_recv`](Self::try_recv) into a `BufMut`'s spare capacity,
    /// advancing it.
    pub fn try_recv_buf<B: BufMut>(&self, buf: &mut B) -> io::Result<usize> {
        self.io.try_io(Interest::READABLE, |socket| {
            recv_into_buf_mut(&mut *buf, |spare| SockRef::from(socket).recv(spare).map(|len| (len, ())))
                .map(|(len, ())| len)
        })
    }

    /// [`recv`](Self::recv) into a `BufMut`'s spare capacity, advancing it.
    pub async fn recv_buf<B: BufMut>(&self, buf: &mut B) -> io::Result<usize> {
        self.io
            .async_io(Interest::READABLE | Interest::ERROR, |socket| {
                recv_into_buf_mut(&mut *buf, |spare| SockRef::from(socket).recv(spare).map(|len| (len, ())))
                    .map(|(len, ())| len)
            })
            .await
    }

    /// [`try_recv_from`](Self::try_recv_from) into a `BufMut`'s spare
    /// capacity, advancing it.
    pub fn try_recv_buf_from<B: BufMut>(&self, buf: &mut B) -> io::Result<(usize, SocketAddr)> {
        let (len, from) = self.io.try_io(Interest::READABLE, |socket| {
            recv_into_buf_mut(&mut *buf, |spare| SockRef::from(socket).recv_from(spare))
        })?;
        Ok((len, ip_address(from)?))
    }

    /// [`recv_from`](Self::recv_from) into a `BufMut`'s spare capacity,
    /// advancing it.
    pub async fn recv_buf_from<B: BufMut>(&self, buf: &mut B) -> io::Result<(usize, SocketAddr)> {
        let (len, from) = self
            .io
            .async_io(Interest::READABLE | Interest::ERROR, |socket| {
                recv_into_buf_mut(&mut *buf, |spare| SockRef::from(socket).recv_from(spare))
            })
            .await?;
        Ok((len, ip_address(from)?))
    }

    /// Sends `buf` to the first address `target` resolves to.
    ///
    /// # Errors
    /// `InvalidInput` if `target` resolves to no address; the resolver's or
    /// the send's error.
    pub async fn send_to<A: ToSocketAddrs>(&self, buf: &[u8], target: A) -> io::Result<usize> {
        let Some(target) = resolve(target).await?.next() else {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "no addresses to send data to"));
        };
        self.io.async_io(Interest::WRITABLE, |socket| socket.send_to(buf, target)).await
    }

    /// Polls a send of `buf` to `target`.
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Interest::WRITABLE, |socket| socket.send_to(buf, target))
    }

    /// Sends `buf` to `target` now; `WouldBlock` if it cannot.
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.io.try_io(Interest::WRITABLE, |socket| socket.send_to(buf, target))
    }

    /// Receives one datagram into `buf`, returning its length and sender;
    /// the part that does not fit in `buf` is discarded.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.async_io(Interest::READABLE | Interest::ERROR, |socket| socket.recv_from(buf)).await
    }

    /// Polls a [`recv_from`](Self::recv_from) into `buf`'s unfilled part,
    /// returning the sender.
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<SocketAddr>> {
        let from = ready!(self.io.poll_io(cx, Interest::READABLE, |socket| {
            recv_into_read_buf(&mut *buf, |spare| SockRef::from(socket).recv_from(spare))
        }))?;
        Poll::Ready(ip_address(from))
    }

    /// Receives a datagram now; `WouldBlock` if none is queued.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.try_io(Interest::READABLE, |socket| socket.recv_from(buf))
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

    /// Receives the next datagram from the connected peer into `buf`
    /// without removing it from the queue.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.async_io(Interest::READABLE | Interest::ERROR, |socket| socket.peek(buf)).await
    }

    /// Polls a [`peek`](Self::peek) into `buf`'s unfilled part.
    pub fn poll_peek(&self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        self.io.poll_io(cx, Interest::READABLE, |socket| {
            recv_into_read_buf(&mut *buf, |spare| SockRef::from(socket).peek(spare).map(|len| (len, ())))
        })
    }

    /// Peeks now; `WouldBlock` if no datagram is queued.
    pub fn try_peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Interest::READABLE, |socket| socket.peek(buf))
    }

    /// Receives the next datagram and its sender without removing it from
    /// the queue.
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.async_io(Interest::READABLE | Interest::ERROR, |socket| socket.peek_from(buf)).await
    }

    /// Polls a [`peek_from`](Self::peek_from) into `buf`'s unfilled part.
    pub fn poll_peek_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<SocketAddr>> {
        let from = ready!(self.io.poll_io(cx, Interest::READABLE, |socket| {
            recv_into_read_buf(&mut *buf, |spare| SockRef::from(socket).peek_from(spare))
        }))?;
        Poll::Ready(ip_address(from))
    }

    /// [`peek_from`](Self::peek_from) now; `WouldBlock` if no datagram is
    /// queued.
    pub fn try_peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.try_io(Interest::READABLE, |socket| socket.peek_from(buf))
    }

    /// The sender of the next datagram, which stays queued.
    pub async fn peek_sender(&self) -> io::Result<SocketAddr> {
        self.io.async_io(Interest::READABLE | Interest::ERROR, |_| self.peek_sender_now()).await
    }

    /// Polls a [`peek_sender`](Self::peek_sender).
    pub fn poll_peek_sender(&self, cx: &mut Context<'_>) -> Poll<io::Result<SocketAddr>> {
        self.io.poll_io(cx, Interest::READABLE, |_| self.peek_sender_now())
    }

    /// [`peek_sender`](Self::peek_sender) now; `WouldBlock` if no datagram
    /// is queued.
    pub fn try_peek_sender(&self) -> io::Result<SocketAddr> {
        self.io.try_io(Interest::READABLE, |_| self.peek_sender_now())
    }

    fn peek_sender_now(&self) -> io::Result<SocketAddr> {
        ip_address(self.socket().peek_sender()?)
    }

    /// `SO_BROADCAST`.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.io.io().broadcast()
    }

    /// Sets `SO_BROADCAST`.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.io().set_broadcast(on)
    }

    /// `IP_MULTICAST_LOOP`.
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.io.io().multicast_loop_v4()
    }

    /// Sets `IP_MULTICAST_LOOP`.
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.io.io().set_multicast_loop_v4(on)
    }

    /// `IP_MULTICAST_TTL`.
    pub fn multicast_ttl_v4(&self) -> io::Result<u32> {
        self.io.io().multicast_ttl_v4()
    }

    /// Sets `IP_MULTICAST_TTL`.
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        self.io.io().set_multicast_ttl_v4(ttl)
    }

    /// `IPV6_MULTICAST_LOOP`.
    pub fn multicast_loop_v6(&self) -> io::Result<bool> {
        self.io.io().multicast_loop_v6()
    }

    /// Sets `IPV6_MULTICAST_LOOP`.
    pub fn set_multicast_loop_v6(&self, on: bool) -> io::Result<()> {
        self.io.io().set_multicast_loop_v6(on)
    }

    /// `IPV6_TCLASS`.
    #[cfg(any(
        target_os = "android",
        target_os = "dragonfly",
        target_os = "freebsd",
        target_os = "fuchsia",
        target_os = "linux",
        target_os = "macos",
        target_os = "netbsd",
        target_os = "openbsd",
        target_os = "cygwin",
    ))]
    pub fn tclass_v6(&self) -> io::Result<u32> {
        self.socket().tclass_v6()
    }

    /// Sets `IPV6_TCLASS`.
    #[cfg(any(
        target_os = "android",
        target_os = "dragonfly",
        target_os = "freebsd",
        target_os = "fuchsia",
        target_os = "linux",
        target_os = "macos",
        target_os = "netbsd",
        target_os = "openbsd",
        target_os = "cygwin",
    ))]
    pub fn set_tclass_v6(&self, tclass: u32) -> io::Result<()> {
        self.socket().set_tclass_v6(tclass)
    }

    /// `IP_TTL`.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.io().ttl()
    }

    /// Sets `IP_TTL`.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.io().set_ttl(ttl)
    }

    /// `IP_TOS`.
    #[cfg(not(any(
        target_os = "fuchsia",
        target_os = "redox",
        target_os = "solaris",
        target_os = "illumos",
        target_os = "haiku",
    )))]
    pub fn tos_v4(&self) -> io::Result<u32> {
        self.socket().tos_v4()
    }

    /// `IP_TOS`: the old name of [`tos_v4`](Self::tos_v4).
    #[deprecated(note = "`tos` related methods have been renamed `tos_v4` since they are IPv4-specific.")]
    #[doc(hidden)]
    #[cfg(not(any(
        target_os = "fuchsia",
        target_os = "redox",
        target_os = "solaris",
        target_os = "illumos",
        target_os = "haiku",
    )))]
    pub fn tos(&self) -> io::Result<u32> {
        self.tos_v4()
    }

    /// Sets `IP_TOS`.
    #[cfg(not(any(
        target_os = "fuchsia",
        target_os = "redox",
        target_os = "solaris",
        target_os = "illumos",
        target_os = "haiku",
    )))]
    pub fn set_tos_v4(&self, tos: u32) -> io::Result<()> {
        self.socket().set_tos_v4(tos)
    }

    /// Sets `IP_TOS`: the old name of [`set_tos_v4`](Self::set_tos_v4).
    #[deprecated(note = "`tos` related methods have been renamed `tos_v4` since they are IPv4-specific.")]
    #[doc(hidden)]
    #[cfg(not(any(
        target_os = "fuchsia",
        target_os = "redox",
        target_os = "solaris",
        target_os = "illumos",
        target_os = "haiku",
    )))]
    pub fn set_tos(&self, tos: u32) -> io::Result<()> {
        self.set_tos_v4(tos)
    }

    /// The device bound with `SO_BINDTODEVICE`, if any.
    #[cfg(any(target_os = "android", target_os = "fuchsia", target_os = "linux"))]
    pub fn device(&self) -> io::Result<Option<Vec<u8>>> {
        self.socket().device()
    }

    /// Binds to a device (`SO_BINDTODEVICE`); `None` or an empty name
    /// removes the binding.
    #[cfg(any(target_os = "android", target_os = "fuchsia", target_os = "linux"))]
    pub fn bind_device(&self, interface: Option<&[u8]>) -> io::Result<()> {
        self.socket().bind_device(interface)
    }

    /// Joins the IPv4 multicast group `multiaddr` on the interface with
    /// address `interface` (`UNSPECIFIED`: the system's choice).
    pub fn join_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.io().join_multicast_v4(&multiaddr, &interface)
    }

    /// Joins the IPv6 multicast group `multiaddr` on the interface with
    /// index `interface` (0: the system's choice).
    pub fn join_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.io().join_multicast_v6(multiaddr, interface)
    }

    /// Leaves an IPv4 multicast group; see
    /// [`join_multicast_v4`](Self::join_multicast_v4).
    pub fn leave_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.io().leave_multicast_v4(&multiaddr, &interface)
    }

    /// Leaves an IPv6 multicast group; see
    /// [`join_multicast_v6`](Self::join_multicast_v6).
    pub fn leave_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.io().leave_multicast_v6(multiaddr, interface)
    }

    /// The socket's pending error (`SO_ERROR`), cleared by reading it.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.io().take_error()
    }
}

impl TryFrom<std::net::UdpSocket> for UdpSocket {
    type Error = io::Error;

    /// [`UdpSocket::from_std`].
    fn try_from(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        UdpSocket::from_std(socket)
    }
}

impl AsRawFd for UdpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.io.io().as_raw_fd()
    }
}

impl AsFd for UdpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.io().as_fd()
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.io.io(), f)
    }
}
