use std::io;
use std::path::Path;

use super::asyncify;

/// Removes the file (or symbolic link) `path`; open handles to it keep
/// working: `std::fs::remove_file` on the blocking pool.
///
/// # Errors
/// If `path` does not exist or is a directory.
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::remove_file(path)).await
}
