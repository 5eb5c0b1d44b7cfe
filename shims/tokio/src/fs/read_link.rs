use std::io;
use std::path::{Path, PathBuf};

use super::asyncify;

/// What the symbolic link `path` points to: `std::fs::read_link` on the
/// blocking pool.
///
/// # Errors
/// If `path` does not exist or is not a symbolic link.
pub async fn read_link(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::read_link(path)).await
}
