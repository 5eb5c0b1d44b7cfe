use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;

use super::timeout::deadline_after;
use crate::stream::Stream;
use crate::time::{sleep, Sleep};

pin_project! {
    /// The stream returned by [`StreamExt::throttle`](crate::stream::StreamExt::throttle).
    #[derive(Debug)]
    #[must_use = "streams do nothing unless polled"]
    pub struct Throttle<S> {
        #[pin]
        stream: S,
        delay: Sleep,
        duration: Duration,
        // True when the next item may go out without waiting for `delay`.
        waited: bool,
    }
}

impl<S: Stream> Throttle<S> {
    pub(crate) fn new(stream: S, duration: Duration) -> Self {
        Throttle { stream, delay: sleep(duration), duration, waited: true }
    }
}

impl<S: Stream> Stream for Throttle<S> {
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let this = self.project();
        let throttled = !this.duration.is_zero();
        if throttled && !*this.waited {
            ready!(Pin::new(&mut *this.delay).poll(cx));
            *this.waited = true;
        }
        let item = ready!(this.stream.poll_next(cx));
        if item.is_some() && throttled {
            // The next item waits a whole period after this one went out.
            Pin::new(&mut *this.delay).reset(deadline_after(*this.duration));
            *this.waited = false;
        }
        Poll::Ready(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.stream.size_hint()
    }
}

inner_stream_access!(impl[S] Throttle<S>);
