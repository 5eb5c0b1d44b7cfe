//! The process's terminal, owned by the host: one reader of the tty's
//! bytes and one keeper of its mode, however many plugin libraries (each
//! with its own copy of crossterm and of crossterm's statics) use it.
//!
//! Two libraries reading one tty would each take whatever bytes the kernel
//! had when they asked: an escape sequence split between them, a key seen
//! by one only. Two libraries saving "the mode before raw mode" would save
//! each other's raw mode and restore it. So plugins subscribe here through
//! the runtime table, and:
//!
//! - a read through any subscription drains the tty into the buffer of
//!   *every* subscription of that terminal, in order; each then reads its
//!   own buffer, so every subscriber sees every byte typed since it
//!   subscribed exactly once, and sequences whole. A subscriber whose
//!   bytes arrived through another's drain is woken;
//! - the owner reads the tty through a file description of its own, opened
//!   non-blocking (the shell's and the host's stay as they are): a read
//!   never waits, under the lock or on the runtime's thread, even when a
//!   reader outside the owner took the bytes its readiness announced;
//! - raw mode is on while any subscription of the terminal wants it: the
//!   mode before it is saved once, when the first one asks, and put back
//!   when the last one lets go, unsubscribes, or its scope is revoked (the
//!   plugin unloaded), and by an `atexit` hook when the process exits
//!   (`std::process::exit`, a return from `main`) with it still on. An
//!   abort (`SIGABRT`, `panic = "abort"`) or a fatal signal runs no hook:
//!   the terminal stays raw (`stty sane` puts it back).
//!
//! Wakers are cloned, woken and dropped outside the lock: a foreign
//! waker's code may call back in here.
//!
//! State is process-wide (like [`signal`](crate::signal)'s): a terminal is
//! the process's, whichever runtime or scope reaches it.

use std::collections::{BTreeMap, VecDeque};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::{Mutex, MutexGuard};

use crate::abi::FfiWaker;

/// Bytes kept for a subscriber that does not read them: past this, the
/// oldest go (a subscriber that stopped reading must not grow without end).
const BUFFER_LIMIT: usize = 64 * 1024;

/// What one `read(2)` of the tty takes at most.
const CHUNK: usize = 1024;

static OWNER: Mutex<Owner> =
    Mutex::new(Owner { next_key: 0, terminals: BTreeMap::new(), subscribers: BTreeMap::new() });

struct Owner {
    next_key: u64,
    /// By device number ([`device_of`]): each terminal once, whichever fd names it.
    terminals: BTreeMap<u64, Terminal>,
    subscribers: BTreeMap<u64, Subscriber>,
}

struct Terminal {
    /// The owner's own open file description of the tty, non-blocking.
    fd: OwnedFd,
    /// The mode before raw mode, while raw mode is on.
    saved: Option<libc::termios>,
}

struct Subscriber {
    device: u64,
    /// The scope it came through: revoking the scope ends it.
    scope: usize,
    wants_raw: bool,
    buffer: VecDeque<u8>,
    /// Bytes pushed to `buffer` since the subscription began (dropped ones
    /// too): the offset, in the subscriber's stream, of the next byte.
    delivered: u64,
    /// Where in the stream the tty gave an end of file not read yet:
    /// Ctrl-D in cooked mode (reading goes on after it), or a hang-up.
    ends: VecDeque<u64>,
    waker: Option<FfiWaker>,
}

impl Subscriber {
    /// The offset in the stream of the first byte of `buffer`.
    fn offset(&self) -> u64 {
        self.delivered - self.buffer.len() as u64
    }

    /// True if a read would return at once: bytes, or an end of file.
    fn has_news(&self) -> bool {
        !self.buffer.is_empty() || !self.ends.is_empty()
    }

    /// Takes what comes next into `buf` (not empty): bytes up to the next
    /// end of file, or that end (a count of 0). With the offset of the first.
    fn take(&mut self, buf: &mut [u8]) -> Option<(u64, usize)> {
        let offset = self.offset();
        if self.ends.front() == Some(&offset) {
            self.ends.pop_front();
            return Some((offset, 0));
        }
        if self.buffer.is_empty() {
            return None;
        }
        let before_end = self.ends.front().map_or(usize::MAX, |end| (end - offset) as usize);
        let count = self.buffer.len().min(buf.len()).min(before_end);
        for (slot, byte) in buf.iter_mut().zip(self.buffer.drain(..count)) {
            *slot = byte;
        }
        Some((offset, count))
    }

