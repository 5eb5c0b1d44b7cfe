use std::io;
use std::path::Path;

use super::asyncify;

/// Copies the contents and permissions of `from` to `to`, replacing `to`;
/// returns the number of bytes copied: `std::fs::copy` on the blocking pool.
///
/// # Errors
/// If `from` is not a file or either path cannot be opened.
pub async fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> Result<u64, io::Error> {
    let from = from.as_ref().to_owned();
    let to = to.as_ref().to_owned();
    asyncify(move || std::fs::copy(from, to)).await
}
