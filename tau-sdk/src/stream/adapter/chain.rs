use std::pin::Pin;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;

use crate::stream::{size_hint, FusedStream, Stream};

pin_project! {
    /// The stream returned by [`StreamExt::chain`](crate::stream::StreamExt::chain).
    #[derive(Debug)]
    #[must_use = "streams do nothing unless polled"]
    pub struct Chain<A, B> {
        // Dropped as soon as it ends, with whatever it holds.
        #[pin]
        first: Option<A>,
        #[pin]
        second: B,
    }
}

impl<A, B> Chain<A, B> {
    pub(crate) fn new(first: A, second: B) -> Self {
        Chain { first: Some(first), second }
    }
}

impl<A, B> Stream for Chain<A, B>
where
    A: Stream,
    B: Stream<Item = A::Item>,
{
    type Item = A::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<A::Item>> {
        let mut this = self.project();
        if let Some(first) = this.first.as_mut().as_pin_mut() {
            if let Some(item) = ready!(first.poll_next(cx)) {
                return Poll::Ready(Some(item));
            }
            this.first.set(None);
        }
        this.second.poll_next(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let first = self.first.as_ref().map_or(size_hint::DONE, Stream::size_hint);
        size_hint::add(first, self.second.size_hint())
    }
}

impl<A, B> FusedStream for Chain<A, B>
where
    A: Stream,
    B: FusedStream<Item = A::Item>,
{
    fn is_terminated(&self) -> bool {
        self.first.is_none() && self.second.is_terminated()
    }
}
