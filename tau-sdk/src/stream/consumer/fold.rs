use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use crate::stream::Stream;

pin_project! {
    /// The future returned by [`StreamExt::fold`](crate::stream::StreamExt::fold).
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Fold<S, B, F> {
        #[pin]
        stream: S,
        // `None` only after the future has completed.
        acc: Option<B>,
        f: F,
    }
}

impl<S, B, F> Fold<S, B, F> {
    pub(crate) fn new(stream: S, init: B, f: F) -> Self {
        Fold { stream, acc: Some(init), f }
    }
}

impl<S, B, F> Future for Fold<S, B, F>
where
    S: Stream,
    F: FnMut(B, S::Item) -> B,
{
    type Output = B;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<B> {
        let mut this = self.project();
        let mut acc = this.acc.take().expect("Fold polled after it completed");
        loop {
            match this.stream.as_mut().poll_next(cx) {
                Poll::Ready(Some(item)) => acc = (this.f)(acc, item),
                Poll::Ready(None) => return Poll::Ready(acc),
                Poll::Pending => {
                    *this.acc = Some(acc);
                    return Poll::Pending;
                }
            }
        }
    }
}
