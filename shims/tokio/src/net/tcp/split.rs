//! The halves of a [`TcpStream`], as tokio's: borrowed ([`split`]) or
//! owned ([`into_split`], `Arc`-shared and reunitable).

use std::error::Error;
use std::fmt;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use upstream::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::TcpStream;
use crate::io::{Interest, Ready};

/// The read half of a borrowed split.
#[derive(Debug)]
pub struct ReadHalf<'a>(&'a TcpStream);

/// The write half of a borrowed split; `poll_shutdown` shuts down writes.
#[derive(Debug)]
pub struct WriteHalf<'a>(&'a TcpStream);

/// The owned read half.
#[derive(Debug)]
pub struct OwnedReadHalf {
    inner: Arc<TcpStream>,
}

/// The owned write half: dropping it shuts down writes (unless
/// [`forget`](Self::forget) was called), as tokio.
#[derive(Debug)]
pub struct OwnedWriteHalf {
    inner: Arc<TcpStream>,
    shutdown_on_drop: bool,
}

/// [`OwnedReadHalf::reunite`] was given halves of different streams.
#[derive(Debug)]
pub struct ReuniteError(pub OwnedReadHalf, pub OwnedWriteHalf);

impl fmt::Display for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves that are not from the same socket")
    }
}

impl Error for ReuniteError {}

pub(crate) fn split(stream: &mut TcpStream) -> (ReadHalf<'_>, WriteHalf<'_>) {
    (ReadHalf(stream), WriteHalf(stream))
}

pub(crate) fn into_split(stream: TcpStream) -> (OwnedReadHalf, OwnedWriteHalf) {
    let inner = Arc::new(stream);
    (OwnedReadHalf { inner: inner.clone() }, OwnedWriteHalf { inner, shutdown_on_drop: true })
}

macro_rules! half_methods {
    () => {
        /// The peer's address.
        pub fn peer_addr(&self) -> io::Result<SocketAddr> {
            self.stream().peer_addr()
        }

        /// The local address.
        pub fn local_addr(&self) -> io::Result<SocketAddr> {
            self.stream().local_addr()
        }

        /// Waits for any readiness in `interest`.
        pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
            self.stream().ready(interest).await
        }
    };
}

macro_rules! read_methods {
    () => {
        /// Waits until readable.
        pub async fn readable(&self) -> io::Result<()> {
            self.stream().readable().await
        }

        /// Reads what is there now; `WouldBlock` if nothing is.
        pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
            self.stream().try_read(buf)
        }

        /// Vectored `try_read`.
        pub fn try_read_vectored(&self, bufs: &mut [io::IoSliceMut<'_>]) -> io::Result<usize> {
            self.stream().try_read_vectored(bufs)
        }

        /// `try_read` into a `BufMut`.
        pub fn try_read_buf<B: bytes::BufMut>(&self, buf: &mut B) -> io::Result<usize> {
            self.stream().try_read_buf(buf)
        }

        /// Reads without consuming.
        pub async fn peek(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.stream().peek(buf).await
        }

        /// Polls a peek.
        pub fn poll_peek(&mut self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<usize>> {
            self.stream().poll_peek(cx, buf)
        }
    };
}

macro_rules! write_methods {
    () => {
        /// Waits until writable.
        pub async fn writable(&self) -> io::Result<()> {
            self.stream().writable().await
        }

        /// Writes what fits now; `WouldBlock` if nothing does.
        pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
            self.stream().try_write(buf)
        }

        /// Vectored `try_write`.
        pub fn try_write_vectored(&self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
            self.stream().try_write_vectored(bufs)
        }
    };
}

impl ReadHalf<'_> {
    fn stream(&self) -> &TcpStream {
        self.0
    }
    half_methods!();
    read_methods!();
}

impl WriteHalf<'_> {
    fn stream(&self) -> &TcpStream {
        self.0
    }
    half_methods!();
    write_methods!();
}

impl OwnedReadHalf {
    fn stream(&self) -> &TcpStream {
        &self.inner
    }
    half_methods!();
    read_methods!();

    /// Puts the halves back together.
    ///
    /// # Errors
    /// If they are not halves of the same stream: both are given back.
    pub fn reunite(self, other: OwnedWriteHalf) -> Result<TcpStream, ReuniteError> {
        reunite(self, other)
    }
}

impl OwnedWriteHalf {
    fn stream(&self) -> &TcpStream {
        &self.inner
    }
    half_methods!();
    write_methods!();

    /// Drops the half without shutting down writes.
    pub fn forget(mut self) {
        self.shutdown_on_drop = false;
    }

    /// Puts the halves back together; see [`OwnedReadHalf::reunite`].
    pub fn reunite(self, other: OwnedReadHalf) -> Result<TcpStream, ReuniteError> {
        reunite(other, self)
    }
}

fn reunite(read: OwnedReadHalf, mut write: OwnedWriteHalf) -> Result<TcpStream, ReuniteError> {
    if !Arc::ptr_eq(&read.inner, &write.inner) {
        return Err(ReuniteError(read, write));
    }
    write.shutdown_on_drop = false;
    drop(write);
    Ok(Arc::try_unwrap(read.inner).expect("TcpStream: both halves reunited, yet still shared"))
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            let _ = self.inner.shutdown_std(Shutdown::Write);
        }
    }
}

impl AsRef<TcpStream> for ReadHalf<'_> {
    fn as_ref(&self) -> &TcpStream {
        self.0
    }
}

impl AsRef<TcpStream> for WriteHalf<'_> {
    fn as_ref(&self) -> &TcpStream {
        self.0
    }
}

impl AsRef<TcpStream> for OwnedReadHalf {
    fn as_ref(&self) -> &TcpStream {
        &self.inner
    }
}

impl AsRef<TcpStream> for OwnedWriteHalf {
    fn as_ref(&self) -> &TcpStream {
        &self.inner
    }
}

macro_rules! async_read {
    ($ty:ty) => {
        impl AsyncRead for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                self.stream().poll_read_priv(cx, buf)
            }
        }
    };
}

macro_rules! async_write {
    ($ty:ty) => {
        impl AsyncWrite for $ty {
            fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
                self.stream().poll_write_priv(cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[io::IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                self.stream().poll_write_vectored_priv(cx, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }

            fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(self.stream().shutdown_std(Shutdown::Write))
            }
        }
    };
}

async_read!(ReadHalf<'_>);
async_read!(OwnedReadHalf);
async_write!(WriteHalf<'_>);
async_write!(OwnedWriteHalf);
