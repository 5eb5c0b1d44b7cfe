use std::io;
use std::os::fd::AsRawFd;

use super::{gid_t, pid_t, uid_t};

/// The credentials of the process on the other end of a [`UnixStream`],
/// as `tokio::net::unix::UCred`: see [`UnixStream::peer_cred`].
///
/// [`UnixStream`]: crate::net::UnixStream
/// [`UnixStream::peer_cred`]: crate::net::UnixStream::peer_cred
#[derive(Copy, Clone, Eq, PartialEq, Hash, Debug)]
pub struct UCred {
    pid: Option<pid_t>,
    uid: uid_t,
    gid: gid_t,
}

impl UCred {
    /// The process's user ID.
    pub fn uid(&self) -> uid_t {
        self.uid
    }

    /// The process's group ID.
    pub fn gid(&self) -> gid_t {
        self.gid
    }

    /// The process's ID: known on Linux and Android (`SO_PEERCRED`), `None`
    /// where only `getpeereid(3)` is used.
    pub fn pid(&self) -> Option<pid_t> {
        self.pid
    }
}

/// The credentials the kernel recorded for `socket`'s peer when it
/// connected (or when the pair was made): `SO_PEERCRED`.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn peer_cred(socket: &impl AsRawFd) -> io::Result<UCred> {
    let mut cred = libc::ucred { pid: 0, uid: 0, gid: 0 };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: `cred` and `len` are valid for writes and `len` is the size of
    // `cred`, so the kernel writes within it; a bad fd is an error return.
    let result = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    if result != 0 {
        return Err(io::Error::last_os_error());
    }
    if len as usize != std::mem::size_of::<libc::ucred>() {
        return Err(io::Error::other("SO_PEERCRED returned a truncated ucred"));
    }
    Ok(UCred { pid: Some(cred.pid), uid: cred.uid, gid: cred.gid })
}

/// The peer's effective user and group IDs: `getpeereid(3)`.
#[cfg(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "tvos",
    target_os = "watchos",
    target_os = "visionos",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "netbsd",
    target_os = "dragonfly",
))]
pub(crate) fn peer_cred(socket: &impl AsRawFd) -> io::Result<UCred> {
    let mut uid: libc::uid_t = 0;
    let mut gid: libc::gid_t = 0;
    // SAFETY: `uid` and `gid` are valid for writes of their types; a bad fd
    // is an error return.
    if unsafe { libc::getpeereid(socket.as_raw_fd(), &mut uid, &mut gid) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(UCred { pid: None, uid, gid })
}

/// No way to ask for the peer's credentials on this platform.
#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "ios",
    target_os = "tvos",
    target_os = "watchos",
    target_os = "visionos",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "netbsd",
    target_os = "dragonfly",
)))]
pub(crate) fn peer_cred(_socket: &impl AsRawFd) -> io::Result<UCred> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "peer credentials are not supported on this platform"))
}
