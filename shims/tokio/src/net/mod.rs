//! Networking, as `tokio::net`: TCP, UDP and Unix sockets on the host's
//! reactor. Connecting and name resolution never block the runtime's
//! thread: a connect is nonblocking and awaited for writability, and a name
//! that is not an address literal is resolved on the blocking pool.
//!
//! ```
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//! use tokio::net::{TcpListener, TcpStream};
//!
//! #[tokio::main]
//! async fn main() {
//!     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let address = listener.local_addr().unwrap();
//!     let server = tokio::spawn(async move {
//!         let (mut socket, _) = listener.accept().await.unwrap();
//!         let mut buf = [0; 5];
//!         socket.read_exact(&mut buf).await.unwrap();
//!         socket.write_all(&buf).await.unwrap();
//!     });
//!     let mut client = TcpStream::connect(address).await.unwrap();
//!     client.write_all(b"hello").await.unwrap();
//!     let mut echoed = [0; 5];
//!     client.read_exact(&mut echoed).await.unwrap();
//!     assert_eq!(&echoed, b"hello");
//!     server.await.unwrap();
//! }
//! # main();
//! ```

mod addr;
pub mod tcp;
mod udp;
pub mod unix;

pub use addr::{lookup_host, ToSocketAddrs};
pub use tcp::{TcpListener, TcpSocket, TcpStream};
pub use udp::UdpSocket;
pub use unix::{datagram::UnixDatagram, listener::UnixListener, socket::UnixSocket, stream::UnixStream};

/// Reads from `fd` into `buf`'s spare capacity, advancing it: the
/// `try_read_buf` of every socket type.
pub(crate) fn read_into_buf_mut<B: bytes::BufMut>(
    fd: std::os::fd::RawFd,
    buf: &mut B,
) -> std::io::Result<usize> {
    let chunk = buf.chunk_mut();
    // SAFETY: `chunk` is valid for `chunk.len()` bytes of writes; `read`
    // writes at most that many.
    let read = unsafe { libc::read(fd, chunk.as_mut_ptr().cast(), chunk.len()) };
    if read < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let read = read as usize;
    // SAFETY: the kernel initialised `read` bytes of the chunk.
    unsafe { buf.advance_mut(read) };
    Ok(read)
}
