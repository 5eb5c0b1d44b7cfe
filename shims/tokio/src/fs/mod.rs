//! Files and directories, as `tokio::fs`: each operation is std's, run on
//! the runtime's blocking pool (`spawn_blocking`), never on the runtime's
//! thread — a slow disk or network filesystem stalls one pool thread, not
//! every task.
//!
//! ```
//! #[tokio::main]
//! async fn run() -> std::io::Result<()> {
//!     let dir = std::env::temp_dir().join(format!("tau-fs-doc-{}", std::process::id()));
//!     tokio::fs::create_dir_all(&dir).await?;
//!     let path = dir.join("greeting.txt");
//!     tokio::fs::write(&path, b"hello").await?;
//!     assert_eq!(tokio::fs::read_to_string(&path).await?, "hello");
//!     tokio::fs::remove_dir_all(&dir).await?;
//!     Ok(())
//! }
//! # run().unwrap();
//! ```
//!
//! [`File`] buffers: a write returns once its bytes are copied and is
//! written out by a pool job, so call [`flush`](crate::io::AsyncWriteExt::flush)
//! (or `sync_all`) to learn its outcome before dropping the file.

mod canonicalize;
mod copy;
mod create_dir;
mod create_dir_all;
mod dir_builder;
mod file;
mod file_times;
mod hard_link;
mod metadata;
mod open_options;
mod read;
mod read_dir;
mod read_link;
mod read_to_string;
mod remove_dir;
mod remove_dir_all;
mod remove_file;
mod rename;
mod set_permissions;
mod symlink;
mod symlink_metadata;
mod try_exists;
mod write;

use std::io;

pub use canonicalize::canonicalize;
pub use copy::copy;
pub use create_dir::create_dir;
pub use create_dir_all::create_dir_all;
pub use dir_builder::DirBuilder;
pub use file::File;
pub use file_times::FileTimes;
pub use hard_link::hard_link;
pub use metadata::metadata;
pub use open_options::OpenOptions;
pub use read::read;
pub use read_dir::{read_dir, DirEntry, ReadDir};
pub use read_link::read_link;
pub use read_to_string::read_to_string;
pub use remove_dir::remove_dir;
pub use remove_dir_all::remove_dir_all;
pub use remove_file::remove_file;
pub use rename::rename;
pub use set_permissions::set_permissions;
pub use symlink::symlink;
pub use symlink_metadata::symlink_metadata;
pub use try_exists::try_exists;
pub use write::write;

/// Runs `f` on the blocking pool and returns its result; a job that
/// panicked or was cancelled (its runtime shutting down) is an error of
/// kind `Other` saying so.
pub(crate) async fn asyncify<F, T>(f: F) -> io::Result<T>
where
    F: FnOnce() -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    match tau::task::spawn_blocking(f).await {
        Ok(result) => result,
        Err(error) => Err(io::Error::other(format!("background task failed: {error}"))),
    }
}
