//! AsyncFd over pipes and socketpairs, and waker ownership at the reactor.

use std::future::Future;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use tau::io::{AsyncFd, Interest};

fn pipe() -> (io::PipeReader, io::PipeWriter) {
    let (reader, writer) = io::pipe().unwrap();
    for fd in [reader.as_raw_fd(), writer.as_raw_fd()] {
        // SAFETY: valid fds owned by this test; F_SETFL only changes flags.
        let rc = unsafe { libc::fcntl(fd, libc::F_SETFL, libc::fcntl(fd, libc::F_GETFL) | libc::O_NONBLOCK) };
        assert_eq!(rc, 0);
    }
    (reader, writer)
}

fn poll_read_ready_once<T: AsRawFd>(fd: &AsyncFd<T>, waker: &Waker) -> Poll<()> {
    fd.poll_read_ready(&mut Context::from_waker(waker)).map(|guard| {
        guard.unwrap();
    })
}

#[tau::test]
async fn pipe_is_readable_after_a_write_and_pending_before() {
    let (reader, mut writer) = pipe();
    let fd = AsyncFd::with_interest(reader, Interest::READABLE).unwrap();
    assert_eq!(fd.interest(), Interest::READABLE);
    tau::task::yield_now().await; // let the reactor look once
    assert!(poll_read_ready_once(&fd, Waker::noop()).is_pending(), "nothing written yet");
    writer.write_all(b"ping").unwrap();
    let mut guard = fd.readable().await.unwrap();
    let mut buf = [0u8; 8];
    let read = guard.try_io(|fd| fd.get_ref().read(&mut buf)).unwrap().unwrap();
    assert_eq!(&buf[..read], b"ping");
    // Drained: the next read would block, which clears the readiness.
    assert!(guard.try_io(|fd| fd.get_ref().read(&mut buf)).is_err());
    assert!(poll_read_ready_once(&fd, Waker::noop()).is_pending());
}

#[tau::test]
async fn pipe_writer_is_writable() {
    let (_reader, writer) = pipe();
    let fd = AsyncFd::with_interest(writer, Interest::WRITABLE).unwrap();
    let mut guard = fd.writable().await.unwrap();
    let written = guard.try_io(|fd| fd.get_ref().write(b"x")).unwrap().unwrap();
    assert_eq!(written, 1);
}

#[tau::test]
async fn socketpair_round_trip_both_ways() {
    let (left, right) = UnixStream::pair().unwrap();
    left.set_nonblocking(true).unwrap();
    right.set_nonblocking(true).unwrap();
    let left = AsyncFd::new(left).unwrap();
    let right = AsyncFd::new(right).unwrap();
    left.writable().await.unwrap();
    left.get_ref().write_all(b"hello").unwrap();
    let mut buf = [0u8; 16];
    let read = right.async_io(Interest::READABLE, |stream| (&*stream).read(&mut buf)).await.unwrap();
    assert_eq!(&buf[..read], b"hello");
    right.get_ref().write_all(b"back").unwrap();
    let read = left.async_io(Interest::READABLE, |stream| (&*stream).read(&mut buf)).await.unwrap();
    assert_eq!(&buf[..read], b"back");
}

#[tau::test]
async fn clear_read_ready_waits_for_the_next_event() {
    let (left, right) = UnixStream::pair().unwrap();
    right.set_nonblocking(true).unwrap();
    let fd = AsyncFd::new(right).unwrap();
    (&left).write_all(b"1").unwrap();
    fd.readable().await.unwrap();
    let mut buf = [0u8; 4];
    assert_eq!(fd.get_ref().read(&mut buf).unwrap(), 1);
    fd.clear_read_ready();
    assert!(poll_read_ready_once(&fd, Waker::noop()).is_pending());
    let writer = tau::spawn(async move {
        tau::task::yield_now().await;
        (&left).write_all(b"2").unwrap();
        left
    });
    fd.readable().await.unwrap();
    assert_eq!(fd.get_ref().read(&mut buf).unwrap(), 1);
    assert_eq!(buf[0], b'2');
    drop(writer.await.unwrap());
}

#[tau::test]
async fn drop_deregisters_so_the_fd_can_be_registered_again() {
    let (left, _right) = UnixStream::pair().unwrap();
    let raw = left.as_raw_fd();
    let first = AsyncFd::new(raw).unwrap();
    let twice = AsyncFd::new(raw).unwrap_err();
    assert_eq!(twice.raw_os_error(), Some(libc::EEXIST), "already registered: {twice}");
    drop(first);
    let again = AsyncFd::new(raw).expect("registered again after drop");
    assert_eq!(again.as_raw_fd(), raw);
    let inner = again.into_inner();
    assert_eq!(inner, raw);
    assert!(AsyncFd::new(raw).is_ok(), "into_inner deregistered too");
}

