//! The timer queue: a hierarchical timing wheel, as in tokio and the Linux
//! kernel. Six levels of 64 slots; a slot of level `L` spans `64^L` ticks of
//! 1 ms, so the wheel covers 64^6 ms (about 2.2 years; timers beyond the
//! top level's current turn wait in an overflow list, looked at every turn
//! while it is not empty). A timer sits in the slot of the highest level
//! at which its tick differs from the wheel's position; when the wheel
//! reaches a slot, its timers fire (level 0) or move down a level. Each
//! slot is an intrusive doubly-linked list through the entries' slab
//! indices, so inserting, moving and cancelling are O(1), and a bitmap per
//! level finds the next occupied slot in a few instructions.
//!
//! Ticks round deadlines up, so a timer never fires before its deadline.
//!
//! No waker is cloned or dropped here: `poll` says whether the stored waker
//! needs replacing, and every waker leaving the queue is handed back, so
//! that the runtime runs waker code (which may be foreign, and may call back
//! into the runtime) outside its borrow of the queue.

use crate::abi::FfiWaker;
use crate::clock::NEVER;
use crate::key::Key;
use crate::slab::Slab;

const LEVEL_BITS: u32 = 6;
const SLOTS: u64 = 1 << LEVEL_BITS;
const LEVELS: usize = 6;
pub(crate) const TICK_NS: u64 = 1_000_000;
/// No entry (the end of a list).
const NIL: u32 = u32::MAX;

/// Where an entry is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Place {
    /// In no list: deadline `NEVER`, or just unlinked.
    Idle,
    /// In a wheel slot.
    Wheel { level: u8, slot: u8 },
    /// Due already (its tick had passed when it was scheduled): fires at the next turn.
    Due,
    /// Beyond the wheel's range.
    Overflow,
    /// Fired; waits for its `Sleep` to see it.
    Fired,
}

struct TimerEntry {
    deadline: u64,
    tick: u64,
    /// The scope (plugin) whose code registered it.
    owner: u32,
    waker: Option<FfiWaker>,
    place: Place,
    prev: u32,
    next: u32,
}

#[derive(Clone, Copy)]
struct Level {
    heads: [u32; SLOTS as usize],
    /// Bit `s` is set when slot `s` is not empty.
    occupied: u64,
}

pub(crate) struct Timers {
    entries: Slab<TimerEntry>,
    levels: [Level; LEVELS],
    due: u32,
    overflow: u32,
    /// No tick in the overflow list is earlier (a lower bound: a timer
    /// cancelled out of it leaves it as it was until the next look), so
    /// that the list is walked only when one of its timers may be due or
    /// may move into the wheel: a long sleep (`Duration::MAX`) costs no
    /// walk per turn.
    overflow_earliest: u64,
    /// The clock reading tick 0 stands for.
    start_ns: u64,
    /// Every slot up to this tick has been processed.
    elapsed: u64,
}

/// What `poll` found.
pub(crate) enum TimerPoll {
    /// The deadline passed: the entry is gone (with its waker, to drop).
    Fired(Option<FfiWaker>),
    /// Waiting, with the caller's waker already stored.
    Pending,
    /// Waiting: store a clone of the caller's waker with `set_waker`.
    NeedsWaker(Key),
}

/// The level a timer due at `tick` goes in when the wheel is at `elapsed`.
fn level_for(elapsed: u64, tick: u64) -> usize {
    let significant = 63 - ((elapsed ^ tick) | (SLOTS - 1)).leading_zeros();
    (significant / LEVEL_BITS) as usize
}

fn slot_for(tick: u64, level: usize) -> usize {
    ((tick >> (LEVEL_BITS * level as u32)) & (SLOTS - 1)) as usize
}

impl Timers {
    /// A wheel whose ticks count from `start_ns` (the runtime's clock's origin).
    pub(crate) fn new(start_ns: u64) -> Self {
        Timers::starting_at(start_ns)
    }

