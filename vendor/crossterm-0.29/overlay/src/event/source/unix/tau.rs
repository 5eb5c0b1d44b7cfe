//! tau: crossterm's Unix event source on tau's reactor, replacing
//! upstream's mio source. The tty is watched with a [`tau::io::AsyncFd`]
//! (a duplicate of crossterm's tty fd, so that two libraries can watch one
//! terminal) and `SIGWINCH` arrives through the host's signal facility
//! ([`tau::signal::unix`]): no thread, no handler of crossterm's own.
//!
//! The tty's bytes come from the process's one owner of the terminal
//! ([`tau::tty`], see `tau_tty.rs`): a read there drains the tty for every
//! plugin's crossterm, so each sees every key whole, exactly once. The
//! owner reads through a non-blocking file description of its own (the
//! shell's and the host's stay blocking): a read finds what is there or
//! nothing, and never waits.
//!
//! Waiting in the sync calls (`event::poll`, `event::read`,
//! `cursor::position`):
//! - on a thread that does not drive the runtime (a `spawn_blocking`
//!   closure, a thread of the plugin's own, the host's main thread when a
//!   server thread drives), the wait is a `tau::block_on` of the reactor's
//!   readiness: the runtime and every other plugin keep running;
//! - on the thread that drives the runtime (inside a task), nothing else
//!   can run until the call returns: the wait is a plain `poll(2)` of the
//!   tty for at most the caller's timeout (in slices of 50 ms, to see keys
//!   another plugin's thread read for this one), and a resize that arrives
//!   meanwhile is reported by the next call. Use `EventStream` in tasks.

use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tau::io::{AsyncFd, Interest};
use tau::signal::unix::{signal, Signal, SignalKind};
use tau::tty::Tty;

#[cfg(feature = "event-stream")]
use crate::event::sys::Waker;
use crate::event::{
    source::EventSource, sys::unix::parse::parse_event, timeout::PollTimeout, Event, InternalEvent,
};
use crate::terminal::sys::file_descriptor::{tty_fd, FileDesc};

/// What one read takes from the tty at most.
const TTY_BUFFER_SIZE: usize = 1_024;

/// The longest a sync wait on the runtime's thread sleeps in `poll(2)`
/// before it looks for keys another plugin's read left for this one.
const DRIVER_WAIT_SLICE: Duration = Duration::from_millis(50);

pub(crate) struct UnixInternalEventSource {
    parser: Parser,
    tty_buffer: [u8; TTY_BUFFER_SIZE],
    tty_fd: FileDesc<'static>,
    wakeup: Arc<Wakeup>,
    #[cfg(feature = "event-stream")]
    waker: Waker,
}

impl UnixInternalEventSource {
    pub fn new() -> io::Result<Self> {
        let made = tty_fd().and_then(UnixInternalEventSource::from_file_descriptor);
        if let Err(error) = &made {
            *INIT_ERROR.lock().unwrap_or_else(|poison| poison.into_inner()) = Some(if tty_fd().is_err() {
                format!(
                    "no terminal: stdin is not a tty and /dev/tty cannot be opened ({error}); \
                     run the program in a terminal"
                )
            } else {
                format!("the terminal cannot be watched: {error}")
            });
        }
        made
    }

    pub(crate) fn from_file_descriptor(input_fd: FileDesc<'static>) -> io::Result<Self> {
        Ok(UnixInternalEventSource {
            parser: Parser::default(),
            tty_buffer: [0u8; TTY_BUFFER_SIZE],
            wakeup: Wakeup::watch(input_fd.raw_fd())?,
            tty_fd: input_fd,
            #[cfg(feature = "event-stream")]
            waker: Waker::new(),
        })
    }

    #[cfg(feature = "event-stream")]
    fn take_woken(&self) -> bool {
        self.waker.take_woken()
    }

    #[cfg(not(feature = "event-stream"))]
    fn take_woken(&self) -> bool {
        false
    }

