use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use crate::stream::{FusedStream, Stream};

pin_project! {
    /// The stream returned by [`StreamExt::map`](crate::stream::StreamExt::map).
    #[must_use = "streams do nothing unless polled"]
    pub struct Map<S, F> {
        #[pin]
        stream: S,
        f: F,
    }
}

impl<S, F> Map<S, F> {
    pub(crate) fn new(stream: S, f: F) -> Self {
        Map { stream, f }
    }
}

impl<S, F, T> Stream for Map<S, F>
where
    S: Stream,
    F: FnMut(S::Item) -> T,
{
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.project();
        this.stream.poll_next(cx).map(|item| item.map(this.f))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.stream.size_hint()
    }
}

impl<S, F, T> FusedStream for Map<S, F>
where
    S: FusedStream,
    F: FnMut(S::Item) -> T,
{
    fn is_terminated(&self) -> bool {
        self.stream.is_terminated()
    }
}

inner_stream_access!(impl[S, F] Map<S, F>);
debug_stream_adapter!(impl[S, F] Map<S, F>, "Map");