    fn starting_at(start_ns: u64) -> Self {
        Timers {
            entries: Slab::new(),
            levels: [Level { heads: [NIL; SLOTS as usize], occupied: 0 }; LEVELS],
            due: NIL,
            overflow: NIL,
            overflow_earliest: u64::MAX,
            start_ns,
            elapsed: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The first tick at or after `deadline_ns`.
    fn tick_of(&self, deadline_ns: u64) -> u64 {
        deadline_ns.saturating_sub(self.start_ns).div_ceil(TICK_NS)
    }

    fn entry(&mut self, index: u32) -> &mut TimerEntry {
        self.entries.get_mut_at(index).expect("a linked timer is in the slab").1
    }

    fn head(&mut self, place: Place) -> &mut u32 {
        match place {
            Place::Wheel { level, slot } => &mut self.levels[level as usize].heads[slot as usize],
            Place::Due => &mut self.due,
            Place::Overflow => &mut self.overflow,
            Place::Idle | Place::Fired => unreachable!("not a list"),
        }
    }

    /// Puts the entry at `index` (in no list) at the front of `place`'s list.
    fn link(&mut self, index: u32, place: Place) {
        let old_head = std::mem::replace(self.head(place), index);
        if old_head != NIL {
            self.entry(old_head).prev = index;
        }
        match place {
            Place::Wheel { level, slot } => self.levels[level as usize].occupied |= 1 << slot,
            Place::Overflow => {
                let tick = self.entry(index).tick;
                self.overflow_earliest = self.overflow_earliest.min(tick);
            }
            _ => {}
        }
        let entry = self.entry(index);
        entry.place = place;
        entry.prev = NIL;
        entry.next = old_head;
    }

    /// Takes the entry at `index` out of its list, if it is in one.
    fn unlink(&mut self, index: u32) {
        let entry = self.entry(index);
        let (place, prev, next) = (entry.place, entry.prev, entry.next);
        if matches!(place, Place::Idle | Place::Fired) {
            return;
        }
        entry.place = Place::Idle;
        if prev == NIL {
            *self.head(place) = next;
        } else {
            self.entry(prev).next = next;
        }
        if next != NIL {
            self.entry(next).prev = prev;
        }
        if let Place::Wheel { level, slot } = place {
            if self.levels[level as usize].heads[slot as usize] == NIL {
                self.levels[level as usize].occupied &= !(1 << slot);
            }
        }
    }

    /// Puts the unlinked entry at `index` where its tick says: in the wheel
    /// if it falls in the top level's current turn, else in the overflow.
    fn schedule(&mut self, index: u32) {
        let tick = self.entry(index).tick;
        let place = if tick <= self.elapsed {
            Place::Due
        } else {
            match level_for(self.elapsed, tick) {
                level if level < LEVELS => {
                    Place::Wheel { level: level as u8, slot: slot_for(tick, level) as u8 }
                }
                _ => Place::Overflow,
            }
        };
        self.link(index, place);
    }

    /// Sets the entry's deadline and files it (a `NEVER` deadline is in no list).
    fn arm(&mut self, index: u32, deadline: u64) {
        self.unlink(index);
        let tick = self.tick_of(deadline);
        let entry = self.entry(index);
        entry.deadline = deadline;
        entry.tick = tick;
        if deadline != NEVER {
            self.schedule(index);
        }
    }

    fn fire(&mut self, index: u32, wakers: &mut Vec<FfiWaker>) {
        self.unlink(index);
        let entry = self.entry(index);
        entry.place = Place::Fired;
        wakers.extend(entry.waker.take());
    }

    /// Polls the timer `*key` (0: not registered yet, registered now) for
    /// `deadline`. A deadline that moved since the last poll (`Sleep::reset`)
    /// re-arms the timer even if it had fired: it fires for the new deadline,
    /// at once if that has passed; so does a new timer whose deadline has
    /// passed (`now` is read only in those two cases).
    pub(crate) fn poll(
        &mut self,
        key: &mut u64,
        deadline: u64,
        owner: u32,
        now: impl FnOnce() -> u64,
        stored_wakes_caller: impl FnOnce(&FfiWaker) -> bool,
    ) -> TimerPoll {
        let current = Key::from_raw(*key);
        let found = (*key != 0).then(|| self.entries.get_mut(current)).flatten();
        let Some(entry) = found else {
            if deadline <= now() {
                // Already due: ready at once, as tokio's (nothing to register).
                *key = 0;
                return TimerPoll::Fired(None);
            }
            let registered = self.entries.insert(TimerEntry {
                deadline,
                tick: 0,
                owner,
                waker: None,
                place: Place::Idle,
                prev: NIL,
                next: NIL,
            });
            *key = registered.into_raw();
            self.arm(registered.index, deadline);
            return TimerPoll::NeedsWaker(registered);
        };
        if entry.deadline != deadline {
            if deadline <= now() {
                self.unlink(current.index);
                let entry = self.entry(current.index);
                entry.deadline = deadline;
                entry.place = Place::Fired;
            } else {
                self.arm(current.index, deadline);
            }
        }
        let entry = self.entry(current.index);
        if entry.place == Place::Fired {
            *key = 0;
            let removed = self.entries.remove(current).expect("just found");
            return TimerPoll::Fired(removed.waker);
        }
        if entry.waker.as_ref().is_some_and(stored_wakes_caller) {
            TimerPoll::Pending
        } else {
            TimerPoll::NeedsWaker(current)
        }
    }

    /// Stores `waker` for the timer `key`; returns the one it replaces (or
    /// `waker` itself, if the timer is gone or fired), for the caller to drop.
    pub(crate) fn set_waker(&mut self, key: Key, waker: FfiWaker) -> Option<FfiWaker> {
        match self.entries.get_mut(key) {
            Some(entry) if entry.place != Place::Fired => entry.waker.replace(waker),
            _ => Some(waker),
        }
    }

    /// Moves the timer `key` to `deadline`, keeping its waker
    /// (`Sleep::reset` of a sleep polled before): it fires for the new
    /// deadline. If that has passed at `now`, it fires now, and its waker
    /// is returned for the caller to wake. A fired or unknown key is left
    /// alone: its next poll sees the new deadline.
    pub(crate) fn reset(&mut self, key: Key, deadline: u64, now: u64) -> Option<FfiWaker> {
        let entry = self.entries.get_mut(key)?;
        if entry.place == Place::Fired || entry.deadline == deadline {
            return None;
        }
        if deadline <= now {
            self.unlink(key.index);
            let entry = self.entry(key.index);
            entry.deadline = deadline;
            entry.place = Place::Fired;
            return entry.waker.take();
        }
        self.arm(key.index, deadline);
        None
    }

    /// Removes the timer; returns its waker for the caller to drop.
    pub(crate) fn cancel(&mut self, key: Key) -> Option<FfiWaker> {
        self.entries.get(key)?;
        self.unlink(key.index);
        self.entries.remove(key).and_then(|entry| entry.waker)
    }

    /// The next occupied slot: its level, slot and first tick. The lowest
    /// level with an occupied slot has the earliest one.
    fn next_expiration(&self) -> Option<(usize, usize, u64)> {
        self.levels.iter().enumerate().find(|(_, level)| level.occupied != 0).map(|(index, level)| {
            let shift = LEVEL_BITS * index as u32;
            let current = ((self.elapsed >> shift) & (SLOTS - 1)) as u32;
            let slot = (current + level.occupied.rotate_right(current).trailing_zeros()) % SLOTS as u32;
            let rotation = self.elapsed & !((SLOTS << shift) - 1);
            let mut start = rotation + ((slot as u64) << shift);
            if slot < current {
                start += SLOTS << shift; // the next turn of this level
            }
            (index, slot as usize, start)
        })
    }

    /// Fires every timer due at `now`, moving their wakers to `wakers`.
    pub(crate) fn fire_due(&mut self, now: u64, wakers: &mut Vec<FfiWaker>) {
        let now_tick = now.saturating_sub(self.start_ns) / TICK_NS;
        while self.due != NIL {
            self.fire(self.due, wakers);
        }
        while let Some((level, slot, start)) = self.next_expiration() {
            if start > now_tick {
                break;
            }
            self.elapsed = self.elapsed.max(start);
            let mut index = std::mem::replace(&mut self.levels[level].heads[slot], NIL);
            self.levels[level].occupied &= !(1 << slot);
            while index != NIL {
                let entry = self.entry(index);
                let (next, tick) = (entry.next, entry.tick);
                entry.place = Place::Idle; // the whole list was taken
                if tick <= now_tick {
                    entry.place = Place::Fired;
                    wakers.extend(entry.waker.take());
                } else {
                    self.schedule(index);
                }
                index = next;
            }
        }
        self.elapsed = self.elapsed.max(now_tick);
        if self.overflow != NIL {
            self.take_in_overflow(now_tick, wakers);
        }
    }

    /// Moves overflow timers that came within the wheel's turn into it.
    fn take_in_overflow(&mut self, now_tick: u64, wakers: &mut Vec<FfiWaker>) {
        let earliest = self.overflow_earliest;
        if earliest > now_tick && level_for(self.elapsed, earliest) >= LEVELS {
            return; // none of them is due or within the wheel's turn yet
        }
        let mut index = self.overflow;
        let mut left = u64::MAX;
        while index != NIL {
            let entry = self.entry(index);
            let (next, tick) = (entry.next, entry.tick);
            if tick <= now_tick {
                self.fire(index, wakers);
            } else if level_for(self.elapsed, tick) < LEVELS {
                self.unlink(index);
                self.schedule(index);
            } else {
                left = left.min(tick);
            }
            index = next;
        }
        self.overflow_earliest = left;
    }

    /// When the next timer may be due: the park timeout. For a slot above
    /// level 0 that is the earliest of its timers when it holds a few (so an
    /// idle runtime does not wake just to move them down a level), else the
    /// slot's start; and the earliest overflow timer.
    pub(crate) fn next_deadline(&mut self) -> Option<u64> {
        if self.due != NIL {
            return Some(0);
        }
        let wheel = self.next_expiration().map(|(level, slot, start)| {
            if level == 0 {
                return start;
            }
            let mut earliest = u64::MAX;
            let mut index = self.levels[level].heads[slot];
            for _ in 0..SLOTS {
                if index == NIL {
                    return earliest.max(start);
                }
                let entry = self.entry(index);
                earliest = earliest.min(entry.tick);
                index = entry.next;
            }
            start // a crowded slot: wake at its start and move its timers down
        });
        // At the earliest (a lower bound): a wake too early only looks again.
        let overflow = (self.overflow != NIL).then_some(self.overflow_earliest);
        let tick = match (wheel, overflow) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b)?,
        };
        Some(self.start_ns.saturating_add(tick.saturating_mul(TICK_NS)))
    }

