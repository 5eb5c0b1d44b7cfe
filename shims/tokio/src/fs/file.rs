use std::fmt;
use std::fs::{File as StdFile, Metadata, Permissions};
use std::future::{poll_fn, Future};
use std::io::{self, Seek, SeekFrom};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use tau::task::JoinHandle;
use upstream::io::{AsyncRead, AsyncSeek, AsyncWrite, ReadBuf};
use upstream::sync::Mutex;

use super::{asyncify, FileTimes, OpenOptions};
use crate::blocking::{Buf, MAX_BUF};

/// An open file, as `tokio::fs::File`: std's `File`, each operation run on
/// the blocking pool.
///
/// It implements [`AsyncRead`], [`AsyncWrite`] and [`AsyncSeek`] with
/// tokio's semantics. One operation is in flight at a time. A read fetches
/// up to [`max_buf_size`](Self::max_buf_size) bytes in one job and hands
/// them out; a seek or write after it first moves the file back over what
/// was read ahead and not handed out. A write copies up to `max_buf_size`
/// bytes, starts a job to write them and returns at once: its error, if
/// any, is reported by the next write, [`flush`](crate::io::AsyncWriteExt::flush)
/// or [`sync_all`](Self::sync_all). Flush before dropping the file to know
/// the data was written (it is written either way unless the runtime shuts
/// down first).
///
/// ```
/// use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
///
/// #[tokio::main]
/// async fn run() -> std::io::Result<()> {
///     let path = std::env::temp_dir().join(format!("tau-file-doc-{}", std::process::id()));
///     let mut file = tokio::fs::File::options().read(true).write(true).create(true).truncate(true).open(&path).await?;
///     file.write_all(b"hello, world").await?;
///     file.flush().await?;
///     file.seek(std::io::SeekFrom::Start(7)).await?;
///     let mut rest = String::new();
///     file.read_to_string(&mut rest).await?;
///     assert_eq!(rest, "world");
///     tokio::fs::remove_file(&path).await
/// }
/// # run().unwrap();
/// ```
pub struct File {
    std: Arc<StdFile>,
    /// Locked by the `&self` methods that must come after the operation in
    /// flight; the poll methods have `&mut self` and reach in directly.
    inner: Mutex<Inner>,
    max_buf_size: usize,
}

struct Inner {
    state: State,
    /// A write's error seen by a read or seek, kept for the next write,
    /// flush or sync to report.
    last_write_err: Option<io::ErrorKind>,
    /// What the last seek returned: the position `poll_complete` reports
    /// when no seek is in flight.
    pos: u64,
}

enum State {
    /// The buffer holds bytes read ahead and not handed out yet, if any.
    Idle(Buf),
    /// A job owns the buffer (and a clone of the file).
    Busy(JoinHandle<(Operation, Buf)>),
}

enum Operation {
    Read(io::Result<usize>),
    Write(io::Result<()>),
    Seek(io::Result<u64>),
}

/// Seeks `file` back over read-ahead bytes (`rewind` from
/// [`Buf::discard_read`], zero for none).
fn rewind(mut file: &StdFile, rewind: i64) -> io::Result<()> {
    if rewind != 0 {
        file.seek(SeekFrom::Current(rewind))?;
    }
    Ok(())
}

fn busy_error() -> io::Error {
    io::Error::other("other file operation is pending, call poll_complete before start_seek")
}

