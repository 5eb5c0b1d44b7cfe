use std::io;
use std::path::Path;

use super::asyncify;

/// Whether `path` exists, following symbolic links (a broken link is
/// `false`): `Path::try_exists` on the blocking pool.
///
/// # Errors
/// If existence cannot be determined (a permission error on a parent, …).
pub async fn try_exists(path: impl AsRef<Path>) -> io::Result<bool> {
    let path = path.as_ref().to_owned();
    asyncify(move || path.try_exists()).await
}