    /// Waits until the tty may be readable, a resize arrived, the waker
    /// was woken or `timeout` passed (see the module docs for where).
    fn wait(&self, timeout: Option<Duration>) -> io::Result<()> {
        if tau::__private::is_driving() {
            let slice = timeout.map_or(DRIVER_WAIT_SLICE, |timeout| timeout.min(DRIVER_WAIT_SLICE));
            return poll_readable(self.tty_fd.raw_fd(), Some(slice)).map(drop);
        }
        let wakeup = Arc::clone(&self.wakeup);
        #[cfg(feature = "event-stream")]
        let waker = self.waker.clone();
        let waited = on_runtime(async move {
            let mut deadline = pin!(async move {
                match timeout {
                    Some(timeout) => tau::time::sleep(timeout).await,
                    None => std::future::pending().await,
                }
            });
            poll_fn(|cx| {
                #[cfg(feature = "event-stream")]
                if waker.poll_woken(cx).is_ready() {
                    return Poll::Ready(Ok(()));
                }
                if let Poll::Ready(result) = wakeup.poll(cx) {
                    return Poll::Ready(result);
                }
                deadline.as_mut().poll(cx).map(Ok)
            })
            .await
        });
        // This wait took the tty's and the resize's one waker slot from an
        // `EventStream` that may wait too: wake it, so it registers again.
        self.wakeup.wake_stream();
        waited
    }
}

impl EventSource for UnixInternalEventSource {
    fn try_read(&mut self, timeout: Option<Duration>) -> io::Result<Option<InternalEvent>> {
        if let Some(event) = self.parser.next() {
            return Ok(Some(event));
        }
        let timeout = PollTimeout::new(timeout);
        loop {
            if self.take_woken() {
                return Err(io::Error::new(
                    io::ErrorKind::Interrupted,
                    "Poll operation was woken up by `Waker::wake`",
                ));
            }
            if self.wakeup.take_resize() {
                let (columns, rows) = crate::terminal::size()?;
                return Ok(Some(InternalEvent::Event(Event::Resize(columns, rows))));
            }
            match self.wakeup.terminal.try_read_at(&mut self.tty_buffer) {
                Ok((_, 0)) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the terminal was closed (end of file on the tty)",
                    ))
                }
                Ok((offset, count)) => {
                    self.parser.advance(&self.tty_buffer[..count], offset, count == TTY_BUFFER_SIZE);
                    if let Some(event) = self.parser.next() {
                        return Ok(Some(event));
                    }
                    continue;
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(error),
            }
            if timeout.elapsed() {
                return Ok(None);
            }
            self.wait(timeout.leftover())?;
        }
    }

    #[cfg(feature = "event-stream")]
    fn waker(&self) -> Waker {
        self.waker.clone()
    }
}

/// Why the last source could not be made (crossterm's reader reports it).
static INIT_ERROR: Mutex<Option<String>> = Mutex::new(None);

/// Why the event source could not be made, for crossterm's "Failed to
/// initialize input reader".
pub(crate) fn init_error() -> String {
    let error = INIT_ERROR.lock().unwrap_or_else(|poison| poison.into_inner());
    error.clone().unwrap_or_else(|| "the cause is unknown".to_string())
}

/// The reactor's view of the terminal: the tty's readiness, the keys
/// another plugin's read left for this one, and `SIGWINCH`. One per
/// library, shared by the event source and every `EventStream`.
pub(crate) struct Wakeup {
    /// This library's subscription to the terminal's owner.
    terminal: Arc<Tty>,
    tty: AsyncFd<OwnedFd>,
    resizes: Mutex<Resizes>,
    /// The waker of the last `EventStream` that went to sleep.
    stream: Mutex<Option<std::task::Waker>>,
}

struct Resizes {
    signal: Signal,
    pending: bool,
}

static WAKEUP: Mutex<Option<Arc<Wakeup>>> = Mutex::new(None);

