use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use super::{Flatten, Map};
use crate::stream::{FusedStream, Stream};

pin_project! {
    /// The stream returned by [`StreamExt::flat_map`](crate::stream::StreamExt::flat_map).
    #[must_use = "streams do nothing unless polled"]
    pub struct FlatMap<S, U, F>
    where
        S: Stream,
        F: FnMut(S::Item) -> U,
    {
        #[pin]
        flat: Flatten<Map<S, F>>,
    }
}

impl<S, U, F> FlatMap<S, U, F>
where
    S: Stream,
    F: FnMut(S::Item) -> U,
{
    pub(crate) fn new(stream: S, f: F) -> Self {
        FlatMap { flat: Flatten::new(Map::new(stream, f)) }
    }
}

impl<S, U, F> Stream for FlatMap<S, U, F>
where
    S: Stream,
    U: Stream,
    F: FnMut(S::Item) -> U,
{
    type Item = U::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<U::Item>> {
        self.project().flat.poll_next(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.flat.size_hint()
    }
}

impl<S, U, F> FusedStream for FlatMap<S, U, F>
where
    S: Stream,
    U: Stream,
    F: FnMut(S::Item) -> U,
{
    fn is_terminated(&self) -> bool {
        self.flat.is_terminated()
    }
}