    /// Appends what one read of the tty gave (nothing: an end of file).
    fn push(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            // A hung-up tty reads 0 for ever: one end per run of them.
            if self.ends.back() != Some(&self.delivered) {
                self.ends.push_back(self.delivered);
            }
            return;
        }
        self.buffer.extend(bytes);
        self.delivered += bytes.len() as u64;
        let excess = self.buffer.len().saturating_sub(BUFFER_LIMIT);
        self.buffer.drain(..excess);
        // Ends among the bytes dropped go with them.
        let offset = self.offset();
        while self.ends.front().is_some_and(|end| *end < offset) {
            self.ends.pop_front();
        }
    }
}

fn lock() -> MutexGuard<'static, Owner> {
    OWNER.lock().unwrap_or_else(|poison| poison.into_inner())
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO)
}

/// Subscribes to the terminal `fd` refers to, for `scope`; returns the key,
/// or an errno (`ENOTTY` if `fd` is not a terminal).
pub(crate) fn subscribe(fd: RawFd, scope: usize) -> Result<u64, i32> {
    // SAFETY: `isatty` reads no memory of ours; a bad fd is an error.
    if unsafe { libc::isatty(fd) } != 1 {
        return Err(libc::ENOTTY);
    }
    let device = device_of(fd)?;
    let mut owner = lock();
    if let std::collections::btree_map::Entry::Vacant(entry) = owner.terminals.entry(device) {
        let fd = open_nonblocking(fd, device)?;
        entry.insert(Terminal { fd, saved: None });
    }
    owner.next_key += 1;
    let key = owner.next_key;
    let subscriber = Subscriber {
        device,
        scope,
        wants_raw: false,
        buffer: VecDeque::new(),
        delivered: 0,
        ends: VecDeque::new(),
        waker: None,
    };
    owner.subscribers.insert(key, subscriber);
    Ok(key)
}

/// Reads what is there for `key` into `buf`: `Ok(n > 0)` bytes, `Ok(0)`
/// where the tty gave an end of file (once per end: Ctrl-D in cooked mode,
/// and reading goes on after it; or a hang-up) or for an empty `buf`,
/// `Err(EAGAIN)` if nothing is there now, `Err(ENOENT)` for a key not
/// subscribed, another errno if reading the tty failed. With the count,
/// the offset of the first byte in the subscriber's stream.
pub(crate) fn read(key: u64, buf: &mut [u8]) -> Result<(u64, usize), i32> {
    let mut wakers = Vec::new();
    let result = {
        let mut owner = lock();
        let subscriber = owner.subscribers.get(&key).ok_or(libc::ENOENT)?;
        if buf.is_empty() {
            return Ok((subscriber.offset(), 0));
        }
        let device = subscriber.device;
        let drained = if subscriber.has_news() { Ok(()) } else { owner.drain(device, key, &mut wakers) };
        let subscriber = owner.subscribers.get_mut(&key).expect("looked up above");
        match subscriber.take(buf) {
            Some(read) => Ok(read),
            None => drained.and(Err(libc::EAGAIN)),
        }
    };
    // Woken outside the lock: a wake may poll (and lock) at once.
    wakers.into_iter().for_each(FfiWaker::wake);
    result
}

/// Reads what the tty has now into every subscriber's buffer, then returns
/// the offset the next byte of `key`'s stream will have: bytes past it were
/// typed (or answered) after this call. How a query tells its reply from the
/// replies to other subscribers' queries, which every subscriber sees.
pub(crate) fn mark(key: u64) -> Result<u64, i32> {
    let mut wakers = Vec::new();
    let result = {
        let mut owner = lock();
        let device = owner.subscribers.get(&key).ok_or(libc::ENOENT)?.device;
        owner.drain(device, key, &mut wakers).map(|()| owner.subscribers[&key].delivered)
    };
    wakers.into_iter().for_each(FfiWaker::wake);
    result
}

