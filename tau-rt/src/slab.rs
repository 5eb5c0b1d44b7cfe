//! A generational slab: stable `u32` indices, and [`Key`]s that go stale
//! once their entry is removed.

use crate::key::Key;

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

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab::new()
    }
}

impl<T> Slab<T> {
    pub(crate) fn new() -> Self {
        Slab { entries: Vec::new(), free_head: NONE, len: 0 }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The key the next `insert` will return.
    pub(crate) fn next_key(&self) -> Key {
        if self.free_head != NONE {
            let Entry::Vacant { generation, .. } = self.entries[self.free_head as usize] else {
                unreachable!("free list points at an occupied entry")
            };
            return Key { index: self.free_head, generation };
        }
        Key { index: u32::try_from(self.entries.len()).expect("more than 2^32 slab entries"), generation: 1 }
    }

    /// Inserts a value and returns its key. Generations start at 1, so no raw key is 0.
    pub(crate) fn insert(&mut self, value: T) -> Key {
        let key = self.next_key();
        assert!(key.index != NONE, "more than 2^32 - 1 slab entries");
        self.len += 1;
        if key.index as usize == self.entries.len() {
            self.entries.push(Entry::Occupied { generation: key.generation, value });
        } else {
            let Entry::Vacant { next_free, .. } = self.entries[key.index as usize] else { unreachable!() };
            self.free_head = next_free;
            self.entries[key.index as usize] = Entry::Occupied { generation: key.generation, value };
        }
        key
    }

    pub(crate) fn get(&self, key: Key) -> Option<&T> {
        match self.entries.get(key.index as usize) {
            Some(Entry::Occupied { generation, value }) if *generation == key.generation => Some(value),
            _ => None,
        }
    }

    pub(crate) fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        match self.entries.get_mut(key.index as usize) {
            Some(Entry::Occupied { generation, value }) if *generation == key.generation => Some(value),
            _ => None,
        }
    }

    /// Looks up by index and the low 16 bits of the generation (waker words);
    /// returns the entry's full key with it.
    pub(crate) fn get_mut_short(&mut self, index: u32, short_generation: u16) -> Option<(Key, &mut T)> {
        match self.entries.get_mut(index as usize) {
            Some(Entry::Occupied { generation, value }) if *generation as u16 == short_generation => {
                Some((Key { index, generation: *generation }, value))
            }
            _ => None,
        }
    }

    /// The entry at `index` and its key, if it is occupied.
    pub(crate) fn get_mut_at(&mut self, index: u32) -> Option<(Key, &mut T)> {
        match self.entries.get_mut(index as usize) {
            Some(Entry::Occupied { generation, value }) => {
                Some((Key { index, generation: *generation }, value))
            }
            _ => None,
        }
    }

    pub(crate) fn remove(&mut self, key: Key) -> Option<T> {
        let entry = self.entries.get_mut(key.index as usize)?;
        match entry {
            Entry::Occupied { generation, .. } if *generation == key.generation => {}
            _ => return None,
        }
        let next_generation = key.generation.wrapping_add(1).max(1);
        let old = std::mem::replace(
            entry,
            Entry::Vacant { generation: next_generation, next_free: self.free_head },
        );
        self.free_head = key.index;
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
        let keys: Vec<Key> = self.iter().filter(|(_, value)| predicate(value)).map(|(key, _)| key).collect();
        keys.into_iter().filter_map(|key| self.remove(key)).collect()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (Key, &T)> {
        self.entries.iter().enumerate().filter_map(|(index, entry)| match entry {
            Entry::Occupied { generation, value } => {
                Some((Key { index: index as u32, generation: *generation }, value))
            }
            Entry::Vacant { .. } => None,
        })
    }

    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = (Key, &mut T)> {
        self.entries.iter_mut().enumerate().filter_map(|(index, entry)| match entry {
            Entry::Occupied { generation, value } => {
                Some((Key { index: index as u32, generation: *generation }, value))
            }
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
        assert_eq!(slab.next_key().index, a.index);
        let b = slab.insert("b");
        assert_eq!(a.index, b.index, "index is reused");
        assert_ne!(a, b, "generation differs");
        assert!(slab.get_mut(a).is_none());
        assert_eq!(slab.remove(a), None);
        assert_eq!(slab.get_mut(b).copied(), Some("b"));
        assert_eq!(slab.get_mut_short(b.index, b.short_generation()).map(|(key, _)| key), Some(b));
        assert_eq!(slab.len(), 1);
    }

    #[test]
    fn keys_are_never_zero_and_drain_empties() {
        let mut slab = Slab::new();
        let keys: Vec<Key> = (0..10).map(|i| slab.insert(i)).collect();
        assert!(keys.iter().all(|k| k.into_raw() != 0));
        let mut drained = slab.drain();
        drained.sort();
        assert_eq!(drained, (0..10).collect::<Vec<_>>());
        assert_eq!(slab.len(), 0);
        assert!(keys.iter().all(|&k| slab.get_mut(k).is_none()));
    }
}
