//! The terminal's owner (`tau::tty`) on a pseudo-terminal, each test on a
//! runtime of its own.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::mpsc;
use std::time::Duration;

use tau::io::{AsyncFd, Interest};
use tau::tty::Tty;

#[path = "../../tau-rt/tests/support/pty.rs"]
mod pty;
use pty::{type_bytes, Pty};

/// Runs `future` on a runtime of its own, driven by this thread (the
/// embedded runtime is one for the process, and the tests run at once).
fn on_own_runtime<F: std::future::Future>(future: F) -> F::Output {
    tau::runtime::Runtime::new().unwrap().block_on(future)
}

/// Reads `tty` until its end or an error, waiting on the reactor as
/// crossterm does; returns how many bytes it got.
async fn read_until_closed(tty: Tty, watch: AsyncFd<OwnedFd>) -> usize {
    let mut total = 0;
    let mut buf = [0u8; 64];
    loop {
        match tty.try_read(&mut buf) {
            Ok(0) => return total,
            Ok(count) => total += count,
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {
                std::future::poll_fn(|cx| {
                    if tty.poll_buffered(cx).is_ready() {
                        return std::task::Poll::Ready(());
                    }
                    watch.poll_read_ready(cx).map(|ready| {
                        if let Ok(mut guard) = ready {
                            guard.clear_ready();
                        }
                    })
                })
                .await
            }
            Err(_) => return total, // EIO: the pty was hung up
        }
    }
}

/// Issue 25, item 8: another reader of the same tty (a blocking `read(2)`,
/// as `tau run`'s `read_line` did) takes the bytes the owner's readiness
/// announced. The owner must then find nothing, not wait in `read(2)` on
/// the runtime's thread: a 10 ms timer keeps firing after every byte.
#[test]
fn a_competing_blocking_reader_never_freezes_the_runtime() {
    let pty = Pty::open();
    let (ticks, ticked) = mpsc::channel();
    let terminal = pty.terminal.try_clone().unwrap();
    let driver = std::thread::spawn(move || {
        on_own_runtime(async move {
            let tty = Tty::subscribe(terminal.as_fd()).unwrap();
            tty.set_raw_mode(true).unwrap(); // bytes pass one by one
            let watch = AsyncFd::with_interest(terminal.try_clone().unwrap(), Interest::READABLE).unwrap();
            tau::spawn(async move {
                loop {
                    tau::time::sleep(Duration::from_millis(10)).await;
                    if ticks.send(()).is_err() {
                        return;
                    }
                }
            });
            read_until_closed(tty, watch).await
        })
    });
    // The competitor: blocking reads of the same tty, one byte at a time.
    let competitor_fd = pty.terminal.try_clone().unwrap();
    let competitor = std::thread::spawn(move || {
        let mut total = 0;
        let mut byte = [0u8; 1];
        // SAFETY: `byte` is valid for one byte; the fd is ours.
        while unsafe { libc::read(competitor_fd.as_raw_fd(), byte.as_mut_ptr().cast(), 1) } == 1 {
            total += 1;
        }
        total
    });
    let controller = std::cell::RefCell::new(Some(pty.controller));
    let wait_tick = |after: usize| {
        if ticked.recv_timeout(Duration::from_secs(10)).is_err() {
            // Unblock whoever waits in read(2) before failing: a hang-up.
            controller.borrow_mut().take();
            panic!("the runtime froze after byte {after}: its 10 ms timer did not fire in 10 s");
        }
    };
    wait_tick(0);
    const BYTES: usize = 300;
    for index in 1..=BYTES {
        type_bytes(controller.borrow().as_ref().unwrap(), b"k");
        while ticked.try_recv().is_ok() {}
        // Two ticks: one could have been due before the byte came.
        wait_tick(index);
        wait_tick(index);
    }
    controller.borrow_mut().take(); // a hang-up: both readers end
    let (owner_got, competitor_got) = (driver.join().unwrap(), competitor.join().unwrap());
    // Every byte went to one of the two (the kernel splits them; only the
    // owner's subscribers share).
    assert_eq!(owner_got + competitor_got, BYTES, "owner {owner_got}, competitor {competitor_got}");
}

/// Two `TtyReader`s wait on the reactor; what is typed reaches both, whole,
/// whichever drained the tty (the other is woken by the owner).
#[test]
fn two_readers_each_get_every_byte_waiting_on_the_reactor() {
    let pty = Pty::open();
    let terminal = pty.terminal.try_clone().unwrap();
    let (typed, type_now) = mpsc::channel::<()>();
    let typist = std::thread::spawn(move || {
        type_now.recv().unwrap();
        type_bytes(&pty.controller, b"hello\x1b[D");
        pty // kept open until the readers are done
    });
    let (first, second) = on_own_runtime(async move {
        let first = tau::tty::TtyReader::subscribe(terminal.as_fd()).unwrap();
        let second = tau::tty::TtyReader::subscribe(terminal.as_fd()).unwrap();
        first.tty().set_raw_mode(true).unwrap(); // bytes pass at once
        let read_all = |reader: tau::tty::TtyReader| async move {
            let mut got = Vec::new();
            let mut buf = [0u8; 3]; // small: several reads
            while got.len() < 8 {
                let count = reader.read(&mut buf).await.unwrap();
                assert_ne!(count, 0, "an end of file");
                got.extend_from_slice(&buf[..count]);
            }
            got
        };
        let (first, second) = (tau::spawn(read_all(first)), tau::spawn(read_all(second)));
        typed.send(()).unwrap();
        let first = tau::time::timeout(Duration::from_secs(10), first).await;
        let second = tau::time::timeout(Duration::from_secs(10), second).await;
        (
            first.expect("the first reader waited 10 s").unwrap(),
            second.expect("the second waited 10 s").unwrap(),
        )
    });
    drop(typist.join().unwrap());
    assert_eq!(first, b"hello\x1b[D");
    assert_eq!(second, b"hello\x1b[D");
}
