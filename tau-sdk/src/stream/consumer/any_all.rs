use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use crate::stream::Stream;

/// The future returned by [`StreamExt::any`](crate::stream::StreamExt::any).
pub type Any<'a, S, F> = ShortCircuit<'a, S, F, true>;

/// The future returned by [`StreamExt::all`](crate::stream::StreamExt::all).
pub type All<'a, S, F> = ShortCircuit<'a, S, F, false>;

/// How many items `any` and `all` read in one poll before they yield.
pub(crate) const ITEMS_PER_POLL: usize = 32;

/// Reads items until the predicate returns `DECISIVE`, and then returns
/// `DECISIVE` at once, leaving the rest of the stream unread; returns
/// `!DECISIVE` at the end of the stream. `any` is decided by `true`, `all`
/// by `false`.
///
/// As tokio-stream's, it yields to the runtime after every
/// 32 items, so an endless ready stream cannot hold the
/// thread (and a surrounding `timeout` can still fire).
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ShortCircuit<'a, S: ?Sized, F, const DECISIVE: bool> {
    stream: &'a mut S,
    predicate: F,
}

impl<'a, S: ?Sized, F, const DECISIVE: bool> ShortCircuit<'a, S, F, DECISIVE> {
    pub(crate) fn new(stream: &'a mut S, predicate: F) -> Self {
        ShortCircuit { stream, predicate }
    }
}

impl<S: ?Sized, F, const DECISIVE: bool> Unpin for ShortCircuit<'_, S, F, DECISIVE> {}

impl<S, F, const DECISIVE: bool> Future for ShortCircuit<'_, S, F, DECISIVE>
where
    S: Stream + Unpin + ?Sized,
    F: FnMut(S::Item) -> bool,
{
    type Output = bool;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<bool> {
        let this = &mut *self;
        for _ in 0..ITEMS_PER_POLL {
            let Some(item) = ready!(Pin::new(&mut *this.stream).poll_next(cx)) else {
                return Poll::Ready(!DECISIVE);
            };
            if (this.predicate)(item) == DECISIVE {
                return Poll::Ready(DECISIVE);
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
