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
        if this.partial.is_none() {
            *this.partial = Some(C::start(this.stream.size_hint()));
        }
        let partial = this.partial.as_mut().expect("started above");
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
        let partial = this.partial.take().expect("started above");
        Poll::Ready(C::finish(partial))
    }
}
