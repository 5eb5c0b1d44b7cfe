//! Unix domain sockets, as `tokio::net::unix`: the split halves of a
//! [`UnixStream`](crate::net::UnixStream), its peer's [`UCred`] and
//! [`SocketAddr`]. The sockets themselves are in [`crate::net`].

mod addr;
#[doc(hidden)]
pub mod datagram;
pub(crate) mod listener;
pub(crate) mod socket;
mod split;
mod split_owned;
pub(crate) mod stream;
mod ucred;

pub use addr::SocketAddr;
pub use split::{ReadHalf, WriteHalf};
pub use split_owned::{OwnedReadHalf, OwnedWriteHalf, ReuniteError};
pub use ucred::UCred;

/// A user ID.
#[allow(non_camel_case_types)]
pub type uid_t = u32;

/// A group ID.
#[allow(non_camel_case_types)]
pub type gid_t = u32;

/// A process or process group ID.
#[allow(non_camel_case_types)]
pub type pid_t = i32;
