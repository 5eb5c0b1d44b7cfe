use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use crate::stream::{FromStream, Stream};

pin_project! {
    /// The future returned by [`StreamExt::collect`](crate::stream::StreamExt::collect).
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Collect<S, C>
    where
        S: Stream,
        C: FromStream<S::Item>,
    {
        #[pin]
        stream: S,
        // Started at the first poll, taken when the future completes.
        partial: Option<C::Partial>,
    }
}

impl<S, C> Collect<S, C>
where
    S: Stream,
    C: FromStream<S::Item>,
{
    pub(crate) fn new(stream: S) -> Self {
        Collect { stream, partial: None }
    }
}

impl<S, C> Future for Collect<S, C>
where
    S: Stream,
    C: FromStream<S::Item>,
{
    type Output = C;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<C> {
        let mut this = self.project();
        let hint = this.stream.size_hint();
        let partial = this.partial.get_or_insert_with(|| C::start(hint));
        loop {
            match this.stream.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(item)) => {
                    if !C::add(partial, item) {
                        break; // the collection stopped early
                    }
                }
                Poll::Ready(None) => break,
            }
        }
        let partial = this.partial.take().expect("the collection was started above");
        Poll::Ready(C::finish(partial))
    }
}
