use std::io;
use std::path::Path;

use super::asyncify;

/// Creates the directory `path`: `std::fs::create_dir` on the blocking pool.
///
/// # Errors
/// If its parent does not exist (`NotFound`), or `path` exists
/// (`AlreadyExists`).
pub async fn create_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::create_dir(path)).await
}
