//! A revoke on its way and a reused fd number. On its own in this test
//! binary: the test relies on the kernel handing out the lowest free fd
//! number, which other tests opening fds at the same time would take.

use tau_rt::abi::{RuntimeTable, POLL_READY};
use tau_rt::Runtime;

mod common;

use common::{drive, tau_park_waker};

/// A fd of a scope whose revoke is on its way (queued for the driver, not
/// yet run) is deregistered and closed on the driver; the fd
/// number goes to a new registration through another table; then the
/// revoke runs. The revoke must not take the new registration out of the
/// poller (before, the deregistration through the revoked scope was
/// skipped, and the revoke's drain deleted the reused fd number).
#[test]
fn a_revoke_on_its_way_does_not_delete_a_reused_fd_number() {
    use std::os::fd::{AsRawFd, IntoRawFd};
    use std::os::unix::net::UnixStream;

    let runtime = Runtime::new().unwrap();
    let scope = std::sync::Arc::new(runtime.scope(9));
    let main = runtime.table();
    let plugin: *const RuntimeTable = scope.table();
    let (peer, socket) = UnixStream::pair().unwrap();
    socket.set_nonblocking(true).unwrap();
    let number = socket.into_raw_fd();
    let park = tau_park_waker();

    let mut revoker = None;
    let mut reused = None;
    let mut step = 0;
    drive(main, || {
        // SAFETY (all table calls): the tables are alive; out-pointers and wakers are valid.
        unsafe {
            if step == 0 {
                let mut key = 0;
                assert_eq!(
                    ((*plugin).io_register)((*plugin).rt, number, tau_rt::abi::INTEREST_READ, &mut key),
                    0
                );
                // Revoked only now that the fd is registered, and within
                // one poll, so the revoke's work (queued for this driver)
                // cannot have run yet.
                let revoking = std::sync::Arc::clone(&scope);
                revoker = Some(std::thread::spawn(move || revoking.revoke()));
                let mut metrics = tau_rt::abi::RuntimeMetrics::default();
                while metrics.remote_queue_depth == 0 {
                    std::thread::yield_now();
                    (main.metrics)(main.rt, &mut metrics);
                }
                assert!(!scope.is_revoked(), "marked by the driver, as it cancels");
                assert_eq!(((*plugin).io_deregister)((*plugin).rt, key, number), 0);
                libc::close(number);
                let (writer, reader) = UnixStream::pair().unwrap();
                let (writer, reader) =
                    if reader.as_raw_fd() == number { (writer, reader) } else { (reader, writer) };
                assert_eq!(reader.as_raw_fd(), number, "the fd number is reused");
                reader.set_nonblocking(true).unwrap();
                let mut key = 0;
                assert_eq!((main.io_register)(main.rt, number, tau_rt::abi::INTEREST_READ, &mut key), 0);
                reused = Some((key, reader, writer));
                step = 1;
                return false;
            }
            let (key, _, writer) = reused.as_ref().unwrap();
            if step == 1 {
                if !scope.is_revoked() || scope.alive_tasks() != 0 {
                    return false;
                }
                std::io::Write::write_all(&mut &*writer, b"x").unwrap();
                step = 2;
            }
            (main.io_poll_ready)(main.rt, *key, tau_rt::abi::INTEREST_READ, &park) == POLL_READY
        }
    });
    revoker.expect("the revoke started").join().unwrap();
    drop(peer);
}
