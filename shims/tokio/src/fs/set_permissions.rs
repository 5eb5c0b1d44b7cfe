use std::fs::Permissions;
use std::io;
use std::path::Path;

use super::asyncify;

/// Sets the permissions of `path`: `std::fs::set_permissions` on the
/// blocking pool.
///
/// # Errors
/// If `path` does not exist or the caller may not change it.
pub async fn set_permissions(path: impl AsRef<Path>, perm: Permissions) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::set_permissions(path, perm)).await
}