/// The device number of the terminal `fd` refers to. On Linux the tty's
/// own (`TIOCGDEV`): `/dev/tty` is a device of its own (5,0) that stands for
/// the controlling terminal, which is also stdin's, and both must be one
/// terminal here (one reader, one saved mode). Elsewhere the file's.
fn device_of(fd: RawFd) -> Result<u64, i32> {
    #[cfg(target_os = "linux")]
    {
        let mut encoded: libc::c_uint = 0;
        // SAFETY: TIOCGDEV writes one c_uint.
        if unsafe { libc::ioctl(fd, libc::TIOCGDEV, &mut encoded) } == 0 {
            // The kernel's 32-bit encoding, as `stat` would give it.
            let major = (encoded & 0xfff00) >> 8;
            let minor = (encoded & 0xff) | ((encoded >> 12) & 0xfff00);
            return Ok(libc::makedev(major, minor));
        }
    }
    // SAFETY: a zeroed `stat` is a valid out-buffer for `fstat`.
    let mut stat: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `stat` is valid for the call.
    if unsafe { libc::fstat(fd, &mut stat) } != 0 {
        return Err(errno());
    }
    Ok(stat.st_rdev as u64)
}

/// Opens the terminal `fd` refers to anew, non-blocking and close-on-exec:
/// a file description of the owner's own, so that `O_NONBLOCK` reaches no
/// one else's (a `dup` would share the shell's). On Linux through
/// `/proc/self/fd` (which works where the tty's path is not visible),
/// else by the tty's name; either must open the same device. A
/// pseudo-terminal's controller cannot be opened anew (its path makes a new
/// pseudo-terminal): `ENXIO`.
fn open_nonblocking(fd: RawFd, device: u64) -> Result<OwnedFd, i32> {
    let mut paths = Vec::new();
    if cfg!(any(target_os = "linux", target_os = "android")) {
        paths.push(std::ffi::CString::new(format!("/proc/self/fd/{fd}")).expect("no NUL"));
    }
    let mut name = [0 as libc::c_char; 256];
    // SAFETY: `name` is valid for its length.
    if unsafe { libc::ttyname_r(fd, name.as_mut_ptr(), name.len()) } == 0 {
        // SAFETY: `ttyname_r` succeeded: `name` holds a NUL-terminated string.
        paths.push(unsafe { std::ffi::CStr::from_ptr(name.as_ptr()) }.to_owned());
    }
    let mut failure = libc::ENOTTY;
    for path in paths {
        let flags = libc::O_RDONLY | libc::O_NOCTTY | libc::O_NONBLOCK | libc::O_CLOEXEC;
        // SAFETY: `path` is a valid C string for the call.
        let opened = unsafe { libc::open(path.as_ptr(), flags) };
        if opened < 0 {
            failure = errno();
            continue;
        }
        // SAFETY: `opened` is a fresh fd nothing else owns.
        let opened = unsafe { OwnedFd::from_raw_fd(opened) };
        let same = device_of(opened.as_raw_fd()) == Ok(device)
            && controller_number(opened.as_raw_fd()) == controller_number(fd);
        if same {
            return Ok(opened);
        }
        failure = libc::ENXIO;
    }
    Err(failure)
}

/// The number of the pseudo-terminal whose controller `fd` is, `None` for
/// any other tty: every controller is the same device (`/dev/ptmx`).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn controller_number(fd: RawFd) -> Option<libc::c_uint> {
    let mut number: libc::c_uint = 0;
    // SAFETY: TIOCGPTN writes one c_uint; on a tty other than a controller it fails.
    (unsafe { libc::ioctl(fd, libc::TIOCGPTN, &mut number) } == 0).then_some(number)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn controller_number(_fd: RawFd) -> Option<libc::c_uint> {
    None
}

/// True if a read of `key` would return at once (bytes are buffered for it,
/// or an end of file); otherwise keeps `waker`, woken when another
/// subscriber's read buffers bytes for it. `None` for a key not subscribed.
/// The tty becoming readable is the caller's to watch (its reactor).
pub(crate) fn poll_buffered(key: u64, waker: &FfiWaker) -> Option<bool> {
    // Cloned only when the kept waker differs, and outside the lock, as
    // the one it replaces is dropped: foreign code may call back in here.
    let mut clone = None;
    loop {
        let (parked, replaced) = park(key, waker, &mut clone);
        drop(replaced);
        match parked {
            Parked::Ready => return Some(true),
            Parked::Waiting => return Some(false),
            Parked::Gone => return None,
            Parked::NeedsClone => clone = Some(waker.clone()),
        }
    }
}

enum Parked {
    Ready,
    Waiting,
    Gone,
    /// The kept waker is not `waker`: call again with a clone of it.
    NeedsClone,
}

