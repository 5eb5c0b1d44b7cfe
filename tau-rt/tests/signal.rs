//! The process's signal handlers through the raw table: a failed install,
//! a host handler chained to and put back, the default action back once
//! the last subscriber left, and wakers that call back into signals.
//!
//! What could end or hang the process (SIGTERM with its default action, a
//! deadlock) runs in a child: this test binary again, with one test selected
//! and `CHILD` naming what to do.

use std::ffi::c_void;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use tau_rt::abi::{FfiWaker, FfiWakerVTable, RuntimeTable, POLL_GONE, POLL_PENDING, POLL_READY};
use tau_rt::Runtime;

mod common;

use common::tau_park_waker;

const CHILD: &str = "TAU_SIGNAL_TEST_CHILD";
/// How long a child may run: far past what any of them needs, so only a
/// hang reaches it.
const CHILD_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `test` alone in a child with `CHILD=mode`; its exit status. Fails
/// the test if the child is still running after `CHILD_TIMEOUT`.
fn run_child(test: &str, mode: &str) -> ExitStatus {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, mode)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || sender.send(child.wait().unwrap()));
    match receiver.recv_timeout(CHILD_TIMEOUT) {
        Ok(status) => status,
        Err(_) => {
            // SAFETY: `pid` is our child; the waiting thread reaps it only
            // once it ends, which is what this kill is for.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            let _ = receiver.recv();
            panic!("{test} ({mode}) was still running after {CHILD_TIMEOUT:?}: it hung");
        }
    }
}

fn subscribe(table: &RuntimeTable, signal: i32) -> Result<u64, i32> {
    let mut key = 0;
    // SAFETY: the table is alive; `key` is a valid out-pointer.
    match unsafe { (table.signal_subscribe)(table.rt, signal, &mut key) } {
        0 => Ok(key),
        errno => Err(errno),
    }
}

fn poll(table: &RuntimeTable, key: u64, waker: &FfiWaker) -> tau_rt::abi::PollStatus {
    // SAFETY: the table is alive; `waker` is borrowed for the call.
    unsafe { (table.signal_poll)(table.rt, key, waker) }
}

fn unsubscribe(table: &RuntimeTable, key: u64) {
    // SAFETY: the table is alive; `key` is ours, given back once.
    unsafe { (table.signal_unsubscribe)(table.rt, key) }
}

fn raise(signal: i32) {
    // SAFETY: raising a signal; what it does is what each test checks.
    assert_eq!(unsafe { libc::raise(signal) }, 0);
}

/// Set, and waited on by [`wait_notified`], when [`notify_waker`] is woken.
static NOTIFIED: (std::sync::Mutex<bool>, std::sync::Condvar) =
    (std::sync::Mutex::new(false), std::sync::Condvar::new());

/// A waker that sets `NOTIFIED`.
fn notify_waker() -> FfiWaker {
    unsafe extern "C" fn clone(data: *const c_void) -> FfiWaker {
        FfiWaker { data, vtable: &NOTIFY }
    }
    unsafe extern "C" fn wake(_: *const c_void) {
        *NOTIFIED.0.lock().unwrap() = true;
        NOTIFIED.1.notify_all();
    }
    unsafe extern "C" fn drop(_: *const c_void) {}
    static NOTIFY: FfiWakerVTable = FfiWakerVTable { clone, wake, wake_by_ref: wake, drop };
    FfiWaker { data: std::ptr::null(), vtable: &NOTIFY }
}

/// Waits until a [`notify_waker`] was woken, and takes the notice.
fn wait_notified() {
    let notified = NOTIFIED.0.lock().unwrap();
    let (mut notified, _) =
        NOTIFIED.1.wait_timeout_while(notified, CHILD_TIMEOUT, |notified| !*notified).unwrap();
    assert!(*notified, "never woken");
    *notified = false;
}

/// The handler currently installed for `signal`.
fn disposition(signal: i32) -> libc::sighandler_t {
    // SAFETY: a zeroed sigaction is a valid out-parameter.
    let mut current: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: only reads the action.
    assert_eq!(unsafe { libc::sigaction(signal, std::ptr::null(), &mut current) }, 0);
    current.sa_sigaction
}

