use std::io;
use std::path::Path;

use super::asyncify;

/// Makes `link` a new hard link to the file `original`:
/// `std::fs::hard_link` on the blocking pool.
///
/// # Errors
/// If `original` does not exist or `link` does.
pub async fn hard_link(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    let original = original.as_ref().to_owned();
    let link = link.as_ref().to_owned();
    asyncify(move || std::fs::hard_link(original, link)).await
}