impl File {
    /// Opens `path` read-only.
    ///
    /// # Errors
    /// `NotFound` if it does not exist, and the other errors of
    /// [`OpenOptions::open`].
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        File::options().read(true).open(path).await
    }

    /// Opens `path` write-only, creating it or truncating it.
    ///
    /// # Errors
    /// As [`OpenOptions::open`].
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        File::options().write(true).create(true).truncate(true).open(path).await
    }

    /// Creates `path` and opens it for reading and writing; fails with
    /// `AlreadyExists` if it exists (atomically).
    ///
    /// # Errors
    /// As [`OpenOptions::open`].
    pub async fn create_new<P: AsRef<Path>>(path: P) -> io::Result<File> {
        File::options().read(true).write(true).create_new(true).open(path).await
    }

    /// A new [`OpenOptions`], every option off.
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// Wraps an open std file (its position is kept).
    pub fn from_std(std: StdFile) -> File {
        File {
            std: Arc::new(std),
            inner: Mutex::new(Inner { state: State::Idle(Buf::default()), last_write_err: None, pos: 0 }),
            max_buf_size: MAX_BUF,
        }
    }

    /// Waits for the operation in flight, then flushes file data and
    /// metadata to the device (`fsync`).
    ///
    /// # Errors
    /// The error of a write still being reported, else `fsync`'s.
    pub async fn sync_all(&self) -> io::Result<()> {
        let mut inner = self.inner.lock().await;
        inner.finish().await?;
        let std = Arc::clone(&self.std);
        asyncify(move || std.sync_all()).await
    }

    /// As [`sync_all`](Self::sync_all), without metadata that reading the
    /// data back does not need (`fdatasync`).
    ///
    /// # Errors
    /// The error of a write still being reported, else `fdatasync`'s.
    pub async fn sync_data(&self) -> io::Result<()> {
        let mut inner = self.inner.lock().await;
        inner.finish().await?;
        let std = Arc::clone(&self.std);
        asyncify(move || std.sync_data()).await
    }

    /// Truncates or extends (with zeros) the file to `size` bytes, after
    /// the operation in flight. The position does not change (bytes read
    /// ahead are given back first).
    ///
    /// # Errors
    /// If the file is not open for writing, or `ftruncate` fails.
    pub async fn set_len(&self, size: u64) -> io::Result<()> {
        let mut inner = self.inner.lock().await;
        inner.complete_inflight().await;
        let State::Idle(buf) = &mut inner.state else { unreachable!("no operation is in flight") };
        let mut buf = std::mem::take(buf);
        let back = buf.discard_read();
        // The job goes in `state`, so a later operation waits for it even
        // if this future is dropped.
        inner.start(&self.std, buf, move |std, _| {
            let result = rewind(std, back).and_then(|()| std.set_len(size)).and_then(|()| {
                let mut std = std;
                std.stream_position()
            });
            Operation::Seek(result)
        });
        match poll_fn(|cx| inner.poll_job(cx)).await? {
            Some(Operation::Seek(result)) => result.map(|pos| inner.pos = pos),
            _ => Ok(()),
        }
    }

    /// The file's metadata (`fstat`).
    ///
    /// # Errors
    /// `fstat`'s.
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let std = Arc::clone(&self.std);
        asyncify(move || std.metadata()).await
    }

    /// A second `File` on the same open file (`dup`): position and flags
    /// are shared. Waits for the operation in flight first.
    ///
    /// # Errors
    /// `dup`'s (`EMFILE`, …).
    pub async fn try_clone(&self) -> io::Result<File> {
        self.inner.lock().await.complete_inflight().await;
        let std = Arc::clone(&self.std);
        let clone = asyncify(move || std.try_clone()).await?;
        let mut file = File::from_std(clone);
        file.set_max_buf_size(self.max_buf_size);
        Ok(file)
    }

    /// Waits for the operation in flight, gives back bytes read ahead (the
    /// std file's position is where this file's reads had got to) and
    /// returns the std file. A write error not reported yet is lost.
    ///
    /// # Panics
    /// Only if a metadata job of a dropped future still holds the file and
    /// the fd cannot be duplicated instead (`EMFILE`).
    pub async fn into_std(self) -> StdFile {
        let File { std, inner, .. } = self;
        let mut inner = inner.into_inner();
        inner.complete_inflight().await;
        if let State::Idle(buf) = &mut inner.state {
            let back = buf.discard_read();
            if back != 0 {
                let std = Arc::clone(&std);
                // Best effort, as the file may not be seekable: its reads
                // then simply consumed those bytes.
                let _ = asyncify(move || rewind(&std, back)).await;
            }
        }
        match Arc::try_unwrap(std) {
            Ok(std) => std,
            // A `metadata` or `set_permissions` job whose future was
            // dropped has not finished yet: hand back a duplicate, which is
            // the same open file.
            Err(shared) => asyncify(move || shared.try_clone())
                .await
                .unwrap_or_else(|error| panic!("File::into_std: could not duplicate the fd: {error}")),
        }
    }

    /// Returns the std file now if no operation is in flight and no bytes
    /// read ahead are buffered (they would be lost), else gives `self`
    /// back; [`into_std`](Self::into_std) waits instead.
    ///
    /// # Errors
    /// `self`, unchanged, as above.
    pub fn try_into_std(mut self) -> Result<StdFile, Self> {
        if let State::Idle(buf) = &self.inner.get_mut().state {
            if !buf.is_empty() {
                return Err(self);
            }
        }
        match Arc::try_unwrap(self.std) {
            Ok(std) => Ok(std),
            Err(shared) => {
                self.std = shared;
                Err(self)
            }
        }
    }

    /// Sets the file's permissions (`fchmod`).
    ///
    /// # Errors
    /// If the caller may not change them.
    pub async fn set_permissions(&self, perm: Permissions) -> io::Result<()> {
        let std = Arc::clone(&self.std);
        asyncify(move || std.set_permissions(perm)).await
    }

    /// Sets the file's access and modification times, after the operation
    /// in flight (so a write finishing later cannot undo them).
    ///
    /// # Errors
    /// If the caller may not change them.
    pub async fn set_times(&self, times: FileTimes) -> io::Result<()> {
        self.inner.lock().await.complete_inflight().await;
        let std = Arc::clone(&self.std);
        let times = times.into_std();
        asyncify(move || std.set_times(times)).await
    }

    /// Sets the file's modification time; as
    /// [`set_times`](Self::set_times).
    ///
    /// # Errors
    /// If the caller may not change it.
    pub async fn set_modified(&self, time: std::time::SystemTime) -> io::Result<()> {
        self.set_times(FileTimes::new().set_modified(time)).await
    }

    /// Sets the most one read or write job moves (2 MiB by default).
    ///
    /// # Panics
    /// If `max_buf_size` is zero.
    #[track_caller]
    pub fn set_max_buf_size(&mut self, max_buf_size: usize) {
        assert!(max_buf_size > 0, "`max_buf_size` must be greater than 0");
        self.max_buf_size = max_buf_size;
    }

    /// The most one read or write job moves.
    pub fn max_buf_size(&self) -> usize {
        self.max_buf_size
    }
}

