//! `tokio::net::UdpSocket` on tau's runtime: round trips, addresses,
//! peeking, the `try_*`/`poll_*` forms and socket options.

use std::future::poll_fn;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd};
use std::sync::Arc;

use tokio::io::{Interest, ReadBuf};
use tokio::net::UdpSocket;

async fn bound() -> UdpSocket {
    UdpSocket::bind("127.0.0.1:0").await.unwrap()
}

/// A connected pair of sockets on the loopback.
async fn connected_pair() -> (UdpSocket, UdpSocket) {
    let (a, b) = (bound().await, bound().await);
    a.connect(b.local_addr().unwrap()).await.unwrap();
    b.connect(a.local_addr().unwrap()).await.unwrap();
    (a, b)
}

/// `try_recv` after `readable`, retrying a spurious wakeup.
async fn try_recv_when_readable(socket: &UdpSocket, buf: &mut [u8]) -> usize {
    loop {
        socket.readable().await.unwrap();
        match socket.try_recv(buf) {
            Ok(len) => return len,
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
            Err(error) => panic!("try_recv: {error}"),
        }
    }
}

#[tokio::test]
async fn echo_round_trip_with_addresses() {
    let server = bound().await;
    let client = bound().await;
    let server_address = server.local_addr().unwrap();
    let client_address = client.local_addr().unwrap();
    assert_eq!(server_address.ip(), Ipv4Addr::LOCALHOST);
    assert_ne!(server_address.port(), 0);

    let echo = tokio::spawn(async move {
        let mut buf = [0; 64];
        let (len, from) = server.recv_from(&mut buf).await.unwrap();
        assert_eq!(server.send_to(&buf[..len], from).await.unwrap(), len);
        from
    });

    client.connect(server_address).await.unwrap();
    assert_eq!(client.peer_addr().unwrap(), server_address);
    assert_eq!(client.send(b"hello, udp").await.unwrap(), 10);
    let mut buf = [0; 64];
    let len = client.recv(&mut buf).await.unwrap();
    assert_eq!(&buf[..len], b"hello, udp");
    assert_eq!(echo.await.unwrap(), client_address);
}

#[tokio::test]
async fn send_to_and_recv_from_report_the_sender() {
    let a = bound().await;
    let b = bound().await;
    let b_address = b.local_addr().unwrap();

    assert_eq!(a.send_to(b"one", b_address).await.unwrap(), 3);
    // A string target resolves too.
    assert_eq!(a.send_to(b"two", format!("127.0.0.1:{}", b_address.port())).await.unwrap(), 3);

    let mut buf = [0; 16];
    let (len, from) = b.recv_from(&mut buf).await.unwrap();
    assert_eq!((&buf[..len], from), (&b"one"[..], a.local_addr().unwrap()));
    let (len, from) = b.recv_from(&mut buf).await.unwrap();
    assert_eq!((&buf[..len], from), (&b"two"[..], a.local_addr().unwrap()));
}

#[tokio::test]
async fn a_too_small_buffer_truncates_the_datagram() {
    let (a, b) = connected_pair().await;
    a.send(b"0123456789").await.unwrap();
    a.send(b"next").await.unwrap();
    let mut small = [0; 4];
    assert_eq!(b.recv(&mut small).await.unwrap(), 4);
    assert_eq!(&small, b"0123");
    // The rest of the first datagram is gone.
    let mut buf = [0; 16];
    let len = b.recv(&mut buf).await.unwrap();
    assert_eq!(&buf[..len], b"next");
}

