use std::io;
use std::path::Path;

use super::asyncify;

/// Creates the directory `path` and any missing parents; a directory that
/// is already there is fine: `std::fs::create_dir_all` on the blocking pool.
///
/// # Errors
/// If a component exists and is not a directory, or cannot be created.
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::create_dir_all(path)).await
}
