use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use super::Fuse;
use crate::stream::{size_hint, FusedStream, Stream};

pin_project! {
    /// The stream returned by [`StreamExt::zip`](crate::stream::StreamExt::zip).
    #[must_use = "streams do nothing unless polled"]
    pub struct Zip<A, B>
    where
        A: Stream,
        B: Stream,
    {
        #[pin]
        a: Fuse<A>,
        #[pin]
        b: Fuse<B>,
        // An item that came before its partner did.
        a_item: Option<A::Item>,
        b_item: Option<B::Item>,
    }
}

impl<A: Stream, B: Stream> Zip<A, B> {
    pub(crate) fn new(a: A, b: B) -> Self {
        Zip { a: Fuse::new(a), b: Fuse::new(b), a_item: None, b_item: None }
    }
}

impl<A: Stream, B: Stream> Stream for Zip<A, B> {
    type Item = (A::Item, B::Item);

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        if this.a_item.is_none() {
            if let Poll::Ready(Some(item)) = this.a.as_mut().poll_next(cx) {
                *this.a_item = Some(item);
            }
        }
        if this.b_item.is_none() {
            if let Poll::Ready(Some(item)) = this.b.as_mut().poll_next(cx) {
                *this.b_item = Some(item);
            }
        }
        if this.a_item.is_some() && this.b_item.is_some() {
            return Poll::Ready(this.a_item.take().zip(this.b_item.take()));
        }
        // A side that ended without an item waiting ends the pairs.
        if (this.a.is_done() && this.a_item.is_none()) || (this.b.is_done() && this.b_item.is_none()) {
            return Poll::Ready(None);
        }
        Poll::Pending
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let a = size_hint::plus(self.a.size_hint(), usize::from(self.a_item.is_some()));
        let b = size_hint::plus(self.b.size_hint(), usize::from(self.b_item.is_some()));
        let upper = match (a.1, b.1) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        };
        (a.0.min(b.0), upper)
    }
}

impl<A: Stream, B: Stream> FusedStream for Zip<A, B> {
    fn is_terminated(&self) -> bool {
        (self.a.is_done() && self.a_item.is_none()) || (self.b.is_done() && self.b_item.is_none())
    }
}
