use std::io;
use std::path::Path;

use super::asyncify;

/// Renames `from` to `to`, replacing `to` if it exists:
/// `std::fs::rename` on the blocking pool.
///
/// # Errors
/// If `from` does not exist, the two are on different filesystems, or `to`
/// is a non-empty directory.
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    let from = from.as_ref().to_owned();
    let to = to.as_ref().to_owned();
    asyncify(move || std::fs::rename(from, to)).await
}
