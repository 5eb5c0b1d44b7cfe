//! Waiting for one child without blocking the runtime's thread or reaping
//! anyone else's: on Linux the child's pidfd, readable once it has exited,
//! is registered with the reactor and the child is then reaped with
//! `waitpid(pid, WNOHANG)`; where there is no pidfd (or the wait is polled
//! off the runtime's thread) a blocking-pool job waits for the exit with
//! `waitid(.., WEXITED | WNOWAIT)`, which leaves the child for that same
//! `waitpid` to reap (so the pid cannot be reused while a `kill` may still
//! target it).

use std::fmt;
use std::future::Future;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::pin::Pin;
use std::process::{Child as StdChild, ExitStatus};
use std::task::{ready, Context, Poll};

use tau::task::JoinHandle;

use super::orphan;
use crate::io::poll_evented::Registration;
use crate::io::Interest;

/// A spawned child not known to be reaped. Dropping it kills the child if
/// asked to and leaves it to be reaped in the background.
pub(crate) struct Process {
    /// `Some` until dropped.
    std: Option<StdChild>,
    waiter: Waiter,
    kill_on_drop: bool,
}

/// How the exit is waited for: the pidfd on the reactor, registered by the
/// first wait on the runtime's thread; else (no pidfd, or polled off that
/// thread) a job on the blocking pool.
struct Waiter {
    /// Declared before `pidfd`, so it leaves the reactor before the fd
    /// closes.
    registration: Option<Registration>,
    pidfd: Option<OwnedFd>,
    job: Option<JoinHandle<io::Result<()>>>,
}

impl Process {
    /// Takes over `std`.
    pub(crate) fn new(std: StdChild, kill_on_drop: bool) -> Process {
        let waiter = Waiter { registration: None, pidfd: pidfd::open(std.id()), job: None };
        Process { std: Some(std), waiter, kill_on_drop }
    }

    fn std(&mut self) -> &mut StdChild {
        self.std.as_mut().expect("the child is only taken by drop")
    }

    pub(crate) fn id(&self) -> u32 {
        self.std.as_ref().expect("the child is only taken by drop").id()
    }

    /// Sends `SIGKILL` (nothing to do, and `Ok`, once reaped); once sent,
    /// dropping does not kill again.
    pub(crate) fn kill(&mut self) -> io::Result<()> {
        self.std().kill()?;
        self.kill_on_drop = false;
        Ok(())
    }

    /// Reaps the child if it has exited, without waiting.
    pub(crate) fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.std().try_wait()
    }

    /// Waits for the exit and reaps the child; spends a unit of the task's
    /// budget when it finishes.
    pub(crate) fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ExitStatus>> {
        let restore = ready!(tau::task::coop::poll_proceed(cx));
        let result = self.poll_exit(cx);
        if result.is_ready() {
            restore.made_progress();
        }
        result
    }

    fn poll_exit(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ExitStatus>> {
        let std = self.std.as_mut().expect("the child is only taken by drop");
        let waiter = &mut self.waiter;
        loop {
            if waiter.registration.is_none() && waiter.job.is_none() {
                if let Some(pidfd) = &waiter.pidfd {
                    // Fails off the runtime's thread: then the pool waits.
                    waiter.registration = Registration::new(pidfd.as_raw_fd(), Interest::READABLE).ok();
                }
            }
            if let Some(registration) = &waiter.registration {
                let ready = ready!(registration.poll_ready(cx, Interest::READABLE))?;
                if let Some(status) = std.try_wait()? {
                    return Poll::Ready(Ok(status));
                }
                // Readable means exited; this was a stale readiness.
                // Single-threaded: no event can land between the check and
                // the clear, and a later exit reports anew.
                registration.clear(ready);
                continue;
            }
            let job = waiter.job.get_or_insert_with(|| {
                let pid = std.id();
                tau::task::spawn_blocking(move || wait_exited(pid))
            });
            let outcome = ready!(Pin::new(job).poll(cx));
            waiter.job = None;
            outcome.map_err(|error| io::Error::other(format!("background task failed: {error}")))??;
            if let Some(status) = std.try_wait()? {
                return Poll::Ready(Ok(status));
            }
            // Exited but not reapable yet cannot be: wait again.
        }
    }
}

/// Blocks until the child `pid` has exited, leaving it unreaped.
fn wait_exited(pid: u32) -> io::Result<()> {
    let pid = libc::id_t::from(pid);
    loop {
        // SAFETY: `siginfo_t` is plain C data, for which all-zero is a
        // valid value.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: `info` is a valid out-pointer for the call; `WNOWAIT`
        // makes it only look, so the child stays for `try_wait` to reap.
        let result = unsafe { libc::waitid(libc::P_PID, pid, &mut info, libc::WEXITED | libc::WNOWAIT) };
        if result == 0 {
            return Ok(());
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let Some(mut std) = self.std.take() else { return };
        // Reaped already (this is cached), or exited: nothing to kill or
        // leave behind. An error means it is not ours to wait for.
        if !matches!(std.try_wait(), Ok(None)) {
            return;
        }
        if self.kill_on_drop {
            // The child may exit on its own meanwhile; it stays a zombie
            // until reaped, so the pid cannot belong to anyone else.
            let _ = std.kill();
        }
        // Off the reactor before the fd moves on. A job in flight only
        // watches the pid; it ends with the child.
        self.waiter.registration = None;
        orphan::adopt(std, self.waiter.pidfd.take());
    }
}

impl fmt::Debug for Process {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pid = self.std.as_ref().map(StdChild::id);
        f.debug_struct("Process").field("pid", &pid).field("kill_on_drop", &self.kill_on_drop).finish()
    }
}

#[cfg(target_os = "linux")]
pub(super) mod pidfd {
    use std::io;
    use std::os::fd::{FromRawFd, OwnedFd, RawFd};
    use std::sync::atomic::{AtomicBool, Ordering};

    /// Set once the kernel has said it has no `pidfd_open` (before 5.3).
    static UNSUPPORTED: AtomicBool = AtomicBool::new(false);

    /// A pidfd for the child `pid` (close-on-exec, as all pidfds), or
    /// `None` where there is none to be had.
    pub(crate) fn open(pid: u32) -> Option<OwnedFd> {
        if UNSUPPORTED.load(Ordering::Relaxed) {
            return None;
        }
        let pid = libc::pid_t::try_from(pid).ok()?;
        // SAFETY: `pidfd_open(pid, flags)` takes two integers and returns
        // a new fd or -1; no memory is passed.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        if fd < 0 {
            if io::Error::last_os_error().raw_os_error() == Some(libc::ENOSYS) {
                UNSUPPORTED.store(true, Ordering::Relaxed);
            }
            return None;
        }
        // SAFETY: the kernel just returned this fd, owned by nothing else.
        Some(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
    }
}

#[cfg(not(target_os = "linux"))]
pub(super) mod pidfd {
    use std::os::fd::{AsRawFd, OwnedFd};

    /// No pidfds here: children are waited for on the blocking pool.
    pub(crate) fn open(_pid: u32) -> Option<OwnedFd> {
        None
    }
}
