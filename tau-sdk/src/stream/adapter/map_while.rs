use std::pin::Pin;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;

use crate::stream::{size_hint, FusedStream, Stream};

pin_project! {
    /// The stream returned by [`StreamExt::map_while`](crate::stream::StreamExt::map_while).
    #[must_use = "streams do nothing unless polled"]
    pub struct MapWhile<S, F> {
        #[pin]
        stream: S,
        f: F,
        done: bool,
    }
}

impl<S, F> MapWhile<S, F> {
    pub(crate) fn new(stream: S, f: F) -> Self {
        MapWhile { stream, f, done: false }
    }
}

impl<S, F, T> Stream for MapWhile<S, F>
where
    S: Stream,
    F: FnMut(S::Item) -> Option<T>,
{
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        let mapped = ready!(this.stream.poll_next(cx)).and_then(this.f);
        *this.done = mapped.is_none();
        Poll::Ready(mapped)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            return size_hint::DONE;
        }
        size_hint::at_most(self.stream.size_hint())
    }
}

impl<S, F, T> FusedStream for MapWhile<S, F>
where
    S: Stream,
    F: FnMut(S::Item) -> Option<T>,
{
    fn is_terminated(&self) -> bool {
        self.done
    }
}

inner_stream_access!(impl[S, F] MapWhile<S, F>);
debug_stream_adapter!(impl[S, F] MapWhile<S, F>, "MapWhile");
