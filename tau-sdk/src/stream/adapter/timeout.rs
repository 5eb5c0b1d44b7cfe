use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;

use super::Fuse;
use crate::stream::{Elapsed, Stream};
use crate::time::{sleep, Instant, Sleep};

/// `duration` from now; a duration past the clock's range never ends.
pub(super) fn deadline_after(duration: Duration) -> Instant {
    Instant::after(duration).unwrap_or_else(Instant::far_future)
}

pin_project! {
    /// The stream returned by [`StreamExt::timeout`](crate::stream::StreamExt::timeout).
    #[derive(Debug)]
    #[must_use = "streams do nothing unless polled"]
    pub struct Timeout<S> {
        #[pin]
        stream: Fuse<S>,
        deadline: Sleep,
        duration: Duration,
        // False once the current gap has reported `Elapsed`: one error per gap.
        armed: bool,
    }
}

impl<S: Stream> Timeout<S> {
    pub(crate) fn new(stream: S, duration: Duration) -> Self {
        Timeout { stream: Fuse::new(stream), deadline: sleep(duration), duration, armed: true }
    }
}

impl<S: Stream> Stream for Timeout<S> {
    type Item = Result<S::Item, Elapsed>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        if let Poll::Ready(item) = this.stream.poll_next(cx) {
            if item.is_some() {
                // Each item starts a new gap, measured from when it was yielded.
                Pin::new(&mut *this.deadline).reset(deadline_after(*this.duration));
                *this.armed = true;
            }
            return Poll::Ready(item.map(Ok));
        }
        if !*this.armed || Pin::new(&mut *this.deadline).poll(cx).is_pending() {
            return Poll::Pending;
        }
        *this.armed = false;
        Poll::Ready(Some(Err(Elapsed::new())))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        // At most one error before each item and one after the last.
        let (lower, upper) = self.stream.size_hint();
        (lower, upper.and_then(|upper| upper.checked_mul(2)?.checked_add(1)))
    }
}
