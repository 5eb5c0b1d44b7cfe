use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;

use crate::stream::{size_hint, FusedStream, Stream};

pin_project! {
    /// The stream returned by [`StreamExt::peekable`](crate::stream::StreamExt::peekable):
    /// it can look at its next item without taking it.
    ///
    /// ```
    /// use std::pin::pin;
    /// use tau::stream::{self, StreamExt};
    /// tau::block_on(async {
    ///     let mut numbers = pin!(stream::iter([1, 2, 3]).peekable());
    ///     assert_eq!(numbers.as_mut().peek().await, Some(&1));
    ///     assert_eq!(numbers.as_mut().next_if(|n| *n > 1).await, None);
    ///     assert_eq!(numbers.as_mut().next_if_eq(&1).await, Some(1));
    ///     assert_eq!(numbers.collect::<Vec<_>>().await, [2, 3]);
    /// });
    /// ```
    #[must_use = "streams do nothing unless polled"]
    pub struct Peekable<S>
    where
        S: Stream,
    {
        // Kept after it ends (as futures does), for `get_ref` and `into_inner`.
        #[pin]
        stream: S,
        done: bool,
        peeked: Option<S::Item>,
    }
}

impl<S: Stream> Peekable<S> {
    pub(crate) fn new(stream: S) -> Self {
        Peekable { stream, done: false, peeked: None }
    }

    /// The next item, without taking it: `None` once the stream has ended.
    pub fn peek(self: Pin<&mut Self>) -> Peek<'_, S> {
        Peek { peekable: Some(self) }
    }

    /// The next item, mutably, without taking it.
    pub fn peek_mut(self: Pin<&mut Self>) -> PeekMut<'_, S> {
        PeekMut { peekable: Some(self) }
    }

    /// The next item if `take` accepts it; otherwise it stays in front.
    pub fn next_if<F>(self: Pin<&mut Self>, take: F) -> NextIf<'_, S, F>
    where
        F: FnOnce(&S::Item) -> bool,
    {
        NextIf { peekable: Some(self), take: Some(take) }
    }

    /// The next item if it equals `expected`; otherwise it stays in front.
    pub fn next_if_eq<'a, T>(self: Pin<&'a mut Self>, expected: &'a T) -> NextIfEq<'a, S, T>
    where
        T: ?Sized,
        S::Item: PartialEq<T>,
    {
        NextIfEq { peekable: Some(self), expected }
    }

    /// Polls for the next item without taking it.
    pub fn poll_peek(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<&S::Item>> {
        let this = self.project();
        ready!(fill(this.stream, this.done, this.peeked, cx));
        Poll::Ready(this.peeked.as_ref())
    }

    /// Polls for the next item, mutably, without taking it.
    pub fn poll_peek_mut(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<&mut S::Item>> {
        let this = self.project();
        ready!(fill(this.stream, this.done, this.peeked, cx));
        Poll::Ready(this.peeked.as_mut())
    }
}

/// Pulls the next item into `peeked` unless one is there or the stream has
/// ended (an ended stream is never polled again).
fn fill<S: Stream>(
    stream: Pin<&mut S>,
    done: &mut bool,
    peeked: &mut Option<S::Item>,
    cx: &mut Context<'_>,
) -> Poll<()> {
    if peeked.is_none() && !*done {
        *peeked = ready!(stream.poll_next(cx));
        *done = peeked.is_none();
    }
    Poll::Ready(())
}

impl<S: Stream> Stream for Peekable<S> {
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let this = self.project();
        ready!(fill(this.stream, this.done, this.peeked, cx));
        Poll::Ready(this.peeked.take())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let rest = if self.done { size_hint::DONE } else { self.stream.size_hint() };
        size_hint::plus(rest, usize::from(self.peeked.is_some()))
    }
}

impl<S: Stream> FusedStream for Peekable<S> {
    fn is_terminated(&self) -> bool {
        self.peeked.is_none() && self.done
    }
}

impl<S: Stream + fmt::Debug> fmt::Debug for Peekable<S>
where
    S::Item: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Peekable").field("stream", &self.stream).field("peeked", &self.peeked).finish()
    }
}

/// Takes the `Pin<&mut Peekable>` out of a finished peek future.
fn finish<'a, S: Stream>(slot: &mut Option<Pin<&'a mut Peekable<S>>>) -> Pin<&'a mut Peekable<S>> {
    slot.take().expect("peek future polled after it completed")
}

/// Polls until the peekable in `slot` holds its next item (or has ended).
fn poll_filled<S: Stream>(slot: &mut Option<Pin<&mut Peekable<S>>>, cx: &mut Context<'_>) -> Poll<()> {
    let peekable = slot.as_mut().expect("peek future polled after it completed");
    let this = peekable.as_mut().project();
    fill(this.stream, this.done, this.peeked, cx)
}

/// The future returned by [`Peekable::peek`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Peek<'a, S: Stream> {
    peekable: Option<Pin<&'a mut Peekable<S>>>,
}

impl<'a, S: Stream> Future for Peek<'a, S> {
    type Output = Option<&'a S::Item>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        ready!(poll_filled(&mut self.peekable, cx));
        Poll::Ready(finish(&mut self.peekable).project().peeked.as_ref())
    }
}

/// The future returned by [`Peekable::peek_mut`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct PeekMut<'a, S: Stream> {
    peekable: Option<Pin<&'a mut Peekable<S>>>,
}

impl<'a, S: Stream> Future for PeekMut<'a, S> {
    type Output = Option<&'a mut S::Item>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        ready!(poll_filled(&mut self.peekable, cx));
        Poll::Ready(finish(&mut self.peekable).project().peeked.as_mut())
    }
}

/// The future returned by [`Peekable::next_if`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct NextIf<'a, S: Stream, F> {
    peekable: Option<Pin<&'a mut Peekable<S>>>,
    take: Option<F>,
}

impl<S: Stream, F> Unpin for NextIf<'_, S, F> {}

impl<S, F> Future for NextIf<'_, S, F>
where
    S: Stream,
    F: FnOnce(&S::Item) -> bool,
{
    type Output = Option<S::Item>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        ready!(poll_filled(&mut self.peekable, cx));
        let take = self.take.take().expect("next_if polled after it completed");
        let peeked = finish(&mut self.peekable).project().peeked;
        Poll::Ready(peeked.take_if(|item| take(item)))
    }
}

/// The future returned by [`Peekable::next_if_eq`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct NextIfEq<'a, S: Stream, T: ?Sized> {
    peekable: Option<Pin<&'a mut Peekable<S>>>,
    expected: &'a T,
}

impl<S, T> Future for NextIfEq<'_, S, T>
where
    S: Stream,
    T: ?Sized,
    S::Item: PartialEq<T>,
{
    type Output = Option<S::Item>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        ready!(poll_filled(&mut self.peekable, cx));
        let expected = self.expected;
        let peeked = finish(&mut self.peekable).project().peeked;
        Poll::Ready(peeked.take_if(|item| item == expected))
    }
}

inner_stream_access!(impl[S] Peekable<S> where S: crate::stream::Stream,);
