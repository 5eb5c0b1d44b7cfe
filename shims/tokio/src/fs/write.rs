use std::io;
use std::path::Path;

use super::asyncify;

/// Makes `contents` the whole contents of the file `path`, creating it if
/// needed and truncating it if not: `std::fs::write` on the blocking pool.
/// The bytes are copied for the pool's job.
///
/// # Errors
/// If `path`'s directory does not exist, `path` is a directory, or a write
/// fails.
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    let contents = contents.as_ref().to_owned();
    asyncify(move || std::fs::write(path, contents)).await
}
