use std::pin::Pin;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;

use crate::stream::{FusedStream, Stream};

pin_project! {
    /// The stream returned by [`StreamExt::enumerate`](crate::stream::StreamExt::enumerate).
    #[derive(Debug)]
    #[must_use = "streams do nothing unless polled"]
    pub struct Enumerate<S> {
        #[pin]
        stream: S,
        count: usize,
    }
}

impl<S> Enumerate<S> {
    pub(crate) fn new(stream: S) -> Self {
        Enumerate { stream, count: 0 }
    }
}

impl<S: Stream> Stream for Enumerate<S> {
    type Item = (usize, S::Item);

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        let Some(item) = ready!(this.stream.poll_next(cx)) else {
            return Poll::Ready(None);
        };
        let index = *this.count;
        *this.count += 1;
        Poll::Ready(Some((index, item)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.stream.size_hint()
    }
}

impl<S: FusedStream> FusedStream for Enumerate<S> {
    fn is_terminated(&self) -> bool {
        self.stream.is_terminated()
    }
}

inner_stream_access!(impl[S] Enumerate<S>);
