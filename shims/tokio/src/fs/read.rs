use std::io;
use std::path::Path;

use super::asyncify;

/// The whole contents of the file `path`: `std::fs::read` on the blocking
/// pool.
///
/// # Errors
/// If `path` does not exist, is a directory, or a read fails.
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::read(path)).await
}
