//! Process-wide signals, owned by the host: one handler per signal per
//! process, installed by this (the host's) copy of tau-rt and never by
//! plugin code, fanned out to any number of subscribers.
//!
//! A handler in a plugin's library would outlive the plugin: removing a
//! handler does not restore the one before it, and the next signal would
//! jump into unloaded code. So plugins subscribe through the runtime table:
//!
//! - the handler (async-signal-safe) counts the delivery in a per-signal
//!   atomic, writes the signal's number to a self-pipe, and calls the
//!   handler it replaced, if there was one (a host's own handler keeps
//!   seeing its signals);
//! - a dispatcher thread, started with the first subscription, reads the
//!   pipe and wakes the wakers of that signal's subscribers;
//! - a subscriber's poll is ready once the count moved past what it last
//!   saw: deliveries between two polls coalesce into one, as in tokio.
//!
//! The handler is installed with a signal's first subscriber (a failed
//! install fails that subscription and is tried again by the next). As in
//! tokio, it then stays while the code that subscribed may subscribe
//! again: a signal between dropping one `Signal` and making the next is
//! not fatal, and the next sees it. Here that code is an owner (a scope: a
//! plugin, or the host's runtime), so the action the handler replaced is
//! put back once no subscription is left and every owner that subscribed
//! is gone (a plugin unloaded, a runtime dropped): after a plugin's
//! unload, SIGTERM ends the process again and a host's handler is its own
//! again. While installed, a signal's default action no longer happens.

use std::collections::{HashMap, HashSet};
use std::ffi::c_void;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicI32, AtomicPtr, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use crate::abi::FfiWaker;

/// Signal numbers the table accepts: 1 ..= `MAX_SIGNAL`.
const MAX_SIGNAL: usize = 64;

/// Signals tokio refuses to register, for the same reason: their default
/// action is what makes a faulting program stop.
const FORBIDDEN: [i32; 5] = [libc::SIGILL, libc::SIGFPE, libc::SIGKILL, libc::SIGSEGV, libc::SIGSTOP];

static DELIVERED: [AtomicU64; MAX_SIGNAL + 1] = [const { AtomicU64::new(0) }; MAX_SIGNAL + 1];
/// `DELIVERED` as of the dispatcher's last pass over a signal that had
/// subscribers: a subscription counts from here. So a delivery while the
/// handler stays for an owner with no subscription left (between dropping
/// one `Signal` and making the next), or still on its way to the
/// subscribers, reaches the next subscription, whenever the dispatcher
/// thread gets to it (tokio's `signal_drop_recv`). Set to `DELIVERED` when
/// tau's handler is installed, so nothing from before counts.
static DISPATCHED: [AtomicU64; MAX_SIGNAL + 1] = [const { AtomicU64::new(0) }; MAX_SIGNAL + 1];
/// Per signal, the action tau's handler replaced: chained to by the
/// handler, put back after the last subscriber. Null until the first
/// install. Each is leaked, never freed: a handler that began before a
/// restore may still be reading it.
static PREVIOUS: [AtomicPtr<libc::sigaction>; MAX_SIGNAL + 1] =
    [const { AtomicPtr::new(std::ptr::null_mut()) }; MAX_SIGNAL + 1];
/// The self-pipe's write end, -1 until the dispatcher runs.
static WRITE_FD: AtomicI32 = AtomicI32::new(-1);
static SUBSCRIBERS: OnceLock<Mutex<Subscribers>> = OnceLock::new();

#[derive(Default)]
struct Subscribers {
    next_key: u64,
    by_key: HashMap<u64, Subscriber>,
    /// Subscribers per signal.
    counts: HashMap<i32, usize>,
    /// Per signal, the owners (scopes) that subscribed and are not gone:
    /// tau's handler stays installed while this or `counts` is not empty.
    owners: HashMap<i32, HashSet<usize>>,
    /// Signals whose handler someone else replaced tau's with: theirs from
    /// then on. tau's is neither put back over theirs nor installed again
    /// (theirs may chain to tau's, and tau's would chain back: a loop).
    displaced: HashSet<i32>,
}

struct Subscriber {
    signal: i32,
    /// `DELIVERED[signal]` when last polled ready (or subscribed).
    seen: u64,
    waker: Option<FfiWaker>,
}

