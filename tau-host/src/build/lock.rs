//! Advisory file locks (`flock`) between tau processes sharing a cache.
//!
//! Builders hold a plugin entry's lock exclusively while they replace its
//! library, and the up-to-date check holds it shared, so the check never
//! sees half of a replacement. cargo runs under the environment's lock,
//! which also orders uses of the shared target directory between builds of
//! plugins with the same library name. Locks are released when the file
//! closes, also when the process dies.

use std::fs::File;
use std::path::Path;

/// Takes the lock at `path` exclusively, creating the file; waits for it.
pub(crate) fn exclusive(path: &Path) -> std::io::Result<File> {
    let file = File::options().create(true).truncate(false).write(true).open(path)?;
    file.lock()?;
    Ok(file)
}

/// Takes the lock at `path` shared, waiting for an exclusive holder; `None`
/// if the file does not exist (nothing was ever built there).
pub(crate) fn shared_if_exists(path: &Path) -> std::io::Result<Option<File>> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error),
    };
    file.lock_shared()?;
    Ok(Some(file))
}