/// Installs `handler` for `signal` as a host would, with `flags`.
fn install_host_handler(signal: i32, handler: libc::sighandler_t, flags: libc::c_int) {
    // SAFETY: a zeroed sigaction is valid; handler, flags and mask filled in.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = handler;
    action.sa_flags = flags;
    // SAFETY: `action` is initialised; the handlers passed are async-signal-safe.
    unsafe {
        libc::sigemptyset(&mut action.sa_mask);
        assert_eq!(libc::sigaction(signal, &action, std::ptr::null_mut()), 0);
    }
}

#[test]
fn a_failed_install_fails_every_time() {
    let runtime = Runtime::new().unwrap();
    let table = runtime.table();
    // In range, but no handler can be installed for it: glibc and musl keep
    // 32 for themselves, and elsewhere it is past the last signal.
    for attempt in 1..=2 {
        assert_eq!(subscribe(table, 32), Err(libc::EINVAL), "subscription {attempt} to signal 32");
    }
}

static PLAIN_SEEN: AtomicBool = AtomicBool::new(false);
static SIGINFO_SEEN: AtomicI32 = AtomicI32::new(0);

extern "C" fn plain_host_handler(_signal: libc::c_int) {
    PLAIN_SEEN.store(true, Ordering::SeqCst);
}

extern "C" fn siginfo_host_handler(signal: libc::c_int, info: *mut libc::siginfo_t, _context: *mut c_void) {
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler,
    // and tau's handler passes on the one it got.
    let signo = unsafe { (*info).si_signo };
    SIGINFO_SEEN.store(if signo == signal { signo } else { -1 }, Ordering::SeqCst);
}

#[test]
fn a_host_handler_is_chained_to_and_put_back_after_the_last_subscriber() {
    let runtime = Runtime::new().unwrap();
    let plugin = runtime.scope(1);
    let table = plugin.table();
    let waker = tau_park_waker();

    let plain = plain_host_handler as extern "C" fn(libc::c_int) as libc::sighandler_t;
    install_host_handler(libc::SIGUSR1, plain, 0);
    let key = subscribe(table, libc::SIGUSR1).unwrap();
    assert_eq!(poll(table, key, &waker), POLL_PENDING);
    raise(libc::SIGUSR1);
    assert_eq!(poll(table, key, &waker), POLL_READY, "the subscriber sees the signal");
    assert!(PLAIN_SEEN.swap(false, Ordering::SeqCst), "the host's plain handler sees it too");
    unsubscribe(table, key);
    assert_ne!(disposition(libc::SIGUSR1), plain, "kept while the plugin may subscribe again");
    plugin.revoke();
    assert_eq!(disposition(libc::SIGUSR1), plain, "the host's handler is back");

    let plugin = runtime.scope(2);
    let table = plugin.table();

    let siginfo = siginfo_host_handler as SiginfoHandler as libc::sighandler_t;
    install_host_handler(libc::SIGUSR2, siginfo, libc::SA_SIGINFO);
    let key = subscribe(table, libc::SIGUSR2).unwrap();
    raise(libc::SIGUSR2);
    assert_eq!(poll(table, key, &waker), POLL_READY, "the subscriber sees the signal");
    assert_eq!(
        SIGINFO_SEEN.load(Ordering::SeqCst),
        libc::SIGUSR2,
        "the host's SA_SIGINFO handler sees it with its siginfo"
    );
    unsubscribe(table, key);
    drop(plugin); // a scope dropped is gone too
    assert_eq!(disposition(libc::SIGUSR2), siginfo, "the host's handler is back");
}

#[test]
fn an_ignored_signal_is_ignored_again_after_the_last_subscriber() {
    let runtime = Runtime::new().unwrap();
    let plugin = runtime.scope(1);
    let table = plugin.table();
    install_host_handler(libc::SIGHUP, libc::SIG_IGN, 0);
    let key = subscribe(table, libc::SIGHUP).unwrap();
    raise(libc::SIGHUP);
    assert_eq!(poll(table, key, &tau_park_waker()), POLL_READY);
    unsubscribe(table, key);
    plugin.revoke();
    assert_eq!(disposition(libc::SIGHUP), libc::SIG_IGN);
}

static TAU_HANDLER: AtomicUsize = AtomicUsize::new(0);
static CHAINING_CALLS: AtomicUsize = AtomicUsize::new(0);

type SiginfoHandler = extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut c_void);

