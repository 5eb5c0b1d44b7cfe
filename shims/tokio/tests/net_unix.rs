//! tokio's Unix sockets on tau's runtime: `UnixStream` (with its split
//! halves and peer credentials), `UnixListener`, `UnixDatagram` and
//! `UnixSocket`.

use std::future::poll_fn;
use std::io::{self, IoSlice, IoSliceMut};
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd};
use std::path::Path;

use tokio::io::{AsyncReadExt, AsyncWriteExt, Interest, ReadBuf};
use tokio::net::unix::{gid_t, pid_t, uid_t, SocketAddr};
use tokio::net::{UnixDatagram, UnixListener, UnixSocket, UnixStream};

fn pathname(address: &SocketAddr) -> Option<&Path> {
    address.as_pathname()
}

/// `try_read` after `readable`, retrying a spurious wakeup.
async fn try_read_when_readable(stream: &UnixStream, buf: &mut [u8]) -> usize {
    loop {
        stream.readable().await.unwrap();
        match stream.try_read(buf) {
            Ok(len) => return len,
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
            Err(error) => panic!("try_read: {error}"),
        }
    }
}

#[tokio::test]
async fn listener_echo_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("echo.sock");
    let listener = UnixListener::bind(&path).unwrap();
    assert_eq!(pathname(&listener.local_addr().unwrap()), Some(path.as_path()));

    let server = tokio::spawn(async move {
        let (mut stream, peer) = listener.accept().await.unwrap();
        let mut buf = [0; 5];
        stream.read_exact(&mut buf).await.unwrap();
        stream.write_all(&buf).await.unwrap();
        peer
    });

    let mut client = UnixStream::connect(&path).await.unwrap();
    assert_eq!(pathname(&client.peer_addr().unwrap()), Some(path.as_path()));
    assert!(client.local_addr().unwrap().is_unnamed());
    client.write_all(b"hello").await.unwrap();
    let mut echoed = [0; 5];
    client.read_exact(&mut echoed).await.unwrap();
    assert_eq!(&echoed, b"hello");
    // An unbound client is an unnamed peer.
    assert!(server.await.unwrap().is_unnamed());
}

#[tokio::test]
async fn accept_returns_the_peers_bound_address() {
    let dir = tempfile::tempdir().unwrap();
    let listener_path = dir.path().join("listener.sock");
    let client_path = dir.path().join("client.sock");
    let listener = UnixListener::bind(&listener_path).unwrap();

    let socket = UnixSocket::new_stream().unwrap();
    socket.bind(&client_path).unwrap();
    let client = socket.connect(&listener_path).await.unwrap();
    let (server, peer) = poll_fn(|cx| listener.poll_accept(cx)).await.unwrap();

    assert_eq!(pathname(&peer), Some(client_path.as_path()));
    assert_eq!(pathname(&server.peer_addr().unwrap()), Some(client_path.as_path()));
    assert_eq!(pathname(&server.local_addr().unwrap()), Some(listener_path.as_path()));
    assert_eq!(pathname(&client.local_addr().unwrap()), Some(client_path.as_path()));
    assert!(format!("{peer:?}").contains("client.sock"), "{peer:?}");
    let std_address: std::os::unix::net::SocketAddr = peer.clone().into();
    assert_eq!(std_address.as_pathname(), Some(client_path.as_path()));
    assert_eq!(SocketAddr::from(std_address).as_pathname(), peer.as_pathname());
}

#[tokio::test]
async fn connect_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.sock");
    assert_eq!(UnixStream::connect(&missing).await.unwrap_err().kind(), io::ErrorKind::NotFound);

    // A socket file nobody listens on any more.
    let stale = dir.path().join("stale.sock");
    drop(UnixListener::bind(&stale).unwrap());
    assert_eq!(UnixStream::connect(&stale).await.unwrap_err().kind(), io::ErrorKind::ConnectionRefused);

    let unnamed = UnixStream::pair().unwrap().0.local_addr().unwrap();
    assert_eq!(UnixStream::connect_addr(&unnamed).await.unwrap_err().kind(), io::ErrorKind::InvalidInput);
    assert_eq!(UnixListener::bind_addr(&unnamed).unwrap_err().kind(), io::ErrorKind::InvalidInput);

    let path = dir.path().join("taken.sock");
    let _listener = UnixListener::bind(&path).unwrap();
    assert_eq!(UnixListener::bind(&path).unwrap_err().kind(), io::ErrorKind::AddrInUse);
}

