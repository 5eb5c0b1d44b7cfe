//! [`StreamExt`]: the combinators, as methods on every [`Stream`].

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::adapter::*;
use super::consumer::*;
use super::{BoxStream, FromStream, LocalBoxStream, Stream};
use crate::time::Interval;

/// Combinators on every [`Stream`]: adapters that return a new stream, and
/// consumers that return a future.
///
/// Where `tokio_stream::StreamExt` has a method, this one has its signature
/// and behaviour (plain closures for `map`, `filter`, `fold`, ...); the rest
/// follow `futures::StreamExt`. Every adapter is `Send` when the stream and
/// closures it holds are, and reports a correct `size_hint`.
///
/// ```
/// use tau::stream::{self, StreamExt};
///
/// tau::block_on(async {
///     let mut words = stream::iter(["tau", "is", "one", "runtime"])
///         .filter(|word| word.len() > 2)
///         .map(str::to_uppercase);
///     assert_eq!(words.next().await.as_deref(), Some("TAU"));
///     assert_eq!(words.collect::<Vec<_>>().await, ["ONE", "RUNTIME"]);
/// });
/// ```
pub trait StreamExt: Stream {
    /// The next item, or `None` once the stream has ended.
    ///
    /// Cancel safe: dropping the future before it completes loses no item.
    /// Needs `Unpin`; pin a stream with [`std::pin::pin!`] or [`Box::pin`].
    fn next(&mut self) -> Next<'_, Self>
    where
        Self: Unpin,
    {
        Next::new(self)
    }

    /// For a stream of `Result`s: the next `Ok` item as `Ok(Some(_))`, the
    /// end as `Ok(None)` and an error as `Err`.
    fn try_next<T, E>(&mut self) -> TryNext<'_, Self>
    where
        Self: Stream<Item = Result<T, E>> + Unpin,
    {
        TryNext::new(self)
    }