/// A host handler installed over tau's, chaining to it as it should.
extern "C" fn chaining_host_handler(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut c_void) {
    CHAINING_CALLS.fetch_add(1, Ordering::SeqCst);
    // SAFETY: tau's handler is an SA_SIGINFO handler (checked when saved).
    let tau = unsafe { std::mem::transmute::<usize, SiginfoHandler>(TAU_HANDLER.load(Ordering::SeqCst)) };
    tau(signal, info, context);
}

#[test]
fn a_host_handler_installed_over_taus_stays_and_is_not_chained_to_in_a_loop() {
    const TEST: &str = "a_host_handler_installed_over_taus_stays_and_is_not_chained_to_in_a_loop";
    if std::env::var(CHILD).is_ok() {
        let runtime = Runtime::new().unwrap();
        let table = runtime.table();
        let waker = tau_park_waker();
        let key = subscribe(table, libc::SIGUSR1).unwrap();
        // SAFETY: a zeroed sigaction is a valid out-parameter.
        let mut tau: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: only reads the action.
        assert_eq!(unsafe { libc::sigaction(libc::SIGUSR1, std::ptr::null(), &mut tau) }, 0);
        assert_ne!(tau.sa_flags & libc::SA_SIGINFO, 0);
        TAU_HANDLER.store(tau.sa_sigaction, Ordering::SeqCst);
        let host = chaining_host_handler as SiginfoHandler as libc::sighandler_t;
        install_host_handler(libc::SIGUSR1, host, libc::SA_SIGINFO);
        raise(libc::SIGUSR1);
        assert_eq!(poll(table, key, &waker), POLL_READY);
        unsubscribe(table, key);
        assert_eq!(disposition(libc::SIGUSR1), host, "the host's handler stays: it is not tau's to replace");
        let key = subscribe(table, libc::SIGUSR1).unwrap();
        raise(libc::SIGUSR1);
        assert_eq!(poll(table, key, &waker), POLL_READY, "delivered through the host's handler");
        assert_eq!(CHAINING_CALLS.load(Ordering::SeqCst), 2, "the host's handler ran once per raise");
        unsubscribe(table, key);
        std::process::exit(0);
    }
    let status = run_child(TEST, "chain");
    assert!(status.success(), "the child ended with {status}");
}

#[test]
fn sigterm_and_sigint_end_the_process_again_once_the_plugin_that_subscribed_is_gone() {
    const TEST: &str = "sigterm_and_sigint_end_the_process_again_once_the_plugin_that_subscribed_is_gone";
    if let Ok(mode) = std::env::var(CHILD) {
        let signal: i32 = mode.parse().unwrap();
        // The default action to begin with, whatever this process inherited
        // (a shell's background job starts with SIGINT ignored).
        install_host_handler(signal, libc::SIG_DFL, 0);
        let runtime = Runtime::new().unwrap();
        let plugin = runtime.scope(1);
        let table = plugin.table();
        let first = subscribe(table, signal).unwrap();
        let second = subscribe(table, signal).unwrap();
        // Subscribed, the signal is delivered instead of ending the process.
        raise(signal);
        assert_eq!(poll(table, first, &tau_park_waker()), POLL_READY);
        unsubscribe(table, first);
        raise(signal);
        assert_eq!(poll(table, second, &tau_park_waker()), POLL_READY, "one subscriber left");
        unsubscribe(table, second);
        // As tokio's: no subscription left, but the plugin may subscribe
        // again; the signal is kept for the next subscription.
        // It must be kept even once the dispatcher thread passed it on
        // (before, that lost it): wait for that. The dispatcher passes
        // deliveries on in order, so once it woke a later signal's
        // subscriber, it is past this one.
        let marker = subscribe(table, libc::SIGUSR2).unwrap();
        assert_eq!(poll(table, marker, &notify_waker()), POLL_PENDING);
        raise(signal);
        raise(libc::SIGUSR2);
        wait_notified();
        unsubscribe(table, marker);
        let third = subscribe(table, signal).unwrap();
        assert_eq!(poll(table, third, &tau_park_waker()), POLL_READY, "kept for the next subscription");
        unsubscribe(table, third);
        plugin.revoke(); // the plugin is unloaded: nothing of it will subscribe again
        raise(signal);
        eprintln!("still alive after raise({signal}) with no subscriber left");
        std::process::exit(0);
    }
    for signal in [libc::SIGTERM, libc::SIGINT] {
        let status = run_child(TEST, &signal.to_string());
        assert_eq!(
            status.signal(),
            Some(signal),
            "signal {signal}: the child ended with {status}, not killed by it"
        );
    }
}