#[tokio::test]
async fn connect_addr_and_bind_addr() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("by-address.sock");
    let address = SocketAddr::from(std::os::unix::net::SocketAddr::from_pathname(&path).unwrap());
    let listener = UnixListener::bind_addr(&address).unwrap();
    let client = UnixStream::connect_addr(&address).await.unwrap();
    let (server, _) = listener.accept().await.unwrap();
    client.try_write(b"x").unwrap();
    let mut buf = [0; 1];
    assert_eq!(try_read_when_readable(&server, &mut buf).await, 1);
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn abstract_names() {
    let name = format!("tau-net-unix-abstract-{}", std::process::id());
    let path = format!("\0{name}");
    let listener = UnixListener::bind(&path).unwrap();
    assert_eq!(listener.local_addr().unwrap().as_abstract_name(), Some(name.as_bytes()));
    let client = UnixStream::connect(&path).await.unwrap();
    assert_eq!(client.peer_addr().unwrap().as_abstract_name(), Some(name.as_bytes()));
    assert!(client.peer_addr().unwrap().as_pathname().is_none());
    // The address round-trips through connect_addr.
    let again = UnixStream::connect_addr(&listener.local_addr().unwrap()).await.unwrap();
    listener.accept().await.unwrap();
    listener.accept().await.unwrap();
    drop(again);
}

#[tokio::test]
async fn peer_cred_is_this_process() {
    let (a, b) = UnixStream::pair().unwrap();
    let cred = a.peer_cred().unwrap();
    // SAFETY: getuid/getgid/getpid cannot fail and touch no memory.
    let (uid, gid, pid) = unsafe { (libc::getuid(), libc::getgid(), libc::getpid()) };
    let (cred_uid, cred_gid): (uid_t, gid_t) = (cred.uid(), cred.gid());
    assert_eq!((cred_uid, cred_gid), (uid, gid));
    #[cfg(any(target_os = "linux", target_os = "android"))]
    assert_eq!(cred.pid(), Some::<pid_t>(pid));
    let _ = pid;
    assert_eq!(b.peer_cred().unwrap(), cred);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cred.sock");
    let listener = UnixListener::bind(&path).unwrap();
    let client = UnixStream::connect(&path).await.unwrap();
    let (server, _) = listener.accept().await.unwrap();
    assert_eq!(server.peer_cred().unwrap().uid(), uid);
    assert_eq!(client.peer_cred().unwrap().uid(), uid);
}

#[tokio::test]
async fn try_read_would_block_until_written() {
    let (a, b) = UnixStream::pair().unwrap();
    let mut buf = [0; 16];
    assert_eq!(b.try_read(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);

    a.writable().await.unwrap();
    assert_eq!(a.try_write(b"now").unwrap(), 3);
    let len = try_read_when_readable(&b, &mut buf).await;
    assert_eq!(&buf[..len], b"now");
    assert_eq!(b.try_read(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);

    assert_eq!(a.try_write_vectored(&[IoSlice::new(b"ab"), IoSlice::new(b"cd")]).unwrap(), 4);
    b.readable().await.unwrap();
    let (mut first, mut second) = ([0; 1], [0; 8]);
    let len = b.try_read_vectored(&mut [IoSliceMut::new(&mut first), IoSliceMut::new(&mut second)]).unwrap();
    assert_eq!((len, &first, &second[..3]), (4, b"a", &b"bcd"[..]));

    a.try_write(b"buf").unwrap();
    b.readable().await.unwrap();
    let mut buf = Vec::with_capacity(8);
    assert_eq!(b.try_read_buf(&mut buf).unwrap(), 3);
    assert_eq!(buf, b"buf");

    drop(a);
    assert_eq!(try_read_when_readable(&b, &mut [0; 4]).await, 0, "EOF once the peer is gone");
}

#[tokio::test]
async fn readiness_and_io_hooks() {
    let (a, b) = UnixStream::pair().unwrap();
    poll_fn(|cx| a.poll_write_ready(cx)).await.unwrap();
    assert!(a.ready(Interest::WRITABLE).await.unwrap().is_writable());
    write_all_via_try(&a, b"raw").await;
    poll_fn(|cx| b.poll_read_ready(cx)).await.unwrap();

    let raw = socket2::SockRef::from(&b);
    let mut buf = [0; 8];
    let len = b.async_io(Interest::READABLE, || io::Read::read(&mut &*raw, &mut buf)).await.unwrap();
    assert_eq!(&buf[..len], b"raw");
    let error = b.try_io(Interest::READABLE, || io::Read::read(&mut &*raw, &mut buf)).unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::WouldBlock);
    assert!(b.take_error().unwrap().is_none());
    assert_eq!(b.as_fd().as_raw_fd(), b.as_raw_fd());
}

/// `try_write` all of `data`, waiting for writability between tries.
async fn write_all_via_try(stream: &UnixStream, mut data: &[u8]) {
    while !data.is_empty() {
        stream.writable().await.unwrap();
        match stream.try_write(data) {
            Ok(written) => data = &data[written..],
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
            Err(error) => panic!("try_write: {error}"),
        }
    }
}

#[tokio::test]
async fn shutdown_gives_the_peer_eof() {
    let (mut a, mut b) = UnixStream::pair().unwrap();
    a.write_all(b"last").await.unwrap();
    a.shutdown().await.unwrap();
    let mut received = Vec::new();
    b.read_to_end(&mut received).await.unwrap();
    assert_eq!(received, b"last");
    // Writing the other way still works.
    b.write_all(b"reply").await.unwrap();
    let mut buf = [0; 5];
    a.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"reply");
}

