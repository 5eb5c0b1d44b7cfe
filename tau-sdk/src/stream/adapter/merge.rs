use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use super::Fuse;
use crate::stream::{size_hint, FusedStream, Stream};

pin_project! {
    /// The stream returned by [`StreamExt::merge`](crate::stream::StreamExt::merge).
    #[derive(Debug)]
    #[must_use = "streams do nothing unless polled"]
    pub struct Merge<A, B> {
        #[pin]
        a: Fuse<A>,
        #[pin]
        b: Fuse<B>,
        // Which side goes first on the next poll; flipped on every poll, so
        // an always-ready side cannot starve the other.
        a_first: bool,
    }
}

impl<A, B> Merge<A, B> {
    pub(crate) fn new(a: A, b: B) -> Self {
        Merge { a: Fuse::new(a), b: Fuse::new(b), a_first: true }
    }
}

impl<A, B> Stream for Merge<A, B>
where
    A: Stream,
    B: Stream<Item = A::Item>,
{
    type Item = A::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<A::Item>> {
        let this = self.project();
        let a_first = *this.a_first;
        *this.a_first = !a_first;
        if a_first {
            poll_in_turn(this.a, this.b, cx)
        } else {
            poll_in_turn(this.b, this.a, cx)
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        size_hint::add(self.a.size_hint(), self.b.size_hint())
    }
}

/// The first item of `first`, else of `second`; the end once both ended.
fn poll_in_turn<T>(
    first: Pin<&mut impl Stream<Item = T>>,
    second: Pin<&mut impl Stream<Item = T>>,
    cx: &mut Context<'_>,
) -> Poll<Option<T>> {
    let first_ended = match first.poll_next(cx) {
        Poll::Ready(Some(item)) => return Poll::Ready(Some(item)),
        Poll::Ready(None) => true,
        Poll::Pending => false,
    };
    match second.poll_next(cx) {
        Poll::Ready(None) if first_ended => Poll::Ready(None),
        Poll::Ready(None) => Poll::Pending,
        item_or_pending => item_or_pending,
    }
}

impl<A, B> FusedStream for Merge<A, B>
where
    A: Stream,
    B: Stream<Item = A::Item>,
{
    fn is_terminated(&self) -> bool {
        self.a.is_done() && self.b.is_done()
    }
}
