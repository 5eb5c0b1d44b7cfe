use std::future::Future;
use std::mem;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;

use crate::stream::Stream;

pin_project! {
    /// The future returned by [`StreamExt::collect`](crate::stream::StreamExt::collect).
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Collect<S, C> {
        #[pin]
        stream: S,
        collection: C,
    }
}

impl<S: Stream, C: Default> Collect<S, C> {
    pub(crate) fn new(stream: S) -> Self {
        Collect { stream, collection: C::default() }
    }
}

impl<S, C> Future for Collect<S, C>
where
    S: Stream,
    C: Default + Extend<S::Item>,
{
    type Output = C;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<C> {
        let mut this = self.project();
        while let Some(item) = ready!(this.stream.as_mut().poll_next(cx)) {
            this.collection.extend(Some(item));
        }
        Poll::Ready(mem::take(this.collection))
    }
}
