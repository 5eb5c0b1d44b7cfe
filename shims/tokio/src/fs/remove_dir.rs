use std::io;
use std::path::Path;

use super::asyncify;

/// Removes the empty directory `path`: `std::fs::remove_dir` on the
/// blocking pool.
///
/// # Errors
/// If `path` does not exist, is not a directory, or is not empty.
pub async fn remove_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::remove_dir(path)).await
}
