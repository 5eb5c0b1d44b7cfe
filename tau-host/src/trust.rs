//! Whether files tau runs code from can be changed by someone else.
//!
//! A plugin library is `dlopen`ed by path, so whoever can replace it, or
//! any directory on the way to it, can run code in the host. Two checks:
//!
//! - [`check_route`]: every directory a path passes through (following
//!   symbolic links, each of which is checked too) belongs to root or this
//!   user, and one that group or others may write is sticky (like `/tmp`,
//!   where others cannot rename or remove what is ours).
//! - [`check_own`]: a directory or file belongs to this user and only this
//!   user may write it (no symbolic link).

use std::fmt;
use std::io;
use std::path::{Component, Path, PathBuf};

/// Why a path is not trusted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Refused {
    /// The directory, link or file at fault.
    pub path: PathBuf,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason)
    }
}

impl Refused {
    fn new(path: &Path, reason: impl Into<String>) -> Refused {
        Refused { path: path.to_path_buf(), reason: reason.into() }
    }
}

/// The effective user's id: the owner of what this process creates.
#[cfg(unix)]
pub(crate) fn user_id() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Symbolic links followed before a path counts as a loop (as Linux's
/// `ELOOP`).
#[cfg(unix)]
const MAX_LINKS: usize = 40;

/// Checks every directory on the way to `path`, and `path` itself if it
/// exists, as a directory others may pass through: owned by root or this
/// user, and sticky if group or others may write it. Symbolic links are
/// followed, and each must belong to root or this user. Stops at the first
/// component that does not exist (the caller creates it, then checks again).
#[cfg(unix)]
pub(crate) fn check_route(path: &Path) -> Result<(), Refused> {
    use std::os::unix::fs::MetadataExt;
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        let here = std::env::current_dir().map_err(|error| {
            Refused::new(path, format!("a relative path, and the current directory is unknown: {error}"))
        })?;
        here.join(path)
    };
    let me = user_id();
    // `resolved` never contains a symbolic link, so `..` is its parent.
    let mut resolved = PathBuf::from("/");
    check_passage(&resolved, &lstat(&resolved)?.ok_or_else(|| Refused::new(&resolved, "missing"))?, me)?;
    let mut pending = steps(&absolute);
    let mut links = 0;
    while let Some(step) = pending.pop() {
        let name = match step {
            Step::Name(name) => name,
            Step::Parent => {
                resolved.pop();
                continue;
            }
            Step::Root => {
                resolved = PathBuf::from("/");
                continue;
            }
        };
        let next = resolved.join(name);
        let Some(metadata) = lstat(&next)? else { return Ok(()) };
        if metadata.file_type().is_symlink() {
            // Whoever owns a link in a sticky directory may replace it.
            if metadata.uid() != me && metadata.uid() != 0 {
                return Err(Refused::new(
                    &next,
                    format!(
                        "a symbolic link that belongs to uid {}, not to this user ({me}) or root",
                        metadata.uid()
                    ),
                ));
            }
            links += 1;
            if links > MAX_LINKS {
                return Err(Refused::new(path, "too many levels of symbolic links"));
            }
            let target = std::fs::read_link(&next)
                .map_err(|error| Refused::new(&next, format!("cannot read the link: {error}")))?;
            // The link's components come next, before the rest of the path.
            pending.extend(steps(&target));
            continue;
        }
        if !metadata.is_dir() {
            // Not a directory on the way: the caller's own open fails.
            return Ok(());
        }
        check_passage(&next, &metadata, me)?;
        resolved = next;
    }
    Ok(())
}

/// One step of a path.
#[cfg(unix)]
enum Step {
    Root,
    Parent,
    Name(std::ffi::OsString),
}

/// The steps of `path`, last first (a stack).
#[cfg(unix)]
fn steps(path: &Path) -> Vec<Step> {
    let steps = path.components().filter_map(|component| match component {
        Component::RootDir => Some(Step::Root),
        Component::ParentDir => Some(Step::Parent),
        Component::Normal(name) => Some(Step::Name(name.to_os_string())),
        Component::CurDir | Component::Prefix(_) => None,
    });
    let mut steps: Vec<Step> = steps.collect();
    steps.reverse();
    steps
}

/// A directory on the way: owned by root or `me`; sticky if others may write it.
#[cfg(unix)]
fn check_passage(dir: &Path, metadata: &std::fs::Metadata, me: u32) -> Result<(), Refused> {
    use std::os::unix::fs::MetadataExt;
    let (owner, mode) = (metadata.uid(), metadata.mode() & 0o7777);
    if owner != me && owner != 0 {
        return Err(Refused::new(dir, format!("it belongs to uid {owner}, not to this user ({me}) or root")));
    }
    if mode & 0o022 != 0 && mode & 0o1000 == 0 {
        return Err(Refused::new(
            dir,
            format!("group or others may write it (mode {:o}) and it is not sticky", mode & 0o777),
        ));
    }
    Ok(())
}

/// Checks that `path` (not followed if it is a symbolic link) belongs to
/// this user and that group and others may not write it; returns its
/// metadata, or `None` if it does not exist.
#[cfg(unix)]
pub(crate) fn check_own(path: &Path) -> Result<Option<std::fs::Metadata>, Refused> {
    let Some(metadata) = lstat(path)? else { return Ok(None) };
    if metadata.file_type().is_symlink() {
        return Err(Refused::new(path, "it is a symbolic link"));
    }
    check_owner(path, &metadata)?;
    Ok(Some(metadata))
}

