use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs::{FileType, Metadata};
use std::future::{poll_fn, Future};
use std::io;
use std::os::unix::fs::DirEntryExt;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use tau::task::JoinHandle;

use super::asyncify;

/// How many entries one blocking-pool job reads.
const CHUNK: usize = 32;

/// The entries of the directory `path`, as `tokio::fs::read_dir`: read a
/// chunk at a time on the blocking pool. `.` and `..` are not listed; the
/// order is the filesystem's.
///
/// # Errors
/// If `path` does not exist, is not a directory, or cannot be read.
///
/// ```
/// #[tokio::main]
/// async fn run() -> std::io::Result<()> {
///     let dir = std::env::temp_dir().join(format!("tau-readdir-doc-{}", std::process::id()));
///     tokio::fs::create_dir_all(&dir).await?;
///     tokio::fs::write(dir.join("one"), b"1").await?;
///     let mut entries = tokio::fs::read_dir(&dir).await?;
///     let entry = entries.next_entry().await?.unwrap();
///     assert_eq!(entry.file_name(), "one");
///     assert!(entries.next_entry().await?.is_none());
///     tokio::fs::remove_dir_all(&dir).await
/// }
/// # run().unwrap();
/// ```
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<ReadDir> {
    let path = path.as_ref().to_owned();
    let chunk = asyncify(move || {
        let mut chunk =
            Chunk { entries: VecDeque::with_capacity(CHUNK), std: std::fs::read_dir(path)?, more: true };
        chunk.fill();
        Ok(chunk)
    })
    .await?;
    Ok(ReadDir(State::Idle(Some(chunk))))
}

/// A directory's entries, from [`read_dir`], as `tokio::fs::ReadDir`.
#[derive(Debug)]
#[must_use = "streams do nothing unless polled"]
pub struct ReadDir(State);

#[derive(Debug)]
enum State {
    /// `None` only after a job panicked or was cancelled.
    Idle(Option<Chunk>),
    Reading(JoinHandle<Chunk>),
}

/// Entries read ahead and the std iterator they came from.
#[derive(Debug)]
struct Chunk {
    entries: VecDeque<io::Result<DirEntry>>,
    std: std::fs::ReadDir,
    /// False once `std` has ended.
    more: bool,
}

impl Chunk {
    /// Reads up to [`CHUNK`] entries, stopping after an error so it is
    /// reported in order.
    fn fill(&mut self) {
        for _ in 0..CHUNK {
            let Some(entry) = self.std.next() else {
                self.more = false;
                return;
            };
            let failed = entry.is_err();
            self.entries.push_back(entry.map(DirEntry::new));
            if failed {
                return;
            }
        }
    }
}

impl ReadDir {
    /// The next entry, or `None` once all have been returned. Cancel safe:
    /// an entry read by a dropped call is returned by the next one.
    ///
    /// # Errors
    /// An error reading the directory; later calls may go on listing.
    pub async fn next_entry(&mut self) -> io::Result<Option<DirEntry>> {
        poll_fn(|cx| self.poll_next_entry(cx)).await
    }

    /// Polls for the next entry: `Ready(Ok(None))` once all have been
    /// returned. Only the waker of the latest call is woken.
    pub fn poll_next_entry(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<DirEntry>>> {
        loop {
            match &mut self.0 {
                State::Idle(slot) => {
                    let Some(chunk) = slot else { return Poll::Ready(Ok(None)) };
                    if let Some(entry) = chunk.entries.pop_front() {
                        return Poll::Ready(entry.map(Some));
                    }
                    if !chunk.more {
                        return Poll::Ready(Ok(None));
                    }
                    let mut chunk = slot.take().expect("checked above");
                    self.0 = State::Reading(tau::task::spawn_blocking(move || {
                        chunk.fill();
                        chunk
                    }));
                }
                State::Reading(job) => match ready!(Pin::new(job).poll(cx)) {
                    Ok(chunk) => self.0 = State::Idle(Some(chunk)),
                    Err(error) => {
                        self.0 = State::Idle(None);
                        return Poll::Ready(Err(io::Error::other(format!(
                            "background task failed: {error}"
                        ))));
                    }
                },
            }
        }
    }
}

/// One entry of a [`ReadDir`], as `tokio::fs::DirEntry`.
#[derive(Debug)]
pub struct DirEntry {
    std: Arc<std::fs::DirEntry>,
    /// Read with the entry, on the pool (free where the directory listing
    /// carries it, as on Linux).
    file_type: Option<FileType>,
}

impl DirEntry {
    fn new(std: std::fs::DirEntry) -> DirEntry {
        let file_type = std.file_type().ok();
        DirEntry { std: Arc::new(std), file_type }
    }

    /// The directory's path joined with the entry's name.
    pub fn path(&self) -> PathBuf {
        self.std.path()
    }

    /// The entry's name, without its directory.
    pub fn file_name(&self) -> OsString {
        self.std.file_name()
    }

    /// The entry's metadata, not following a symbolic link (as
    /// `symlink_metadata`), read on the blocking pool.
    ///
    /// # Errors
    /// If the entry was removed since it was listed, or cannot be reached.
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let std = Arc::clone(&self.std);
        asyncify(move || std.metadata()).await
    }

    /// The entry's type, not following a symbolic link; usually known from
    /// the listing, else read on the blocking pool.
    ///
    /// # Errors
    /// If it has to be read and cannot be.
    pub async fn file_type(&self) -> io::Result<FileType> {
        if let Some(file_type) = self.file_type {
            return Ok(file_type);
        }
        let std = Arc::clone(&self.std);
        asyncify(move || std.file_type()).await
    }

    /// The entry's inode number, from the listing.
    pub fn ino(&self) -> u64 {
        self.std.ino()
    }
}
