use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;

use super::error::Elapsed;
use super::{sleep, sleep_until, Instant, Sleep};

/// Runs `future` for at most `duration`: `Ok(output)` if it completes first,
/// `Err(Elapsed)` otherwise (the future is dropped with the `Timeout`).
///
/// The future is polled before the deadline is checked, so a future that is
/// ready at once succeeds even with a zero duration.
///
/// ```
/// use std::time::Duration;
/// tau::block_on(async {
///     let slow = tau::time::timeout(Duration::from_millis(1), std::future::pending::<()>()).await;
///     assert!(slow.is_err());
///     let fast = tau::time::timeout(Duration::from_secs(1), async { 7 }).await;
///     assert_eq!(fast, Ok(7));
/// });
/// ```
#[track_caller]
pub fn timeout<F: IntoFuture>(duration: Duration, future: F) -> Timeout<F::IntoFuture> {
    Timeout { value: future.into_future(), delay: sleep(duration) }
}

/// Runs `future` until `deadline`; see [`timeout`].
#[track_caller]
pub fn timeout_at<F: IntoFuture>(deadline: Instant, future: F) -> Timeout<F::IntoFuture> {
    Timeout { value: future.into_future(), delay: sleep_until(deadline) }
}

pin_project! {
    /// The future returned by [`timeout`] and [`timeout_at`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    #[derive(Debug)]
    pub struct Timeout<F> {
        #[pin]
        value: F,
        delay: Sleep,
    }
}

impl<F> Timeout<F> {
    /// The inner future.
    pub fn get_ref(&self) -> &F {
        &self.value
    }

    /// The inner future, mutably.
    pub fn get_mut(&mut self) -> &mut F {
        &mut self.value
    }

    /// The inner future, giving up the deadline.
    pub fn into_inner(self) -> F {
        self.value
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(output) = this.value.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        Pin::new(this.delay).poll(cx).map(|()| Err(Elapsed::new()))
    }
}
