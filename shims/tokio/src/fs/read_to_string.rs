use std::io;
use std::path::Path;

use super::asyncify;

/// The whole contents of the file `path` as a string:
/// `std::fs::read_to_string` on the blocking pool.
///
/// # Errors
/// As [`read`](super::read), and `InvalidData` if it is not UTF-8.
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::read_to_string(path)).await
}
