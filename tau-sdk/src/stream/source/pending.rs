use std::fmt;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::stream::{FusedStream, Stream};

/// A stream that never yields an item and never ends.
///
/// ```
/// use std::time::Duration;
/// use tau::stream::{self, StreamExt};
/// tau::block_on(async {
///     let mut never = stream::pending::<u8>();
///     let waited = tau::time::timeout(Duration::from_millis(1), never.next()).await;
///     assert!(waited.is_err());
/// });
/// ```
pub fn pending<T>() -> Pending<T> {
    Pending { item: PhantomData }
}

/// The stream returned by [`pending`].
#[must_use = "streams do nothing unless polled"]
pub struct Pending<T> {
    item: PhantomData<fn() -> T>,
}

impl<T> Stream for Pending<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<T>> {
        Poll::Pending
    }

    /// No item will ever come: `(0, Some(0))`, as `futures::stream::pending`.
    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(0))
    }
}

impl<T> FusedStream for Pending<T> {
    fn is_terminated(&self) -> bool {
        true
    }
}

impl<T> Clone for Pending<T> {
    fn clone(&self) -> Self {
        pending()
    }
}

impl<T> fmt::Debug for Pending<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pending")
    }
}
