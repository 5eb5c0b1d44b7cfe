use std::pin::Pin;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;

use crate::stream::{size_hint, FusedStream, Stream};

pin_project! {
    /// The stream returned by [`StreamExt::skip_while`](crate::stream::StreamExt::skip_while).
    #[must_use = "streams do nothing unless polled"]
    pub struct SkipWhile<S, F> {
        #[pin]
        stream: S,
        // `None` once an item failed it: from then on every item passes.
        skip: Option<F>,
    }
}

impl<S, F> SkipWhile<S, F> {
    pub(crate) fn new(stream: S, skip: F) -> Self {
        SkipWhile { stream, skip: Some(skip) }
    }
}

impl<S, F> Stream for SkipWhile<S, F>
where
    S: Stream,
    F: FnMut(&S::Item) -> bool,
{
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let mut this = self.project();
        let Some(skip) = this.skip.as_mut() else {
            return this.stream.poll_next(cx);
        };
        loop {
            match ready!(this.stream.as_mut().poll_next(cx)) {
                Some(item) if skip(&item) => continue,
                Some(item) => {
                    *this.skip = None;
                    return Poll::Ready(Some(item));
                }
                None => return Poll::Ready(None),
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self.skip {
            Some(_) => size_hint::at_most(self.stream.size_hint()),
            None => self.stream.size_hint(),
        }
    }
}

impl<S, F> FusedStream for SkipWhile<S, F>
where
    S: FusedStream,
    F: FnMut(&S::Item) -> bool,
{
    fn is_terminated(&self) -> bool {
        self.stream.is_terminated()
    }
}

inner_stream_access!(impl[S, F] SkipWhile<S, F>);
debug_stream_adapter!(impl[S, F] SkipWhile<S, F>, "SkipWhile");
