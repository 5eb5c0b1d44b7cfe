use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;

use crate::stream::{size_hint, FusedStream, Stream};

pin_project! {
    /// The stream returned by [`StreamExt::then`](crate::stream::StreamExt::then).
    #[must_use = "streams do nothing unless polled"]
    pub struct Then<S, Fut, F> {
        #[pin]
        stream: S,
        // The one future in flight; the next item is not pulled until it is done.
        #[pin]
        future: Option<Fut>,
        f: F,
    }
}

impl<S, Fut, F> Then<S, Fut, F> {
    pub(crate) fn new(stream: S, f: F) -> Self {
        Then { stream, future: None, f }
    }
}

impl<S, Fut, F> Stream for Then<S, Fut, F>
where
    S: Stream,
    F: FnMut(S::Item) -> Fut,
    Fut: Future,
{
    type Item = Fut::Output;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Fut::Output>> {
        let mut this = self.project();
        if this.future.is_none() {
            match ready!(this.stream.poll_next(cx)) {
                Some(item) => this.future.set(Some((this.f)(item))),
                None => return Poll::Ready(None),
            }
        }
        let future = this.future.as_mut().as_pin_mut().expect("a future is in flight");
        let output = ready!(future.poll(cx));
        this.future.set(None);
        Poll::Ready(Some(output))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        size_hint::plus(self.stream.size_hint(), usize::from(self.future.is_some()))
    }
}

impl<S, Fut, F> FusedStream for Then<S, Fut, F>
where
    S: FusedStream,
    F: FnMut(S::Item) -> Fut,
    Fut: Future,
{
    fn is_terminated(&self) -> bool {
        self.future.is_none() && self.stream.is_terminated()
    }
}

inner_stream_access!(impl[S, Fut, F] Then<S, Fut, F>);
debug_stream_adapter!(impl[S, Fut, F] Then<S, Fut, F>, "Then");
