//! Process-wide signals, owned by the host: one handler per signal per
//! process, installed by this (the host's) copy of tau-rt and never by
//! plugin code, fanned out to any number of subscribers.
//!
//! A handler in a plugin's library would outlive the plugin: removing a
//! handler does not restore the one before it, and the next signal would
//! jump into unloaded code. So plugins subscribe through the runtime table:
//!
//! - the handler (async-signal-safe) counts the delivery in a per-signal
//!   atomic and writes the signal's number to a self-pipe;
//! - a dispatcher thread, started with the first subscription, reads the
//!   pipe and wakes the wakers of that signal's subscribers;
//! - a subscriber's poll is ready once the count moved past what it last
//!   saw: deliveries between two polls coalesce into one, as in tokio.
//!
//! Handlers stay installed for the life of the process (as tokio's do): a
//! signal with no subscriber left is counted and otherwise ignored, where
//! its default action would have been to end the process.

use std::collections::HashMap;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::{Mutex, Once, OnceLock};

use crate::abi::FfiWaker;

/// Signal numbers the table accepts: 1 ..= `MAX_SIGNAL`.
const MAX_SIGNAL: usize = 64;

/// Signals tokio refuses to register, for the same reason: their default
/// action is what makes a faulting program stop.
const FORBIDDEN: [i32; 5] = [libc::SIGILL, libc::SIGFPE, libc::SIGKILL, libc::SIGSEGV, libc::SIGSTOP];

static DELIVERED: [AtomicU64; MAX_SIGNAL + 1] = [const { AtomicU64::new(0) }; MAX_SIGNAL + 1];
/// `DELIVERED` as of the dispatcher's last pass over a signal: a
/// subscription counts from here, so a delivery still on its way to the
/// subscribers when one subscribes reaches it too (as in tokio, where a
/// signal is broadcast when the driver gets to it).
static DISPATCHED: [AtomicU64; MAX_SIGNAL + 1] = [const { AtomicU64::new(0) }; MAX_SIGNAL + 1];
static INSTALLED: [Once; MAX_SIGNAL + 1] = [const { Once::new() }; MAX_SIGNAL + 1];
/// The self-pipe's write end, -1 until the dispatcher runs.
static WRITE_FD: AtomicI32 = AtomicI32::new(-1);
static SUBSCRIBERS: OnceLock<Mutex<Subscribers>> = OnceLock::new();

#[derive(Default)]
struct Subscribers {
    next_key: u64,
    by_key: HashMap<u64, Subscriber>,
}

struct Subscriber {
    signal: i32,
    /// `DELIVERED[signal]` when last polled ready (or subscribed).
    seen: u64,
    waker: Option<FfiWaker>,
}

fn subscribers() -> &'static Mutex<Subscribers> {
    SUBSCRIBERS.get_or_init(|| {
        start_dispatcher();
        Mutex::default()
    })
}

fn lock() -> std::sync::MutexGuard<'static, Subscribers> {
    subscribers().lock().unwrap_or_else(|poison| poison.into_inner())
}

/// Subscribes to `signal`: returns its key, or an errno (`EINVAL` for a
/// number out of range or a forbidden signal; the OS error if the pipe, the
/// thread or the handler could not be set up). A delivery the dispatcher
/// has not passed on yet counts for the new subscription.
pub(crate) fn subscribe(signal: i32) -> Result<u64, i32> {
    if !(1..=MAX_SIGNAL as i32).contains(&signal) || FORBIDDEN.contains(&signal) {
        return Err(libc::EINVAL);
    }
    let mut subscribers = lock();
    if WRITE_FD.load(Ordering::Acquire) < 0 {
        return Err(libc::EMFILE);
    }
    install(signal)?;
    subscribers.next_key += 1;
    let key = subscribers.next_key;
    let seen = DISPATCHED[signal as usize].load(Ordering::Acquire);
    subscribers.by_key.insert(key, Subscriber { signal, seen, waker: None });
    Ok(key)
}

/// True (once per batch of deliveries) if `signal` arrived since the last
/// ready poll; otherwise stores `waker` and returns false. `None` for a key
/// that is not subscribed.
pub(crate) fn poll(key: u64, waker: &FfiWaker) -> Option<bool> {
    let mut subscribers = lock();
    let subscriber = subscribers.by_key.get_mut(&key)?;
    let delivered = DELIVERED[subscriber.signal as usize].load(Ordering::Acquire);
    if delivered != subscriber.seen {
        subscriber.seen = delivered;
        return Some(true);
    }
    // The dispatcher wakes under the same lock, after the count moved: a
    // delivery after the load above finds this waker.
    if !subscriber.waker.as_ref().is_some_and(|stored| stored.will_wake(waker)) {
        subscriber.waker = Some(waker.clone());
    }
    Some(false)
}

/// Ends a subscription; its waker is dropped.
pub(crate) fn unsubscribe(key: u64) {
    let removed = lock().by_key.remove(&key);
    drop(removed); // outside the lock: a waker's drop may do anything
}

