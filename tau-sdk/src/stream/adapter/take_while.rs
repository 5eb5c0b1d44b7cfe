use std::pin::Pin;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;

use crate::stream::{size_hint, FusedStream, Stream};

pin_project! {
    /// The stream returned by [`StreamExt::take_while`](crate::stream::StreamExt::take_while).
    #[must_use = "streams do nothing unless polled"]
    pub struct TakeWhile<S, F> {
        #[pin]
        stream: S,
        keep: F,
        done: bool,
    }
}

impl<S, F> TakeWhile<S, F> {
    pub(crate) fn new(stream: S, keep: F) -> Self {
        TakeWhile { stream, keep, done: false }
    }
}

impl<S, F> Stream for TakeWhile<S, F>
where
    S: Stream,
    F: FnMut(&S::Item) -> bool,
{
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        // The first item that fails the predicate ends the stream and is dropped.
        let item = ready!(this.stream.poll_next(cx)).filter(|item| (this.keep)(item));
        *this.done = item.is_none();
        Poll::Ready(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            return size_hint::DONE;
        }
        size_hint::at_most(self.stream.size_hint())
    }
}

impl<S, F> FusedStream for TakeWhile<S, F>
where
    S: Stream,
    F: FnMut(&S::Item) -> bool,
{
    fn is_terminated(&self) -> bool {
        self.done
    }
}

inner_stream_access!(impl[S, F] TakeWhile<S, F>);
debug_stream_adapter!(impl[S, F] TakeWhile<S, F>, "TakeWhile");
