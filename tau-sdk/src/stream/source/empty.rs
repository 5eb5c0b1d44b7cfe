use std::fmt;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::stream::{FusedStream, Stream};

/// A stream that ends at once, without items.
///
/// ```
/// use tau::stream::{self, StreamExt};
/// tau::block_on(async {
///     assert_eq!(stream::empty::<u8>().next().await, None);
/// });
/// ```
pub fn empty<T>() -> Empty<T> {
    Empty { item: PhantomData }
}

/// The stream returned by [`empty`].
#[must_use = "streams do nothing unless polled"]
pub struct Empty<T> {
    item: PhantomData<fn() -> T>,
}

impl<T> Stream for Empty<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<T>> {
        Poll::Ready(None)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(0))
    }
}

impl<T> FusedStream for Empty<T> {
    fn is_terminated(&self) -> bool {
        true
    }
}

impl<T> Clone for Empty<T> {
    fn clone(&self) -> Self {
        empty()
    }
}

impl<T> fmt::Debug for Empty<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Empty")
    }
}
