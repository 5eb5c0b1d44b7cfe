//! Keys: the one encoding of the handles the runtime gives out for tasks,
//! timers and IO registrations, and of the task wakers' data word.
//!
//! A [`Key`] is a slab slot (`index`) and the slot's `generation`, which
//! changes every time the slot is freed, so a key outlives its entry
//! harmlessly: it just stops finding anything. On the ABI a key is the `u64`
//! `generation << 32 | index`; generations start at 1, so no key is 0 and 0
//! can mean "none".
//!
//! A task waker carries a key in one pointer-sized word, next to the slot of
//! its runtime in this copy of tau-rt's registry: `runtime slot (16 bits) |
//! generation (low 16 bits) | index (32 bits)`. The shortened generation
//! only ever causes a spurious wake, after 65,536 reuses of one slot.

use std::ffi::c_void;

/// A slab slot and its generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

impl Key {
    /// The key as it crosses the ABI.
    pub(crate) fn into_raw(self) -> u64 {
        ((self.generation as u64) << 32) | self.index as u64
    }

    pub(crate) fn from_raw(raw: u64) -> Key {
        Key { index: raw as u32, generation: (raw >> 32) as u32 }
    }

    /// The low 16 bits of the generation, as a waker word keeps them.
    pub(crate) fn short_generation(self) -> u16 {
        self.generation as u16
    }
}

/// What a task waker's data word says: which runtime, which slot, and
/// which occupant of the slot (by its shortened generation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WakerWord {
    pub(crate) runtime_slot: u16,
    pub(crate) index: u32,
    pub(crate) short_generation: u16,
}

impl WakerWord {
    pub(crate) fn new(runtime_slot: u16, key: Key) -> WakerWord {
        WakerWord { runtime_slot, index: key.index, short_generation: key.short_generation() }
    }

    pub(crate) fn encode(self) -> *const c_void {
        let word =
            ((self.runtime_slot as u64) << 48) | ((self.short_generation as u64) << 32) | self.index as u64;
        word as usize as *const c_void
    }

    pub(crate) fn decode(data: *const c_void) -> WakerWord {
        let word = data as usize as u64;
        WakerWord {
            runtime_slot: (word >> 48) as u16,
            index: word as u32,
            short_generation: (word >> 32) as u16,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_waker_words_round_trip() {
        let key = Key { index: 7, generation: 0x1_0003 };
        assert_eq!(Key::from_raw(key.into_raw()), key);
        assert_eq!(key.into_raw(), 0x1_0003_0000_0007);
        let word = WakerWord::new(65_535, key);
        assert_eq!(WakerWord::decode(word.encode()), word);
        assert_eq!(word.short_generation, 3);
    }
}