impl Wakeup {
    /// The library's wakeup, made on first use for the tty `fd`.
    fn watch(fd: RawFd) -> io::Result<Arc<Wakeup>> {
        let mut slot = WAKEUP.lock().unwrap_or_else(|poison| poison.into_inner());
        if let Some(wakeup) = slot.as_ref() {
            return Ok(Arc::clone(wakeup));
        }
        let make = move || -> io::Result<Wakeup> {
            // SAFETY: `fd` is crossterm's open tty fd; F_DUPFD_CLOEXEC makes
            // a new fd that we own (or fails, -1).
            let duplicate = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
            if duplicate < 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: `duplicate` is a fresh fd owned by nothing else.
            let owned = unsafe { OwnedFd::from_raw_fd(duplicate) };
            let tty = AsyncFd::with_interest(owned, Interest::READABLE)?;
            let signal = signal(SignalKind::window_change())?;
            Ok(Wakeup {
                terminal: crate::tau_tty::tty()?,
                tty,
                resizes: Mutex::new(Resizes { signal, pending: false }),
                stream: Mutex::new(None),
            })
        };
        let wakeup =
            Arc::new(if tau::__private::is_driving() { make()? } else { on_runtime(async move { make() })? });
        *slot = Some(Arc::clone(&wakeup));
        Ok(wakeup)
    }

    /// The wakeup of the event reader, made if there is none yet.
    #[cfg(feature = "event-stream")]
    pub(crate) fn of_tty() -> io::Result<Arc<Wakeup>> {
        if let Some(wakeup) = WAKEUP.lock().unwrap_or_else(|poison| poison.into_inner()).as_ref() {
            return Ok(Arc::clone(wakeup));
        }
        Wakeup::watch(tty_fd()?.raw_fd())
    }

    /// Ready when the tty may have become readable (its readiness is then
    /// cleared: the next read through the owner finds out), another
    /// plugin's read left keys for this one, or a resize arrived; otherwise
    /// `cx` is woken when one of them happens.
    pub(crate) fn poll(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        {
            let mut resizes = self.resizes.lock().unwrap_or_else(|poison| poison.into_inner());
            if resizes.pending {
                return Poll::Ready(Ok(()));
            }
            if resizes.signal.poll_recv(cx).is_ready() {
                resizes.pending = true;
                return Poll::Ready(Ok(()));
            }
        }
        if self.terminal.poll_buffered(cx).is_ready() {
            return Poll::Ready(Ok(()));
        }
        match self.tty.poll_read_ready(cx) {
            Poll::Ready(Ok(mut guard)) => {
                guard.clear_ready();
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Remembers the waker of a stream going to sleep on [`poll`](Self::poll).
    #[cfg(feature = "event-stream")]
    pub(crate) fn park_stream(&self, waker: &std::task::Waker) {
        *self.stream.lock().unwrap_or_else(|poison| poison.into_inner()) = Some(waker.clone());
    }

    fn wake_stream(&self) {
        if let Some(waker) = self.stream.lock().unwrap_or_else(|poison| poison.into_inner()).take() {
            waker.wake();
        }
    }

    /// True once for each batch of `SIGWINCH` deliveries.
    fn take_resize(&self) -> bool {
        let mut resizes = self.resizes.lock().unwrap_or_else(|poison| poison.into_inner());
        let waker = std::task::Waker::noop();
        if resizes.signal.poll_recv(&mut Context::from_waker(waker)).is_ready() {
            resizes.pending = true;
        }
        std::mem::take(&mut resizes.pending)
    }
}

/// Runs `task` on the runtime's thread (the reactor is reached from there
/// only) and blocks this thread, which does not drive it, until it is done.
/// Outside any runtime the embedded one runs it, driven from here.
fn on_runtime<T: Send + 'static>(
    task: impl Future<Output = io::Result<T>> + Send + 'static,
) -> io::Result<T> {
    tau::block_on(async move { tau::spawn(task).await })
        .unwrap_or_else(|error| Err(io::Error::other(format!("the terminal's wait was cancelled: {error}"))))
}

/// `poll(2)` of `fd` for input: true if a read would not block. `None`
/// waits for ever; an interrupted wait counts as nothing to read.
fn poll_readable(fd: RawFd, timeout: Option<Duration>) -> io::Result<bool> {
    let millis = match timeout {
        None => -1,
        Some(timeout) => i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX),
    };
    let mut entry = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
    // SAFETY: `entry` is one valid pollfd for the duration of the call.
    let ready = unsafe { libc::poll(&mut entry, 1, millis) };
    if ready < 0 {
        let error = io::Error::last_os_error();
        return if error.kind() == io::ErrorKind::Interrupted { Ok(false) } else { Err(error) };
    }
    if entry.revents & libc::POLLNVAL != 0 {
        return Err(io::Error::from_raw_os_error(libc::EBADF));
    }
    Ok(ready > 0)
}

/// A query whose reply this library waits for: the terminal's bytes reach
/// every plugin's crossterm, so each sees the replies to the others'
/// queries too, and must not take one for the answer to its own.
pub(crate) enum Reply {
    /// `cursor::position()`: `ESC [ 6 n`.
    Position,
    /// `query_keyboard_enhancement_flags()`: `ESC [ ? u` then `ESC [ c`,
    /// answered by the flags (if supported) and the device attributes.
    Keyboard,
}

/// For each query sent and not answered yet, oldest first: the offset in
/// this library's stream of the terminal's bytes (see [`Tty::mark`]) where
/// its reply can begin. A reply that begins before is another's.
#[derive(Default)]
struct Queries {
    position: VecDeque<u64>,
    keyboard: VecDeque<u64>,
}

static QUERIES: Mutex<Queries> = Mutex::new(Queries { position: VecDeque::new(), keyboard: VecDeque::new() });

fn queries() -> std::sync::MutexGuard<'static, Queries> {
    QUERIES.lock().unwrap_or_else(|poison| poison.into_inner())
}

