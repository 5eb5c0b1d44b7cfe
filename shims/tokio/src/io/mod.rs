//! IO, as `tokio::io`: upstream tokio's traits and io-util (`AsyncRead`,
//! `AsyncWrite`, `ReadBuf`, `BufReader`, `copy`, `split`, `duplex`, …),
//! plus what needs the reactor — [`unix::AsyncFd`], [`Interest`], [`Ready`]
//! and [`stdin`]/[`stdout`]/[`stderr`] — on tau's.
//!
//! ```
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! #[tokio::main]
//! async fn main() {
//!     let (mut client, mut server) = tokio::io::duplex(64);
//!     client.write_all(b"ping").await.unwrap();
//!     let mut buf = [0; 4];
//!     server.read_exact(&mut buf).await.unwrap();
//!     assert_eq!(&buf, b"ping");
//! }
//! # main();
//! ```

mod async_fd;
mod interest;
pub(crate) mod poll_evented;
mod ready;
mod stdio;

pub use interest::Interest;
pub use ready::Ready;
pub use stdio::{stderr, stdin, stdout, Stderr, Stdin, Stdout};
pub use upstream::io::*;

/// Unix-specific IO: readiness of any file descriptor, as `tokio::io::unix`.
pub mod unix {
    pub use super::async_fd::{
        AsyncFd, AsyncFdReadyGuard, AsyncFdReadyMutGuard, AsyncFdRegisterError, TryIoError,
    };

    /// The old name of [`AsyncFdRegisterError`].
    #[doc(hidden)]
    #[deprecated(note = "use `AsyncFdRegisterError` instead")]
    pub type AsyncFdTryNewError<T> = AsyncFdRegisterError<T>;
}
