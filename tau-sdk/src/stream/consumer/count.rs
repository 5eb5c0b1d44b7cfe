use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;

use crate::stream::Stream;

pin_project! {
    /// The future returned by [`StreamExt::count`](crate::stream::StreamExt::count).
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Count<S> {
        #[pin]
        stream: S,
        count: usize,
    }
}

impl<S> Count<S> {
    pub(crate) fn new(stream: S) -> Self {
        Count { stream, count: 0 }
    }
}

impl<S: Stream> Future for Count<S> {
    type Output = usize;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        let mut this = self.project();
        while ready!(this.stream.as_mut().poll_next(cx)).is_some() {
            *this.count += 1;
        }
        Poll::Ready(*this.count)
    }
}