#[tokio::test]
async fn peek_does_not_consume() {
    let receiver = bound().await;
    let sender = bound().await;
    let sender_address = sender.local_addr().unwrap();
    sender.send_to(b"peekaboo", receiver.local_addr().unwrap()).await.unwrap();

    assert_eq!(receiver.peek_sender().await.unwrap(), sender_address);
    let mut buf = [0; 16];
    let (len, from) = receiver.peek_from(&mut buf).await.unwrap();
    assert_eq!((&buf[..len], from), (&b"peekaboo"[..], sender_address));
    let mut buf = [0; 16];
    let (len, from) = receiver.try_peek_from(&mut buf).unwrap();
    assert_eq!((&buf[..len], from), (&b"peekaboo"[..], sender_address));
    assert_eq!(receiver.try_peek_sender().unwrap(), sender_address);

    // Still there for recv_from.
    let mut buf = [0; 16];
    let (len, from) = receiver.recv_from(&mut buf).await.unwrap();
    assert_eq!((&buf[..len], from), (&b"peekaboo"[..], sender_address));
    assert_eq!(receiver.try_peek_from(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);
    assert_eq!(receiver.try_peek_sender().unwrap_err().kind(), io::ErrorKind::WouldBlock);
}

#[tokio::test]
async fn connected_peek_then_recv() {
    let (a, b) = connected_pair().await;
    a.send(b"data").await.unwrap();
    let mut buf = [0; 8];
    assert_eq!(b.peek(&mut buf).await.unwrap(), 4);
    assert_eq!(&buf[..4], b"data");
    let mut buf = [0; 8];
    assert_eq!(b.try_peek(&mut buf).unwrap(), 4);
    let mut buf = [0; 8];
    assert_eq!(b.recv(&mut buf).await.unwrap(), 4);
    assert_eq!(&buf[..4], b"data");
    assert_eq!(b.try_peek(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);
}

#[tokio::test]
async fn try_recv_would_block_until_a_datagram_arrives() {
    let (a, b) = connected_pair().await;
    let mut buf = [0; 16];
    assert_eq!(b.try_recv(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);
    assert_eq!(b.try_recv_from(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);

    a.writable().await.unwrap();
    assert_eq!(a.try_send(b"now").unwrap(), 3);
    let len = try_recv_when_readable(&b, &mut buf).await;
    assert_eq!(&buf[..len], b"now");
    assert_eq!(b.try_recv(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);

    // `try_send_to`/`try_recv_from` on the same pair.
    assert_eq!(a.try_send_to(b"to", b.local_addr().unwrap()).unwrap(), 2);
    let (len, from) = loop {
        b.readable().await.unwrap();
        match b.try_recv_from(&mut buf) {
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
            result => break result.unwrap(),
        }
    };
    assert_eq!((&buf[..len], from), (&b"to"[..], a.local_addr().unwrap()));
}

#[tokio::test]
async fn a_waiting_recv_is_woken_by_a_send_from_another_task() {
    let (a, b) = connected_pair().await;
    let b = Arc::new(b);
    let receiver = tokio::spawn({
        let b = b.clone();
        async move {
            let mut buf = [0; 16];
            let len = b.recv(&mut buf).await.unwrap();
            buf[..len].to_vec()
        }
    });
    tokio::task::yield_now().await;
    a.send(b"wake").await.unwrap();
    assert_eq!(receiver.await.unwrap(), b"wake");
}

#[tokio::test]
async fn buf_mut_receives_advance_the_buffer() {
    let (a, b) = connected_pair().await;
    let a_address = a.local_addr().unwrap();

    a.send(b"first").await.unwrap();
    let mut buf = Vec::with_capacity(32);
    assert_eq!(b.recv_buf(&mut buf).await.unwrap(), 5);
    assert_eq!(buf, b"first");

    a.send(b"second").await.unwrap();
    let mut buf = Vec::with_capacity(32);
    let (len, from) = b.recv_buf_from(&mut buf).await.unwrap();
    assert_eq!((len, from, &buf[..]), (6, a_address, &b"second"[..]));

    let mut buf = Vec::with_capacity(32);
    assert_eq!(b.try_recv_buf(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);
    assert_eq!(b.try_recv_buf_from(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);
    assert!(buf.is_empty());

    a.send(b"third").await.unwrap();
    b.readable().await.unwrap();
    assert_eq!(b.try_recv_buf(&mut buf).unwrap(), 5);
    a.send(b"fourth").await.unwrap();
    b.readable().await.unwrap();
    let (len, from) = b.try_recv_buf_from(&mut buf).unwrap();
    assert_eq!((len, from), (6, a_address));
    // Appended after what was there.
    assert_eq!(buf, b"thirdfourth");
}

#[tokio::test]
async fn poll_forms() {
    let (a, b) = connected_pair().await;
    let a_address = a.local_addr().unwrap();
    let b_address = b.local_addr().unwrap();

    poll_fn(|cx| a.poll_send_ready(cx)).await.unwrap();
    assert_eq!(poll_fn(|cx| a.poll_send(cx, b"send")).await.unwrap(), 4);
    poll_fn(|cx| b.poll_recv_ready(cx)).await.unwrap();

    let mut storage = [0; 16];
    let mut buf = ReadBuf::new(&mut storage);
    poll_fn(|cx| b.poll_peek(cx, &mut buf)).await.unwrap();
    assert_eq!(buf.filled(), b"send");

    let mut storage = [0; 16];
    let mut buf = ReadBuf::new(&mut storage);
    let from = poll_fn(|cx| b.poll_peek_from(cx, &mut buf)).await.unwrap();
    assert_eq!((buf.filled(), from), (&b"send"[..], a_address));
    assert_eq!(poll_fn(|cx| b.poll_peek_sender(cx)).await.unwrap(), a_address);

    let mut storage = [0; 16];
    let mut buf = ReadBuf::new(&mut storage);
    poll_fn(|cx| b.poll_recv(cx, &mut buf)).await.unwrap();
    assert_eq!(buf.filled(), b"send");

    assert_eq!(poll_fn(|cx| a.poll_send_to(cx, b"send_to", b_address)).await.unwrap(), 7);
    let mut storage = [0; 16];
    let mut buf = ReadBuf::new(&mut storage);
    let from = poll_fn(|cx| b.poll_recv_from(cx, &mut buf)).await.unwrap();
    assert_eq!((buf.filled(), from), (&b"send_to"[..], a_address));
}

#[tokio::test]
async fn ready_try_io_and_async_io() {
    let (a, b) = connected_pair().await;
    let ready = a.ready(Interest::READABLE | Interest::WRITABLE).await.unwrap();
    assert!(ready.is_writable());

    a.send(b"raw").await.unwrap();
    let raw = socket2::SockRef::from(&b);
    let mut buf = [0; 8];
    let len = b.async_io(Interest::READABLE, || io::Read::read(&mut &*raw, &mut buf)).await.unwrap();
    assert_eq!(&buf[..len], b"raw");

    let error = b.try_io(Interest::READABLE, || io::Read::read(&mut &*raw, &mut buf)).unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::WouldBlock);
}

#[tokio::test]
async fn bind_errors() {
    let taken = bound().await;
    let error = UdpSocket::bind(taken.local_addr().unwrap()).await.unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::AddrInUse);

    let none: &[SocketAddr] = &[];
    let error = UdpSocket::bind(none).await.unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::InvalidInput);

    let socket = bound().await;
    let error = socket.send_to(b"x", none).await.unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
    assert_eq!(socket.peer_addr().unwrap_err().kind(), io::ErrorKind::NotConnected);
}

#[tokio::test]
async fn bind_tries_each_address_until_one_succeeds() {
    let taken = bound().await;
    let addresses = [taken.local_addr().unwrap(), "127.0.0.1:0".parse().unwrap()];
    let socket = UdpSocket::bind(&addresses[..]).await.unwrap();
    assert_ne!(socket.local_addr().unwrap(), addresses[0]);
}

#[tokio::test]
async fn bound_sockets_are_nonblocking_and_close_on_exec() {
    let socket = bound().await;
    assert!(socket2::SockRef::from(&socket).nonblocking().unwrap());
    // SAFETY: F_GETFD on an open fd only reads its flags.
    let flags = unsafe { libc::fcntl(socket.as_raw_fd(), libc::F_GETFD) };
    assert!(flags >= 0 && flags & libc::FD_CLOEXEC != 0, "flags {flags}");
    assert_eq!(socket.as_fd().as_raw_fd(), socket.as_raw_fd());
}

#[tokio::test]
async fn from_std_and_into_std() {
    let std_socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let address = std_socket.local_addr().unwrap();
    let socket = UdpSocket::from_std(std_socket).unwrap();
    assert_eq!(socket.local_addr().unwrap(), address);
    assert!(format!("{socket:?}").contains("UdpSocket"));

    let std_socket = socket.into_std().unwrap();
    // Still nonblocking, as tokio documents.
    let mut buf = [0; 4];
    assert_eq!(std_socket.recv(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);

    let socket = UdpSocket::try_from(std_socket).unwrap();
    let peer = bound().await;
    peer.send_to(b"back", address).await.unwrap();
    let (len, from) = socket.recv_from(&mut buf).await.unwrap();
    assert_eq!((&buf[..len], from), (&b"back"[..], peer.local_addr().unwrap()));
}

#[tokio::test]
#[allow(deprecated)]
async fn options() {
    let socket = bound().await;
    socket.set_broadcast(true).unwrap();
    assert!(socket.broadcast().unwrap());
    socket.set_broadcast(false).unwrap();
    assert!(!socket.broadcast().unwrap());

    socket.set_ttl(42).unwrap();
    assert_eq!(socket.ttl().unwrap(), 42);

    socket.set_multicast_loop_v4(false).unwrap();
    assert!(!socket.multicast_loop_v4().unwrap());
    socket.set_multicast_ttl_v4(7).unwrap();
    assert_eq!(socket.multicast_ttl_v4().unwrap(), 7);

    socket.set_tos_v4(0x10).unwrap();
    assert_eq!(socket.tos_v4().unwrap(), 0x10);
    socket.set_tos(0x08).unwrap();
    assert_eq!(socket.tos().unwrap(), 0x08);

    assert!(socket.take_error().unwrap().is_none());
    #[cfg(target_os = "linux")]
    assert_eq!(socket.device().unwrap(), None);

    // Joining a group on the loopback may be refused in a sandbox; leaving
    // what was joined must then succeed.
    let group = Ipv4Addr::new(239, 255, 0, 1);
    if socket.join_multicast_v4(group, Ipv4Addr::UNSPECIFIED).is_ok() {
        socket.leave_multicast_v4(group, Ipv4Addr::UNSPECIFIED).unwrap();
    }
}

#[tokio::test]
async fn ipv6_options() {
    // Hosts without IPv6 skip this test.
    let Ok(socket) = UdpSocket::bind("[::1]:0").await else { return };
    socket.set_multicast_loop_v6(false).unwrap();
    assert!(!socket.multicast_loop_v6().unwrap());
    #[cfg(target_os = "linux")]
    {
        socket.set_tclass_v6(0x20).unwrap();
        assert_eq!(socket.tclass_v6().unwrap(), 0x20);
    }
    let peer = UdpSocket::bind("[::1]:0").await.unwrap();
    socket.send_to(b"six", peer.local_addr().unwrap()).await.unwrap();
    let mut buf = [0; 8];
    let (len, from) = peer.recv_from(&mut buf).await.unwrap();
    assert_eq!((&buf[..len], from), (&b"six"[..], socket.local_addr().unwrap()));
}

/// A datagram socket's error (here the ICMP "port unreachable" a send to a
/// closed port brings back) is reported once, by the next receive: it is
/// not an end, so it must not leave the socket readable for good, or the
/// `readable()` / `try_recv()` loop spins on `WouldBlock`.
#[tokio::test]
async fn an_error_reported_once_does_not_leave_the_socket_readable() {
    let socket = bound().await;
    let closed = bound().await;
    let address = closed.local_addr().unwrap();
    drop(closed);
    socket.connect(address).await.unwrap();
    socket.send(b"anyone?").await.unwrap();
    let mut buf = [0; 16];
    socket.readable().await.unwrap();
    assert_eq!(socket.try_recv(&mut buf).unwrap_err().kind(), io::ErrorKind::ConnectionRefused);
    let peer = UdpSocket::bind(address).await.unwrap();
    peer.connect(socket.local_addr().unwrap()).await.unwrap();
    let reader = async {
        let mut would_blocks = 0;
        loop {
            socket.readable().await.unwrap();
            match socket.try_recv(&mut buf) {
                Ok(len) => return len,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    would_blocks += 1;
                    assert!(would_blocks < 100, "readable() keeps answering after try_recv's WouldBlock");
                }
                Err(error) => panic!("try_recv: {error}"),
            }
        }
    };
    let (len, sent) = tokio::join!(reader, peer.send(b"here"));
    assert_eq!(sent.unwrap(), 4);
    assert_eq!(&buf[..len], b"here");
}

#[tokio::test]
async fn a_burst_of_try_send_in_a_task_is_not_limited_by_the_cooperative_budget() {
    // Before, past the budget every try_send said WouldBlock (73 of 200
    // datagrams dropped by a sender that treats WouldBlock as "full").
    let refused = tokio::spawn(async {
        let (sender, _receiver) = connected_pair().await;
        sender.writable().await.unwrap();
        let mut refused = 0;
        for _ in 0..200 {
            if let Err(error) = sender.try_send(b"x") {
                assert_eq!(error.kind(), io::ErrorKind::WouldBlock);
                refused += 1;
            }
        }
        refused
    })
    .await
    .unwrap();
    assert_eq!(refused, 0);
}
