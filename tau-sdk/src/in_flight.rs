//! A set of futures run at once: the tasks of a
//! [`JoinSet`](crate::task::JoinSet), the futures that
//! [`Buffered`](crate::stream::Buffered) and
//! [`BufferUnordered`](crate::stream::BufferUnordered) have in flight.
//!
//! Each future sits in a slot with its own waker, so a wake-up polls only the
//! future that was woken, not every future in flight. Slots are boxed once
//! and reused, so a future never moves while it is pinned and a long stream
//! allocates only as many slots as its limit.

use std::collections::VecDeque;
use std::future::Future;
use std::mem;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use atomic_waker::AtomicWaker;

pub(crate) struct InFlight<Fut: Future> {
    slots: Vec<Slot<Fut>>,
    /// Slots free for the next future.
    free: Vec<usize>,
    /// Slots whose future has not completed yet.
    running: usize,
    woken: Arc<Woken>,
    /// Woken slots taken from `woken`, polled in order of their wake-ups.
    batch: VecDeque<usize>,
}

struct Slot<Fut> {
    future: Pin<Box<Option<Fut>>>,
    waker: Waker,
}

/// Shared with the slots' wakers, which may run on any thread.
struct Woken {
    /// The task polling the stream.
    parent: AtomicWaker,
    ready: Mutex<ReadyList>,
}

#[derive(Default)]
struct ReadyList {
    /// Per slot: already in `order`, so a second wake-up adds nothing.
    queued: Vec<bool>,
    order: Vec<usize>,
}

struct SlotWaker {
    index: usize,
    woken: Arc<Woken>,
}

impl Wake for SlotWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let mut ready = self.woken.ready.lock().unwrap_or_else(PoisonError::into_inner);
        if !mem::replace(&mut ready.queued[self.index], true) {
            ready.order.push(self.index);
            drop(ready);
            self.woken.parent.wake();
        }
    }
}

impl<Fut: Future> InFlight<Fut> {
    pub(crate) fn new() -> Self {
        let woken = Arc::new(Woken { parent: AtomicWaker::new(), ready: Mutex::default() });
        InFlight { slots: Vec::new(), free: Vec::new(), running: 0, woken, batch: VecDeque::new() }
    }

    /// Slots in use: futures running plus outputs not yet released.
    pub(crate) fn reserved(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// Futures that have not completed.
    pub(crate) fn running(&self) -> usize {
        self.running
    }

    /// Starts `future` (it is polled by the next `poll_next`); returns its slot.
    pub(crate) fn push(&mut self, future: Fut) -> usize {
        let index = self.free.pop().unwrap_or_else(|| self.add_slot());
        self.slots[index].future.as_mut().set(Some(future));
        self.running += 1;
        self.batch.push_back(index);
        index
    }

    fn add_slot(&mut self) -> usize {
        let index = self.slots.len();
        self.woken.ready.lock().unwrap_or_else(PoisonError::into_inner).queued.push(false);
        let waker = Waker::from(Arc::new(SlotWaker { index, woken: self.woken.clone() }));
        self.slots.push(Slot { future: Box::pin(None), waker });
        index
    }

    /// The futures that have not completed.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Fut> {
        self.slots.iter().filter_map(|slot| slot.future.as_ref().get_ref().as_ref())
    }

    /// Drops every future (running or not) and frees every slot.
    pub(crate) fn clear(&mut self) {
        for slot in &mut self.slots {
            slot.future.as_mut().set(None);
        }
        self.free = (0..self.slots.len()).collect();
        self.running = 0;
        self.batch.clear();
        let mut ready = self.woken.ready.lock().unwrap_or_else(PoisonError::into_inner);
        let ReadyList { queued, order } = &mut *ready;
        order.clear();
        queued.iter_mut().for_each(|queued| *queued = false);
    }

    /// Makes a completed future's slot free again.
    pub(crate) fn release(&mut self, index: usize) {
        debug_assert!(self.slots[index].future.is_none(), "released a running slot");
        self.free.push(index);
    }

    /// Polls the woken futures until one completes: `Ready(Some((slot,
    /// output)))`, whose slot stays reserved until [`release`](Self::release).
    /// `Ready(None)` when no future is running. Each woken future is polled at
    /// most once per call, so futures that wake themselves cannot starve
    /// the caller's task.
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<(usize, Fut::Output)>> {
        if self.running == 0 {
            return Poll::Ready(None);
        }
        // Registered first: a wake-up from here on reaches this task.
        self.woken.parent.register(cx.waker());
        let mut refilled = false;
        loop {
            let Some(index) = self.batch.pop_front() else {
                if refilled || !self.refill() {
                    return Poll::Pending;
                }
                refilled = true;
                continue;
            };
            let slot = &mut self.slots[index];
            // A slot can be woken after its future completed: nothing to do.
            let Some(future) = slot.future.as_mut().as_pin_mut() else { continue };
            if let Poll::Ready(output) = future.poll(&mut Context::from_waker(&slot.waker)) {
                slot.future.as_mut().set(None);
                self.running -= 1;
                return Poll::Ready(Some((index, output)));
            }
        }
    }

    /// Moves the slots woken since the last refill into `batch`.
    fn refill(&mut self) -> bool {
        let mut ready = self.woken.ready.lock().unwrap_or_else(PoisonError::into_inner);
        let ReadyList { queued, order } = &mut *ready;
        for index in order.drain(..) {
            queued[index] = false;
            self.batch.push_back(index);
        }
        !self.batch.is_empty()
    }
}