impl Subscribers {
    fn is_installed(&self, signal: i32) -> bool {
        self.counts.get(&signal).is_some_and(|count| *count > 0)
            || self.owners.get(&signal).is_some_and(|owners| !owners.is_empty())
    }

    /// Counts a subscriber of `signal` for `owner`; the first installs
    /// tau's handler.
    fn acquire(&mut self, signal: i32, owner: usize) -> Result<(), i32> {
        if !self.is_installed(signal) && !self.displaced.contains(&signal) {
            install(signal)?;
            DISPATCHED[signal as usize]
                .store(DELIVERED[signal as usize].load(Ordering::Acquire), Ordering::Release);
        }
        *self.counts.entry(signal).or_default() += 1;
        self.owners.entry(signal).or_default().insert(owner);
        Ok(())
    }

    /// Counts a subscriber of `signal` gone.
    fn release(&mut self, signal: i32) {
        *self.counts.entry(signal).or_default() -= 1;
        self.restore_if_unused(signal);
    }

    /// `owner` is gone: it will not subscribe again.
    fn forget_owner(&mut self, owner: usize) {
        let signals: Vec<i32> = self
            .owners
            .iter_mut()
            .filter_map(|(signal, owners)| owners.remove(&owner).then_some(*signal))
            .collect();
        for signal in signals {
            self.restore_if_unused(signal);
        }
    }

    /// Puts back the action tau's handler replaced once nothing uses it.
    fn restore_if_unused(&mut self, signal: i32) {
        if !self.is_installed(signal) && !self.displaced.contains(&signal) && !restore(signal) {
            self.displaced.insert(signal);
        }
    }
}

/// An owner of subscriptions (a scope) is gone: once no subscription and
/// no other live owner is left for a signal, its previous action is back.
pub(crate) fn forget_owner(owner: usize) {
    // Nothing to do, and no dispatcher to start, if nobody ever subscribed.
    if let Some(subscribers) = SUBSCRIBERS.get() {
        subscribers.lock().unwrap_or_else(|poison| poison.into_inner()).forget_owner(owner);
    }
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
pub(crate) fn subscribe(signal: i32, owner: usize) -> Result<u64, i32> {
    if !(1..=MAX_SIGNAL as i32).contains(&signal) || FORBIDDEN.contains(&signal) {
        return Err(libc::EINVAL);
    }
    let mut subscribers = lock();
    if WRITE_FD.load(Ordering::Acquire) < 0 {
        return Err(libc::EMFILE);
    }
    subscribers.acquire(signal, owner)?;
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
    // Cloned before locking, and whichever waker is not kept is dropped
    // after unlocking: a foreign waker's clone or drop may call back here.
    let mut spare = Some(waker.clone());
    let ready = {
        let mut subscribers = lock();
        subscribers.by_key.get_mut(&key).map(|subscriber| {
            let delivered = DELIVERED[subscriber.signal as usize].load(Ordering::Acquire);
            if delivered != subscriber.seen {
                subscriber.seen = delivered;
                return true;
            }
            // The dispatcher wakes under the same lock, after the count
            // moved: a delivery after the load above finds this waker.
            if !subscriber.waker.as_ref().is_some_and(|stored| stored.will_wake(waker)) {
                std::mem::swap(&mut subscriber.waker, &mut spare);
            }
            false
        })
    };
    drop(spare);
    ready
}

/// Ends a subscription; its waker is dropped.
pub(crate) fn unsubscribe(key: u64) {
    let removed = {
        let mut subscribers = lock();
        let removed = subscribers.by_key.remove(&key);
        if let Some(subscriber) = &removed {
            subscribers.release(subscriber.signal);
        }
        removed
    };
    drop(removed); // outside the lock: a waker's drop may do anything
}

/// Installs tau's handler for `signal`, saving the action it replaces.
/// Called under the subscribers' lock.
fn install(signal: i32) -> Result<(), i32> {
    let previous = action(signal, None)?;
    let slot = &PREVIOUS[signal as usize];
    let stored = slot.load(Ordering::Acquire);
    // SAFETY: a non-null slot points to a leaked action, never freed.
    if stored.is_null() || !same_action(unsafe { &*stored }, &previous) {
        // Saved before installing, so that the first delivery chains.
        slot.store(Box::into_raw(Box::new(previous)), Ordering::Release);
    }
    // SAFETY: a zeroed sigaction is valid; handler, flags and mask follow.
    let mut ours: libc::sigaction = unsafe { std::mem::zeroed() };
    ours.sa_sigaction = handler as *const () as usize;
    // SA_SIGINFO to have a siginfo to pass on to a previous SA_SIGINFO
    // handler; the previous handler's alternate stack and blocked signals
    // hold while ours runs, as it runs inside ours.
    ours.sa_flags = libc::SA_RESTART | libc::SA_SIGINFO | (previous.sa_flags & libc::SA_ONSTACK);
    ours.sa_mask = previous.sa_mask;
    action(signal, Some(&ours)).map(drop)
}

/// Puts back the action tau's handler replaced for `signal`; false (and
/// nothing done) if someone installed another since, which is theirs now.
/// Called under the subscribers' lock by the signal's last subscriber.
fn restore(signal: i32) -> bool {
    let previous = PREVIOUS[signal as usize].load(Ordering::Acquire);
    if previous.is_null() {
        return true;
    }
    if !action(signal, None).is_ok_and(|current| current.sa_sigaction == handler as *const () as usize) {
        return false;
    }
    // SAFETY: a non-null slot points to a leaked action, never freed.
    // Putting back what the kernel gave us cannot fail for a signal we
    // could install a handler for.
    let _ = action(signal, Some(unsafe { &*previous }));
    true
}

/// `sigaction(2)`: installs `new` if given; returns the action before.
fn action(signal: i32, new: Option<&libc::sigaction>) -> Result<libc::sigaction, i32> {
    // SAFETY: a zeroed sigaction is a valid out-parameter.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    let new = new.map_or(std::ptr::null(), |new| new as *const libc::sigaction);
    // SAFETY: `new` is null or an initialised action; `old` is writable.
    if unsafe { libc::sigaction(signal, new, &mut old) } != 0 {
        return Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EINVAL));
    }
    Ok(old)
}

