use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::stream::Stream;

/// A stream whose `poll_next` is the closure `poll`.
///
/// ```
/// use std::task::Poll;
/// use tau::stream::{self, StreamExt};
/// tau::block_on(async {
///     let mut left = 3;
///     let countdown = stream::poll_fn(move |_cx| {
///         left -= 1;
///         Poll::Ready((left > 0).then_some(left))
///     });
///     assert_eq!(countdown.collect::<Vec<_>>().await, [2, 1]);
/// });
/// ```
pub fn poll_fn<T, F>(poll: F) -> PollFn<F>
where
    F: FnMut(&mut Context<'_>) -> Poll<Option<T>>,
{
    PollFn { poll }
}

/// The stream returned by [`poll_fn`].
#[must_use = "streams do nothing unless polled"]
pub struct PollFn<F> {
    poll: F,
}

impl<F> Unpin for PollFn<F> {}

impl<T, F> Stream for PollFn<F>
where
    F: FnMut(&mut Context<'_>) -> Poll<Option<T>>,
{
    type Item = T;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        (self.poll)(cx)
    }
}

impl<F> fmt::Debug for PollFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PollFn")
    }
}
