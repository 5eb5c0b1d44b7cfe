use std::fmt;
use std::num::NonZeroU64;

/// An opaque id of a runtime, unique among the runtimes alive in the
/// process, as `tokio::runtime::Id` (from [`Handle::id`](super::Handle::id)).
#[derive(Clone, Copy, Debug, Hash, Eq, PartialEq)]
pub struct Id(NonZeroU64);

impl Id {
    pub(crate) fn new(raw: u64) -> Id {
        Id(NonZeroU64::new(raw).unwrap_or(NonZeroU64::MIN))
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
