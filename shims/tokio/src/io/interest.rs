use std::fmt;
use std::ops::{BitOr, BitOrAssign};

/// What a registration waits for, as `tokio::io::Interest`.
///
/// tau's reactor reports readable and writable readiness;
/// [`PRIORITY`](Self::PRIORITY) and [`ERROR`](Self::ERROR) are accepted and
/// waited for as readability (an error or out-of-band data wakes a reader).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Interest(u8);

const READABLE: u8 = 1;
const WRITABLE: u8 = 2;
const PRIORITY: u8 = 4;
const ERROR: u8 = 8;

impl Interest {
    /// Readable.
    pub const READABLE: Interest = Interest(READABLE);
    /// Writable.
    pub const WRITABLE: Interest = Interest(WRITABLE);
    /// Priority (out-of-band) data, waited for as readability.
    pub const PRIORITY: Interest = Interest(PRIORITY);
    /// Error readiness, waited for as readability.
    pub const ERROR: Interest = Interest(ERROR);

    /// True if it includes readability.
    pub const fn is_readable(self) -> bool {
        self.0 & READABLE != 0
    }

    /// True if it includes writability.
    pub const fn is_writable(self) -> bool {
        self.0 & WRITABLE != 0
    }

    /// True if it includes priority.
    pub const fn is_priority(self) -> bool {
        self.0 & PRIORITY != 0
    }

    /// True if it includes errors.
    pub const fn is_error(self) -> bool {
        self.0 & ERROR != 0
    }

    /// Both interests.
    #[must_use]
    pub const fn add(self, other: Interest) -> Interest {
        Interest(self.0 | other.0)
    }

    /// This interest without `other`; `None` if nothing would remain.
    #[must_use]
    pub fn remove(self, other: Interest) -> Option<Interest> {
        let left = self.0 & !other.0;
        (left != 0).then_some(Interest(left))
    }

    /// The directions tau's reactor waits in.
    pub(crate) fn waits_readable(self) -> bool {
        self.0 & (READABLE | PRIORITY | ERROR) != 0
    }

    pub(crate) fn to_tau(self) -> tau::io::Interest {
        match (self.waits_readable(), self.is_writable()) {
            (true, true) => tau::io::Interest::READABLE | tau::io::Interest::WRITABLE,
            (false, true) => tau::io::Interest::WRITABLE,
            _ => tau::io::Interest::READABLE,
        }
    }
}

impl BitOr for Interest {
    type Output = Interest;

    fn bitor(self, other: Interest) -> Interest {
        self.add(other)
    }
}

impl BitOrAssign for Interest {
    fn bitor_assign(&mut self, other: Interest) {
        *self = self.add(other);
    }
}

impl fmt::Debug for Interest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names =
            [(READABLE, "READABLE"), (WRITABLE, "WRITABLE"), (PRIORITY, "PRIORITY"), (ERROR, "ERROR")];
        let mut first = true;
        for (bit, name) in names {
            if self.0 & bit != 0 {
                if !first {
                    f.write_str(" | ")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        Ok(())
    }
}
