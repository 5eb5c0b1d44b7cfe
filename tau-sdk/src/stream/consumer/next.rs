use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::stream::Stream;

/// The future returned by [`StreamExt::next`](crate::stream::StreamExt::next).
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Next<'a, S: ?Sized> {
    stream: &'a mut S,
}

impl<'a, S: ?Sized> Next<'a, S> {
    pub(crate) fn new(stream: &'a mut S) -> Self {
        Next { stream }
    }
}

impl<S: Stream + Unpin + ?Sized> Future for Next<'_, S> {
    type Output = Option<S::Item>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut *self.stream).poll_next(cx)
    }
}
