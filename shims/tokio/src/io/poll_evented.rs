//! The reactor registration every socket type is built on: tau's `AsyncFd`
//! for the raw fd, polled per direction, with tokio's budget at each ready
//! operation.
//!
//! tau's reactor keeps one waker per direction of a registration. tokio
//! wakes *every* task waiting on a direction (fifty tasks may `accept` on
//! one `Arc<TcpListener>`, or `recv` on one `Arc<UdpSocket>`). While one
//! task waits, the reactor holds that task's own waker; when a second one
//! comes, the registration hands the reactor a waker of its own that wakes
//! all of them, and goes back to the direct waker once they were woken.

use std::future::poll_fn;
use std::io;
use std::os::fd::RawFd;
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll, Wake, Waker};

use super::{Interest, Ready};

pub(crate) struct Registration {
    fd: tau::io::AsyncFd<RawFd>,
    /// Read, then write: what the reactor wakes, and who is waiting.
    directions: [Direction; 2],
    /// Readiness known without the reactor (a fresh socket pair is
    /// writable, an accepted stream is taken as both), per direction bit
    /// (1 read, 2 write), until an operation's `WouldBlock` clears it or
    /// the reactor reports the direction ready itself.
    assumed: std::sync::atomic::AtomicU8,
}

struct Direction {
    fan_out: Waker,
    waiting: Arc<Waiting>,
}

/// The tasks of one direction: the one whose waker the reactor holds
/// directly, or those the fan-out wakes.
#[derive(Default)]
struct Waiting(Mutex<Waiters>);

#[derive(Default)]
struct Waiters {
    direct: Option<Waker>,
    fanned: Vec<Waker>,
}

impl Wake for Waiting {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let fanned = std::mem::take(&mut self.0.lock().unwrap_or_else(|poison| poison.into_inner()).fanned);
        for waker in fanned {
            waker.wake();
        }
    }
}

impl Direction {
    fn new() -> Direction {
        let waiting = Arc::new(Waiting::default());
        Direction { fan_out: Waker::from(waiting.clone()), waiting }
    }

    /// Polls `poll` with the caller's waker while it is the only waiter,
    /// else with the fan-out waker after queueing every waiter.
    fn poll<T>(
        &self,
        caller: &Waker,
        mut poll: impl FnMut(&mut Context<'_>) -> Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        let mut waiters = self.waiting.0.lock().unwrap_or_else(|poison| poison.into_inner());
        let alone = waiters.fanned.is_empty()
            && waiters.direct.as_ref().is_none_or(|direct| direct.will_wake(caller));
        if alone {
            let polled = poll(&mut Context::from_waker(caller));
            if polled.is_pending() && waiters.direct.is_none() {
                waiters.direct = Some(caller.clone());
            }
            return polled;
        }
        // A second waiter: from now until the wake, the reactor wakes the
        // fan-out, which wakes them all (the direct one included).
        let direct = waiters.direct.take();
        for waker in direct.iter().chain(std::iter::once(caller)) {
            if !waiters.fanned.iter().any(|queued| queued.will_wake(waker)) {
                waiters.fanned.push(waker.clone());
            }
        }
        drop(waiters);
        poll(&mut Context::from_waker(&self.fan_out))
    }
}

impl Registration {
    /// Registers `fd`, which the caller keeps open until this is dropped.
    #[track_caller]
    pub(crate) fn new(fd: RawFd, interest: Interest) -> io::Result<Registration> {
        crate::runtime::expect_io_enabled();
        Ok(Registration {
            fd: tau::io::AsyncFd::with_interest(fd, interest.to_tau())?,
            directions: [Direction::new(), Direction::new()],
            assumed: std::sync::atomic::AtomicU8::new(0),
        })
    }

    /// Treats the fd as writable until a write says otherwise, as tokio
    /// does for the ends of a fresh pair.
    pub(crate) fn assume_writable(&self) {
        self.assumed.fetch_or(2, std::sync::atomic::Ordering::AcqRel);
    }

    /// Treats the fd as readable and writable until operations say
    /// otherwise, as tokio does for an accepted stream.
    pub(crate) fn assume_ready(&self) {
        self.assumed.fetch_or(3, std::sync::atomic::Ordering::AcqRel);
    }

    fn assumed(&self, bit: u8) -> bool {
        self.assumed.load(std::sync::atomic::Ordering::Acquire) & bit != 0
    }

