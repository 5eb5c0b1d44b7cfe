use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;

use crate::stream::{FusedStream, Stream};

/// A stream of one item: the output of `future`.
///
/// ```
/// use tau::stream::{self, StreamExt};
/// tau::block_on(async {
///     let items: Vec<_> = stream::once(async { 7 }).collect().await;
///     assert_eq!(items, [7]);
/// });
/// ```
pub fn once<F: Future>(future: F) -> Once<F> {
    Once { future: Some(future) }
}

pin_project! {
    /// The stream returned by [`once`].
    #[derive(Debug)]
    #[must_use = "streams do nothing unless polled"]
    pub struct Once<F> {
        #[pin]
        future: Option<F>,
    }
}

impl<F: Future> Stream for Once<F> {
    type Item = F::Output;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        let mut future = self.project().future;
        let Some(running) = future.as_mut().as_pin_mut() else {
            return Poll::Ready(None);
        };
        let output = ready!(running.poll(cx));
        future.set(None);
        Poll::Ready(Some(output))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = usize::from(self.future.is_some());
        (left, Some(left))
    }
}

impl<F: Future> FusedStream for Once<F> {
    fn is_terminated(&self) -> bool {
        self.future.is_none()
    }
}
