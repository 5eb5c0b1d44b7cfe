//! Asynchronous sequences of values: the [`Stream`] trait, the combinators of
//! [`StreamExt`] and the constructors [`iter`], [`once`], [`empty`],
//! [`pending`], [`repeat`], [`repeat_with`], [`unfold`] and [`poll_fn`].
//!
//! [`Stream`] *is* `futures_core::Stream`, re-exported: any stream from the
//! ecosystem (a hyper body, a reqwest byte stream, a `futures` channel) works
//! with tau's combinators, and tau's work with theirs.
//!
//! [`StreamExt`] follows `tokio_stream::StreamExt` where that trait has a
//! method (`map`, `filter`, `filter_map`, `take_while`, `skip_while`, `fold`,
//! `any`, `all` take plain closures; `then` takes a closure returning a
//! future; `timeout` and `throttle` keep tokio-stream's timing rules), and
//! `futures::StreamExt` for the rest (`buffered`, `buffer_unordered`, `zip`,
//! `flat_map`, `chunks`, `peekable`, ...). Code written against
//! tokio-stream's `StreamExt` compiles unchanged against this one, with one
//! exception: [`Peekable::peek`] follows futures and takes a pinned
//! `Peekable` (`pin!(stream.peekable())`, then `.as_mut().peek()`), which
//! also works for streams that are not `Unpin`.
//!
//! A stream is an ordinary Rust value, so it crosses plugins as one: a plugin
//! can return a [`BoxStream`] that another plugin consumes. Plugins share the
//! host's compiler and allocator, and the runtime that wakes the consumer.
//!
//! ```
//! use tau::stream::{self, StreamExt};
//!
//! tau::block_on(async {
//!     let total = stream::iter(1..=10)
//!         .map(|n| n * 3)
//!         .filter(|n| n % 2 == 0)
//!         .then(|n| async move { n + 1 })
//!         .fold(0, |sum, n| sum + n)
//!         .await;
//!     assert_eq!(total, 7 + 13 + 19 + 25 + 31);
//! });
//! ```
//!
//! Bounded concurrency, "fetch N at a time":
//!
//! ```
//! use std::time::Duration;
//! use tau::stream::{self, StreamExt};
//!
//! tau::block_on(async {
//!     let mut lengths: Vec<usize> = stream::iter(["a", "bb", "ccc", "dddd"])
//!         .map(|page| async move {
//!             tau::time::sleep(Duration::from_millis(1)).await; // the request
//!             page.len()
//!         })
//!         .buffer_unordered(2)
//!         .collect()
//!         .await;
//!     lengths.sort();
//!     assert_eq!(lengths, [1, 2, 3, 4]);
//! });
//! ```

use std::pin::Pin;

mod adapter;
mod consumer;
mod ext;
mod from_stream;
mod size_hint;
mod source;

pub use adapter::{
    BufferUnordered, Buffered, Chain, Chunks, ChunksTimeout, Enumerate, Filter, FilterMap, FlatMap, Flatten,
    Fuse, Inspect, Map, MapWhile, Merge, NextIf, NextIfEq, Peek, PeekMut, Peekable, Skip, SkipWhile, Take,
    TakeWhile, Then, Throttle, Timeout, TimeoutRepeating, Zip,
};
pub use consumer::{All, Any, Collect, Count, Fold, ForEach, Next, ShortCircuit, TryNext};
pub use ext::StreamExt;
pub use from_stream::FromStream;
pub use futures_core::stream::{FusedStream, Stream};
pub use source::{
    empty, iter, once, pending, poll_fn, repeat, repeat_with, unfold, Empty, Iter, Once, Pending, PollFn,
    Repeat, RepeatWith, Unfold,
};

/// The error [`StreamExt::timeout`] yields when no item arrived in time
/// (the same type as [`tau::time::error::Elapsed`](crate::time::error::Elapsed)).
pub use crate::time::error::Elapsed;

/// An owned, dynamically typed stream that can be sent across threads (and
/// plugins): what [`StreamExt::boxed`] returns.
pub type BoxStream<'a, T> = Pin<Box<dyn Stream<Item = T> + Send + 'a>>;

/// [`BoxStream`] without `Send`: what [`StreamExt::boxed_local`] returns.
pub type LocalBoxStream<'a, T> = Pin<Box<dyn Stream<Item = T> + 'a>>;
