use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::stream::{FusedStream, Stream};

/// An endless stream of clones of `item`.
///
/// ```
/// use tau::stream::{self, StreamExt};
/// tau::block_on(async {
///     let items: Vec<_> = stream::repeat('x').take(3).collect().await;
///     assert_eq!(items, ['x', 'x', 'x']);
/// });
/// ```
pub fn repeat<T: Clone>(item: T) -> Repeat<T> {
    Repeat { item }
}

/// An endless stream of the values `make` returns.
///
/// ```
/// use tau::stream::{self, StreamExt};
/// tau::block_on(async {
///     let mut next = 0;
///     let counting = stream::repeat_with(move || { next += 1; next });
///     assert_eq!(counting.take(3).collect::<Vec<_>>().await, [1, 2, 3]);
/// });
/// ```
pub fn repeat_with<T, F: FnMut() -> T>(make: F) -> RepeatWith<F> {
    RepeatWith { make }
}

/// The stream returned by [`repeat`].
#[derive(Debug, Clone)]
#[must_use = "streams do nothing unless polled"]
pub struct Repeat<T> {
    item: T,
}

impl<T> Unpin for Repeat<T> {}

impl<T: Clone> Stream for Repeat<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<T>> {
        Poll::Ready(Some(self.item.clone()))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::MAX, None)
    }
}

impl<T: Clone> FusedStream for Repeat<T> {
    fn is_terminated(&self) -> bool {
        false
    }
}

/// The stream returned by [`repeat_with`].
#[must_use = "streams do nothing unless polled"]
pub struct RepeatWith<F> {
    make: F,
}

impl<F> Unpin for RepeatWith<F> {}

impl<T, F: FnMut() -> T> Stream for RepeatWith<F> {
    type Item = T;

    fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<T>> {
        Poll::Ready(Some((self.make)()))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::MAX, None)
    }
}

impl<F> fmt::Debug for RepeatWith<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RepeatWith")
    }
}

impl<T, F: FnMut() -> T> FusedStream for RepeatWith<F> {
    fn is_terminated(&self) -> bool {
        false
    }
}
