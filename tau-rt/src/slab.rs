//! A generational slab: stable `u32` indices, and `u64` keys
//! (`generation << 32 | index`) that go stale once their entry is removed.

pub(crate) struct Slab<T> {
    entries: Vec<Entry<T>>,
    free_head: u32,
    len: usize,
}

enum Entry<T> {
    Occupied { generation: u32, value: T },
    Vacant { generation: u32, next_free: u32 },
}

const NONE: u32 = u32::MAX;

pub(crate) fn key_parts(key: u64) -> (u32, u32) {
    ((key & 0xFFFF_FFFF) as u32, (key >> 32) as u32)
}

fn make_key(index: u32, generation: u32) -> u64 {
    ((generation as u64) << 32) | index as u64
}

impl<T> Slab<T> {
    pub(crate) fn new() -> Self {
        Slab { entries: Vec::new(), free_head: NONE, len: 0 }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Inserts a value and returns its key. Generations start at 1, so no key is 0.
    pub(crate) fn insert(&mut self, value: T) -> u64 {
        self.len += 1;
        if self.free_head != NONE {
            let index = self.free_head;
            let entry = &mut self.entries[index as usize];
            let Entry::Vacant { generation, next_free } = *entry else {
                unreachable!("free list points at an occupied entry")
            };
            self.free_head = next_free;
            *entry = Entry::Occupied { generation, value };
            return make_key(index, generation);
        }
        let index = u32::try_from(self.entries.len()).expect("more than 2^32 slab entries");
        assert!(index != NONE, "more than 2^32 - 1 slab entries");
        self.entries.push(Entry::Occupied { generation: 1, value });
        make_key(index, 1)
    }

    pub(crate) fn get_mut(&mut self, key: u64) -> Option<&mut T> {
        let (index, want) = key_parts(key);
        match self.entries.get_mut(index as usize) {
            Some(Entry::Occupied { generation, value }) if *generation == want => Some(value),
            _ => None,
        }
    }

    /// Looks up by index and the low 16 bits of the generation (waker keys).
    pub(crate) fn get_mut_short(&mut self, index: u32, short_generation: u16) -> Option<&mut T> {
        match self.entries.get_mut(index as usize) {
            Some(Entry::Occupied { generation, value }) if *generation as u16 == short_generation => {
                Some(value)
            }
            _ => None,
        }
    }

    /// Looks up by index alone (reactor events carry only the index).
    pub(crate) fn get_mut_by_index(&mut self, index: u32) -> Option<&mut T> {
        match self.entries.get_mut(index as usize) {
            Some(Entry::Occupied { value, .. }) => Some(value),
            _ => None,
        }
    }

    /// The generation of the occupied entry at `index` (0 if vacant).
    pub(crate) fn generation_of(&self, index: u32) -> u32 {
        match self.entries.get(index as usize) {
            Some(Entry::Occupied { generation, .. }) => *generation,
            _ => 0,
        }
    }

    pub(crate) fn remove(&mut self, key: u64) -> Option<T> {
        let (index, want) = key_parts(key);
        let entry = self.entries.get_mut(index as usize)?;
        match entry {
            Entry::Occupied { generation, .. } if *generation == want => {}
            _ => return None,
        }
        let next_generation = want.wrapping_add(1).max(1);
        let old = std::mem::replace(
            entry,
            Entry::Vacant { generation: next_generation, next_free: self.free_head },
        );
        self.free_head = index;
        self.len -= 1;
        match old {
            Entry::Occupied { value, .. } => Some(value),
            Entry::Vacant { .. } => unreachable!(),
        }
    }

    /// Removes every value, returning them; keys handed out before go stale.
    pub(crate) fn drain(&mut self) -> Vec<T> {
        self.remove_where(|_| true)
    }

    /// Removes the values `predicate` picks, returning them.
    pub(crate) fn remove_where(&mut self, mut predicate: impl FnMut(&T) -> bool) -> Vec<T> {
        let keys: Vec<u64> = self.iter().filter(|(_, value)| predicate(value)).map(|(key, _)| key).collect();
        keys.into_iter().filter_map(|key| self.remove(key)).collect()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, &T)> {
        self.entries.iter().enumerate().filter_map(|(index, entry)| match entry {
            Entry::Occupied { generation, value } => Some((make_key(index as u32, *generation), value)),
            Entry::Vacant { .. } => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_keys_miss_after_remove_and_reuse() {
        let mut slab = Slab::new();
        let a = slab.insert("a");
        assert_eq!(slab.remove(a), Some("a"));
        let b = slab.insert("b");
        assert_eq!(key_parts(a).0, key_parts(b).0, "index is reused");
        assert_ne!(a, b, "generation differs");
        assert!(slab.get_mut(a).is_none());
        assert_eq!(slab.remove(a), None);
        assert_eq!(slab.get_mut(b).copied(), Some("b"));
        assert_eq!(slab.len(), 1);
    }

    #[test]
    fn keys_are_never_zero_and_drain_empties() {
        let mut slab = Slab::new();
        let keys: Vec<u64> = (0..10).map(|i| slab.insert(i)).collect();
        assert!(keys.iter().all(|&k| k != 0));
        let mut drained = slab.drain();
        drained.sort();
        assert_eq!(drained, (0..10).collect::<Vec<_>>());
        assert_eq!(slab.len(), 0);
        assert!(keys.iter().all(|&k| slab.get_mut(k).is_none()));
    }
}