#[tokio::test]
async fn borrowed_split() {
    let (mut a, mut b) = UnixStream::pair().unwrap();
    {
        let (mut read, mut write) = a.split();
        assert!(read.peer_addr().unwrap().is_unnamed());
        assert!(write.local_addr().unwrap().is_unnamed());
        write.write_all(b"ping").await.unwrap();
        let mut buf = [0; 4];
        b.read_exact(&mut buf).await.unwrap();
        b.write_all(&buf).await.unwrap();
        read.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ping");

        assert_eq!(read.try_read(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);
        write.writable().await.unwrap();
        assert_eq!(write.try_write(b"w").unwrap(), 1);
        assert_eq!(write.try_write_vectored(&[IoSlice::new(b"v")]).unwrap(), 1);
        assert!(read.ready(Interest::WRITABLE).await.unwrap().is_writable());
        assert_eq!(read.as_ref().as_raw_fd(), write.as_ref().as_raw_fd());
        write.shutdown().await.unwrap();
    }
    let mut rest = Vec::new();
    b.read_to_end(&mut rest).await.unwrap();
    assert_eq!(rest, b"wv");
}

#[tokio::test]
async fn owned_split_halves_in_different_tasks_and_reunite() {
    let (a, mut b) = UnixStream::pair().unwrap();
    let fd = a.as_raw_fd();
    let (mut read, mut write) = a.into_split();
    let writer = tokio::spawn(async move {
        write.write_all(b"from a task").await.unwrap();
        write
    });
    let mut buf = [0; 11];
    b.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"from a task");
    let write = writer.await.unwrap();

    b.write_all(b"back").await.unwrap();
    let mut buf = [0; 4];
    read.readable().await.unwrap();
    read.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"back");
    assert!(write.peer_addr().unwrap().is_unnamed());

    let a = read.reunite(write).unwrap();
    assert_eq!(a.as_raw_fd(), fd);
    // Reuniting did not shut down writes.
    let mut a = a;
    a.write_all(b"still open").await.unwrap();
    let mut buf = [0; 10];
    b.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"still open");
}

#[tokio::test]
async fn reunite_error_for_halves_of_different_streams() {
    let (a, _a_peer) = UnixStream::pair().unwrap();
    let (b, _b_peer) = UnixStream::pair().unwrap();
    let (a_read, a_write) = a.into_split();
    let (b_read, b_write) = b.into_split();

    let error = a_read.reunite(b_write).unwrap_err();
    assert_eq!(error.to_string(), "tried to reunite halves that are not from the same socket");
    let tokio::net::unix::ReuniteError(a_read, b_write) = error;
    let error = a_write.reunite(b_read).unwrap_err();
    let tokio::net::unix::ReuniteError(b_read, a_write) = error;
    // The halves given back still pair up with their own.
    a_read.reunite(a_write).unwrap();
    b_write.reunite(b_read).unwrap();
}