fn same_action(a: &libc::sigaction, b: &libc::sigaction) -> bool {
    fn mask(action: &libc::sigaction) -> &[u8] {
        // SAFETY: a sigset_t is plain bytes, read within its size.
        unsafe {
            std::slice::from_raw_parts(
                (&action.sa_mask as *const libc::sigset_t).cast::<u8>(),
                std::mem::size_of::<libc::sigset_t>(),
            )
        }
    }
    a.sa_sigaction == b.sa_sigaction && a.sa_flags == b.sa_flags && mask(a) == mask(b)
}

/// Async-signal-safe: an atomic add, a `write` and the previous handler's
/// call, with `errno` kept.
extern "C" fn handler(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut c_void) {
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
    chain(signal, info, context);
    errno.restore();
}

/// Calls the handler tau's replaced for `signal`, as the kernel would
/// have; none for the default action or "ignore".
fn chain(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut c_void) {
    let Some(previous) = PREVIOUS.get(signal as usize).map(|slot| slot.load(Ordering::Acquire)) else {
        return;
    };
    // SAFETY: a non-null slot points to a leaked action, never freed.
    let Some(previous) = (unsafe { previous.as_ref() }) else {
        return;
    };
    let address = previous.sa_sigaction;
    if address == libc::SIG_DFL || address == libc::SIG_IGN {
        return;
    }
    if previous.sa_flags & libc::SA_SIGINFO != 0 {
        type Siginfo = extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut c_void);
        // SAFETY: an SA_SIGINFO action's address is such a handler; it gets
        // the kernel's own arguments.
        let previous: Siginfo = unsafe { std::mem::transmute::<usize, Siginfo>(address) };
        previous(signal, info, context);
    } else {
        type Plain = extern "C" fn(libc::c_int);
        // SAFETY: a plain action's address is such a handler.
        let previous: Plain = unsafe { std::mem::transmute::<usize, Plain>(address) };
        previous(signal);
    }
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
                let subscribed = subscribers.counts.get(&i32::from(signal)).is_some_and(|count| *count > 0);
                if let (true, Some(dispatched), Some(delivered)) =
                    (subscribed, DISPATCHED.get(signal as usize), DELIVERED.get(signal as usize))
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
            assert_eq!(subscribe(signal, 1), Err(libc::EINVAL), "signal {signal}");
        }
    }

    #[test]
    fn a_raised_signal_reaches_every_subscriber_once() {
        let first = subscribe(libc::SIGUSR2, 1).unwrap();
        let second = subscribe(libc::SIGUSR2, 2).unwrap();
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
        forget_owner(1);
        forget_owner(2);
    }
}