    /// The readiness of the direction `bit` (1 read, 2 write): whether it
    /// is closed for good, once ready. The reactor is asked even while the
    /// readiness is assumed, for it alone knows a closed direction; once it
    /// answers ready, the assumption has served.
    ///
    /// `caller` is the waker to wake once ready; `None` only looks: no
    /// waker is stored and no budget spent (tau's `read_ready_now`).
    fn poll_direction(&self, caller: Option<&Waker>, bit: u8, may_assume: bool) -> Poll<io::Result<bool>> {
        let polled = match caller {
            Some(caller) => self.directions[usize::from(bit == 2)].poll(caller, |cx| {
                let polled =
                    if bit == 1 { self.fd.poll_read_ready(cx) } else { self.fd.poll_write_ready(cx) };
                polled.map_ok(|guard| guard.is_closed())
            }),
            None => {
                let polled = if bit == 1 { self.fd.read_ready_now() } else { self.fd.write_ready_now() };
                polled.map_ok(|guard| guard.is_closed())
            }
        };
        match polled {
            Poll::Ready(Ok(closed)) => {
                self.assumed.fetch_and(!bit, std::sync::atomic::Ordering::AcqRel);
                Poll::Ready(Ok(closed))
            }
            Poll::Pending if may_assume && self.assumed(bit) => Poll::Ready(Ok(false)),
            other => other,
        }
    }

    /// Readiness in the directions of `interest` (`Ready` once any is
    /// ready), with `READ_CLOSED`/`WRITE_CLOSED` where the reactor saw the
    /// direction closed for good.
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, interest: Interest) -> Poll<io::Result<Ready>> {
        self.poll_ready_for(Some(cx.waker()), interest)
    }

    /// As [`poll_ready`](Self::poll_ready), for `caller` (`None`: looking
    /// without waiting).
    fn poll_ready_for(&self, caller: Option<&Waker>, interest: Interest) -> Poll<io::Result<Ready>> {
        let mut found = Ready::EMPTY;
        let directions = [
            (1, interest.waits_readable(), interest.is_readable(), Ready::READABLE, Ready::READ_CLOSED),
            (2, interest.is_writable(), true, Ready::WRITABLE, Ready::WRITE_CLOSED),
        ];
        for (bit, wanted, may_assume, ready, closed) in directions {
            if !wanted {
                continue;
            }
            match self.poll_direction(caller, bit, may_assume) {
                Poll::Ready(Ok(false)) => found |= ready,
                Poll::Ready(Ok(true)) => found |= ready | closed,
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Pending => {}
            }
        }
        if found.is_empty() {
            Poll::Pending
        } else {
            Poll::Ready(Ok(found))
        }
    }

    pub(crate) async fn readiness(&self, interest: Interest) -> io::Result<Ready> {
        poll_fn(|cx| self.poll_ready(cx, interest)).await
    }

    /// Forgets `ready` until the reactor reports it again.
    pub(crate) fn clear(&self, ready: Ready) {
        if ready.is_readable() || ready.is_priority() || ready.is_error() {
            self.assumed.fetch_and(!1, std::sync::atomic::Ordering::AcqRel);
            self.fd.clear_read_ready();
        }
        if ready.is_writable() {
            self.assumed.fetch_and(!2, std::sync::atomic::Ordering::AcqRel);
            self.fd.clear_write_ready();
        }
    }

    /// Forgets read readiness after a short read (see tau's
    /// `AsyncFd::clear_read_ready_drained`).
    pub(crate) fn clear_read_drained(&self) {
        self.assumed.fetch_and(!1, std::sync::atomic::Ordering::AcqRel);
        self.fd.clear_read_ready_drained();
    }

    /// Runs `f` once ready in `interest`'s direction, clearing the readiness
    /// and waiting again on `WouldBlock`. Spends a unit of the budget.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
        mut f: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let restore = ready!(tau::task::coop::poll_proceed(cx));
        loop {
            let ready = ready!(self.poll_ready(cx, interest))?;
            match f() {
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => self.clear(ready),
                result => {
                    restore.made_progress();
                    return Poll::Ready(result);
                }
            }
        }
    }

    /// Runs `f` if `interest` is ready now, as tokio's: else it is
    /// `WouldBlock` without calling `f`. On `f`'s `WouldBlock` the readiness
    /// it ran on is cleared.
    pub(crate) fn try_io<R>(&self, interest: Interest, f: impl FnOnce() -> io::Result<R>) -> io::Result<R> {
        let ready = match self.poll_ready_for(None, interest) {
            Poll::Ready(Ok(ready)) => ready,
            // The reactor cannot say (its runtime is gone, as tokio's shut
            // down driver, or this is not its thread): `f` finds out.
            Poll::Ready(Err(_)) => direction_ready(interest),
            Poll::Pending => return Err(io::ErrorKind::WouldBlock.into()),
        };
        let result = f();
        if matches!(&result, Err(error) if error.kind() == io::ErrorKind::WouldBlock) {
            self.clear(ready);
        }
        result
    }

    /// Waits for `interest` and runs `f` until it does not return `WouldBlock`.
    pub(crate) async fn async_io<R>(
        &self,
        interest: Interest,
        mut f: impl FnMut() -> io::Result<R>,
    ) -> io::Result<R> {
        poll_fn(|cx| self.poll_io(cx, interest, &mut f)).await
    }
}

