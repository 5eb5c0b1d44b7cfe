//! The child's standard streams: the parent's ends of its pipes, set
//! nonblocking and registered with the reactor (pipes are pollable), so
//! reads and writes wait on readiness, not on the blocking pool.

use std::fmt;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::process::Stdio;
use std::task::{Context, Poll};

use upstream::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::io::poll_evented::PollEvented;
use crate::io::Interest;

/// Sets or clears `O_NONBLOCK` on `fd`'s open file description.
fn set_nonblocking(fd: BorrowedFd<'_>, nonblocking: bool) -> io::Result<()> {
    let fd = fd.as_raw_fd();
    // SAFETY: `F_GETFL` takes no argument and only reads the flags of
    // `fd`, which the caller's `BorrowedFd` keeps open.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags == -1 {
        return Err(io::Error::last_os_error());
    }
    let wanted = if nonblocking { flags | libc::O_NONBLOCK } else { flags & !libc::O_NONBLOCK };
    if wanted != flags {
        // SAFETY: as above; `F_SETFL` takes an int of flags.
        if unsafe { libc::fcntl(fd, libc::F_SETFL, wanted) } == -1 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// One end of a pipe on the reactor (a `File` only for its `Read`/`Write`
/// on `&File`: plain `read(2)`/`write(2)`).
struct Pipe {
    io: PollEvented<File>,
}

impl Pipe {
    #[track_caller]
    fn new(fd: OwnedFd, interest: Interest) -> io::Result<Pipe> {
        set_nonblocking(fd.as_fd(), true)?;
        Ok(Pipe { io: PollEvented::with_interest(File::from(fd), interest)? })
    }

    /// Leaves the reactor; the fd is blocking again, as std's handles are.
    fn into_owned_fd(self) -> io::Result<OwnedFd> {
        let file = self.io.into_inner();
        set_nonblocking(file.as_fd(), false)?;
        Ok(OwnedFd::from(file))
    }

    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.io().as_fd()
    }
}

macro_rules! pipe_type {
    ($(#[$doc:meta])* $name:ident, $std:ty, $interest:expr) => {
        $(#[$doc])*
        pub struct $name {
            inner: Pipe,
        }

        impl $name {
            /// Takes over a std handle (from a `std::process::Child`):
            /// sets it nonblocking and registers it with the reactor.
            ///
            /// # Errors
            /// If the flags cannot be set, or it cannot be registered (off
            /// the runtime's thread).
            #[track_caller]
            pub fn from_std(inner: $std) -> io::Result<Self> {
                Ok($name { inner: Pipe::new(OwnedFd::from(inner), $interest)? })
            }

            /// Leaves the reactor and returns the fd, set blocking again.
            ///
            /// # Errors
            /// If its flags cannot be set (the fd is closed then).
            pub fn into_owned_fd(self) -> io::Result<OwnedFd> {
                self.inner.into_owned_fd()
            }
        }

        impl AsRawFd for $name {
            fn as_raw_fd(&self) -> RawFd {
                self.inner.as_fd().as_raw_fd()
            }
        }

        impl AsFd for $name {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.inner.as_fd()
            }
        }

        /// The pipe as another command's stdio (`Command::stdin(..)` etc.),
        /// set blocking again.
        impl TryInto<Stdio> for $name {
            type Error = io::Error;

            fn try_into(self) -> Result<Stdio, io::Error> {
                self.into_owned_fd().map(Stdio::from)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name)).field("fd", &self.as_raw_fd()).finish()
            }
        }
    };
}

pipe_type!(
    /// The parent's end of a child's stdin pipe, as
    /// `tokio::process::ChildStdin`: an [`AsyncWrite`]. Dropping it closes
    /// the pipe, which the child reads as end of file.
    ChildStdin,
    std::process::ChildStdin,
    Interest::WRITABLE
);
pipe_type!(
    /// The parent's end of a child's stdout pipe, as
    /// `tokio::process::ChildStdout`: an [`AsyncRead`], at end of file once
    /// the child (and whoever shares the pipe) has closed it.
    ChildStdout,
    std::process::ChildStdout,
    Interest::READABLE
);
pipe_type!(
    /// The parent's end of a child's stderr pipe, as
    /// `tokio::process::ChildStderr`: an [`AsyncRead`].
    ChildStderr,
    std::process::ChildStderr,
    Interest::READABLE
);

impl AsyncWrite for ChildStdin {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.inner.io.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.inner.io.poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    /// Nothing to do: a pipe has no buffer of ours.
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Nothing to do, as tokio's: drop the `ChildStdin` to close the pipe.
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl AsyncRead for ChildStdout {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        self.inner.io.poll_read(cx, buf)
    }
}

impl AsyncRead for ChildStderr {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        self.inner.io.poll_read(cx, buf)
    }
}
