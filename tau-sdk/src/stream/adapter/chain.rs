use std::pin::Pin;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;

use super::Fuse;
use crate::stream::{size_hint, FusedStream, Stream};

pin_project! {
    /// The stream returned by [`StreamExt::chain`](crate::stream::StreamExt::chain).
    #[derive(Debug)]
    #[must_use = "streams do nothing unless polled"]
    pub struct Chain<A, B> {
        #[pin]
        first: Fuse<A>,
        #[pin]
        second: B,
    }
}

impl<A, B> Chain<A, B> {
    pub(crate) fn new(first: A, second: B) -> Self {
        Chain { first: Fuse::new(first), second }
    }
}

impl<A, B> Stream for Chain<A, B>
where
    A: Stream,
    B: Stream<Item = A::Item>,
{
    type Item = A::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<A::Item>> {
        let this = self.project();
        if let Some(item) = ready!(this.first.poll_next(cx)) {
            return Poll::Ready(Some(item));
        }
        this.second.poll_next(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        size_hint::add(self.first.size_hint(), self.second.size_hint())
    }
}

impl<A, B> FusedStream for Chain<A, B>
where
    A: Stream,
    B: FusedStream<Item = A::Item>,
{
    fn is_terminated(&self) -> bool {
        self.first.is_done() && self.second.is_terminated()
    }
}