/// Checks `metadata` (of `path`): this user's, not writable by group or others.
#[cfg(unix)]
pub(crate) fn check_owner(path: &Path, metadata: &std::fs::Metadata) -> Result<(), Refused> {
    use std::os::unix::fs::MetadataExt;
    check_user(path, metadata)?;
    let mode = metadata.mode() & 0o777;
    if mode & 0o022 != 0 {
        return Err(Refused::new(path, format!("group or others may write it (mode {mode:o})")));
    }
    Ok(())
}

/// Checks that `metadata` (of `path`) names this user as the owner.
#[cfg(unix)]
pub(crate) fn check_user(path: &Path, metadata: &std::fs::Metadata) -> Result<(), Refused> {
    use std::os::unix::fs::MetadataExt;
    let (me, owner) = (user_id(), metadata.uid());
    if owner != me {
        return Err(Refused::new(path, format!("it belongs to uid {owner}, not to this user ({me})")));
    }
    Ok(())
}

/// [`check_own`] for every directory or file below `top` on the way to
/// `path` (which starts with `top`), `path` included; missing ones are
/// skipped.
pub(crate) fn check_own_below(top: &Path, path: &Path) -> Result<(), Refused> {
    let below =
        path.strip_prefix(top).map_err(|_| Refused::new(path, format!("not in {}", top.display())))?;
    let mut current = top.to_path_buf();
    for component in below.components() {
        current.push(component);
        check_own(&current)?;
    }
    Ok(())
}

/// `symlink_metadata`, with a missing file as `None`.
#[cfg(unix)]
fn lstat(path: &Path) -> Result<Option<std::fs::Metadata>, Refused> {
    match std::fs::symlink_metadata(path) {
        Ok(metadata) => Ok(Some(metadata)),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(Refused::new(path, format!("cannot inspect it: {error}"))),
    }
}

#[cfg(not(unix))]
pub(crate) fn check_route(_path: &Path) -> Result<(), Refused> {
    Ok(())
}

#[cfg(not(unix))]
pub(crate) fn check_owner(_path: &Path, _metadata: &std::fs::Metadata) -> Result<(), Refused> {
    Ok(())
}

#[cfg(not(unix))]
pub(crate) fn check_own(path: &Path) -> Result<Option<std::fs::Metadata>, Refused> {
    match std::fs::symlink_metadata(path) {
        Ok(metadata) => Ok(Some(metadata)),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(Refused::new(path, format!("cannot inspect it: {error}"))),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn set_mode(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    /// `create_dir_all`, mode 0755 whatever the umask.
    fn make_dirs(path: &Path) {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new().recursive(true).mode(0o755).create(path).unwrap();
    }

    /// A temporary directory only this user may write, whatever the umask.
    fn private_tempdir() -> tempfile::TempDir {
        let temp = tempfile::tempdir().unwrap();
        set_mode(temp.path(), 0o700);
        temp
    }

    #[test]
    fn a_private_route_passes_and_stops_at_what_is_missing() {
        let temp = private_tempdir();
        let dir = temp.path().join("a/b");
        make_dirs(&dir);
        assert_eq!(check_route(&dir.join("c/d")), Ok(()));
        assert_eq!(check_route(Path::new("/tmp")), Ok(()), "sticky");
    }

    #[test]
    fn an_open_directory_on_the_way_is_refused_even_through_a_link() {
        let temp = private_tempdir();
        let root = temp.path().canonicalize().unwrap();
        let open = root.join("open");
        make_dirs(&open.join("inner"));
        set_mode(&open, 0o777);
        let why = format!("{}: group or others may write it (mode 777) and it is not sticky", open.display());
        assert_eq!(check_route(&open.join("inner/x")).unwrap_err().to_string(), why);
        // Reached through a link, relative or absolute, and with `..`.
        std::os::unix::fs::symlink("open/inner", root.join("relative")).unwrap();
        std::os::unix::fs::symlink(open.join("inner"), root.join("absolute")).unwrap();
        for path in [root.join("relative/x"), root.join("absolute/x"), root.join("absolute/../inner")] {
            assert_eq!(check_route(&path).unwrap_err().to_string(), why, "{}", path.display());
        }
        set_mode(&open, 0o1777);
        assert_eq!(check_route(&root.join("relative/x")), Ok(()));
    }

    #[test]
    fn link_loops_end() {
        let temp = private_tempdir();
        std::os::unix::fs::symlink("loop", temp.path().join("loop")).unwrap();
        let error = check_route(&temp.path().join("loop/x")).unwrap_err();
        assert_eq!(error.reason, "too many levels of symbolic links");
    }

    #[test]
    fn own_files_must_be_this_users_and_closed_to_others() {
        let temp = private_tempdir();
        let file = temp.path().join("f");
        assert!(check_own(&file).unwrap().is_none());
        std::fs::write(&file, "x").unwrap();
        set_mode(&file, 0o644);
        assert!(check_own(&file).unwrap().is_some());
        set_mode(&file, 0o664);
        assert_eq!(check_own(&file).unwrap_err().reason, "group or others may write it (mode 664)");
        set_mode(&file, 0o644);
        std::os::unix::fs::chown(&file, Some(65534), None).expect("chown (this test needs root)");
        assert_eq!(
            check_own(&file).unwrap_err().reason,
            format!("it belongs to uid 65534, not to this user ({})", user_id())
        );
        let link = temp.path().join("link");
        std::os::unix::fs::symlink(temp.path(), &link).unwrap();
        assert_eq!(check_own(&link).unwrap_err().reason, "it is a symbolic link");
    }
}
