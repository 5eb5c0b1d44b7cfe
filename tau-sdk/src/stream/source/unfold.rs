use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;

use crate::stream::{FusedStream, Stream};

/// A stream built from a state: `step(state)` returns a future of
/// `Some((item, next_state))`, or `None` to end the stream.
///
/// ```
/// use tau::stream::{self, StreamExt};
/// tau::block_on(async {
///     let powers = stream::unfold(1u32, |n| async move { (n < 100).then(|| (n, n * 10)) });
///     assert_eq!(powers.collect::<Vec<_>>().await, [1, 10]);
/// });
/// ```
pub fn unfold<T, F, Fut, Item>(init: T, step: F) -> Unfold<T, F, Fut>
where
    F: FnMut(T) -> Fut,
    Fut: Future<Output = Option<(Item, T)>>,
{
    Unfold { state: Some(init), step, future: None }
}

pin_project! {
    /// The stream returned by [`unfold`].
    #[must_use = "streams do nothing unless polled"]
    pub struct Unfold<T, F, Fut> {
        // Exactly one of `state` and `future` is set until the stream ends.
        state: Option<T>,
        step: F,
        #[pin]
        future: Option<Fut>,
    }
}

impl<T, F, Fut, Item> Stream for Unfold<T, F, Fut>
where
    F: FnMut(T) -> Fut,
    Fut: Future<Output = Option<(Item, T)>>,
{
    type Item = Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Item>> {
        let mut this = self.project();
        if let Some(state) = this.state.take() {
            this.future.set(Some((this.step)(state)));
        }
        let Some(future) = this.future.as_mut().as_pin_mut() else {
            return Poll::Ready(None); // ended
        };
        let step = ready!(future.poll(cx));
        this.future.set(None);
        Poll::Ready(step.map(|(item, next)| {
            *this.state = Some(next);
            item
        }))
    }
}

impl<T, F, Fut, Item> FusedStream for Unfold<T, F, Fut>
where
    F: FnMut(T) -> Fut,
    Fut: Future<Output = Option<(Item, T)>>,
{
    fn is_terminated(&self) -> bool {
        self.state.is_none() && self.future.is_none()
    }
}

impl<T: fmt::Debug, F, Fut> fmt::Debug for Unfold<T, F, Fut> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Unfold").field("state", &self.state).field("running", &self.future.is_some()).finish()
    }
}
