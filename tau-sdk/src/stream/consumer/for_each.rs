use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;

use crate::stream::Stream;

pin_project! {
    /// The future returned by [`StreamExt::for_each`](crate::stream::StreamExt::for_each).
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct ForEach<S, F> {
        #[pin]
        stream: S,
        f: F,
    }
}

impl<S, F> ForEach<S, F> {
    pub(crate) fn new(stream: S, f: F) -> Self {
        ForEach { stream, f }
    }
}

impl<S, F> Future for ForEach<S, F>
where
    S: Stream,
    F: FnMut(S::Item),
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut this = self.project();
        while let Some(item) = ready!(this.stream.as_mut().poll_next(cx)) {
            (this.f)(item);
        }
        Poll::Ready(())
    }
}
