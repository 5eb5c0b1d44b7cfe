//! Standard input and output, as tokio's: each read or write runs on the
//! blocking pool (the process's stdio may be a terminal, a file or a pipe,
//! none of which can be relied on to be pollable).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use upstream::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::blocking::Blocking;

macro_rules! stdio_type {
    ($(#[$doc:meta])* $name:ident, $std:ty) => {
        $(#[$doc])*
        pub struct $name {
            inner: Blocking<$std>,
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name)).finish_non_exhaustive()
            }
        }
    };
}

stdio_type!(
    /// The process's standard input, from [`stdin`].
    Stdin, io::Stdin
);
stdio_type!(
    /// The process's standard output, from [`stdout`].
    Stdout, io::Stdout
);
stdio_type!(
    /// The process's standard error, from [`stderr`].
    Stderr, io::Stderr
);

/// The process's standard input, as `tokio::io::stdin`.
pub fn stdin() -> Stdin {
    Stdin { inner: Blocking::new(io::stdin()) }
}

/// The process's standard output, as `tokio::io::stdout`. Writes are
/// whole: each `poll_write` is written out before the next starts.
///
/// ```
/// use tokio::io::AsyncWriteExt;
///
/// #[tokio::main]
/// async fn main() {
///     let mut out = tokio::io::stdout();
///     out.write_all(b"hello\n").await.unwrap();
///     out.flush().await.unwrap();
/// }
/// # main();
/// ```
pub fn stdout() -> Stdout {
    Stdout { inner: Blocking::new(io::stdout()) }
}

/// The process's standard error, as `tokio::io::stderr`.
pub fn stderr() -> Stderr {
    Stderr { inner: Blocking::new(io::stderr()) }
}

impl AsyncRead for Stdin {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

macro_rules! forward_write {
    ($name:ident) => {
        impl AsyncWrite for $name {
            fn poll_write(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                Pin::new(&mut self.inner).poll_write(cx, buf)
            }

            fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Pin::new(&mut self.inner).poll_flush(cx)
            }

            fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Pin::new(&mut self.inner).poll_shutdown(cx)
            }
        }
    };
}

forward_write!(Stdout);
forward_write!(Stderr);