#[test]
fn a_signal_ignored_before_a_plugin_subscribed_is_ignored_again_once_it_is_gone() {
    const TEST: &str = "a_signal_ignored_before_a_plugin_subscribed_is_ignored_again_once_it_is_gone";
    if std::env::var(CHILD).is_ok() {
        install_host_handler(libc::SIGINT, libc::SIG_IGN, 0);
        let runtime = Runtime::new().unwrap();
        let plugin = runtime.scope(1);
        let table = plugin.table();
        let key = subscribe(table, libc::SIGINT).unwrap();
        raise(libc::SIGINT);
        assert_eq!(poll(table, key, &tau_park_waker()), POLL_READY, "subscribed, it is delivered");
        unsubscribe(table, key);
        plugin.revoke();
        assert_eq!(disposition(libc::SIGINT), libc::SIG_IGN, "what was there before is back");
        raise(libc::SIGINT);
        std::process::exit(0);
    }
    let status = run_child(TEST, "ignored");
    assert!(status.success(), "the child ended with {status}");
}

#[test]
fn a_signal_kept_for_a_gone_owner_is_not_seen_by_a_later_one() {
    const TEST: &str = "a_signal_kept_for_a_gone_owner_is_not_seen_by_a_later_one";
    if std::env::var(CHILD).is_ok() {
        let runtime = Runtime::new().unwrap();
        let first = runtime.scope(1);
        let key = subscribe(first.table(), libc::SIGUSR2).unwrap();
        unsubscribe(first.table(), key);
        raise(libc::SIGUSR2); // kept, should `first` subscribe again
        first.revoke(); // it never will: the action before is back
        let second = runtime.scope(2);
        let key = subscribe(second.table(), libc::SIGUSR2).unwrap();
        assert_eq!(
            poll(second.table(), key, &tau_park_waker()),
            POLL_PENDING,
            "nothing arrived since it subscribed"
        );
        unsubscribe(second.table(), key);
        std::process::exit(0);
    }
    let status = run_child(TEST, "stale");
    assert!(status.success(), "the child ended with {status}");
}

/// A foreign waker whose clone and drop call back into signals, as a waker
/// may do anything; `data` points to one of these.
struct Reentrant {
    table: *const RuntimeTable,
}

static REENTRANT: FfiWakerVTable = FfiWakerVTable {
    clone: reentrant_clone,
    wake: reentrant_nothing,
    wake_by_ref: reentrant_nothing,
    drop: reentrant_drop,
};

fn reenter(data: *const c_void) {
    // SAFETY: `data` is a `Reentrant` that outlives every waker made of it,
    // and its table outlives the test.
    let table = unsafe { &*(*(data as *const Reentrant)).table };
    assert_eq!(poll(table, u64::MAX, &tau_park_waker()), POLL_GONE);
}

unsafe extern "C" fn reentrant_clone(data: *const c_void) -> FfiWaker {
    reenter(data);
    FfiWaker { data, vtable: &REENTRANT }
}

unsafe extern "C" fn reentrant_drop(data: *const c_void) {
    reenter(data);
}

unsafe extern "C" fn reentrant_nothing(_data: *const c_void) {}

#[test]
fn a_waker_calling_back_into_signals_from_clone_or_drop_does_not_deadlock() {
    const TEST: &str = "a_waker_calling_back_into_signals_from_clone_or_drop_does_not_deadlock";
    if std::env::var(CHILD).is_ok() {
        let runtime = Runtime::new().unwrap();
        let table = runtime.table();
        let first = Reentrant { table: table as *const RuntimeTable };
        let second = Reentrant { table: table as *const RuntimeTable };
        let key = subscribe(table, libc::SIGWINCH).unwrap();
        // Stored: cloned.
        let waker = FfiWaker { data: (&first as *const Reentrant).cast(), vtable: &REENTRANT };
        assert_eq!(poll(table, key, &waker), POLL_PENDING);
        // Replaced: the first clone is dropped.
        let other = FfiWaker { data: (&second as *const Reentrant).cast(), vtable: &REENTRANT };
        assert_eq!(poll(table, key, &other), POLL_PENDING);
        unsubscribe(table, key);
        std::process::exit(0);
    }
    let status = run_child(TEST, "reenter");
    assert!(status.success(), "the child ended with {status}");
}
