use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

use super::asyncify;

/// Creates directories with options, as `tokio::fs::DirBuilder` (std's
/// `DirBuilder`, run on the blocking pool).
///
/// ```
/// #[tokio::main]
/// async fn run() -> std::io::Result<()> {
///     let dir = std::env::temp_dir().join(format!("tau-dirbuilder-doc-{}", std::process::id()));
///     tokio::fs::DirBuilder::new().recursive(true).mode(0o750).create(dir.join("a/b")).await?;
///     assert!(tokio::fs::metadata(dir.join("a/b")).await?.is_dir());
///     tokio::fs::remove_dir_all(&dir).await
/// }
/// # run().unwrap();
/// ```
#[derive(Debug, Default)]
pub struct DirBuilder {
    recursive: bool,
    mode: Option<u32>,
}

impl DirBuilder {
    /// A builder for one directory, not its parents, with the default mode.
    pub fn new() -> Self {
        DirBuilder::default()
    }

    /// Whether missing parents are created too (and an existing directory
    /// is then not an error).
    pub fn recursive(&mut self, recursive: bool) -> &mut Self {
        self.recursive = recursive;
        self
    }

    /// The permission bits new directories get (before the umask);
    /// `0o777` by default.
    pub fn mode(&mut self, mode: u32) -> &mut Self {
        self.mode = Some(mode);
        self
    }

    /// Creates `path` with these options.
    ///
    /// # Errors
    /// As [`create_dir`](super::create_dir), or
    /// [`create_dir_all`](super::create_dir_all) when recursive.
    pub async fn create(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let path = path.as_ref().to_owned();
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(self.recursive);
        if let Some(mode) = self.mode {
            builder.mode(mode);
        }
        asyncify(move || builder.create(path)).await
    }
}
