use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use crate::stream::{FusedStream, Stream};

pin_project! {
    /// The stream returned by [`StreamExt::inspect`](crate::stream::StreamExt::inspect).
    #[must_use = "streams do nothing unless polled"]
    pub struct Inspect<S, F> {
        #[pin]
        stream: S,
        f: F,
    }
}

impl<S, F> Inspect<S, F> {
    pub(crate) fn new(stream: S, f: F) -> Self {
        Inspect { stream, f }
    }
}

impl<S, F> Stream for Inspect<S, F>
where
    S: Stream,
    F: FnMut(&S::Item),
{
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let this = self.project();
        this.stream.poll_next(cx).map(|item| item.inspect(this.f))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.stream.size_hint()
    }
}

impl<S, F> FusedStream for Inspect<S, F>
where
    S: FusedStream,
    F: FnMut(&S::Item),
{
    fn is_terminated(&self) -> bool {
        self.stream.is_terminated()
    }
}

inner_stream_access!(impl[S, F] Inspect<S, F>);
debug_stream_adapter!(impl[S, F] Inspect<S, F>, "Inspect");