    /// [`Stream::poll_next`] on an `Unpin` stream, without pinning it first.
    fn poll_next_unpin(&mut self, cx: &mut Context<'_>) -> Poll<Option<Self::Item>>
    where
        Self: Unpin,
    {
        Pin::new(self).poll_next(cx)
    }

    /// Each item passed through `f`.
    fn map<T, F>(self, f: F) -> Map<Self, F>
    where
        F: FnMut(Self::Item) -> T,
        Self: Sized,
    {
        Map::new(self, f)
    }

    /// `f`'s results until it returns `None`, which ends the stream.
    fn map_while<T, F>(self, f: F) -> MapWhile<Self, F>
    where
        F: FnMut(Self::Item) -> Option<T>,
        Self: Sized,
    {
        MapWhile::new(self, f)
    }

    /// Each item passed through the async `f`, one future at a time: the next
    /// item is not pulled until the current future completes, so the order is
    /// kept. For several at once, `map` to futures and [`buffered`](Self::buffered).
    ///
    /// ```
    /// use tau::stream::{self, StreamExt};
    /// tau::block_on(async {
    ///     let doubled: Vec<_> = stream::iter(1..=3).then(|n| async move { n * 2 }).collect().await;
    ///     assert_eq!(doubled, [2, 4, 6]);
    /// });
    /// ```
    fn then<F, Fut>(self, f: F) -> Then<Self, Fut, F>
    where
        F: FnMut(Self::Item) -> Fut,
        Fut: Future,
        Self: Sized,
    {
        Then::new(self, f)
    }

    /// The items of both streams, as each is ready; ends when both have
    /// ended. Fair: the side polled first alternates on every poll, so an
    /// always-ready stream cannot starve the other.
    ///
    /// ```
    /// use tau::stream::{self, StreamExt};
    /// tau::block_on(async {
    ///     let merged: Vec<_> = stream::iter([1, 3, 5]).merge(stream::iter([2])).collect().await;
    ///     assert_eq!(merged, [1, 2, 3, 5]);
    /// });
    /// ```
    fn merge<U>(self, other: U) -> Merge<Self, U>
    where
        U: Stream<Item = Self::Item>,
        Self: Sized,
    {
        Merge::new(self, other)
    }

    /// The items for which `keep` returns true.
    fn filter<F>(self, keep: F) -> Filter<Self, F>
    where
        F: FnMut(&Self::Item) -> bool,
        Self: Sized,
    {
        Filter::new(self, keep)
    }

    /// The `Some` results of `f`; items it maps to `None` are dropped.
    fn filter_map<T, F>(self, f: F) -> FilterMap<Self, F>
    where
        F: FnMut(Self::Item) -> Option<T>,
        Self: Sized,
    {
        FilterMap::new(self, f)
    }

    /// A stream that ends after its inner stream first ends, and is never
    /// polled after that: it returns `None` forever.
    fn fuse(self) -> Fuse<Self>
    where
        Self: Sized,
    {
        Fuse::new(self)
    }

    /// At most the first `n` items; the inner stream is not polled after the
    /// `n`th.
    fn take(self, n: usize) -> Take<Self>
    where
        Self: Sized,
    {
        Take::new(self, n)
    }

    /// Items while `keep` returns true; the first item it rejects ends the
    /// stream (and is dropped).
    fn take_while<F>(self, keep: F) -> TakeWhile<Self, F>
    where
        F: FnMut(&Self::Item) -> bool,
        Self: Sized,
    {
        TakeWhile::new(self, keep)
    }

    /// All but the first `n` items.
    fn skip(self, n: usize) -> Skip<Self>
    where
        Self: Sized,
    {
        Skip::new(self, n)
    }

    /// Drops items while `skip` returns true; from the first item it rejects
    /// on, every item passes.
    fn skip_while<F>(self, skip: F) -> SkipWhile<Self, F>
    where
        F: FnMut(&Self::Item) -> bool,
        Self: Sized,
    {
        SkipWhile::new(self, skip)
    }

    /// True if `f` returns true for some item. Stops at the first such item,
    /// leaving the rest of the stream unread; false for an empty stream.
    fn any<F>(&mut self, f: F) -> Any<'_, Self, F>
    where
        Self: Unpin,
        F: FnMut(Self::Item) -> bool,
    {
        Any::new(self, f)
    }

    /// True if `f` returns true for every item. Stops at the first item for
    /// which it returns false; true for an empty stream.
    fn all<F>(&mut self, f: F) -> All<'_, Self, F>
    where
        Self: Unpin,
        F: FnMut(Self::Item) -> bool,
    {
        All::new(self, f)
    }

    /// This stream's items, then `other`'s.
    fn chain<U>(self, other: U) -> Chain<Self, U>
    where
        U: Stream<Item = Self::Item>,
        Self: Sized,
    {
        Chain::new(self, other)
    }

    /// Every item folded into an accumulator: `f(f(init, a), b)`...
    fn fold<B, F>(self, init: B, f: F) -> Fold<Self, B, F>
    where
        F: FnMut(B, Self::Item) -> B,
        Self: Sized,
    {
        Fold::new(self, init, f)
    }

    /// Every item gathered into a collection: a `Vec`, `String`, `HashMap`
    /// or other std collection, or a `Result`/`Option` of one, which stops
    /// at the first `Err`/`None` (see [`FromStream`]).
    ///
    /// ```
    /// use tau::stream::{self, StreamExt};
    /// tau::block_on(async {
    ///     let text: String = stream::iter(["a", "b"]).collect().await;
    ///     assert_eq!(text, "ab");
    /// });
    /// ```
    fn collect<C>(self) -> Collect<Self, C>
    where
        C: FromStream<Self::Item>,
        Self: Sized,
    {
        Collect::new(self)
    }

    /// Calls `f` on every item.
    fn for_each<F>(self, f: F) -> ForEach<Self, F>
    where
        F: FnMut(Self::Item),
        Self: Sized,
    {
        ForEach::new(self, f)
    }

    /// The number of items.
    fn count(self) -> Count<Self>
    where
        Self: Sized,
    {
        Count::new(self)
    }

    /// Pairs of one item from each stream; ends when either ends.
    fn zip<U>(self, other: U) -> Zip<Self, U>
    where
        U: Stream,
        Self: Sized,
    {
        Zip::new(self, other)
    }

    /// Each item with its index, from 0.
    fn enumerate(self) -> Enumerate<Self>
    where
        Self: Sized,
    {
        Enumerate::new(self)
    }

    /// Calls `f` on a reference to each item as it passes.
    fn inspect<F>(self, f: F) -> Inspect<Self, F>
    where
        F: FnMut(&Self::Item),
        Self: Sized,
    {
        Inspect::new(self, f)
    }

    /// Each item mapped to a stream by `f`, and those streams' items in turn.
    fn flat_map<U, F>(self, f: F) -> FlatMap<Self, U, F>
    where
        F: FnMut(Self::Item) -> U,
        U: Stream,
        Self: Sized,
    {
        FlatMap::new(self, f)
    }

    /// For a stream of streams: their items, one stream after the other.
    fn flatten(self) -> Flatten<Self>
    where
        Self::Item: Stream,
        Self: Sized,
    {
        Flatten::new(self)
    }

    /// A stream that can [`peek`](Peekable::peek) at its next item.
    fn peekable(self) -> Peekable<Self>
    where
        Self: Sized,
    {
        Peekable::new(self)
    }

    /// The items in `Vec`s of `capacity` items; the last may be shorter.
    ///
    /// # Panics
    /// If `capacity` is 0.
    fn chunks(self, capacity: usize) -> Chunks<Self>
    where
        Self: Sized,
    {
        Chunks::new(self, capacity)
    }

    /// For a stream of futures: runs up to `n` of them at once and yields
    /// their outputs in the order of the stream.
    ///
    /// Futures that complete early wait for their turn, and count against
    /// `n` until they are yielded. Dropping the stream drops every future
    /// still in flight.
    ///
    /// # Panics
    /// If `n` is 0 (such a stream could never make progress).
    fn buffered(self, n: usize) -> Buffered<Self>
    where
        Self::Item: Future,
        Self: Sized,
    {
        Buffered::new(self, n)
    }

    /// For a stream of futures: runs up to `n` of them at once and yields
    /// each output as soon as its future completes.
    ///
    /// # Panics
    /// If `n` is 0 (such a stream could never make progress).
    fn buffer_unordered(self, n: usize) -> BufferUnordered<Self>
    where
        Self::Item: Future,
        Self: Sized,
    {
        BufferUnordered::new(self, n)
    }

    /// Each item as `Ok`, and an `Err(Elapsed)` when the stream goes longer
    /// than `duration` without one.
    ///
    /// As tokio-stream's: the first gap is measured from the creation of the
    /// stream, each later one from the previous item. A gap reports at most
    /// one `Err`, and the stream goes on afterwards: the next item still
    /// comes as `Ok`. Create it inside a runtime.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tau::stream::{self, StreamExt};
    /// tau::block_on(async {
    ///     let slow = stream::iter([1]).chain(stream::pending());
    ///     let mut watched = Box::pin(slow.timeout(Duration::from_millis(5)));
    ///     assert_eq!(watched.next().await, Some(Ok(1)));
    ///     assert!(watched.next().await.unwrap().is_err());
    /// });
    /// ```
    fn timeout(self, duration: Duration) -> Timeout<Self>
    where
        Self: Sized,
    {
        Timeout::new(self, duration)
    }

    /// Each item as `Ok`, and an `Err(Elapsed)` at every tick of `interval`
    /// while no item comes: unlike [`timeout`](Self::timeout), a long gap
    /// reports one error per period. Each item resets the interval.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tau::stream::{self, StreamExt};
    /// use tau::time::{interval_at, Instant};
    /// tau::block_on(async {
    ///     let period = Duration::from_millis(2);
    ///     let ticks = interval_at(Instant::now() + period, period);
    ///     let mut watched = Box::pin(stream::pending::<u8>().timeout_repeating(ticks));
    ///     assert!(watched.next().await.unwrap().is_err());
    ///     assert!(watched.next().await.unwrap().is_err());
    /// });
    /// ```
    fn timeout_repeating(self, interval: Interval) -> TimeoutRepeating<Self>
    where
        Self: Sized,
    {
        TimeoutRepeating::new(self, interval)
    }

    /// The items in `Vec`s of up to `max_size`: a chunk goes out when it is
    /// full, or `duration` after its first item came, whichever is first
    /// (as tokio-stream's). The last may be shorter; no chunk is empty.
    ///
    /// # Panics
    /// If `max_size` is 0.
    fn chunks_timeout(self, max_size: usize, duration: Duration) -> ChunksTimeout<Self>
    where
        Self: Sized,
    {
        ChunksTimeout::new(self, max_size, duration)
    }

    /// The same items, at least `duration` apart: after an item is yielded,
    /// the next is not pulled from the stream until `duration` has passed.
    /// The first item goes out at once. As tokio-stream's: items are delayed,
    /// never dropped. Create it inside a runtime.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tau::stream::{self, StreamExt};
    /// use tau::time::Instant;
    /// tau::block_on(async {
    ///     let start = Instant::now();
    ///     let ticks = stream::iter(0..3).throttle(Duration::from_millis(2));
    ///     assert_eq!(ticks.collect::<Vec<_>>().await, [0, 1, 2]);
    ///     assert!(start.elapsed() >= Duration::from_millis(4));
    /// });
    /// ```
    fn throttle(self, duration: Duration) -> Throttle<Self>
    where
        Self: Sized,
    {
        Throttle::new(self, duration)
    }

    /// Borrows the stream, so that an adapter can consume part of it.
    fn by_ref(&mut self) -> &mut Self {
        self
    }

    /// The stream, boxed and type-erased: a [`BoxStream`], `Send`, which is
    /// how a plugin returns a stream to its host or to another plugin.
    fn boxed<'a>(self) -> BoxStream<'a, Self::Item>
    where
        Self: Sized + Send + 'a,
    {
        Box::pin(self)
    }

    /// [`boxed`](Self::boxed) without `Send`.
    fn boxed_local<'a>(self) -> LocalBoxStream<'a, Self::Item>
    where
        Self: Sized + 'a,
    {
        Box::pin(self)
    }
}

impl<S: Stream + ?Sized> StreamExt for S {}