/// [`poll_buffered`] under the lock: keeps `clone` (taken) for `key` if the
/// kept waker does not wake the same task as `waker`; returns the waker it
/// replaced, to be dropped once the lock is let go.
fn park(key: u64, waker: &FfiWaker, clone: &mut Option<FfiWaker>) -> (Parked, Option<FfiWaker>) {
    let mut owner = lock();
    let Some(subscriber) = owner.subscribers.get_mut(&key) else { return (Parked::Gone, None) };
    if subscriber.has_news() {
        return (Parked::Ready, None);
    }
    // `will_wake` compares two words: no foreign code.
    if subscriber.waker.as_ref().is_some_and(|stored| stored.will_wake(waker)) {
        return (Parked::Waiting, None);
    }
    match clone.take() {
        Some(clone) => (Parked::Waiting, subscriber.waker.replace(clone)),
        None => (Parked::NeedsClone, None),
    }
}

/// Says whether `key` wants raw mode; the terminal is in raw mode while
/// any of its subscribers wants it. An errno if the mode could not be read
/// or set (the wish is then as before), `ENOENT` for a key not subscribed.
pub(crate) fn set_raw(key: u64, on: bool) -> Result<(), i32> {
    let mut owner = lock();
    let subscriber = owner.subscribers.get_mut(&key).ok_or(libc::ENOENT)?;
    let (device, before) = (subscriber.device, std::mem::replace(&mut subscriber.wants_raw, on));
    let applied = owner.apply_mode(device);
    if applied.is_err() {
        owner.subscribers.get_mut(&key).expect("looked up above").wants_raw = before;
    }
    applied
}

/// True if the terminal of `key` is in raw mode (by any subscriber's wish).
pub(crate) fn is_raw(key: u64) -> Option<bool> {
    let owner = lock();
    let subscriber = owner.subscribers.get(&key)?;
    Some(owner.terminals.get(&subscriber.device).is_some_and(|terminal| terminal.saved.is_some()))
}

/// Ends a subscription: its wish for raw mode goes with it, and the
/// terminal is let go when it was the last.
pub(crate) fn unsubscribe(key: u64) {
    let mut owner = lock();
    let removed = owner.subscribers.remove(&key);
    if let Some(subscriber) = &removed {
        owner.settle(subscriber.device);
    }
    drop(owner);
    drop(removed); // outside the lock: a waker's drop is foreign code
}

/// Ends every subscription made through `scope` (its plugin was unloaded).
pub(crate) fn release_scope(scope: usize) {
    let mut owner = lock();
    let keys: Vec<u64> = owner
        .subscribers
        .iter()
        .filter(|(_, subscriber)| subscriber.scope == scope)
        .map(|(key, _)| *key)
        .collect();
    let mut removed = Vec::new();
    for key in keys {
        if let Some(subscriber) = owner.subscribers.remove(&key) {
            owner.settle(subscriber.device);
            removed.push(subscriber);
        }
    }
    drop(owner);
    drop(removed);
}

impl Owner {
    /// Reads everything the tty of `device` has now into every one of its
    /// subscribers' buffers; collects the wakers of those other than `reader`.
    /// The fd is non-blocking: nothing there (another reader of the tty may
    /// have taken what its readiness announced) is `EAGAIN`, never a wait.
    fn drain(&mut self, device: u64, reader: u64, wakers: &mut Vec<FfiWaker>) -> Result<(), i32> {
        let Some(terminal) = self.terminals.get(&device) else { return Ok(()) };
        let fd = terminal.fd.as_raw_fd();
        let mut chunk = [0u8; CHUNK];
        loop {
            // SAFETY: `chunk` is valid for its length; `fd` is open (ours).
            let count = unsafe { libc::read(fd, chunk.as_mut_ptr().cast(), chunk.len()) };
            let bytes = match count {
                count if count >= 0 => &chunk[..count as usize],
                _ => match errno() {
                    libc::EINTR => continue,
                    libc::EAGAIN => break,
                    errno => return Err(errno),
                },
            };
            for (key, subscriber) in &mut self.subscribers {
                if subscriber.device != device {
                    continue;
                }
                subscriber.push(bytes);
                if *key != reader {
                    wakers.extend(subscriber.waker.take());
                }
            }
            if bytes.len() < CHUNK {
                break;
            }
        }
        Ok(())
    }

