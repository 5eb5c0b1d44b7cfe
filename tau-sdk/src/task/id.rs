use std::fmt;

/// An opaque id of a task, unique among the tasks of one runtime.
///
/// As in tokio, ids come from a counter: a finished task's id is not handed out again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(u64);

impl Id {
    pub(crate) fn from_raw(raw: u64) -> Id {
        Id(raw)
    }

    pub(crate) fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