/// Called (by one-line edits of upstream) just before a query is written.
/// Without a terminal there is no mark: the query then fails as upstream's.
pub(crate) fn expect_reply(reply: Reply) {
    let Ok(mark) = crate::tau_tty::tty().and_then(|tty| tty.mark()) else { return };
    let mut queries = queries();
    match reply {
        Reply::Position => queries.position.push_back(mark),
        Reply::Keyboard => queries.keyboard.push_back(mark),
    }
}

/// False for a reply, beginning at `start` in the stream, to a query this
/// library did not send (another plugin's); a reply that is wanted counts
/// its query answered.
fn is_wanted(event: &InternalEvent, start: u64) -> bool {
    let mut queries = queries();
    let answers = |pending: &mut VecDeque<u64>, done: bool| {
        let wanted = pending.front().is_some_and(|mark| *mark <= start);
        if wanted && done {
            pending.pop_front();
        }
        wanted
    };
    match event {
        InternalEvent::CursorPosition(..) => answers(&mut queries.position, true),
        InternalEvent::KeyboardEnhancementFlags(_) => answers(&mut queries.keyboard, false),
        InternalEvent::PrimaryDeviceAttributes => answers(&mut queries.keyboard, true),
        InternalEvent::Event(_) => true,
    }
}

/// Bytes read from the tty, parsed into events one byte at a time (a
/// sequence may span reads; `more` says whether more bytes follow now).
#[derive(Debug, Default)]
struct Parser {
    pending: Vec<u8>,
    /// The offset in the stream of `pending`'s first byte.
    pending_start: u64,
    events: VecDeque<InternalEvent>,
}

impl Parser {
    /// Parses `bytes`, which begin at `offset` in the stream.
    fn advance(&mut self, bytes: &[u8], offset: u64, more: bool) {
        for (index, byte) in bytes.iter().enumerate() {
            if self.pending.is_empty() {
                self.pending_start = offset + index as u64;
            }
            self.pending.push(*byte);
            let more = more || index + 1 < bytes.len();
            match parse_event(&self.pending, more) {
                Ok(Some(event)) => {
                    if is_wanted(&event, self.pending_start) {
                        self.events.push_back(event);
                    }
                    self.pending.clear();
                }
                Ok(None) => {} // an incomplete sequence: wait for its next byte
                Err(_) => self.pending.clear(),
            }
        }
    }

    fn next(&mut self) -> Option<InternalEvent> {
        self.events.pop_front()
    }
}