    /// Puts the terminal of `device` in raw mode if a subscriber wants it,
    /// back in the mode before if none does.
    fn apply_mode(&mut self, device: u64) -> Result<(), i32> {
        let wanted = self.subscribers.values().any(|s| s.device == device && s.wants_raw);
        let Some(terminal) = self.terminals.get_mut(&device) else { return Ok(()) };
        let fd = terminal.fd.as_raw_fd();
        match (wanted, terminal.saved) {
            (true, None) => {
                // SAFETY: a zeroed termios is a valid out-buffer.
                let mut mode: libc::termios = unsafe { std::mem::zeroed() };
                // SAFETY: `mode` is valid for the call; `fd` is open.
                if unsafe { libc::tcgetattr(fd, &mut mode) } != 0 {
                    return Err(errno());
                }
                let mut raw = mode;
                // SAFETY: `raw` is an initialised termios.
                unsafe { libc::cfmakeraw(&mut raw) };
                // SAFETY: as above.
                if unsafe { libc::tcsetattr(fd, libc::TCSANOW, &raw) } != 0 {
                    return Err(errno());
                }
                terminal.saved = Some(mode);
                AT_EXIT.call_once(|| {
                    // SAFETY: `restore_at_exit` never unwinds; registering
                    // fails only without memory, and then exit restores nothing.
                    unsafe { libc::atexit(restore_at_exit) };
                });
            }
            (false, Some(saved)) => {
                // SAFETY: `saved` is the mode `tcgetattr` gave; `fd` is open.
                if unsafe { libc::tcsetattr(fd, libc::TCSANOW, &saved) } != 0 {
                    return Err(errno());
                }
                terminal.saved = None;
            }
            _ => {}
        }
        Ok(())
    }

    /// After a subscriber of `device` left: the mode follows the others'
    /// wishes, and the terminal goes with its last subscriber.
    fn settle(&mut self, device: u64) {
        // A mode that cannot be put back (the tty is gone) has no one to tell.
        let _ = self.apply_mode(device);
        if !self.subscribers.values().any(|subscriber| subscriber.device == device) {
            self.terminals.remove(&device);
        }
    }
}

static AT_EXIT: std::sync::Once = std::sync::Once::new();

/// Run by `exit(3)`, registered when raw mode is first set: no `Drop` runs
/// at exit, so this puts back the mode raw mode replaced on every terminal.
/// The lock is never held across a wait, so taking it here cannot hang.
extern "C" fn restore_at_exit() {
    let _ = std::panic::catch_unwind(|| {
        let owner = lock();
        for terminal in owner.terminals.values() {
            if let Some(saved) = &terminal.saved {
                // SAFETY: `saved` is the mode `tcgetattr` gave; `fd` is open.
                unsafe { libc::tcsetattr(terminal.fd.as_raw_fd(), libc::TCSANOW, saved) };
            }
        }
    });
}

#[cfg(test)]
#[path = "../tests/support/pty.rs"]
mod pty;

#[cfg(test)]
mod tests {
    use super::pty::Pty;
    use super::*;

    impl Pty {
        fn mode(&self) -> libc::termios {
            // SAFETY: as in `apply_mode`.
            let mut mode: libc::termios = unsafe { std::mem::zeroed() };
            // SAFETY: as above.
            assert_eq!(unsafe { libc::tcgetattr(self.terminal.as_raw_fd(), &mut mode) }, 0);
            mode
        }
    }

    /// Reads everything `key` has, waiting for the pty (at most 10 s).
    fn read_all(key: u64, expected: usize) -> Vec<u8> {
        let mut got = Vec::new();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while got.len() < expected {
            let mut buf = [0u8; 7]; // small: reads of a buffer span calls
            match read(key, &mut buf) {
                Ok((offset, count)) => {
                    assert_eq!(offset, got.len() as u64, "offsets count the stream");
                    got.extend_from_slice(&buf[..count]);
                }
                Err(libc::EAGAIN) => {
                    assert!(std::time::Instant::now() < deadline, "only {got:?} arrived");
                    let mut entry = libc::pollfd { fd: -1, events: 0, revents: 0 };
                    // SAFETY: no fd (-1 is ignored): a 1 ms pause while the pty's
                    // line discipline passes the bytes on.
                    unsafe { libc::poll(&mut entry, 1, 1) };
                }
                Err(errno) => panic!("read: errno {errno}"),
            }
        }
        got
    }

