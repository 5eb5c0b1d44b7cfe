//! Constructors of streams, as in `futures::stream`.

mod empty;
mod iter;
mod once;
mod pending;
mod poll_fn;
mod repeat;
mod unfold;

pub use empty::{empty, Empty};
pub use iter::{iter, Iter};
pub use once::{once, Once};
pub use pending::{pending, Pending};
pub use poll_fn::{poll_fn, PollFn};
pub use repeat::{repeat, repeat_with, Repeat, RepeatWith};
pub use unfold::{unfold, Unfold};
