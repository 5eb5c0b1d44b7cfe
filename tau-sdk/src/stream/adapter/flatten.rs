use std::pin::Pin;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;

use crate::stream::{size_hint, FusedStream, Stream};

pin_project! {
    /// The stream returned by [`StreamExt::flatten`](crate::stream::StreamExt::flatten).
    #[must_use = "streams do nothing unless polled"]
    pub struct Flatten<S>
    where
        S: Stream,
    {
        #[pin]
        outer: S,
        // The inner stream being drained.
        #[pin]
        inner: Option<S::Item>,
        outer_done: bool,
    }
}

impl<S: Stream> Flatten<S> {
    pub(crate) fn new(outer: S) -> Self {
        Flatten { outer, inner: None, outer_done: false }
    }
}

impl<S> Stream for Flatten<S>
where
    S: Stream,
    S::Item: Stream,
{
    type Item = <S::Item as Stream>::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            if let Some(inner) = this.inner.as_mut().as_pin_mut() {
                match ready!(inner.poll_next(cx)) {
                    Some(item) => return Poll::Ready(Some(item)),
                    None => this.inner.set(None),
                }
            }
            if *this.outer_done {
                return Poll::Ready(None);
            }
            match ready!(this.outer.as_mut().poll_next(cx)) {
                Some(inner) => this.inner.set(Some(inner)),
                None => *this.outer_done = true,
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let current = self.inner.as_ref().map_or(size_hint::DONE, Stream::size_hint);
        if self.outer_done || self.outer.size_hint() == size_hint::DONE {
            current
        } else {
            (current.0, None) // more inner streams may come, of any length
        }
    }
}

impl<S> FusedStream for Flatten<S>
where
    S: Stream,
    S::Item: Stream,
{
    fn is_terminated(&self) -> bool {
        self.outer_done && self.inner.is_none()
    }
}