fn install(signal: i32) -> Result<(), i32> {
    let mut result = Ok(());
    INSTALLED[signal as usize].call_once(|| {
        // SAFETY: a zeroed sigaction is valid; we fill in the handler and
        // an empty mask before passing it to the kernel.
        let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
        action.sa_sigaction = handler as *const () as usize;
        action.sa_flags = libc::SA_RESTART;
        // SAFETY: `action.sa_mask` is a valid sigset to initialise.
        unsafe { libc::sigemptyset(&mut action.sa_mask) };
        // SAFETY: `action` is initialised; the old action is not wanted.
        if unsafe { libc::sigaction(signal, &action, std::ptr::null_mut()) } != 0 {
            result = Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EINVAL));
        }
    });
    result
}

/// Async-signal-safe: an atomic add and a `write`, with `errno` kept.
extern "C" fn handler(signal: libc::c_int) {
    let errno = Errno::save();
    if let Some(count) = DELIVERED.get(signal as usize) {
        count.fetch_add(1, Ordering::AcqRel);
    }
    let fd = WRITE_FD.load(Ordering::Acquire);
    if fd >= 0 {
        let byte = signal as u8;
        // SAFETY: `write` is async-signal-safe; the pipe is nonblocking, so a
        // full pipe drops the byte (the count already moved, and the
        // dispatcher is behind on bytes that will wake the same subscribers).
        unsafe { libc::write(fd, (&byte as *const u8).cast(), 1) };
    }
    errno.restore();
}

/// The thread's `errno`, saved by a handler and put back before it returns.
struct Errno(libc::c_int);

impl Errno {
    fn location() -> *mut libc::c_int {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        // SAFETY: returns the calling thread's errno slot; always valid.
        return unsafe { libc::__errno_location() };
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        // SAFETY: as above (the BSDs' and macOS's name for it).
        return unsafe { libc::__error() };
    }

    fn save() -> Errno {
        // SAFETY: the slot is valid for the thread's life.
        Errno(unsafe { *Errno::location() })
    }

    fn restore(self) {
        // SAFETY: as above.
        unsafe { *Errno::location() = self.0 };
    }
}

fn start_dispatcher() {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: `fds` has room for the two ends.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return; // `subscribe` reports the missing pipe
    }
    let [read_fd, write_fd] = fds;
    // SAFETY: both are the pipe's open ends: close-on-exec for both (a
    // child must not inherit them), nonblocking for the handler's end.
    unsafe {
        libc::fcntl(read_fd, libc::F_SETFD, libc::FD_CLOEXEC);
        libc::fcntl(write_fd, libc::F_SETFD, libc::FD_CLOEXEC);
        libc::fcntl(write_fd, libc::F_SETFL, libc::O_NONBLOCK);
    }
    let spawned = std::thread::Builder::new().name("tau-signal".into()).spawn(move || dispatch(read_fd));
    if spawned.is_ok() {
        WRITE_FD.store(write_fd, Ordering::Release);
    }
}

/// Reads signal numbers from the pipe and wakes their subscribers.
fn dispatch(read_fd: RawFd) {
    let mut buf = [0u8; 64];
    loop {
        // SAFETY: `buf` is valid for its length; `read_fd` stays open (the
        // pipe lives as long as the process).
        let read = unsafe { libc::read(read_fd, buf.as_mut_ptr().cast(), buf.len()) };
        if read <= 0 {
            if read < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return;
        }
        let mut wakers = Vec::new();
        {
            let mut subscribers = lock();
            for &signal in &buf[..read as usize] {
                if let (Some(dispatched), Some(delivered)) =
                    (DISPATCHED.get(signal as usize), DELIVERED.get(signal as usize))
                {
                    dispatched.store(delivered.load(Ordering::Acquire), Ordering::Release);
                }
                for subscriber in subscribers.by_key.values_mut().filter(|s| s.signal == i32::from(signal)) {
                    wakers.extend(subscriber.waker.take());
                }
            }
        }
        // Woken outside the lock: a wake may poll (and lock) at once.
        for waker in wakers {
            waker.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::waker::tests::noop_waker;

    #[test]
    fn forbidden_and_out_of_range_signals_are_refused() {
        for signal in [0, -1, 65, libc::SIGKILL, libc::SIGSEGV, libc::SIGSTOP] {
            assert_eq!(subscribe(signal), Err(libc::EINVAL), "signal {signal}");
        }
    }

    #[test]
    fn a_raised_signal_reaches_every_subscriber_once() {
        let first = subscribe(libc::SIGUSR2).unwrap();
        let second = subscribe(libc::SIGUSR2).unwrap();
        let waker = noop_waker();
        assert_eq!(poll(first, &waker), Some(false));
        // SAFETY: raising a signal we handle.
        unsafe { libc::raise(libc::SIGUSR2) };
        assert_eq!(poll(first, &waker), Some(true));
        assert_eq!(poll(first, &waker), Some(false), "one delivery, one ready poll");
        assert_eq!(poll(second, &waker), Some(true));
        unsubscribe(first);
        assert_eq!(poll(first, &waker), None);
        unsubscribe(second);
    }
}