impl Inner {
    /// Starts `job` on the pool with the buffer and a clone of the file.
    fn start(
        &mut self,
        std: &Arc<StdFile>,
        mut buf: Buf,
        job: impl FnOnce(&StdFile, &mut Buf) -> Operation + Send + 'static,
    ) {
        let std = Arc::clone(std);
        self.state = State::Busy(tau::task::spawn_blocking(move || {
            let operation = job(&std, &mut buf);
            (operation, buf)
        }));
    }

    /// Waits for the job in flight, if any (`None` if idle), and makes the
    /// state idle again. A job that panicked or was cancelled loses its
    /// buffer and is an error.
    fn poll_job(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<Operation>>> {
        let State::Busy(job) = &mut self.state else { return Poll::Ready(Ok(None)) };
        match ready!(Pin::new(job).poll(cx)) {
            Ok((operation, buf)) => {
                self.state = State::Idle(buf);
                Poll::Ready(Ok(Some(operation)))
            }
            Err(error) => {
                self.state = State::Idle(Buf::default());
                Poll::Ready(Err(io::Error::other(format!("background task failed: {error}"))))
            }
        }
    }

    /// Waits for the job in flight; reports a pending write error.
    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(kind) = self.last_write_err.take() {
            return Poll::Ready(Err(kind.into()));
        }
        match ready!(self.poll_job(cx))? {
            Some(Operation::Write(result)) => Poll::Ready(result),
            Some(Operation::Seek(Ok(pos))) => {
                self.pos = pos;
                Poll::Ready(Ok(()))
            }
            _ => Poll::Ready(Ok(())),
        }
    }

    /// [`poll_flush`](Self::poll_flush) as a future.
    async fn finish(&mut self) -> io::Result<()> {
        poll_fn(|cx| self.poll_flush(cx)).await
    }

    /// Waits for the job in flight, keeping a write error for later.
    async fn complete_inflight(&mut self) {
        if let Err(error) = self.finish().await {
            self.last_write_err = Some(error.kind());
        }
    }
}

impl AsyncRead for File {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, dst: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let inner = this.inner.get_mut();
        loop {
            match &mut inner.state {
                State::Idle(buf) => {
                    if !buf.is_empty() || dst.remaining() == 0 {
                        buf.copy_to(dst);
                        return Poll::Ready(Ok(()));
                    }
                    let max = dst.remaining().min(this.max_buf_size);
                    let buf = std::mem::take(buf);
                    inner.start(&this.std, buf, move |mut std, buf| {
                        Operation::Read(buf.read_from(&mut std, max))
                    });
                }
                State::Busy(_) => match ready!(inner.poll_job(cx))? {
                    Some(Operation::Read(Ok(_))) => {
                        let State::Idle(buf) = &mut inner.state else { unreachable!("the job finished") };
                        buf.copy_to(dst);
                        return Poll::Ready(Ok(()));
                    }
                    Some(Operation::Read(Err(error))) => return Poll::Ready(Err(error)),
                    Some(Operation::Write(Err(error))) => inner.last_write_err = Some(error.kind()),
                    Some(Operation::Seek(Ok(pos))) => inner.pos = pos,
                    // Done: now read.
                    Some(Operation::Write(Ok(()))) | Some(Operation::Seek(Err(_))) | None => {}
                },
            }
        }
    }
}

