//! What other threads queue for the driver, and the per-task flags that
//! coalesce their wakes.
//!
//! A wake from another thread costs a queue entry and, for the first entry
//! since the driver's last look, a notify of the poller. Each task slot has
//! a `NOTIFIED` bit that the waking thread sets; only the thread that sets
//! it queues the wake, and the driver clears it when it takes the wake, so
//! any number of wakes of one task between two driver turns cost one entry.

use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, Ordering};

use crate::abi::RawTask;
use crate::driver::Operation;
use crate::key::{Key, WakerWord};
use crate::runtime::Driver;
use crate::scope::ScopePtr;

/// Work that must run on the driver while another thread waits for it.
pub(crate) type Job = Box<dyn FnOnce(Driver<'_>) + Send>;

pub(crate) enum RemoteOp {
    /// A task spawned off the driver thread, with its id and the scope it
    /// is counted in.
    Spawn { task: RawTask, id: u64, scope: ScopePtr },
    /// A task woken off the driver thread.
    Wake(WakerWord),
    /// `JoinHandle::abort` off the driver thread.
    Abort(Key),
    /// A `Sleep` dropped off the driver thread.
    CancelTimer(Key),
    /// A `Sleep` reset off the driver thread: its timer moves to the deadline.
    ResetTimer(Key, u64),
    /// An `AsyncFd` dropped off the driver thread; its fd was already
    /// removed from the poller by the dropping thread.
    ForgetIo(Key),
    /// Unload, metrics, shutdown: urgent (see `driver::handover`).
    Run(Job),
}

impl Operation for RemoteOp {
    fn is_urgent(&self) -> bool {
        matches!(self, RemoteOp::Run(_))
    }

    fn starts_work(&self) -> bool {
        matches!(self, RemoteOp::Run(_) | RemoteOp::Spawn { .. })
    }
}

/// Set while a wake of the task in this slot is queued.
const NOTIFIED: u32 = 1 << 16;
/// Flags for the first `FIRST` slots; bucket `b` holds `FIRST << b` slots.
const FIRST: usize = 64;
/// Enough buckets for every `u32` index.
const BUCKETS: usize = 27;

/// One word per task slot: the low 16 bits of the occupant's generation,
/// and `NOTIFIED`. Buckets are allocated by the driver as the task slab
/// grows and never move, so other threads read them without a lock.
pub(crate) struct WakeFlags {
    buckets: [AtomicPtr<AtomicU32>; BUCKETS],
    /// `NOTIFIED` for the `block_on` future, which has no slot.
    main: AtomicBool,
}

fn locate(index: u32) -> (usize, usize) {
    let n = index as usize / FIRST + 1;
    let bucket = (usize::BITS - 1 - n.leading_zeros()) as usize;
    (bucket, index as usize - FIRST * ((1 << bucket) - 1))
}

impl WakeFlags {
    pub(crate) fn new() -> WakeFlags {
        WakeFlags {
            buckets: std::array::from_fn(|_| AtomicPtr::new(std::ptr::null_mut())),
            main: AtomicBool::new(false),
        }
    }

    fn word(&self, index: u32) -> Option<&AtomicU32> {
        let (bucket, offset) = locate(index);
        let base = self.buckets.get(bucket)?.load(Ordering::Acquire);
        // SAFETY: a non-null bucket holds `FIRST << bucket` words and lives
        // as long as `self`; `offset` is below that by construction.
        (!base.is_null()).then(|| unsafe { &*base.add(offset) })
    }

    /// Driver only: a new occupant `key` took its slot (not notified).
    pub(crate) fn occupy(&self, key: Key) {
        let (bucket, offset) = locate(key.index);
        let mut base = self.buckets[bucket].load(Ordering::Acquire);
        if base.is_null() {
            base = zeroed_words(FIRST << bucket);
            self.buckets[bucket].store(base, Ordering::Release);
        }
        // SAFETY: as in `word`.
        unsafe { &*base.add(offset) }.store(key.short_generation() as u32, Ordering::Release);
    }

    /// Any thread: marks the task `word` names notified. False if it
    /// already was, or if the slot holds another task now (a stale waker):
    /// then there is nothing to queue.
    pub(crate) fn notify(&self, word: WakerWord) -> bool {
        if word.index == crate::waker::MAIN_INDEX {
            return !self.main.swap(true, Ordering::AcqRel);
        }
        let Some(flags) = self.word(word.index) else { return false };
        let mut current = flags.load(Ordering::Acquire);
        loop {
            if current as u16 != word.short_generation || current & NOTIFIED != 0 {
                return false;
            }
            match flags.compare_exchange_weak(
                current,
                current | NOTIFIED,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return true,
                Err(actual) => current = actual,
            }
        }
    }

    /// Driver only: the queued wake of `word` is being taken.
    pub(crate) fn clear(&self, word: WakerWord) {
        if word.index == crate::waker::MAIN_INDEX {
            self.main.store(false, Ordering::Release);
        } else if let Some(flags) = self.word(word.index) {
            flags.fetch_and(!NOTIFIED, Ordering::AcqRel);
        }
    }
}

/// `len` words of zero, from zeroed memory (the pages are touched as the
/// slab grows into them, not up front).
fn zeroed_words(len: usize) -> *mut AtomicU32 {
    let layout = std::alloc::Layout::array::<AtomicU32>(len).expect("a bucket's layout");
    // SAFETY: a non-zero layout; zeroed bytes are a valid `AtomicU32` each.
    let words = unsafe { std::alloc::alloc_zeroed(layout) }.cast::<AtomicU32>();
    if words.is_null() {
        std::alloc::handle_alloc_error(layout);
    }
    words
}

impl Drop for WakeFlags {
    fn drop(&mut self) {
        for (bucket, slot) in self.buckets.iter().enumerate() {
            let base = slot.load(Ordering::Acquire);
            if !base.is_null() {
                let layout =
                    std::alloc::Layout::array::<AtomicU32>(FIRST << bucket).expect("a bucket's layout");
                // SAFETY: made by `zeroed_words` with this layout.
                unsafe { std::alloc::dealloc(base.cast(), layout) };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_every_index_without_overlap() {
        assert_eq!(locate(0), (0, 0));
        assert_eq!(locate(63), (0, 63));
        assert_eq!(locate(64), (1, 0));
        assert_eq!(locate(191), (1, 127));
        assert_eq!(locate(192), (2, 0));
        let (bucket, offset) = locate(u32::MAX);
        assert!(bucket < BUCKETS && offset < FIRST << bucket);
    }

    #[test]
    fn a_burst_of_wakes_queues_one_and_stale_wakes_none() {
        let flags = WakeFlags::new();
        let key = Key { index: 200, generation: 3 };
        let word = WakerWord::new(0, key);
        assert!(!flags.notify(word), "no bucket yet: nothing to wake");
        flags.occupy(key);
        assert!(flags.notify(word));
        assert!(!flags.notify(word), "already queued");
        flags.clear(word);
        assert!(flags.notify(word));
        flags.occupy(Key { index: 200, generation: 4 });
        assert!(!flags.notify(word), "the slot holds another task");
    }
}