/// Moves a fresh socket to `number`, far above the fds other tests (running in
/// parallel) get, so that once closed nobody reuses the number during the test.
fn socket_at(number: i32) -> OwnedFd {
    let (left, _right) = UnixStream::pair().unwrap();
    // SAFETY: dup2 onto an unused high number; we own the result.
    let fd = unsafe { libc::dup2(left.as_raw_fd(), number) };
    assert_eq!(fd, number);
    // SAFETY: `fd` is a valid fd we just made and own.
    unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) }
}

#[tau::test]
async fn invalid_or_closed_fds_are_errors() {
    let error = AsyncFd::new(-1).unwrap_err();
    assert_eq!(error.raw_os_error(), Some(libc::EBADF));
    let socket = socket_at(901);
    let closed = socket.as_raw_fd();
    drop(socket);
    let error = AsyncFd::new(closed).unwrap_err();
    assert_eq!(error.raw_os_error(), Some(libc::EBADF));
    assert_eq!(tau::runtime::Handle::current().metrics().num_io_registrations(), 0);
}

#[tau::test]
async fn owned_fd_is_closed_after_deregistration() {
    let owned = socket_at(902);
    let raw = owned.as_raw_fd();
    drop(AsyncFd::new(owned).unwrap());
    // SAFETY: fcntl on a closed fd only reports EBADF.
    assert_eq!(unsafe { libc::fcntl(raw, libc::F_GETFD) }, -1, "the OwnedFd closed it");
}

/// A waker that counts how often it is cloned, dropped and woken.
#[derive(Default)]
struct Counting {
    clones: AtomicUsize,
    drops: AtomicUsize,
    wakes: AtomicUsize,
}

struct CountingWaker(Arc<Counting>);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.wakes.fetch_add(1, Ordering::SeqCst);
    }
}

impl Drop for CountingWaker {
    fn drop(&mut self) {
        self.0.drops.fetch_add(1, Ordering::SeqCst);
    }
}

fn counting_waker(counts: &Arc<Counting>) -> Waker {
    counts.clones.fetch_add(1, Ordering::SeqCst);
    Waker::from(Arc::new(CountingWaker(Arc::clone(counts))))
}

#[tau::test]
async fn reactor_frees_each_waker_once_even_when_repolled_before_it_fires() {
    let first_counts = Arc::new(Counting::default());
    let second_counts = Arc::new(Counting::default());
    let (left, right) = UnixStream::pair().unwrap();
    right.set_nonblocking(true).unwrap();
    {
        let fd = AsyncFd::with_interest(right.as_raw_fd(), Interest::READABLE).unwrap();
        tau::task::yield_now().await;
        let first = counting_waker(&first_counts);
        assert!(poll_read_ready_once(&fd, &first).is_pending());
        drop(first);
        // Polled again with another waker before any event: the first is released.
        let second = counting_waker(&second_counts);
        assert!(poll_read_ready_once(&fd, &second).is_pending());
        drop(second);
        assert_eq!(first_counts.drops.load(Ordering::SeqCst), 1, "replaced waker freed");
        assert_eq!(second_counts.drops.load(Ordering::SeqCst), 0, "stored waker alive");
        (&left).write_all(b"!").unwrap();
        // Wait for the reactor without polling the fd (that would store our own waker).
        for _ in 0..1000 {
            if second_counts.wakes.load(Ordering::SeqCst) == 1 {
                break;
            }
            tau::task::yield_now().await;
        }
        assert_eq!(second_counts.wakes.load(Ordering::SeqCst), 1, "event woke the stored waker");
        assert!(poll_read_ready_once(&fd, Waker::noop()).is_ready());
    }
    assert_eq!(first_counts.wakes.load(Ordering::SeqCst), 0);
    assert_eq!(second_counts.drops.load(Ordering::SeqCst), 1, "woken waker freed once");
}

#[tau::test]
async fn stored_waker_is_freed_when_the_fd_is_dropped() {
    let counts = Arc::new(Counting::default());
    let (_left, right) = UnixStream::pair().unwrap();
    let fd = AsyncFd::with_interest(right.as_raw_fd(), Interest::READABLE).unwrap();
    tau::task::yield_now().await;
    let waker = counting_waker(&counts);
    assert!(poll_read_ready_once(&fd, &waker).is_pending());
    drop(waker);
    assert_eq!(counts.drops.load(Ordering::SeqCst), 0);
    drop(fd);
    assert_eq!(counts.drops.load(Ordering::SeqCst), 1);
    assert_eq!(counts.wakes.load(Ordering::SeqCst), 0);
}

