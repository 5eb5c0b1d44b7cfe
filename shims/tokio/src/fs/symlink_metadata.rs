use std::fs::Metadata;
use std::io;
use std::path::Path;

use super::asyncify;

/// The metadata of `path` itself, not following a symbolic link:
/// `std::fs::symlink_metadata` on the blocking pool.
///
/// # Errors
/// If `path` does not exist or cannot be reached.
pub async fn symlink_metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::symlink_metadata(path)).await
}