    #[test]
    fn every_reader_gets_every_byte_once_in_order() {
        let pty = Pty::open();
        let fd = pty.terminal.as_raw_fd();
        let (first, second) = (subscribe(fd, 1).unwrap(), subscribe(fd, 2).unwrap());
        set_raw(first, true).unwrap(); // no line buffering: bytes pass at once
        let mut empty = [0u8; 4];
        assert_eq!(read(second, &mut empty), Err(libc::EAGAIN));
        // An arrow key's escape sequence, and a paste longer than one read.
        let typed: Vec<u8> =
            b"\x1b[D".iter().copied().chain((0..3000).map(|i| b'a' + (i % 26) as u8)).collect();
        pty.type_bytes(&typed);
        assert_eq!(read_all(first, typed.len()), typed);
        assert_eq!(mark(second), Ok(typed.len() as u64), "the next byte's offset");
        // The first reader drained the tty; the second finds it all buffered.
        let waker = crate::waker::tests::noop_waker();
        assert_eq!(poll_buffered(second, &waker), Some(true));
        assert_eq!(read_all(second, typed.len()), typed);
        assert_eq!(read(first, &mut empty), Err(libc::EAGAIN));
        assert_eq!(poll_buffered(first, &waker), Some(false));
        unsubscribe(first);
        unsubscribe(second);
        assert_eq!(read(first, &mut empty), Err(libc::ENOENT));
    }

    /// What `read` gives `key` until `count` ends of file were read:
    /// bytes as text, an end of file as `EOF`.
    fn read_until_ends(key: u64, count: usize) -> Vec<String> {
        let (mut got, mut ends) = (Vec::new(), 0);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while ends < count {
            let mut buf = [0u8; 16];
            match read(key, &mut buf) {
                Ok((_, 0)) => {
                    ends += 1;
                    got.push("EOF".to_string());
                }
                Ok((_, read)) => got.push(String::from_utf8_lossy(&buf[..read]).into_owned()),
                Err(libc::EAGAIN) => {
                    assert!(std::time::Instant::now() < deadline, "only {got:?} arrived");
                    let mut entry = libc::pollfd { fd: -1, events: 0, revents: 0 };
                    // SAFETY: no fd: a 1 ms pause while the line discipline passes bytes on.
                    unsafe { libc::poll(&mut entry, 1, 1) };
                }
                Err(errno) => panic!("read: errno {errno}; so far {got:?}"),
            }
        }
        got
    }

    /// Issue 25, item 8: with `tau run` and `tokio::io::stdin` reading
    /// through the owner, Ctrl-D in cooked mode is an end of file for
    /// every subscriber once, at its place in the stream, and reading goes
    /// on after it (as `read(2)` of a tty does); before, the first one
    /// ended the terminal for every subscriber for good.
    #[test]
    fn ctrl_d_is_an_end_of_file_once_for_each_subscriber_then_reading_goes_on() {
        let pty = Pty::open();
        let fd = pty.terminal.as_raw_fd();
        let (first, second) = (subscribe(fd, 12).unwrap(), subscribe(fd, 13).unwrap());
        pty.type_bytes(b"ab\n\x04cd\n\x04");
        let expected = ["ab\n", "EOF", "cd\n", "EOF"];
        assert_eq!(read_until_ends(first, 2), expected);
        assert_eq!(read_until_ends(second, 2), expected);
        let mut buf = [0u8; 4];
        assert_eq!(read(first, &mut buf), Err(libc::EAGAIN), "nothing more");
        unsubscribe(first);
        unsubscribe(second);
    }

    #[test]
    fn raw_mode_holds_while_anyone_wants_it_and_the_first_mode_comes_back() {
        let pty = Pty::open();
        let cooked = pty.mode();
        assert_ne!(cooked.c_lflag & libc::ICANON, 0, "a new pty is cooked");
        let fd = pty.terminal.as_raw_fd();
        let (first, second) = (subscribe(fd, 3).unwrap(), subscribe(fd, 4).unwrap());
        set_raw(first, true).unwrap();
        set_raw(second, true).unwrap();
        assert_eq!(pty.mode().c_lflag & libc::ICANON, 0);
        // The first lets go: the second still wants raw mode.
        set_raw(first, false).unwrap();
        assert_eq!(is_raw(first), Some(true));
        assert_eq!(pty.mode().c_lflag & libc::ICANON, 0);
        // The second's scope is revoked: the mode from before comes back.
        release_scope(4);
        assert_eq!(is_raw(second), None);
        assert_eq!(is_raw(first), Some(false));
        let mode = pty.mode();
        assert_eq!(
            (mode.c_lflag, mode.c_iflag, mode.c_oflag),
            (cooked.c_lflag, cooked.c_iflag, cooked.c_oflag)
        );
        unsubscribe(first);
    }

