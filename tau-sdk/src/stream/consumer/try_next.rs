use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::stream::Stream;

/// The future returned by [`StreamExt::try_next`](crate::stream::StreamExt::try_next).
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct TryNext<'a, S: ?Sized> {
    stream: &'a mut S,
}

impl<'a, S: ?Sized> TryNext<'a, S> {
    pub(crate) fn new(stream: &'a mut S) -> Self {
        TryNext { stream }
    }
}

impl<T, E, S> Future for TryNext<'_, S>
where
    S: Stream<Item = Result<T, E>> + Unpin + ?Sized,
{
    type Output = Result<Option<T>, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut *self.stream).poll_next(cx).map(Option::transpose)
    }
}
