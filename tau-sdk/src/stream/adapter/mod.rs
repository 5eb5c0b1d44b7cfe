//! The streams [`StreamExt`](super::StreamExt)'s adapters return, one per file.

/// `get_ref`, `get_mut`, `get_pin_mut` and `into_inner` for an adapter of
/// one stream, held in its pinned `stream` field, as futures-util has them.
/// (`Fuse`, as tokio-stream's, drops its stream once it ended, so it and
/// the adapters that keep their stream in one have none.)
macro_rules! inner_stream_access {
    (impl[$($generics:tt)*] $ty:ty $(where $($bounds:tt)*)?) => {
        impl<$($generics)*> $ty $(where $($bounds)*)? {
            /// The underlying stream.
            pub fn get_ref(&self) -> &S {
                &self.stream
            }

            /// The underlying stream, mutably: taking items from it directly
            /// bypasses this adapter.
            pub fn get_mut(&mut self) -> &mut S {
                &mut self.stream
            }

            /// The underlying stream, pinned: taking items from it directly
            /// bypasses this adapter.
            pub fn get_pin_mut(self: ::std::pin::Pin<&mut Self>) -> ::std::pin::Pin<&mut S> {
                self.project().stream
            }

            /// The underlying stream; what this adapter holds besides (a
            /// closure, buffered items) is dropped.
            pub fn into_inner(self) -> S {
                self.stream
            }
        }
    };
}

/// `Debug` for an adapter that holds closures or futures: the name and the
/// underlying stream, as futures-util shows them.
macro_rules! debug_stream_adapter {
    (impl[$($generics:tt)*] $ty:ty, $name:literal $(where $($bounds:tt)*)?) => {
        impl<$($generics)*> ::std::fmt::Debug for $ty
        where
            S: ::std::fmt::Debug,
            $($($bounds)*)?
        {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct($name).field("stream", &self.stream).finish_non_exhaustive()
            }
        }
    };
}

mod buffer_unordered;
mod buffered;
mod chain;
mod chunks;
mod chunks_timeout;
mod enumerate;
mod filter;
mod filter_map;
mod flat_map;
mod flatten;
mod fuse;
mod inspect;
mod map;
mod map_while;
mod merge;
mod peekable;
mod skip;
mod skip_while;
mod take;
mod take_while;
mod then;
mod throttle;
mod timeout;
mod timeout_repeating;
mod zip;

pub use buffer_unordered::BufferUnordered;
pub use buffered::Buffered;
pub use chain::Chain;
pub use chunks::Chunks;
pub use chunks_timeout::ChunksTimeout;
pub use enumerate::Enumerate;
pub use filter::Filter;
pub use filter_map::FilterMap;
pub use flat_map::FlatMap;
pub use flatten::Flatten;
pub use fuse::Fuse;
pub use inspect::Inspect;
pub use map::Map;
pub use map_while::MapWhile;
pub use merge::Merge;
pub use peekable::{NextIf, NextIfEq, Peek, PeekMut, Peekable};
pub use skip::Skip;
pub use skip_while::SkipWhile;
pub use take::Take;
pub use take_while::TakeWhile;
pub use then::Then;
pub use throttle::Throttle;
pub use timeout::Timeout;
pub use timeout_repeating::TimeoutRepeating;
pub use zip::Zip;
