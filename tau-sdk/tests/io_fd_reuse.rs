//! An `AsyncFd` dropped on another thread, and the fd number it leaves
//! free taken by a new registration. On its own in this test binary: the
//! test relies on the kernel handing out the lowest free fd number, which
//! other tests opening fds at the same time would take.

use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;

use tau::io::{AsyncFd, Interest};

/// Issue 11, item 11: an `AsyncFd` dropped on another thread takes its fd
/// out of the poller there, before the fd closes, and its reactor entry goes
/// too; a new registration that reuses the fd number works.
#[tau::test]
async fn an_async_fd_dropped_on_another_thread_leaves_no_entry_and_a_reused_fd_number_works() {
    let metrics = || tau::runtime::Handle::current().metrics().num_io_registrations();
    let (_peer, socket) = UnixStream::pair().unwrap();
    socket.set_nonblocking(true).unwrap();
    let number = socket.as_raw_fd();
    let registered = AsyncFd::new(socket).unwrap();
    assert_eq!(metrics(), 1);
    std::thread::spawn(move || drop(registered)).join().unwrap(); // deregisters and closes `number`
    tau::task::yield_now().await; // the driver takes in the rest of the deregistration
    assert_eq!(metrics(), 0, "no entry is left behind");

    // The lowest free fd number is the one just closed.
    let (writer, reader) = UnixStream::pair().unwrap();
    let (writer, reader) = if reader.as_raw_fd() == number { (writer, reader) } else { (reader, writer) };
    assert_eq!(reader.as_raw_fd(), number, "the fd number is reused");
    reader.set_nonblocking(true).unwrap();
    let reused = AsyncFd::with_interest(reader, Interest::READABLE).unwrap();
    tau::task::yield_now().await;
    (&writer).write_all(b"x").unwrap();
    let ready = tau::time::timeout(std::time::Duration::from_secs(5), reused.readable()).await;
    assert!(ready.is_ok(), "the new registration of the reused number still reports readiness");
    assert_eq!(metrics(), 1);
}