#[tokio::test]
async fn dropping_the_owned_write_half_gives_the_peer_eof() {
    let (a, mut b) = UnixStream::pair().unwrap();
    let (read, mut write) = a.into_split();
    write.write_all(b"bye").await.unwrap();
    drop(write);
    let mut received = Vec::new();
    b.read_to_end(&mut received).await.unwrap();
    assert_eq!(received, b"bye");
    // The read half still reads.
    b.write_all(b"ok").await.unwrap();
    let mut buf = [0; 2];
    let mut read = read;
    read.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"ok");
}

#[tokio::test]
async fn a_forgotten_owned_write_half_does_not_shut_down() {
    let (a, b) = UnixStream::pair().unwrap();
    let (read, write) = a.into_split();
    write.forget();
    let mut buf = [0; 1];
    assert_eq!(b.try_read(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);
    read.as_ref().try_write(b"!").unwrap();
    assert_eq!(try_read_when_readable(&b, &mut buf).await, 1);
}

#[tokio::test]
async fn stream_from_std_and_into_std() {
    let (left, right) = std::os::unix::net::UnixStream::pair().unwrap();
    let left = UnixStream::from_std(left).unwrap();
    let mut right = UnixStream::try_from(right).unwrap();
    assert!(format!("{left:?}").contains("UnixStream"));

    let std_left = left.into_std().unwrap();
    // Still nonblocking, as tokio documents.
    let mut buf = [0; 4];
    assert_eq!(io::Read::read(&mut &std_left, &mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);
    io::Write::write_all(&mut &std_left, b"std!").unwrap();
    right.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"std!");
}

#[tokio::test]
async fn listener_from_std_and_into_std() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("std.sock");
    let listener = UnixListener::from_std(std::os::unix::net::UnixListener::bind(&path).unwrap()).unwrap();
    assert!(listener.take_error().unwrap().is_none());
    assert!(format!("{listener:?}").contains("UnixListener"));
    let std_listener = listener.into_std().unwrap();
    assert_eq!(std_listener.accept().unwrap_err().kind(), io::ErrorKind::WouldBlock);
    let listener = UnixListener::try_from(std_listener).unwrap();
    let _client = UnixStream::connect(&path).await.unwrap();
    listener.accept().await.unwrap();
}