impl AsyncSeek for File {
    fn start_seek(self: Pin<&mut Self>, position: SeekFrom) -> io::Result<()> {
        let this = self.get_mut();
        let inner = this.inner.get_mut();
        let State::Idle(buf) = &mut inner.state else { return Err(busy_error()) };
        let mut buf = std::mem::take(buf);
        let back = buf.discard_read();
        // A relative seek counts from the logical position: fold the
        // read-ahead into it, or seek back first if the sum overflows.
        let (first, position) = match position {
            SeekFrom::Current(offset) => match offset.checked_add(back) {
                Some(offset) => (0, SeekFrom::Current(offset)),
                None => (back, position),
            },
            absolute => (0, absolute),
        };
        inner.start(&this.std, buf, move |mut std, _| {
            Operation::Seek(rewind(std, first).and_then(|()| std.seek(position)))
        });
        Ok(())
    }

    fn poll_complete(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        let inner = self.get_mut().inner.get_mut();
        match ready!(inner.poll_job(cx))? {
            Some(Operation::Seek(result)) => {
                if let Ok(pos) = result {
                    inner.pos = pos;
                }
                Poll::Ready(result)
            }
            Some(Operation::Write(Err(error))) => {
                inner.last_write_err = Some(error.kind());
                Poll::Ready(Ok(inner.pos))
            }
            Some(Operation::Read(_)) | Some(Operation::Write(Ok(()))) | None => Poll::Ready(Ok(inner.pos)),
        }
    }
}

impl File {
    /// `poll_write` and `poll_write_vectored`: `copy` takes the bytes into
    /// the (empty) buffer and says how many.
    fn poll_write_with(
        &mut self,
        cx: &mut Context<'_>,
        copy: impl FnOnce(&mut Buf, usize) -> usize,
    ) -> Poll<io::Result<usize>> {
        let inner = self.inner.get_mut();
        if let Some(kind) = inner.last_write_err.take() {
            return Poll::Ready(Err(kind.into()));
        }
        if matches!(inner.state, State::Busy(_)) {
            if let Some(Operation::Write(Err(error))) = ready!(inner.poll_job(cx))? {
                return Poll::Ready(Err(error));
            }
            // A read's bytes are given back by the rewind below; a seek is done.
        }
        let State::Idle(buf) = &mut inner.state else { unreachable!("the job finished") };
        let mut buf = std::mem::take(buf);
        let back = buf.discard_read();
        let count = copy(&mut buf, self.max_buf_size);
        if count == 0 && back == 0 {
            inner.state = State::Idle(buf);
            return Poll::Ready(Ok(0));
        }
        inner.start(&self.std, buf, move |mut std, buf| {
            Operation::Write(rewind(std, back).and_then(|()| buf.write_to(&mut std)))
        });
        Poll::Ready(Ok(count))
    }
}

impl AsyncWrite for File {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, src: &[u8]) -> Poll<io::Result<usize>> {
        self.get_mut().poll_write_with(cx, |buf, max| buf.copy_from(src, max))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_write_with(cx, |buf, max| buf.copy_from_bufs(bufs, max))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    /// Waits for the write in flight and reports its error (a file's own
    /// flush does nothing: data goes to the kernel as it is written).
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().inner.get_mut().poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

impl From<StdFile> for File {
    fn from(std: StdFile) -> File {
        File::from_std(std)
    }
}

impl From<OwnedFd> for File {
    fn from(fd: OwnedFd) -> File {
        File::from_std(StdFile::from(fd))
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("tokio::fs::File").field("std", &self.std).finish()
    }
}

impl AsRawFd for File {
    fn as_raw_fd(&self) -> RawFd {
        self.std.as_raw_fd()
    }
}

impl AsFd for File {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.std.as_fd()
    }
}

impl FromRawFd for File {
    /// # Safety
    /// As `std::fs::File::from_raw_fd`: `fd` is open and owned by no one
    /// else.
    unsafe fn from_raw_fd(fd: RawFd) -> File {
        // SAFETY: the caller upholds `from_raw_fd`'s contract, which is
        // std's.
        File::from_std(unsafe { StdFile::from_raw_fd(fd) })
    }
}