/// A nonblocking std IO object registered with the reactor; the socket
/// types of `net` are one each. `io` is dropped (closing the fd) after the
/// registration is.
pub(crate) struct PollEvented<E: std::os::fd::AsRawFd> {
    registration: Registration,
    io: Option<E>,
}

impl<E: std::os::fd::AsRawFd> PollEvented<E> {
    /// Registers `io` (already nonblocking) for reads and writes.
    #[track_caller]
    pub(crate) fn new(io: E) -> io::Result<PollEvented<E>> {
        PollEvented::with_interest(io, Interest::READABLE | Interest::WRITABLE)
    }

    #[track_caller]
    pub(crate) fn with_interest(io: E, interest: Interest) -> io::Result<PollEvented<E>> {
        let registration = Registration::new(io.as_raw_fd(), interest)?;
        Ok(PollEvented { registration, io: Some(io) })
    }

    pub(crate) fn io(&self) -> &E {
        self.io.as_ref().expect("io taken")
    }

    pub(crate) fn registration(&self) -> &Registration {
        &self.registration
    }

    /// Leaves the reactor and gives the std object back.
    pub(crate) fn into_inner(mut self) -> E {
        self.io.take().expect("io taken")
    }

    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, interest: Interest) -> Poll<io::Result<Ready>> {
        self.registration.poll_ready(cx, interest)
    }

    pub(crate) async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        self.registration.readiness(interest).await
    }

    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
        mut f: impl FnMut(&E) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let io = self.io();
        self.registration.poll_io(cx, interest, || f(io))
    }

    pub(crate) fn try_io<R>(&self, interest: Interest, f: impl FnOnce(&E) -> io::Result<R>) -> io::Result<R> {
        let io = self.io();
        self.registration.try_io(interest, || f(io))
    }

    pub(crate) async fn async_io<R>(
        &self,
        interest: Interest,
        mut f: impl FnMut(&E) -> io::Result<R>,
    ) -> io::Result<R> {
        let io = self.io();
        self.registration.async_io(interest, || f(io)).await
    }
}

impl<E: std::os::fd::AsRawFd> PollEvented<E>
where
    for<'a> &'a E: io::Read + io::Write,
{
    /// `AsyncRead::poll_read` for a stream socket.
    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut upstream::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let wanted = buf.remaining();
        let read = ready!(self.poll_io(cx, Interest::READABLE, |mut io| {
            // SAFETY: `read` only writes initialised bytes into the slice it
            // is given, and we advance by exactly what it reports.
            let unfilled =
                unsafe { &mut *(buf.unfilled_mut() as *mut [std::mem::MaybeUninit<u8>] as *mut [u8]) };
            io::Read::read(&mut io, unfilled)
        }))?;
        // SAFETY: `read` bytes were written by the kernel.
        unsafe { buf.assume_init(read) };
        buf.advance(read);
        if read > 0 && read < wanted {
            // The receive buffer is empty: skip the read that would only
            // say `WouldBlock` (see `clear_read_ready_drained`), as tokio does.
            self.registration.clear_read_drained();
        }
        Poll::Ready(Ok(()))
    }

    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let written = ready!(self.poll_io(cx, Interest::WRITABLE, |mut io| io::Write::write(&mut io, buf)))?;
        if written > 0 && written < buf.len() {
            // The send buffer is full: the next write would say `WouldBlock`.
            self.registration.clear(Ready::WRITABLE);
        }
        Poll::Ready(Ok(written))
    }

    pub(crate) fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_io(cx, Interest::WRITABLE, |mut io| io::Write::write_vectored(&mut io, bufs))
    }
}

impl<E: std::os::fd::AsRawFd> Drop for PollEvented<E> {
    fn drop(&mut self) {
        // The registration (a field) drops first and leaves the reactor;
        // `io` closes the fd after. Nothing else to do: the order of the
        // fields is what matters, and this impl keeps it from changing by
        // accident (a `Drop` type cannot be destructured).
    }
}

/// The readiness `interest`'s directions stand for.
fn direction_ready(interest: Interest) -> Ready {
    let mut ready = Ready::EMPTY;
    if interest.waits_readable() {
        ready |= Ready::READABLE;
    }
    if interest.is_writable() {
        ready |= Ready::WRITABLE;
    }
    ready
}
