//! Standard input and output, as tokio's: each read or write runs on the
//! blocking pool (the process's stdio may be a terminal, a file or a pipe,
//! none of which can be relied on to be pollable). A terminal stdin is
//! read through the process's owner of the terminal ([`tau::tty`]), never
//! with `read(2)`: a blocking read would take keys from every other reader
//! (a plugin's crossterm), and they from it.

use std::io;
use std::io::IsTerminal;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tau::tty::TtyReader;

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

/// The process's standard input, from [`stdin`].
pub struct Stdin {
    inner: Source,
}

enum Source {
    /// A file or a pipe.
    Blocking(Blocking<io::Stdin>),
    /// A terminal: this library's subscription, made on the first read.
    Terminal,
}

impl std::fmt::Debug for Stdin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stdin").finish_non_exhaustive()
    }
}
stdio_type!(
    /// The process's standard output, from [`stdout`].
    Stdout, io::Stdout
);
stdio_type!(
    /// The process's standard error, from [`stderr`].
    Stderr, io::Stderr
);

/// The process's standard input, as `tokio::io::stdin`.
///
/// When stdin is a terminal, every `Stdin` of this library reads one
/// subscription to it (as every `std::io::stdin()` reads one buffer), made
/// on the first read: from then on it sees every byte typed, exactly once,
/// and so do the other readers of the terminal (a plugin's crossterm).
pub fn stdin() -> Stdin {
    let stdin = io::stdin();
    let inner = if stdin.is_terminal() { Source::Terminal } else { Source::Blocking(Blocking::new(stdin)) };
    Stdin { inner }
}

/// This library's subscription to the terminal that is stdin, and the id
/// of the runtime whose reactor watches it.
static TERMINAL: Mutex<Option<(u64, Arc<TtyReader>)>> = Mutex::new(None);

/// The subscription, made anew for a runtime other than the last one's (a
/// program may run several in turn; a reader's reactor is its runtime's).
fn terminal() -> io::Result<Arc<TtyReader>> {
    let runtime = tau::runtime::Handle::try_current().map(|handle| handle.id()).ok();
    let mut slot = TERMINAL.lock().unwrap_or_else(|poison| poison.into_inner());
    if let Some((id, reader)) = slot.as_ref() {
        if Some(*id) == runtime {
            return Ok(Arc::clone(reader));
        }
    }
    let reader = Arc::new(TtyReader::subscribe(io::stdin()).map_err(|error| {
        io::Error::new(
            error.kind(),
            format!("stdin is a terminal, and subscribing to it through the host's terminal owner failed: {error}"),
        )
    })?);
    let previous = runtime.and_then(|id| slot.replace((id, Arc::clone(&reader))));
    drop(slot);
    drop(previous); // its unsubscribe takes the owner's lock: not under ours
    Ok(reader)
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
        match &mut self.inner {
            Source::Blocking(blocking) => Pin::new(blocking).poll_read(cx, buf),
            Source::Terminal => {
                let reader = terminal()?;
                let count = std::task::ready!(reader.poll_read(cx, buf.initialize_unfilled()))?;
                buf.advance(count);
                Poll::Ready(Ok(()))
            }
        }
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
