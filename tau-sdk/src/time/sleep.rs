use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tau_rt::abi::{POLL_GONE, POLL_NOT_DRIVER, POLL_PENDING, POLL_READY};

use super::Instant;
use crate::context::{self, TableRef};
use crate::ffi_waker;
use crate::task::JoinHandle;

/// Waits until `duration` has elapsed. `Duration::MAX` (or any duration past
/// the clock's range) sleeps until about 30 years from now rather than
/// overflowing, as tokio's: forever in practice, and at once under a paused
/// clock with nothing else to do (the clock jumps to it).
///
/// Once its runtime is gone (the plugin whose code made it was unloaded, or
/// the runtime dropped) its timer can never fire, and the `Sleep` completes
/// at its next poll: tokio panics there, but a panic in a plugin's code
/// polled by the host cannot unwind into the host (another copy of std), so
/// tau ends the wait instead. (A stream an export returns does not get that
/// far: once its plugin is unloaded it gives the items it already holds,
/// with its sleeps pending meanwhile, then ends.)
///
/// # Panics
/// Outside of any runtime, like tokio's (see [`crate::runtime::Handle::current`]).
///
/// ```
/// use std::time::Duration;
/// tau::block_on(async {
///     let start = tau::time::Instant::now();
///     tau::time::sleep(Duration::from_millis(5)).await;
///     assert!(start.elapsed() >= Duration::from_millis(5));
/// });
/// ```
#[track_caller]
pub fn sleep(duration: Duration) -> Sleep {
    match Instant::after(duration) {
        Some(deadline) => Sleep::new(deadline),
        // As tokio's: about 30 years, which a paused clock reaches at once.
        None => Sleep::new(Instant::far_future()),
    }
}

/// Waits until `deadline`. Panics as [`sleep`] does.
#[track_caller]
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new(deadline)
}

/// The future returned by [`sleep`] and [`sleep_until`].
///
/// Its timer is registered with the runtime at the first poll and removed
/// when the `Sleep` completes or is dropped.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Sleep {
    deadline: Instant,
    /// The deadline on the runtime clock.
    deadline_ns: u64,
    /// The runtime whose timer this is.
    table: TableRef,
    /// The runtime's timer key (0: not registered).
    key: u64,
    elapsed: bool,
    /// Used when polled off the runtime's thread: a helper task sleeps on
    /// the runtime, and its completion wakes this sleep's poller.
    remote: Option<JoinHandle<()>>,
}

impl Sleep {
    #[track_caller]
    fn new(deadline: Instant) -> Sleep {
        let deadline_ns = deadline.to_runtime_ns();
        Sleep { deadline, deadline_ns, table: context::current(), key: 0, elapsed: false, remote: None }
    }

    /// The instant at which this sleep completes.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// True once the deadline has been reached and observed by a poll.
    pub fn is_elapsed(&self) -> bool {
        self.elapsed
    }

    /// Moves the deadline, whether or not the sleep has completed; the next
    /// poll waits for the new deadline.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tau::time::{sleep, Instant};
    /// tau::block_on(async {
    ///     let mut nap = Box::pin(sleep(Duration::from_secs(3600)));
    ///     nap.as_mut().reset(Instant::now() + Duration::from_millis(1));
    ///     nap.await;
    /// });
    /// ```
    pub fn reset(self: Pin<&mut Self>, deadline: Instant) {
        let this = self.get_mut();
        this.deadline = deadline;
        this.deadline_ns = deadline.to_runtime_ns();
        this.elapsed = false;
        this.cancel_remote();
        if this.key != 0 {
            // The registration moves now, keeping the waker of the last
            // poll: the task waiting on it wakes at the new deadline even
            // if nothing polls it before (tokio-util's `DelayQueue`).
            this.table.timer_reset(this.key, this.deadline_ns);
        }
    }

    fn cancel_remote(&mut self) {
        if let Some(helper) = self.remote.take() {
            helper.abort();
        }
    }

    fn poll_remote(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let helper = self.remote.get_or_insert_with(|| {
            let deadline = self.deadline;
            crate::task::spawn_on(self.table.clone(), sleep_until(deadline))
        });
        // A helper refused or cancelled means the runtime went away: that ends
        // the wait too (see `sleep`).
        let Poll::Ready(_slept) = Pin::new(helper).poll(cx) else { return Poll::Pending };
        self.remote = None;
        self.elapsed = true;
        Poll::Ready(())
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.elapsed {
            return Poll::Ready(());
        }
        if this.remote.is_some() {
            if context::is_draining() && this.table.is_gone() {
                return Poll::Pending;
            }
            return this.poll_remote(cx);
        }
        let table = &this.table;
        let status = ffi_waker::with_ffi_waker(cx.waker(), |waker| {
            table.timer_poll(&mut this.key, this.deadline_ns, waker)
        });
        match status {
            // Gone while the plugin's stream gives out what it holds: what
            // waits here was not made yet.
            POLL_GONE if context::is_draining() => Poll::Pending,
            // Gone: the timer can never fire; the wait ends (see `sleep`).
            POLL_READY | POLL_GONE => {
                this.elapsed = true;
                Poll::Ready(())
            }
            POLL_PENDING => Poll::Pending,
            POLL_NOT_DRIVER => this.poll_remote(cx),
            other => unreachable!("unknown timer_poll status {other:?}"),
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if self.key != 0 {
            // The timer belongs to this table.
            self.table.timer_cancel(self.key);
        }
        self.cancel_remote();
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep").field("deadline", &self.deadline).field("elapsed", &self.elapsed).finish()
    }
}
