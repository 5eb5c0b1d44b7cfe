use std::io;
use std::path::Path;

use super::asyncify;

/// Makes `link` a symbolic link to `original` (which need not exist):
/// `std::os::unix::fs::symlink` on the blocking pool.
///
/// # Errors
/// If `link` exists or its directory cannot be written.
pub async fn symlink(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    let original = original.as_ref().to_owned();
    let link = link.as_ref().to_owned();
    asyncify(move || std::os::unix::fs::symlink(original, link)).await
}
