use std::pin::Pin;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;

use crate::stream::{size_hint, FusedStream, Stream};

pin_project! {
    /// The stream returned by [`StreamExt::take`](crate::stream::StreamExt::take).
    #[derive(Debug)]
    #[must_use = "streams do nothing unless polled"]
    pub struct Take<S> {
        #[pin]
        stream: S,
        left: usize,
    }
}

impl<S> Take<S> {
    pub(crate) fn new(stream: S, n: usize) -> Self {
        Take { stream, left: n }
    }
}

impl<S: Stream> Stream for Take<S> {
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let this = self.project();
        if *this.left == 0 {
            return Poll::Ready(None); // the inner stream is not polled again
        }
        let item = ready!(this.stream.poll_next(cx));
        *this.left = if item.is_some() { *this.left - 1 } else { 0 };
        Poll::Ready(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.left == 0 {
            return size_hint::DONE;
        }
        let (lower, upper) = self.stream.size_hint();
        (lower.min(self.left), Some(upper.map_or(self.left, |upper| upper.min(self.left))))
    }
}

impl<S: Stream> FusedStream for Take<S> {
    fn is_terminated(&self) -> bool {
        self.left == 0
    }
}

inner_stream_access!(impl[S] Take<S>);
