use std::io;
use std::path::Path;

use super::asyncify;

/// Removes the directory `path` and everything in it (symbolic links are
/// removed, not followed): `std::fs::remove_dir_all` on the blocking pool.
///
/// # Errors
/// If `path` does not exist or is not a directory, or an entry cannot be
/// removed.
pub async fn remove_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::remove_dir_all(path)).await
}