#[tokio::test]
async fn datagram_pair_is_connected() {
    let (a, b) = UnixDatagram::pair().unwrap();
    assert!(a.peer_addr().unwrap().is_unnamed());
    assert_eq!(a.send(b"one").await.unwrap(), 3);
    let mut buf = [0; 16];
    let len = b.recv(&mut buf).await.unwrap();
    assert_eq!(&buf[..len], b"one");

    assert_eq!(b.try_recv(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);
    a.writable().await.unwrap();
    assert_eq!(a.try_send(b"two").unwrap(), 3);
    let len = loop {
        b.readable().await.unwrap();
        match b.try_recv(&mut buf) {
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
            result => break result.unwrap(),
        }
    };
    assert_eq!(&buf[..len], b"two");

    // A datagram is read whole or truncated, never split.
    a.send(b"0123456789").await.unwrap();
    let mut small = [0; 4];
    assert_eq!(b.recv(&mut small).await.unwrap(), 4);
    assert_eq!(b.try_recv(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);
}

#[tokio::test]
async fn datagram_send_to_and_recv_from_paths() {
    let dir = tempfile::tempdir().unwrap();
    let (a_path, b_path) = (dir.path().join("a.sock"), dir.path().join("b.sock"));
    let a = UnixDatagram::bind(&a_path).unwrap();
    let b = UnixDatagram::bind(&b_path).unwrap();
    assert_eq!(pathname(&a.local_addr().unwrap()), Some(a_path.as_path()));
    assert_eq!(a.peer_addr().unwrap_err().kind(), io::ErrorKind::NotConnected);

    assert_eq!(a.send_to(b"to b", &b_path).await.unwrap(), 4);
    let mut buf = [0; 16];
    let (len, from) = b.recv_from(&mut buf).await.unwrap();
    assert_eq!((&buf[..len], pathname(&from)), (&b"to b"[..], Some(a_path.as_path())));

    assert_eq!(b.try_recv_from(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);
    assert_eq!(b.try_send_to(b"to a", &a_path).unwrap(), 4);
    a.readable().await.unwrap();
    let (len, from) = a.try_recv_from(&mut buf).unwrap();
    assert_eq!((&buf[..len], pathname(&from)), (&b"to a"[..], Some(b_path.as_path())));

    // An unbound sender is unnamed.
    let unbound = UnixDatagram::unbound().unwrap();
    assert!(unbound.local_addr().unwrap().is_unnamed());
    unbound.send_to(b"anon", &b_path).await.unwrap();
    let (len, from) = b.recv_from(&mut buf).await.unwrap();
    assert_eq!(&buf[..len], b"anon");
    assert!(from.is_unnamed());

    // connect sets the peer of send/recv.
    unbound.connect(&a_path).unwrap();
    assert_eq!(pathname(&unbound.peer_addr().unwrap()), Some(a_path.as_path()));
    unbound.send(b"connected").await.unwrap();
    let (len, from) = a.recv_from(&mut buf).await.unwrap();
    assert_eq!(&buf[..len], b"connected");
    assert!(from.is_unnamed());

    assert_eq!(
        a.send_to(b"x", dir.path().join("nobody.sock")).await.unwrap_err().kind(),
        io::ErrorKind::NotFound
    );
}

#[tokio::test]
async fn datagram_buf_mut_receives() {
    let dir = tempfile::tempdir().unwrap();
    let a_path = dir.path().join("a.sock");
    let a = UnixDatagram::bind(&a_path).unwrap();
    let b = UnixDatagram::unbound().unwrap();
    b.connect(&a_path).unwrap();

    b.send(b"first").await.unwrap();
    let mut buf = Vec::with_capacity(32);
    assert_eq!(a.recv_buf(&mut buf).await.unwrap(), 5);
    assert_eq!(buf, b"first");

    b.send(b"second").await.unwrap();
    let mut buf = Vec::with_capacity(32);
    let (len, from) = a.recv_buf_from(&mut buf).await.unwrap();
    assert_eq!((len, &buf[..]), (6, &b"second"[..]));
    assert!(from.is_unnamed());

    let mut buf = Vec::with_capacity(32);
    assert_eq!(a.try_recv_buf(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);
    assert_eq!(a.try_recv_buf_from(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);
    b.send(b"third").await.unwrap();
    a.readable().await.unwrap();
    assert_eq!(a.try_recv_buf(&mut buf).unwrap(), 5);
    b.send(b"fourth").await.unwrap();
    a.readable().await.unwrap();
    let (len, from) = a.try_recv_buf_from(&mut buf).unwrap();
    assert_eq!(len, 6);
    assert!(from.is_unnamed());
    assert_eq!(buf, b"thirdfourth");
}

#[tokio::test]
async fn datagram_poll_forms() {
    let dir = tempfile::tempdir().unwrap();
    let (a_path, b_path) = (dir.path().join("a.sock"), dir.path().join("b.sock"));
    let a = UnixDatagram::bind(&a_path).unwrap();
    let b = UnixDatagram::bind(&b_path).unwrap();

    poll_fn(|cx| a.poll_send_ready(cx)).await.unwrap();
    assert_eq!(poll_fn(|cx| a.poll_send_to(cx, b"polled", &b_path)).await.unwrap(), 6);
    poll_fn(|cx| b.poll_recv_ready(cx)).await.unwrap();
    let mut storage = [0; 16];
    let mut buf = ReadBuf::new(&mut storage);
    let from = poll_fn(|cx| b.poll_recv_from(cx, &mut buf)).await.unwrap();
    assert_eq!((buf.filled(), pathname(&from)), (&b"polled"[..], Some(a_path.as_path())));

    a.connect(&b_path).unwrap();
    assert_eq!(poll_fn(|cx| a.poll_send(cx, b"send")).await.unwrap(), 4);
    let mut storage = [0; 16];
    let mut buf = ReadBuf::new(&mut storage);
    poll_fn(|cx| b.poll_recv(cx, &mut buf)).await.unwrap();
    assert_eq!(buf.filled(), b"send");
}

#[tokio::test]
async fn datagram_shutdown_and_std_conversions() {
    let (left, right) = std::os::unix::net::UnixDatagram::pair().unwrap();
    let left = UnixDatagram::from_std(left).unwrap();
    let right = UnixDatagram::try_from(right).unwrap();
    assert!(format!("{left:?}").contains("UnixDatagram"));
    assert!(left.take_error().unwrap().is_none());
    assert!(left.ready(Interest::WRITABLE).await.unwrap().is_writable());

    left.shutdown(Shutdown::Write).unwrap();
    assert_eq!(left.send(b"x").await.unwrap_err().kind(), io::ErrorKind::BrokenPipe);

    let std_right = right.into_std().unwrap();
    let mut buf = [0; 4];
    assert_eq!(std_right.recv(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);

    let raw = UnixDatagram::try_from(std_right).unwrap();
    let (a, b) = UnixDatagram::pair().unwrap();
    a.send(b"io").await.unwrap();
    let sock = socket2::SockRef::from(&b);
    let len = b.async_io(Interest::READABLE, || io::Read::read(&mut &*sock, &mut buf)).await.unwrap();
    assert_eq!(&buf[..len], b"io");
    assert_eq!(
        b.try_io(Interest::READABLE, || io::Read::read(&mut &*sock, &mut buf)).unwrap_err().kind(),
        io::ErrorKind::WouldBlock
    );
    assert_eq!(raw.as_fd().as_raw_fd(), raw.as_raw_fd());
}

#[tokio::test]
async fn unix_socket_builds_each_kind() {
    let dir = tempfile::tempdir().unwrap();

    let path = dir.path().join("stream.sock");
    let socket = UnixSocket::new_stream().unwrap();
    assert!(socket2::SockRef::from(&socket).nonblocking().unwrap());
    socket.bind(&path).unwrap();
    let listener = socket.listen(8).unwrap();
    let client = UnixSocket::new_stream().unwrap().connect(&path).await.unwrap();
    let (server, _) = listener.accept().await.unwrap();
    client.try_write(b"s").unwrap();
    assert_eq!(try_read_when_readable(&server, &mut [0; 1]).await, 1);

    let a_path = dir.path().join("a.dgram");
    let socket = UnixSocket::new_datagram().unwrap();
    socket.bind(&a_path).unwrap();
    let a = socket.datagram().unwrap();
    let b = UnixSocket::new_datagram().unwrap().datagram().unwrap();
    b.send_to(b"d", &a_path).await.unwrap();
    let mut buf = [0; 1];
    assert_eq!(a.recv(&mut buf).await.unwrap(), 1);

    let error = UnixSocket::new_datagram().unwrap().listen(8).unwrap_err();
    assert_eq!(error.to_string(), "listen cannot be called on a datagram socket");
    let error = UnixSocket::new_datagram().unwrap().connect(&path).await.unwrap_err();
    assert_eq!(error.to_string(), "connect cannot be called on a datagram socket");
    let error = UnixSocket::new_stream().unwrap().datagram().unwrap_err();
    assert_eq!(error.to_string(), "datagram cannot be called on a stream socket");
}

#[tokio::test]
async fn sockets_are_close_on_exec() {
    let dir = tempfile::tempdir().unwrap();
    let listener = UnixListener::bind(dir.path().join("cloexec.sock")).unwrap();
    let datagram = UnixDatagram::unbound().unwrap();
    let (stream, _) = UnixStream::pair().unwrap();
    for fd in [listener.as_raw_fd(), datagram.as_raw_fd(), stream.as_raw_fd()] {
        // SAFETY: F_GETFD on an open fd only reads its flags.
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
        assert!(flags >= 0 && flags & libc::FD_CLOEXEC != 0, "fd {fd}: flags {flags}");
    }
}

/// Once the peer is gone, `ready()` says so (`is_read_closed`,
/// `is_write_closed`), as tokio's `try_read_buf` test expects: it loops on
/// `ready()` with `yield_now` until it does, so without it the loop spins.
#[tokio::test]
async fn ready_says_closed_once_the_peer_is_gone() {
    let (left, right) = UnixStream::pair().unwrap();
    right.try_write(b"bye").unwrap();
    drop(right);
    for (interest, closed) in [
        (Interest::READABLE, tokio::io::Ready::is_read_closed as fn(tokio::io::Ready) -> bool),
        (Interest::WRITABLE, tokio::io::Ready::is_write_closed),
    ] {
        let mut turns = 0;
        loop {
            let ready = left.ready(interest).await.unwrap();
            if closed(ready) {
                break;
            }
            turns += 1;
            assert!(turns < 100, "ready({interest:?}) never says closed after the peer is gone: {ready:?}");
            tokio::task::yield_now().await;
        }
    }
    let mut buf = [0; 8];
    assert_eq!(left.try_read(&mut buf).unwrap(), 3);
    assert_eq!(left.try_read(&mut buf).unwrap(), 0, "the end of stream");
}

/// A stream `accept` returned is taken as readable and writable until an
/// operation says otherwise, as tokio's (and the shim's TCP streams): its
/// first read does not wait for the reactor.
#[tokio::test]
async fn an_accepted_stream_is_ready_until_a_read_finds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("accept.sock");
    let listener = UnixListener::bind(&path).unwrap();
    let _client = UnixStream::connect(&path).await.unwrap();
    let (server, _) = listener.accept().await.unwrap();
    let polled = poll_fn(|cx| std::task::Poll::Ready(server.poll_read_ready(cx))).await;
    assert!(matches!(polled, std::task::Poll::Ready(Ok(()))), "not readable at once: {polled:?}");
    let polled = poll_fn(|cx| std::task::Poll::Ready(server.poll_write_ready(cx))).await;
    assert!(matches!(polled, std::task::Poll::Ready(Ok(()))), "not writable at once: {polled:?}");
    assert_eq!(server.try_read(&mut [0; 8]).unwrap_err().kind(), io::ErrorKind::WouldBlock);
    let polled = poll_fn(|cx| std::task::Poll::Ready(server.poll_read_ready(cx))).await;
    assert!(polled.is_pending(), "still readable after a read found nothing");
}

#[tokio::test]
async fn try_read_calls_nothing_until_the_reactor_saw_the_stream_readable() {
    // As tokio's (io_async_fd's try_io_readable/try_io_writable): `try_io`
    // runs its closure only on a readiness the reactor reported, and a
    // `WouldBlock` from it clears that readiness. Before, every `try_io`
    // ran its closure.
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    ours.set_nonblocking(true).unwrap();
    let fd = tokio::io::unix::AsyncFd::new(ours).unwrap();
    tokio::task::yield_now().await; // the reactor looks once
    let mut called = false;
    let _ = fd.try_io(Interest::READABLE, |_| {
        called = true;
        Ok(())
    });
    assert!(!called, "nothing was written: not readable");

    io::Write::write_all(&mut &theirs, b"x").unwrap();
    let _ready = fd.readable().await.unwrap(); // now the reactor has seen it
    let mut read = [0u8; 1];
    assert_eq!(fd.try_io(Interest::READABLE, |stream| io::Read::read(&mut &*stream, &mut read)).unwrap(), 1);
    let drained = fd.try_io(Interest::READABLE, |stream| io::Read::read(&mut &*stream, &mut read));
    assert_eq!(drained.unwrap_err().kind(), io::ErrorKind::WouldBlock, "drained: the read said so");
    let mut called = false;
    let _ = fd.try_io(Interest::READABLE, |_| {
        called = true;
        Ok(())
    });
    assert!(!called, "the WouldBlock cleared the readiness");
}

#[tokio::test]
async fn a_try_io_while_a_task_waits_on_readable_does_not_lose_its_wake() {
    // `try_io` asks the reactor without a waker of its own; the task that
    // waits must still be woken when the data comes.
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    ours.set_nonblocking(true).unwrap();
    let fd = std::sync::Arc::new(tokio::io::unix::AsyncFd::new(ours).unwrap());
    let waiter = tokio::spawn({
        let fd = fd.clone();
        async move {
            let mut guard = fd.readable().await.unwrap();
            guard.clear_ready();
        }
    });
    tokio::task::yield_now().await; // the waiter is waiting now
    assert!(!waiter.is_finished());
    assert_eq!(
        fd.try_io(Interest::READABLE, |_| Ok(())).unwrap_err().kind(),
        io::ErrorKind::WouldBlock,
        "not readable yet"
    );
    io::Write::write_all(&mut &theirs, b"x").unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(10), waiter)
        .await
        .expect("the waiting task was never woken")
        .unwrap();
}

#[tokio::test]
async fn try_read_in_a_task_is_not_limited_by_the_cooperative_budget() {
    // tokio's try_* never spend budget; before, the 128th try_read in one
    // poll said WouldBlock with 273 bytes still there.
    let read = tokio::spawn(async {
        let (ours, theirs) = UnixStream::pair().unwrap();
        io::Write::write_all(&mut theirs.into_std().unwrap(), &[7; 400]).unwrap();
        ours.readable().await.unwrap();
        let mut read = 0;
        let mut byte = [0u8; 1];
        loop {
            match ours.try_read(&mut byte) {
                Ok(1) => read += 1,
                Ok(_) => break,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => break,
                Err(error) => panic!("try_read: {error}"),
            }
        }
        read
    })
    .await
    .unwrap();
    assert_eq!(read, 400);
}
