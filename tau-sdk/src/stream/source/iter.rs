use std::pin::Pin;
use std::task::{Context, Poll};

use crate::stream::Stream;

/// A stream of the items of an iterator, each ready at once.
///
/// ```
/// use tau::stream::{self, StreamExt};
/// tau::block_on(async {
///     let words: Vec<_> = stream::iter(["a", "b"]).collect().await;
///     assert_eq!(words, ["a", "b"]);
/// });
/// ```
pub fn iter<I: IntoIterator>(items: I) -> Iter<I::IntoIter> {
    Iter { iter: items.into_iter() }
}

/// The stream returned by [`iter`].
#[derive(Debug, Clone)]
#[must_use = "streams do nothing unless polled"]
pub struct Iter<I> {
    iter: I,
}

impl<I> Unpin for Iter<I> {}

impl<I: Iterator> Stream for Iter<I> {
    type Item = I::Item;

    fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<I::Item>> {
        Poll::Ready(self.iter.next())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.iter.size_hint()
    }
}
