//! The borrowed halves of a [`UnixStream`] ([`UnixStream::split`]), and
//! the methods both kinds of halves share.

use std::io;
use std::net::Shutdown;
use std::pin::Pin;
use std::task::{Context, Poll};

use upstream::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::SocketAddr;
use crate::io::{Interest, Ready};
use crate::net::UnixStream;

/// The read half of a borrowed split: [`UnixStream::split`].
#[derive(Debug)]
pub struct ReadHalf<'a>(&'a UnixStream);

/// The write half of a borrowed split; `poll_shutdown` shuts down writes.
#[derive(Debug)]
pub struct WriteHalf<'a>(&'a UnixStream);

pub(crate) fn split(stream: &mut UnixStream) -> (ReadHalf<'_>, WriteHalf<'_>) {
    (ReadHalf(stream), WriteHalf(stream))
}

/// The methods of every half, for a type with `fn stream(&self) -> &UnixStream`.
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

        /// Reads what is there now; `WouldBlock` if nothing is, `Ok(0)` at EOF.
        pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
            self.stream().try_read(buf)
        }

        /// Vectored `try_read`.
        pub fn try_read_vectored(&self, bufs: &mut [io::IoSliceMut<'_>]) -> io::Result<usize> {
            self.stream().try_read_vectored(bufs)
        }

        /// `try_read` into a `BufMut`, advancing it.
        pub fn try_read_buf<B: bytes::BufMut>(&self, buf: &mut B) -> io::Result<usize> {
            self.stream().try_read_buf(buf)
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
        pub fn try_write_vectored(&self, buf: &[io::IoSlice<'_>]) -> io::Result<usize> {
            self.stream().try_write_vectored(buf)
        }
    };
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

/// `AsyncWrite` but for `poll_shutdown`, which the owned half adds itself.
macro_rules! async_write_methods {
    () => {
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
    };
}

pub(super) use {async_read, async_write_methods, half_methods, read_methods, write_methods};

impl ReadHalf<'_> {
    fn stream(&self) -> &UnixStream {
        self.0
    }
    half_methods!();
    read_methods!();
}

impl WriteHalf<'_> {
    fn stream(&self) -> &UnixStream {
        self.0
    }
    half_methods!();
    write_methods!();
}

async_read!(ReadHalf<'_>);

impl AsyncWrite for WriteHalf<'_> {
    async_write_methods!();

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.stream().shutdown_std(Shutdown::Write))
    }
}

impl AsRef<UnixStream> for ReadHalf<'_> {
    fn as_ref(&self) -> &UnixStream {
        self.0
    }
}

impl AsRef<UnixStream> for WriteHalf<'_> {
    fn as_ref(&self) -> &UnixStream {
        self.0
    }
}
