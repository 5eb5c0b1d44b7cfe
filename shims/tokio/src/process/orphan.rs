//! Reaping children whose `Child` was dropped before they were reaped, so
//! none stays a zombie: as tokio does, in the background.
//!
//! With a pidfd and a runtime, a task waits for the pidfd on the reactor
//! and reaps the child. Otherwise — no pidfd, no runtime, or the task
//! cancelled before the child exited (its runtime shut down, its plugin
//! unloaded) — a small thread of its own blocks in `waitpid` for that one
//! child. Neither reaps any other child.

use std::os::fd::OwnedFd;
use std::process::Child as StdChild;

use crate::io::poll_evented::PollEvented;
use crate::io::Interest;

/// Reaps `child` in the background; `pidfd` is its pidfd, if it has one.
pub(crate) fn adopt(child: StdChild, pidfd: Option<OwnedFd>) {
    let orphan = Orphan(Some(child));
    match (pidfd, tau::runtime::Handle::try_current()) {
        (Some(pidfd), Ok(handle)) => {
            // Detached. A spawn refused (runtime gone) drops the future,
            // and with it `orphan`, which then goes to a thread.
            drop(handle.spawn(orphan.reap(pidfd)));
        }
        _ => drop(orphan),
    }
}

/// A child to reap; if dropped unreaped, a thread reaps it.
struct Orphan(Option<StdChild>);

impl Orphan {
    async fn reap(mut self, pidfd: OwnedFd) {
        // On the runtime's thread now: register there. Any error leaves the
        // child to `Drop`.
        let Ok(pidfd) = PollEvented::with_interest(pidfd, Interest::READABLE) else { return };
        loop {
            let Ok(ready) = pidfd.ready(Interest::READABLE).await else { return };
            let child = self.0.as_mut().expect("taken only when reaped");
            match child.try_wait() {
                Ok(None) => pidfd.registration().clear(ready),
                // Reaped, or not ours to wait for.
                Ok(Some(_)) | Err(_) => {
                    self.0 = None;
                    return;
                }
            }
        }
    }
}

impl Drop for Orphan {
    fn drop(&mut self) {
        let Some(mut child) = self.0.take() else { return };
        if !matches!(child.try_wait(), Ok(None)) {
            return;
        }
        // If no thread can be started the child stays a zombie until this
        // process exits: nothing else can wait for it alone.
        let _ = std::thread::Builder::new().name("tokio-process-reaper".into()).stack_size(64 * 1024).spawn(
            move || {
                let _ = child.wait();
            },
        );
    }
}