    #[test]
    fn a_pseudo_terminals_controller_is_refused_not_made_anew() {
        let pty = Pty::open();
        assert_eq!(subscribe(pty.controller.as_raw_fd(), 9), Err(libc::ENXIO));
    }

    #[test]
    fn not_a_terminal_is_refused() {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for both ends.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        assert_eq!(subscribe(fds[0], 5), Err(libc::ENOTTY));
        // SAFETY: the pipe's ends are ours to close.
        unsafe {
            libc::close(fds[0]);
            libc::close(fds[1]);
        }
    }

    /// Runs this binary's test `name` again in a child process, with
    /// `TAU_TTY_CHILD` set to `value`: for what ends a process (`exit`),
    /// changes it (`setsid`) or deadlocks it. An error with its output if it
    /// did not exit with [`CHILD_DONE`] within 30 s (it is then killed).
    fn in_child(name: &str, value: &str) -> Result<(), String> {
        let child = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", name, "--test-threads=1", "--nocapture"])
            .env("TAU_TTY_CHILD", value)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id() as libc::pid_t;
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || sender.send(child.wait_with_output()));
        let output = match receiver.recv_timeout(std::time::Duration::from_secs(30)) {
            Ok(output) => output.unwrap(),
            Err(_) => {
                // SAFETY: `pid` is our child, not reaped yet (its waiter is blocked).
                unsafe { libc::kill(pid, libc::SIGKILL) };
                let output = receiver.recv().unwrap().unwrap();
                return Err(format!(
                    "the child did not exit within 30 s (killed); its output:\n{}{}",
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                ));
            }
        };
        if output.status.code() == Some(CHILD_DONE) {
            return Ok(());
        }
        Err(format!(
            "the child ended with {}; its output:\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }

    /// The path of `pty`'s terminal.
    fn terminal_path(pty: &Pty) -> String {
        let mut name = [0 as libc::c_char; 256];
        // SAFETY: `name` is valid for its length.
        let named = unsafe { libc::ttyname_r(pty.terminal.as_raw_fd(), name.as_mut_ptr(), name.len()) };
        assert_eq!(named, 0, "ttyname_r");
        // SAFETY: `ttyname_r` wrote a NUL-terminated string.
        unsafe { std::ffi::CStr::from_ptr(name.as_ptr()) }.to_str().unwrap().to_string()
    }

    /// Opens `path` (a child's end of the test's pty).
    fn open_path(path: &str) -> RawFd {
        let path = std::ffi::CString::new(path).unwrap();
        // SAFETY: `path` is a valid C string.
        let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDWR | libc::O_NOCTTY) };
        assert!(fd >= 0, "{}", std::io::Error::last_os_error());
        fd
    }

    /// The exit code of a child that did what it was asked.
    const CHILD_DONE: i32 = 42;

    /// Issue 25, item 12: `exit` (no `Drop` runs) puts back the mode raw
    /// mode replaced.
    #[test]
    fn exit_puts_back_the_mode_raw_mode_replaced() {
        if let Ok(path) = std::env::var("TAU_TTY_CHILD") {
            let key = subscribe(open_path(&path), 7).unwrap();
            set_raw(key, true).unwrap();
            std::process::exit(CHILD_DONE);
        }
        let pty = Pty::open();
        let exited = in_child("tty::tests::exit_puts_back_the_mode_raw_mode_replaced", &terminal_path(&pty));
        exited.unwrap_or_else(|error| panic!("{error}"));
        let mode = pty.mode();
        let cooked = libc::ICANON | libc::ECHO;
        assert_eq!(mode.c_lflag & cooked, cooked, "the child exited and left its pty in raw mode");
    }

    /// A waker whose clone and drop call back into the terminal's API, as
    /// a foreign waker may: a clone or drop under the lock deadlocks.
    mod reentrant {
        use std::ffi::c_void;
        use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

        use crate::abi::{FfiWaker, FfiWakerVTable};