#[tau::test]
async fn make_ffi_waker_round_trips_a_foreign_waker() {
    let counts = Arc::new(Counting::default());
    let waker = counting_waker(&counts);
    let cx = Context::from_waker(&waker);
    let ffi = tau::io::make_ffi_waker(&cx);
    let copy = ffi.clone();
    ffi.wake_by_ref();
    ffi.wake();
    drop(copy);
    drop(waker);
    assert_eq!(counts.wakes.load(Ordering::SeqCst), 2);
    assert_eq!(counts.drops.load(Ordering::SeqCst), 1, "the Arc'd waker is dropped once at the end");
}

#[tau::test]
async fn make_ffi_waker_of_a_task_waker_wakes_the_task() {
    let mut woken = false;
    let mut once = pin!(std::future::poll_fn(|cx| {
        if woken {
            return Poll::Ready(());
        }
        woken = true;
        tau::io::make_ffi_waker(cx).wake();
        Poll::Pending
    }));
    // Completes only if the FFI waker scheduled this future again.
    (&mut once).await;
    let _ = once.as_mut().poll(&mut Context::from_waker(Waker::noop()));
}

/// Issue 11, item 4: once its runtime is gone, an `AsyncFd` reports an
/// error instead of being ready forever (which made callers spin).
#[test]
fn an_async_fd_of_a_runtime_that_is_gone_reports_an_error() {
    let runtime = tau::runtime::Runtime::new().unwrap();
    let (_peer, socket) = UnixStream::pair().unwrap();
    socket.set_nonblocking(true).unwrap();
    let fd = runtime.block_on(async { AsyncFd::new(socket).unwrap() });
    drop(runtime);
    let other = tau::runtime::Runtime::new().unwrap();
    let error = other.block_on(async { fd.readable().await.map(drop).unwrap_err() });
    assert_eq!(error.kind(), io::ErrorKind::Other);
    assert!(error.to_string().contains("after its runtime went away"), "{error}");
    assert!(
        other.block_on(async { AsyncFd::new(UnixStream::pair().unwrap().0) }).is_ok(),
        "the other runtime is unaffected"
    );
    drop(fd); // and dropping it is fine
}

/// A direction the reactor saw closed for good says so, and stays ready
/// through clears (no later event would come); an open one does not.
#[tau::test]
async fn a_hung_up_pipe_reads_as_closed_through_clears() {
    let (reader, mut writer) = pipe();
    let fd = AsyncFd::with_interest(reader, Interest::READABLE).unwrap();
    writer.write_all(b"x").unwrap();
    let mut guard = fd.readable().await.unwrap();
    assert!(!guard.is_closed(), "the writer is still open");
    let mut buf = [0u8; 8];
    assert_eq!(guard.try_io(|fd| fd.get_ref().read(&mut buf)).unwrap().unwrap(), 1);
    assert!(guard.try_io(|fd| fd.get_ref().read(&mut buf)).is_err(), "drained: WouldBlock clears");
    drop(writer);
    let mut guard = fd.readable().await.unwrap();
    assert!(guard.is_closed(), "the writer hung up");
    guard.clear_ready();
    let guard = fd.readable().await.unwrap();
    assert!(guard.is_closed(), "still closed after a clear");
    assert_eq!(fd.get_ref().read(&mut buf).unwrap(), 0, "the end of stream");
}

#[tau::test]
async fn read_ready_now_spends_no_budget_and_leaves_a_waiting_tasks_waker() {
    let (reader, mut writer) = pipe();
    let fd = Arc::new(AsyncFd::with_interest(reader, Interest::READABLE).unwrap());
    let waiter = tau::spawn({
        let fd = fd.clone();
        async move {
            let _ready = fd.readable().await.unwrap();
        }
    });
    tau::task::yield_now().await; // the waiter waits, its waker stored
    assert!(fd.read_ready_now().is_pending(), "nothing written");
    writer.write_all(b"x").unwrap();
    waiter.await.unwrap(); // woken: the look above stored nothing over its waker

    // A thousand looks in one poll: none is refused for a spent budget.
    for _ in 0..1000 {
        assert!(fd.read_ready_now().is_ready());
    }
}
