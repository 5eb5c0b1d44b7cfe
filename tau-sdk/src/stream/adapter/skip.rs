use std::pin::Pin;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;

use crate::stream::{FusedStream, Stream};

pin_project! {
    /// The stream returned by [`StreamExt::skip`](crate::stream::StreamExt::skip).
    #[derive(Debug)]
    #[must_use = "streams do nothing unless polled"]
    pub struct Skip<S> {
        #[pin]
        stream: S,
        left: usize,
    }
}

impl<S> Skip<S> {
    pub(crate) fn new(stream: S, n: usize) -> Self {
        Skip { stream, left: n }
    }
}

impl<S: Stream> Stream for Skip<S> {
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let mut this = self.project();
        while *this.left > 0 {
            if ready!(this.stream.as_mut().poll_next(cx)).is_none() {
                return Poll::Ready(None);
            }
            *this.left -= 1;
        }
        this.stream.poll_next(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let (lower, upper) = self.stream.size_hint();
        (lower.saturating_sub(self.left), upper.map(|upper| upper.saturating_sub(self.left)))
    }
}

impl<S: FusedStream> FusedStream for Skip<S> {
    fn is_terminated(&self) -> bool {
        self.stream.is_terminated()
    }
}

inner_stream_access!(impl[S] Skip<S>);
