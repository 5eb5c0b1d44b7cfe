//! File operations the cache relies on: every file another process may be
//! reading is replaced whole, by a rename, never rewritten in place.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

/// A temporary name beside `path`, unique in this process and across processes.
fn temporary(path: &Path) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Creates `dir` and its missing parents, mode 0755 whatever the umask:
/// what only this user may write is trusted (see [`crate::trust`]).
pub(crate) fn create_dirs(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o755);
    builder.create(dir)
}

/// Writes `bytes` to `path` through a temporary file and a rename; mode
/// 0644 whatever the umask.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let temporary = temporary(path);
    let mut options = std::fs::File::options();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o644);
    let written = options.open(&temporary).and_then(|mut file| file.write_all(bytes));
    finish(written, &temporary, path)
}

/// Copies `from` to `to` through a temporary file and a rename, with the
/// copy's modification time set to `modified`, writable by no one else.
pub(crate) fn copy_atomically(from: &Path, to: &Path, modified: SystemTime) -> std::io::Result<()> {
    let temporary = temporary(to);
    let copied = std::fs::copy(from, &temporary)
        .and_then(|_| std::fs::File::options().write(true).open(&temporary))
        .and_then(|file| {
            file.set_modified(modified)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = file.metadata()?.permissions().mode() & 0o755;
                file.set_permissions(std::fs::Permissions::from_mode(mode))?;
            }
            Ok(())
        });
    finish(copied, &temporary, to)
}

fn finish(written: std::io::Result<()>, temporary: &Path, path: &Path) -> std::io::Result<()> {
    let renamed = written.and_then(|()| std::fs::rename(temporary, path));
    if renamed.is_err() {
        let _ = std::fs::remove_file(temporary);
    }
    renamed
}

/// The total size of the files under `path`, each file counted once
/// (cargo hard-links artifacts), not following symbolic links.
pub(crate) fn disk_size(path: &Path) -> u64 {
    let mut seen = std::collections::HashSet::new();
    let mut total = 0;
    let mut pending = vec![path.to_path_buf()];
    while let Some(path) = pending.pop() {
        let Ok(metadata) = std::fs::symlink_metadata(&path) else { continue };
        if metadata.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&path) {
                pending.extend(entries.filter_map(|entry| entry.ok().map(|entry| entry.path())));
            }
            continue;
        }
        #[cfg(unix)]
        let first = {
            use std::os::unix::fs::MetadataExt;
            metadata.nlink() == 1 || seen.insert((metadata.dev(), metadata.ino()))
        };
        #[cfg(not(unix))]
        let first = seen.insert(path.clone());
        if first {
            total += metadata.len();
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_replace_whole_files_and_carry_the_time() {
        let dir = tempfile::tempdir().unwrap();
        let (from, to) = (dir.path().join("from"), dir.path().join("to"));
        std::fs::write(&from, b"new").unwrap();
        std::fs::write(&to, b"old").unwrap();
        let when = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        copy_atomically(&from, &to, when).unwrap();
        assert_eq!(std::fs::read(&to).unwrap(), b"new");
        assert_eq!(std::fs::metadata(&to).unwrap().modified().unwrap(), when);
        write_atomically(&to, b"text").unwrap();
        assert_eq!(std::fs::read(&to).unwrap(), b"text");
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
        assert_eq!(disk_size(dir.path()), 7);
    }
}
