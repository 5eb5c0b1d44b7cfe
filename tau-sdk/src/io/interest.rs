use std::fmt;
use std::ops::{BitOr, BitOrAssign};

use tau_rt::abi::{INTEREST_READ, INTEREST_WRITE};

/// Which readiness an [`AsyncFd`](super::AsyncFd) is registered for.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Interest(u8);

impl Interest {
    /// Readable.
    pub const READABLE: Interest = Interest(INTEREST_READ);
    /// Writable.
    pub const WRITABLE: Interest = Interest(INTEREST_WRITE);

    /// True if readable interest is included.
    pub const fn is_readable(self) -> bool {
        self.0 & INTEREST_READ != 0
    }

    /// True if writable interest is included.
    pub const fn is_writable(self) -> bool {
        self.0 & INTEREST_WRITE != 0
    }

    /// Both interests combined.
    pub const fn add(self, other: Interest) -> Interest {
        Interest(self.0 | other.0)
    }

    pub(crate) fn bits(self) -> u8 {
        self.0
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
        match (self.is_readable(), self.is_writable()) {
            (true, true) => f.write_str("READABLE | WRITABLE"),
            (true, false) => f.write_str("READABLE"),
            (false, true) => f.write_str("WRITABLE"),
            (false, false) => f.write_str("(none)"),
        }
    }
}