        pub(super) static KEY: AtomicU64 = AtomicU64::new(0);
        pub(super) static CLONES: AtomicUsize = AtomicUsize::new(0);
        pub(super) static DROPS: AtomicUsize = AtomicUsize::new(0);

        unsafe extern "C" fn clone(data: *const c_void) -> FfiWaker {
            super::is_raw(KEY.load(Ordering::SeqCst));
            CLONES.fetch_add(1, Ordering::SeqCst);
            FfiWaker { data, vtable: &VTABLE }
        }
        unsafe extern "C" fn nothing(_data: *const c_void) {}
        unsafe extern "C" fn drop(_data: *const c_void) {
            super::is_raw(KEY.load(Ordering::SeqCst));
            DROPS.fetch_add(1, Ordering::SeqCst);
        }
        static VTABLE: FfiWakerVTable = FfiWakerVTable { clone, wake: nothing, wake_by_ref: nothing, drop };

        /// Two wakers that do not `will_wake` each other.
        pub(super) fn waker(which: usize) -> FfiWaker {
            FfiWaker { data: which as *const c_void, vtable: &VTABLE }
        }
    }

    /// Issue 25, item 12: a waker is cloned and dropped outside the lock.
    #[test]
    fn a_waker_that_calls_back_in_from_clone_or_drop_does_not_deadlock() {
        use std::sync::atomic::Ordering;
        if std::env::var("TAU_TTY_CHILD").is_ok() {
            let pty = Pty::open();
            let key = subscribe(pty.terminal.as_raw_fd(), 8).unwrap();
            reentrant::KEY.store(key, Ordering::SeqCst);
            let (first, second) = (reentrant::waker(1), reentrant::waker(2));
            assert_eq!(poll_buffered(key, &first), Some(false)); // kept: a clone
            assert_eq!(poll_buffered(key, &second), Some(false)); // replaced: a drop
            unsubscribe(key); // the second's clone dropped
            let (clones, drops) =
                (reentrant::CLONES.load(Ordering::SeqCst), reentrant::DROPS.load(Ordering::SeqCst));
            assert_eq!((clones, drops), (2, 2));
            std::mem::forget((first, second)); // the test's own: no callback
            std::process::exit(CHILD_DONE);
        }
        let exited =
            in_child("tty::tests::a_waker_that_calls_back_in_from_clone_or_drop_does_not_deadlock", "");
        exited.unwrap_or_else(|error| panic!("{error}"));
    }

    /// `/dev/tty` and the tty's own path are one terminal (one reader, one
    /// saved mode), though their files are different devices.
    #[test]
    #[cfg(target_os = "linux")]
    fn dev_tty_and_the_ttys_own_path_are_one_terminal() {
        if let Ok(path) = std::env::var("TAU_TTY_CHILD") {
            let fd = open_path(&path);
            // SAFETY: the child is not a process group leader: it gets a
            // session of its own, whose controlling terminal is the pty.
            assert!(unsafe { libc::setsid() } >= 0, "setsid: {}", std::io::Error::last_os_error());
            // SAFETY: `fd` is the pty's open terminal.
            assert_eq!(unsafe { libc::ioctl(fd, libc::TIOCSCTTY, 0) }, 0, "TIOCSCTTY");
            let own = subscribe(fd, 10).unwrap();
            let through_dev_tty = subscribe(open_path("/dev/tty"), 11).unwrap();
            set_raw(own, true).unwrap();
            assert_eq!(is_raw(through_dev_tty), Some(true), "two owners of one terminal");
            std::process::exit(CHILD_DONE);
        }
        let pty = Pty::open();
        let exited =
            in_child("tty::tests::dev_tty_and_the_ttys_own_path_are_one_terminal", &terminal_path(&pty));
        exited.unwrap_or_else(|error| panic!("{error}"));
    }

    #[test]
    fn a_hung_up_terminal_is_an_error_or_the_end_not_a_wait() {
        let pty = Pty::open();
        let key = subscribe(pty.terminal.as_raw_fd(), 6).unwrap();
        drop(pty.controller); // the terminal's other side goes: a hang-up
        let mut buf = [0u8; 4];
        // Linux reports a hung-up pty as EIO, other systems as end of file.
        let result = read(key, &mut buf);
        assert!(matches!(result, Ok((0, 0)) | Err(libc::EIO)), "{result:?}");
        unsubscribe(key);
    }
}
