use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::{asyncify, File};

/// How to open a file, as `tokio::fs::OpenOptions`: std's `OpenOptions`,
/// whose [`open`](Self::open) runs on the blocking pool and gives a
/// [`File`].
///
/// ```
/// use tokio::io::AsyncWriteExt;
///
/// #[tokio::main]
/// async fn run() -> std::io::Result<()> {
///     let path = std::env::temp_dir().join(format!("tau-openoptions-doc-{}", std::process::id()));
///     let mut file = tokio::fs::OpenOptions::new().create(true).append(true).open(&path).await?;
///     file.write_all(b"line\n").await?;
///     file.flush().await?;
///     tokio::fs::remove_file(&path).await
/// }
/// # run().unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct OpenOptions(std::fs::OpenOptions);

impl OpenOptions {
    /// Every option off: set at least one of read, write or append.
    pub fn new() -> OpenOptions {
        OpenOptions(std::fs::OpenOptions::new())
    }

    /// Read access.
    pub fn read(&mut self, read: bool) -> &mut OpenOptions {
        self.0.read(read);
        self
    }

    /// Write access; writes start at the beginning unless
    /// [`append`](Self::append) is set.
    pub fn write(&mut self, write: bool) -> &mut OpenOptions {
        self.0.write(write);
        self
    }

    /// Append mode (implies write access): every write goes to the end,
    /// whatever the position.
    pub fn append(&mut self, append: bool) -> &mut OpenOptions {
        self.0.append(append);
        self
    }

    /// Truncates an existing file to zero length (needs write access).
    pub fn truncate(&mut self, truncate: bool) -> &mut OpenOptions {
        self.0.truncate(truncate);
        self
    }

    /// Creates the file if it does not exist (needs write or append).
    pub fn create(&mut self, create: bool) -> &mut OpenOptions {
        self.0.create(create);
        self
    }

    /// Creates the file and fails with `AlreadyExists` if it exists,
    /// atomically; `create` and `truncate` are then ignored.
    pub fn create_new(&mut self, create_new: bool) -> &mut OpenOptions {
        self.0.create_new(create_new);
        self
    }

    /// The permission bits a newly created file gets (before the umask);
    /// `0o666` by default.
    pub fn mode(&mut self, mode: u32) -> &mut OpenOptions {
        self.0.mode(mode);
        self
    }

    /// Extra `open(2)` flags (`libc::O_NOFOLLOW`, …), or'ed in; the access
    /// mode bits are ignored.
    pub fn custom_flags(&mut self, flags: i32) -> &mut OpenOptions {
        self.0.custom_flags(flags);
        self
    }

    /// Opens `path` with these options, on the blocking pool.
    ///
    /// # Errors
    /// `NotFound` without `create`, `AlreadyExists` with `create_new`,
    /// `PermissionDenied`, `InvalidInput` for an invalid combination of
    /// options, and the other errors of `open(2)`.
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        let path = path.as_ref().to_owned();
        let options = self.0.clone();
        asyncify(move || options.open(path)).await.map(File::from_std)
    }
}

impl From<std::fs::OpenOptions> for OpenOptions {
    fn from(options: std::fs::OpenOptions) -> OpenOptions {
        OpenOptions(options)
    }
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions::new()
    }
}
