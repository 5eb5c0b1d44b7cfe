//! TCP, as `tokio::net::tcp`: the split halves of a [`TcpStream`].

mod listener;
mod socket;
pub(crate) mod split;
mod stream;

pub use listener::TcpListener;
pub use socket::TcpSocket;
pub use split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
pub use stream::TcpStream;