    /// Removes every timer and returns their wakers (shutdown).
    pub(crate) fn drain(&mut self) -> Vec<FfiWaker> {
        self.remove_where(|_| true)
    }

    pub(crate) fn count_owned(&self, owner: u32) -> usize {
        self.entries.iter().filter(|(_, entry)| entry.owner == owner).count()
    }

    /// Removes the timers `owner` registered and returns their wakers.
    pub(crate) fn drain_owned(&mut self, owner: u32) -> Vec<FfiWaker> {
        self.remove_where(|entry| entry.owner == owner)
    }

    fn remove_where(&mut self, pick: impl Fn(&TimerEntry) -> bool) -> Vec<FfiWaker> {
        let keys: Vec<Key> =
            self.entries.iter().filter(|(_, entry)| pick(entry)).map(|(key, _)| key).collect();
        keys.into_iter().filter_map(|key| self.cancel(key)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::waker::tests::noop_waker;

    const MS: u64 = TICK_NS;

    fn poll(timers: &mut Timers, key: &mut u64, deadline: u64, now: u64) -> &'static str {
        match timers.poll(key, deadline, 1, || now, |_| true) {
            TimerPoll::Fired(_) => "fired",
            TimerPoll::Pending => "pending",
            TimerPoll::NeedsWaker(registered) => {
                assert!(timers.set_waker(registered, noop_waker()).is_none());
                "registered"
            }
        }
    }

    /// How many fire at `now`.
    fn fire(timers: &mut Timers, now: u64) -> usize {
        let mut woken = Vec::new();
        timers.fire_due(now, &mut woken);
        woken.len()
    }

    #[test]
    fn a_fired_timer_whose_deadline_moved_waits_for_the_new_one() {
        let mut timers = Timers::starting_at(0);
        let mut key = 0;
        assert_eq!(poll(&mut timers, &mut key, 100 * MS, 0), "registered");
        assert_eq!(fire(&mut timers, 150 * MS), 1);
        // `Sleep::reset` to 300 ms after the timer fired, then a poll at 160 ms.
        assert_eq!(poll(&mut timers, &mut key, 300 * MS, 160 * MS), "registered");
        assert_eq!(fire(&mut timers, 299 * MS), 0, "not before the new deadline");
        assert_eq!(timers.next_deadline(), Some(300 * MS));
        assert_eq!(fire(&mut timers, 300 * MS), 1);
        assert_eq!(poll(&mut timers, &mut key, 300 * MS, 300 * MS), "fired");
        assert_eq!((key, timers.len()), (0, 0));
    }

    #[test]
    fn a_deadline_moved_into_the_past_fires_at_once() {
        let mut timers = Timers::starting_at(0);
        let mut key = 0;
        assert_eq!(poll(&mut timers, &mut key, 500 * MS, 0), "registered");
        assert_eq!(poll(&mut timers, &mut key, 50 * MS, 100 * MS), "fired");
        assert_eq!(timers.next_deadline(), None, "nothing left in the wheel");
    }

    /// Timers at every level and beyond the wheel fire at their tick, never
    /// before, in order, whatever the steps the clock takes.
    #[test]
    fn timers_at_every_level_fire_in_order_and_never_early() {
        let deadlines: Vec<u64> =
            [1, 2, 63, 64, 65, 100, 4_095, 4_096, 4_097, 300_000, 16_777_216, 1 << 36, 1 << 37]
                .iter()
                .map(|ms| ms * MS - MS / 2)
                .collect();
        for step in [MS, 7 * MS, 1_000 * MS, 1 << 40] {
            let mut timers = Timers::starting_at(0);
            let keys: Vec<u64> = deadlines
                .iter()
                .map(|&deadline| {
                    let mut key = 0;
                    poll(&mut timers, &mut key, deadline, 0);
                    key
                })
                .collect();
            let mut fired_at = vec![None; deadlines.len()];
            let mut now = 0;
            while fired_at.iter().any(Option::is_none) {
                // At least one step; straight to the next slot when it is further.
                let next = timers.next_deadline().expect("timers are left");
                now = if next > now + step { next } else { now + step };
                fire(&mut timers, now);
                for (i, key) in keys.iter().enumerate() {
                    let entry = timers.entries.get(Key::from_raw(*key)).unwrap();
                    if entry.place == Place::Fired && fired_at[i].is_none() {
                        fired_at[i] = Some(now);
                    }
                }
            }
            for (deadline, fired) in deadlines.iter().zip(&fired_at) {
                let fired = fired.unwrap();
                assert!(fired >= *deadline, "step {step}: fired at {fired}, before {deadline}");
                if step == MS {
                    assert!(fired - deadline <= 2 * MS, "step 1 ms: fired at {fired} for {deadline}");
                }
            }
        }
    }

    #[test]
    fn cancelled_and_moved_timers_leave_their_slots() {
        let mut timers = Timers::starting_at(0);
        let (mut a, mut b, mut c) = (0, 0, 0);
        poll(&mut timers, &mut a, 10 * MS, 0);
        poll(&mut timers, &mut b, 10 * MS, 0);
        poll(&mut timers, &mut c, 5_000 * MS, 0);
        assert!(timers.cancel(Key::from_raw(a)).is_some());
        poll(&mut timers, &mut c, 20 * MS, 0); // moved down from level 2 to level 0
        assert_eq!(fire(&mut timers, 15 * MS), 1, "only b");
        assert_eq!(fire(&mut timers, 25 * MS), 1, "then c");
        assert_eq!(fire(&mut timers, 10_000 * MS), 0, "c left its old slot");
        assert_eq!(timers.drain().len(), 0, "fired timers hold no waker");
        assert_eq!(timers.len(), 0);
    }

    /// Random timers, moves, cancels and clock steps against a model: after
    /// every `fire_due(now)`, exactly the timers whose deadline's tick is at
    /// or before `now`'s have fired.
    #[test]
    fn the_wheel_fires_exactly_what_a_model_says() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut random = move |bound: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % bound
        };
        for round in 0..50 {
            let mut timers = Timers::starting_at(0);
            let mut live: Vec<(u64, u64)> = Vec::new(); // (key, deadline)
            let mut now = 0u64;
            for _ in 0..400 {
                match random(10) {
                    0..=4 => {
                        // Up to beyond the wheel's range (2^36 ms): the overflow list.
                        let reach = [10, 1_000, 100_000, 10_000_000, 1 << 37][random(5) as usize];
                        let deadline = now + random(reach * MS) + 1;
                        let mut key = 0;
                        poll(&mut timers, &mut key, deadline, now);
                        live.push((key, deadline));
                    }
                    5 if !live.is_empty() => {
                        let (key, _) = live.swap_remove(random(live.len() as u64) as usize);
                        timers.cancel(Key::from_raw(key));
                    }
                    6 if !live.is_empty() => {
                        let at = random(live.len() as u64) as usize;
                        let deadline = now + random(50_000 * MS) + 1;
                        let mut key = live[at].0;
                        if poll(&mut timers, &mut key, deadline, now) == "fired" {
                            live.swap_remove(at);
                        } else {
                            live[at].1 = deadline;
                        }
                    }
                    7 if !live.is_empty() => {
                        // `Sleep::reset` of a polled sleep: moved now, earlier or later.
                        let at = random(live.len() as u64) as usize;
                        let key = Key::from_raw(live[at].0);
                        if timers.entries.get(key).unwrap().place == Place::Fired {
                            continue; // left alone: its next poll sees the new deadline
                        }
                        let deadline = (now + random(1 << 37) * MS / 1_000).max(1);
                        let due = timers.reset(key, deadline, now);
                        assert_eq!(due.is_some(), deadline <= now, "a reset into the past fires at once");
                        live[at].1 = deadline;
                    }
                    _ => {
                        let scale = [2, 100, 10_000, 1 << 35][random(4) as usize];
                        now += random(scale * MS);
                        fire(&mut timers, now);
                        let now_tick = now / MS;
                        for &(key, deadline) in &live {
                            let fired = timers.entries.get(Key::from_raw(key)).unwrap().place == Place::Fired;
                            let due = deadline.div_ceil(MS) <= now_tick;
                            assert_eq!(fired, due, "round {round}: deadline {deadline} at {now}");
                        }
                    }
                }
            }
        }
    }
}
