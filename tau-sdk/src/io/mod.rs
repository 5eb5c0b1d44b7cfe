//! IO readiness on the shared reactor.

pub(crate) mod async_fd;
mod interest;

pub use crate::ffi_waker::{make_ffi_waker, FfiWaker};
pub use async_fd::{is_runtime_gone, AsyncFd, AsyncFdReadyGuard, TryIoError};
pub use interest::Interest;
