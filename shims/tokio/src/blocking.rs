//! An `AsyncRead`/`AsyncWrite` over a blocking `Read`/`Write`, each
//! operation run on the blocking pool, one at a time (stdio), and the
//! buffer it and `fs::File` move in and out of the pool's jobs.

use std::future::Future;
use std::io::{self, Read, Write};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tau::task::JoinHandle;
use upstream::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The most one operation moves, as tokio's.
pub(crate) const MAX_BUF: usize = 2 * 1024 * 1024;

pub(crate) struct Blocking<T> {
    state: State<T>,
    /// Bytes read and not yet handed out.
    buf: Buf,
    need_flush: bool,
}

enum State<T> {
    Idle(Option<T>),
    Busy(JoinHandle<(Operation, Buf, T)>),
}

enum Operation {
    Read(io::Result<usize>),
    Write(io::Result<()>),
    Flush(io::Result<()>),
}

#[derive(Default)]
pub(crate) struct Buf {
    bytes: Vec<u8>,
    position: usize,
}

impl Buf {
    pub(crate) fn is_empty(&self) -> bool {
        self.position == self.bytes.len()
    }

    /// Forgets the unread bytes; returns the seek offset (zero or negative)
    /// that moves a file back over them.
    pub(crate) fn discard_read(&mut self) -> i64 {
        let unread = (self.bytes.len() - self.position) as i64;
        self.bytes.clear();
        self.position = 0;
        -unread
    }

    /// Takes up to `max` bytes of `src` to write out; returns how many.
    pub(crate) fn copy_from(&mut self, src: &[u8], max: usize) -> usize {
        debug_assert!(self.is_empty());
        let count = src.len().min(max);
        self.bytes.extend_from_slice(&src[..count]);
        count
    }

    /// [`copy_from`](Self::copy_from) over several slices, in order.
    pub(crate) fn copy_from_bufs(&mut self, bufs: &[io::IoSlice<'_>], max: usize) -> usize {
        debug_assert!(self.is_empty());
        for buf in bufs {
            let room = max - self.bytes.len();
            if room == 0 {
                break;
            }
            self.bytes.extend_from_slice(&buf[..buf.len().min(room)]);
        }
        self.bytes.len()
    }

    pub(crate) fn copy_to(&mut self, dst: &mut ReadBuf<'_>) -> usize {
        let count = (self.bytes.len() - self.position).min(dst.remaining());
        dst.put_slice(&self.bytes[self.position..self.position + count]);
        self.position += count;
        if self.is_empty() {
            self.bytes.clear();
            self.position = 0;
        }
        count
    }

    pub(crate) fn read_from<T: Read>(&mut self, reader: &mut T, max: usize) -> io::Result<usize> {
        self.bytes.resize(max, 0);
        let result = loop {
            match reader.read(&mut self.bytes) {
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        self.bytes.truncate(*result.as_ref().unwrap_or(&0));
        self.position = 0;
        result
    }

    pub(crate) fn write_to<T: Write>(&mut self, writer: &mut T) -> io::Result<()> {
        let result = writer.write_all(&self.bytes[self.position..]);
        self.bytes.clear();
        self.position = 0;
        result
    }
}

// `T` is only ever moved by value into and out of the pool's jobs, never
// pinned: the adapter is `Unpin` whatever `T` is.
impl<T> Unpin for Blocking<T> {}

impl<T> Blocking<T> {
    pub(crate) fn new(inner: T) -> Blocking<T> {
        Blocking { state: State::Idle(Some(inner)), buf: Buf::default(), need_flush: false }
    }
}

impl<T: Read + Send + 'static> AsyncRead for Blocking<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, dst: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            match &mut this.state {
                State::Idle(inner) => {
                    if !this.buf.is_empty() {
                        this.buf.copy_to(dst);
                        return Poll::Ready(Ok(()));
                    }
                    let mut inner = inner.take().expect("blocking io used after a panic");
                    let mut buf = std::mem::take(&mut this.buf);
                    let max = dst.remaining().min(MAX_BUF);
                    this.state = State::Busy(tau::task::spawn_blocking(move || {
                        let result = buf.read_from(&mut inner, max);
                        (Operation::Read(result), buf, inner)
                    }));
                }
                State::Busy(job) => {
                    let (operation, buf, inner) = ready!(Pin::new(job).poll(cx)).map_err(io::Error::from)?;
                    this.state = State::Idle(Some(inner));
                    this.buf = buf;
                    match operation {
                        Operation::Read(Ok(_)) => {
                            this.buf.copy_to(dst);
                            return Poll::Ready(Ok(()));
                        }
                        Operation::Read(Err(error)) => return Poll::Ready(Err(error)),
                        // A write's or flush's outcome was reported when it was queued.
                        Operation::Write(_) | Operation::Flush(_) => {}
                    }
                }
            }
        }
    }
}

impl<T: Write + Send + 'static> AsyncWrite for Blocking<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, src: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        loop {
            match &mut this.state {
                State::Idle(inner) => {
                    let mut inner = inner.take().expect("blocking io used after a panic");
                    let mut buf = std::mem::take(&mut this.buf);
                    let count = src.len().min(MAX_BUF);
                    buf.bytes.extend_from_slice(&src[..count]);
                    this.need_flush = true;
                    this.state = State::Busy(tau::task::spawn_blocking(move || {
                        let result = buf.write_to(&mut inner);
                        (Operation::Write(result), buf, inner)
                    }));
                    return Poll::Ready(Ok(count));
                }
                State::Busy(_) => ready!(this.poll_finish(cx))?,
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            match &mut this.state {
                State::Idle(inner) if this.need_flush => {
                    let mut inner = inner.take().expect("blocking io used after a panic");
                    let buf = std::mem::take(&mut this.buf);
                    this.need_flush = false;
                    this.state = State::Busy(tau::task::spawn_blocking(move || {
                        let result = inner.flush();
                        (Operation::Flush(result), buf, inner)
                    }));
                }
                State::Idle(_) => return Poll::Ready(Ok(())),
                State::Busy(_) => ready!(this.poll_finish(cx))?,
            }
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

impl<T> Blocking<T> {
    /// Waits for the job in flight and reports a write's or flush's error.
    fn poll_finish(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let State::Busy(job) = &mut self.state else { return Poll::Ready(Ok(())) };
        let (operation, buf, inner) = ready!(Pin::new(job).poll(cx)).map_err(io::Error::from)?;
        self.state = State::Idle(Some(inner));
        self.buf = buf;
        match operation {
            Operation::Write(result) | Operation::Flush(result) => Poll::Ready(result),
            // Read bytes stay buffered for the next read.
            Operation::Read(_) => Poll::Ready(Ok(())),
        }
    }
}
