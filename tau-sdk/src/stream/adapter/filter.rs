use std::pin::Pin;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;

use crate::stream::{size_hint, FusedStream, Stream};

pin_project! {
    /// The stream returned by [`StreamExt::filter`](crate::stream::StreamExt::filter).
    #[must_use = "streams do nothing unless polled"]
    pub struct Filter<S, F> {
        #[pin]
        stream: S,
        keep: F,
    }
}

impl<S, F> Filter<S, F> {
    pub(crate) fn new(stream: S, keep: F) -> Self {
        Filter { stream, keep }
    }
}

impl<S, F> Stream for Filter<S, F>
where
    S: Stream,
    F: FnMut(&S::Item) -> bool,
{
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let mut this = self.project();
        loop {
            match ready!(this.stream.as_mut().poll_next(cx)) {
                Some(item) if !(this.keep)(&item) => continue,
                end_or_kept => return Poll::Ready(end_or_kept),
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        size_hint::at_most(self.stream.size_hint())
    }
}

impl<S, F> FusedStream for Filter<S, F>
where
    S: FusedStream,
    F: FnMut(&S::Item) -> bool,
{
    fn is_terminated(&self) -> bool {
        self.stream.is_terminated()
    }
}

inner_stream_access!(impl[S, F] Filter<S, F>);
debug_stream_adapter!(impl[S, F] Filter<S, F>, "Filter");
