use std::io;
use std::path::{Path, PathBuf};

use super::asyncify;

/// The absolute, normalised form of `path`, with every symbolic link
/// resolved: `std::fs::canonicalize` on the blocking pool.
///
/// # Errors
/// If `path` does not exist (`NotFound`) or a component is not a directory.
pub async fn canonicalize(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::canonicalize(path)).await
}
