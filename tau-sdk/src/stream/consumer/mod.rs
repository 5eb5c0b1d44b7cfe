//! The futures [`StreamExt`](super::StreamExt)'s consumers return, one per file.

mod any_all;
mod collect;
mod count;
mod fold;
mod for_each;
mod next;
mod try_next;

pub use any_all::{All, Any, ShortCircuit};
pub use collect::Collect;
pub use count::Count;
pub use fold::Fold;
pub use for_each::ForEach;
pub use next::Next;
pub use try_next::TryNext;
