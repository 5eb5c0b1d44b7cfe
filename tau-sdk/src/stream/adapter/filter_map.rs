use std::pin::Pin;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;

use crate::stream::{size_hint, FusedStream, Stream};

pin_project! {
    /// The stream returned by [`StreamExt::filter_map`](crate::stream::StreamExt::filter_map).
    #[must_use = "streams do nothing unless polled"]
    pub struct FilterMap<S, F> {
        #[pin]
        stream: S,
        f: F,
    }
}

impl<S, F> FilterMap<S, F> {
    pub(crate) fn new(stream: S, f: F) -> Self {
        FilterMap { stream, f }
    }
}

impl<S, F, T> Stream for FilterMap<S, F>
where
    S: Stream,
    F: FnMut(S::Item) -> Option<T>,
{
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut this = self.project();
        loop {
            let Some(item) = ready!(this.stream.as_mut().poll_next(cx)) else {
                return Poll::Ready(None);
            };
            if let Some(mapped) = (this.f)(item) {
                return Poll::Ready(Some(mapped));
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        size_hint::at_most(self.stream.size_hint())
    }
}

impl<S, F, T> FusedStream for FilterMap<S, F>
where
    S: FusedStream,
    F: FnMut(S::Item) -> Option<T>,
{
    fn is_terminated(&self) -> bool {
        self.stream.is_terminated()
    }
}

inner_stream_access!(impl[S, F] FilterMap<S, F>);
debug_stream_adapter!(impl[S, F] FilterMap<S, F>, "FilterMap");
