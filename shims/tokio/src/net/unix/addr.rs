use std::fmt;
use std::io;
use std::path::Path;

use socket2::SockAddr;

/// The address of a Unix socket, as `tokio::net::unix::SocketAddr`: a thin
/// wrapper of [`std::os::unix::net::SocketAddr`], convertible both ways with
/// [`From`].
#[derive(Clone)]
pub struct SocketAddr(pub(crate) std::os::unix::net::SocketAddr);

impl SocketAddr {
    /// Whether the address is unnamed (an unbound socket's).
    pub fn is_unnamed(&self) -> bool {
        self.0.is_unnamed()
    }

    /// The path, if this is a pathname address.
    pub fn as_pathname(&self) -> Option<&Path> {
        self.0.as_pathname()
    }

    /// The name, if this is an address in Linux's abstract namespace.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn as_abstract_name(&self) -> Option<&[u8]> {
        #[cfg(target_os = "android")]
        use std::os::android::net::SocketAddrExt;
        #[cfg(target_os = "linux")]
        use std::os::linux::net::SocketAddrExt;
        self.0.as_abstract_name()
    }

    /// The address for `bind(2)`/`connect(2)`.
    pub(crate) fn to_sock_addr(&self) -> io::Result<SockAddr> {
        if let Some(path) = self.as_pathname() {
            return sock_addr(path);
        }
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if let Some(name) = self.as_abstract_name() {
            use std::os::unix::ffi::OsStrExt;
            let mut path = Vec::with_capacity(name.len() + 1);
            path.push(0);
            path.extend_from_slice(name);
            return sock_addr(Path::new(std::ffi::OsStr::from_bytes(&path)));
        }
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "an unnamed Unix socket address cannot be bound or connected to",
        ))
    }
}

/// The address of the socket at `path`; on Linux a path starting with a NUL
/// byte names the rest in the abstract namespace, as in tokio's `bind` and
/// `connect`.
pub(crate) fn sock_addr(path: &Path) -> io::Result<SockAddr> {
    SockAddr::unix(path)
}

impl fmt::Debug for SocketAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl From<std::os::unix::net::SocketAddr> for SocketAddr {
    fn from(address: std::os::unix::net::SocketAddr) -> SocketAddr {
        SocketAddr(address)
    }
}

impl From<SocketAddr> for std::os::unix::net::SocketAddr {
    fn from(address: SocketAddr) -> std::os::unix::net::SocketAddr {
        address.0
    }
}
