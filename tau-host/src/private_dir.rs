//! The directory private copies of plugin libraries are made in, and making
//! them.
//!
//! A copy is opened by name right after it is written, so whoever can
//! write its directory could swap it in between and have their code run in
//! the host. The directory is one only this user can write: `$TAU_COPY_DIR`
//! if set, else `$XDG_RUNTIME_DIR/tau` if there is a runtime directory, else
//! `tau-<uid>` in the temporary directory. It is created with mode 0700;
//! an existing one must be a real directory (not a symbolic link), owned by
//! this user, with no access for group or others, or it is refused; so is
//! one with a directory on the way to it that belongs to another user than
//! root, or that others may write and is not sticky (see [`crate::trust`]:
//! else they could rename it away and put their own in its place). The copy
//! itself is created new (`O_EXCL`, no symbolic links followed), mode 0600,
//! and removed as soon as it is mapped.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// The checked directory for private copies.
pub(crate) fn copies_dir() -> io::Result<PathBuf> {
    let dir = default_dir();
    ensure_private(&dir)?;
    Ok(dir)
}

fn default_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TAU_COPY_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(runtime) = std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from).filter(|dir| dir.is_dir()) {
        return runtime.join("tau");
    }
    std::env::temp_dir().join(format!("tau-{}", user_id()))
}

#[cfg(unix)]
fn user_id() -> u32 {
    crate::trust::user_id()
}

#[cfg(not(unix))]
fn user_id() -> u32 {
    0
}

/// Creates `dir` (mode 0700) if it is missing, then checks that only this
/// user can write it.
pub(crate) fn ensure_private(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        // Checked before anything is made there, and again after (for the
        // directories just made).
        let route = || match dir.parent() {
            Some(parent) => {
                crate::trust::check_route(parent).map_err(|refused| refuse(&refused.path, &refused.reason))
            }
            None => Ok(()),
        };
        route()?;
        match std::fs::DirBuilder::new().recursive(false).mode(0o700).create(dir) {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {}
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
            }
            Err(error) => return Err(refuse(dir, &error.to_string())),
        }
        route()?;
        let metadata = std::fs::symlink_metadata(dir)?;
        if metadata.file_type().is_symlink() {
            return Err(refuse(dir, "it is a symbolic link"));
        }
        if !metadata.is_dir() {
            return Err(refuse(dir, "it is not a directory"));
        }
        crate::trust::check_user(dir, &metadata).map_err(|refused| refuse(&refused.path, &refused.reason))?;
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(refuse(dir, &format!("group or others may use it (mode {mode:o})")));
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

fn refuse(dir: &Path, why: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!(
            "{}: {why}; tau makes private copies of plugin libraries only in a directory that only this user can write (mode 0700), below directories that belong to root or this user and, if others may write them, are sticky (like /tmp); fix that, or set TAU_COPY_DIR to another directory",
            dir.display()
        ),
    )
}

/// Copies `from` to the new file `to` (which must not exist), mode 0600.
pub(crate) fn copy_new(from: &Path, to: &Path) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
    }
    let mut target = options.open(to)?;
    let mut source = File::open(from)?;
    // No fsync: the copy is mapped by this process, through the page cache,
    // and removed right after.
    io::copy(&mut source, &mut target).map(drop)
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tau-private-dir-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::remove_file(&dir);
        dir
    }

    #[test]
    fn a_missing_directory_is_made_private() {
        let dir = scratch("new").join("nested");
        ensure_private(&dir).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        ensure_private(&dir).unwrap();
        let _ = std::fs::remove_dir_all(dir.parent().unwrap());
    }

    #[test]
    fn a_directory_others_can_write_is_refused() {
        let dir = scratch("open");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let error = ensure_private(&dir).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::PermissionDenied);
        assert!(error.to_string().contains("group or others may use it (mode 777)"), "{error}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_ancestor_others_can_write_or_own_is_refused_unless_sticky() {
        let parent = scratch("open-parent");
        std::fs::create_dir(&parent).unwrap();
        let dir = parent.join("copies");
        std::fs::set_permissions(&parent, std::fs::Permissions::from_mode(0o777)).unwrap();
        let error = ensure_private(&dir).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::PermissionDenied);
        let why =
            format!("{}: group or others may write it (mode 777) and it is not sticky", parent.display());
        assert!(error.to_string().contains(&why), "{error}");
        std::fs::set_permissions(&parent, std::fs::Permissions::from_mode(0o1777)).unwrap();
        ensure_private(&dir).expect("a sticky directory, like /tmp, is fine");
        // The tests run as root, which may give a directory away.
        std::fs::set_permissions(&parent, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::os::unix::fs::chown(&parent, Some(65534), None).expect("chown (this test needs root)");
        let error = ensure_private(&dir).unwrap_err();
        assert!(
            error.to_string().contains(&format!("{}: it belongs to uid 65534", parent.display())),
            "{error}"
        );
        let _ = std::fs::remove_dir_all(&parent);
    }

    #[test]
    fn a_symbolic_link_is_refused_even_to_a_private_directory() {
        let target = scratch("target");
        std::fs::create_dir(&target).unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o700)).unwrap();
        let link = scratch("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let error = ensure_private(&link).unwrap_err();
        assert!(error.to_string().contains("symbolic link"), "{error}");
        let _ = std::fs::remove_file(&link);
        let _ = std::fs::remove_dir_all(&target);
    }

    #[test]
    fn a_copy_never_replaces_or_follows_an_existing_file() {
        let dir = scratch("copy");
        ensure_private(&dir).unwrap();
        let source = dir.join("source");
        std::fs::write(&source, b"library").unwrap();
        let planted = dir.join("planted");
        std::fs::write(&planted, b"someone else's").unwrap();
        let error = copy_new(&source, &planted).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&planted).unwrap(), b"someone else's");
        let link = dir.join("link");
        std::os::unix::fs::symlink(&planted, &link).unwrap();
        assert!(copy_new(&source, &link).is_err(), "a symbolic link is not followed");
        let fresh = dir.join("fresh");
        copy_new(&source, &fresh).unwrap();
        assert_eq!(std::fs::read(&fresh).unwrap(), b"library");
        assert_eq!(std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777, 0o600);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
