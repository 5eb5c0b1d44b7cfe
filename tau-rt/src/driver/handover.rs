//! The driver role and its queue: who drives the runtime, and how other
//! threads hand work to whoever does.
//!
//! One thread at a time holds the role (`driving`). Other threads queue
//! operations under `queue`'s lock; the holder takes them in its turns. An
//! *urgent* operation is one that a thread waits for (unload, metrics,
//! shutdown): it is queued only while the role is held, and the holder runs
//! every urgent operation before it lets go, so a queued one always runs.
//! Whether the role is held is decided, and changed, under the queue's lock:
//!
//! - `push_urgent` queues only if `driving` is set, under the lock;
//! - `release` clears `driving` under the lock, and only when no urgent
//!   operation is queued (it runs those first, still holding the role).
//!
//! So an urgent operation is never queued after the last look of a driver
//! that is letting go. Threads that wait (for an urgent operation to finish,
//! or for the role to be free) wait on `events`, signalled under the lock.

use super::super::sync::{AtomicBool, Condvar, Mutex, MutexGuard, Ordering};

/// Something a thread can queue for the driver.
pub(crate) trait Operation {
    /// True if a thread waits for it (see the module docs).
    fn is_urgent(&self) -> bool;

    /// True if it starts new work, which a closed (shut down) queue refuses.
    /// Anything else (a wake) is still queued: a thread may still drive,
    /// and nothing else needs it.
    fn starts_work(&self) -> bool {
        self.is_urgent()
    }
}

pub(crate) struct Handover<Op, Parked> {
    driving: AtomicBool,
    queue: Mutex<Queue<Op, Parked>>,
    /// Signalled under `queue`'s lock when the role is let go and when an
    /// urgent operation has finished.
    events: Condvar,
}

struct Queue<Op, Parked> {
    ops: Vec<Op>,
    /// How many of `ops` are urgent.
    urgent: usize,
    /// Set at shutdown: nothing more is queued.
    closed: bool,
    /// Woken when the role is let go (threads that wait to drive).
    parked: Vec<Parked>,
}

/// Why an operation was handed back.
#[derive(Debug)]
pub(crate) enum Refused<Op> {
    /// Nobody holds the role: take it and run the operation yourself.
    NotDriven(Op),
    /// The runtime is shut down.
    Closed(Op),
}

impl<Op: Operation, Parked> Handover<Op, Parked> {
    pub(crate) fn new() -> Self {
        Handover {
            driving: AtomicBool::new(false),
            queue: Mutex::new(Queue { ops: Vec::new(), urgent: 0, closed: false, parked: Vec::new() }),
            events: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Queue<Op, Parked>> {
        self.queue.lock().unwrap_or_else(|poison| poison.into_inner())
    }

    /// Takes the role if nobody holds it.
    pub(crate) fn try_acquire(&self) -> bool {
        self.driving.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_ok()
    }

    /// Queues `op` for the holder of the role, or the next one; refuses
    /// new work once the queue is closed.
    pub(crate) fn push(&self, op: Op) -> Result<(), Op> {
        let mut queue = self.lock();
        if queue.closed && op.starts_work() {
            return Err(op);
        }
        queue.urgent += usize::from(op.is_urgent());
        queue.ops.push(op);
        Ok(())
    }

    /// Queues an urgent `op` if the role is held (its holder runs it before
    /// letting go).
    pub(crate) fn push_urgent(&self, op: Op) -> Result<(), Refused<Op>> {
        let mut queue = self.lock();
        if queue.closed {
            return Err(Refused::Closed(op));
        }
        if !self.driving.load(Ordering::Acquire) {
            return Err(Refused::NotDriven(op));
        }
        queue.urgent += 1;
        queue.ops.push(op);
        Ok(())
    }

    /// How many operations wait in the queue.
    pub(crate) fn len(&self) -> usize {
        self.lock().ops.len()
    }

    /// Holder only: moves the queued operations into `into` (which should be empty).
    pub(crate) fn take(&self, into: &mut Vec<Op>) {
        let mut queue = self.lock();
        std::mem::swap(&mut queue.ops, into);
        queue.urgent = 0;
    }

    /// Holder only: closes the queue (shutdown) and moves what is in it into `into`.
    pub(crate) fn close(&self, into: &mut Vec<Op>) {
        let mut queue = self.lock();
        queue.closed = true;
        std::mem::swap(&mut queue.ops, into);
        queue.urgent = 0;
    }

    /// Holder only: lets the role go. Urgent operations still queued are
    /// first handed to `run` (with everything queued with them), the role
    /// still held. Returns the parked values to wake.
    pub(crate) fn release(&self, mut run: impl FnMut(&mut Vec<Op>)) -> Vec<Parked> {
        let mut ops = Vec::new();
        loop {
            let mut queue = self.lock();
            if queue.urgent > 0 {
                std::mem::swap(&mut queue.ops, &mut ops);
                queue.urgent = 0;
                drop(queue);
                run(&mut ops);
                ops.clear();
                continue;
            }
            self.driving.store(false, Ordering::Release);
            self.events.notify_all();
            return std::mem::take(&mut queue.parked);
        }
    }

    /// Keeps `parked` to be handed back by `release`, if the role is held;
    /// gives it back otherwise. `same` finds an equal value already parked,
    /// in which case `parked` is given back too (dropped by the caller,
    /// outside the lock).
    pub(crate) fn park(
        &self,
        parked: Parked,
        same: impl Fn(&Parked) -> bool,
    ) -> Result<Option<Parked>, Parked> {
        let mut queue = self.lock();
        if !self.driving.load(Ordering::Acquire) {
            return Err(parked);
        }
        if queue.parked.iter().any(same) {
            return Ok(Some(parked));
        }
        queue.parked.push(parked);
        Ok(None)
    }

    /// Gets the urgent `op` run: by the holder of the role, which runs it
    /// before it lets go, or, when nobody holds the role, by `run_here`
    /// after this thread took it (`run_here` must let it go again). Blocks
    /// until `done` (checked under the queue's lock, after every event)
    /// says it ran; `queued` is called once it is queued (to wake the
    /// driver). Hands `op` back if the runtime is shut down.
    pub(crate) fn hand_over(
        &self,
        op: Op,
        mut done: impl FnMut() -> bool,
        run_here: impl FnOnce(Op),
        queued: impl FnOnce(),
    ) -> Result<(), Op> {
        let mut op = op;
        loop {
            if self.try_acquire() {
                run_here(op);
                return Ok(());
            }
            match self.push_urgent(op) {
                Ok(()) => {
                    queued();
                    break;
                }
                // The holder let go in between: try to take the role again.
                Err(Refused::NotDriven(back)) => op = back,
                Err(Refused::Closed(back)) => return Err(back),
            }
        }
        let mut queue = self.lock();
        while !done() {
            queue = self.events.wait(queue).unwrap_or_else(|poison| poison.into_inner());
        }
        Ok(())
    }

    /// Wakes the threads in `hand_over` (an urgent operation finished).
    pub(crate) fn signal(&self) {
        let _queue = self.lock();
        self.events.notify_all();
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use loom::sync::atomic::AtomicUsize;
    use loom::sync::Arc;
    use loom::thread;

    use super::*;

    enum Op {
        /// A spawn or a wake: counted when run.
        Plain,
        /// What `Shared::on_driver` queues: sets its flag when run.
        Urgent(Arc<Mutex<bool>>),
    }

    impl Operation for Op {
        fn is_urgent(&self) -> bool {
            matches!(self, Op::Urgent(_))
        }
    }

    fn run(op: Op, handover: &Handover<Op, ()>, plain: &AtomicUsize) {
        match op {
            Op::Plain => {
                plain.fetch_add(1, Ordering::Relaxed);
            }
            Op::Urgent(done) => {
                let mut done = done.lock().unwrap();
                assert!(!*done, "an urgent operation ran twice");
                *done = true;
                drop(done);
                handover.signal();
            }
        }
    }

    fn run_all(ops: &mut Vec<Op>, handover: &Handover<Op, ()>, plain: &AtomicUsize) {
        for op in ops.drain(..) {
            run(op, handover, plain);
        }
    }

    /// One driver turn, then letting go, as `DriverGuard` does.
    fn drive(handover: &Handover<Op, ()>, plain: &AtomicUsize) {
        let mut ops = Vec::new();
        handover.take(&mut ops);
        run_all(&mut ops, handover, plain);
        drop(handover.release(|ops| run_all(ops, handover, plain)));
    }

    /// A thread that needs an operation run while another thread drives,
    /// and may let go at any moment, gets it run exactly once (by the
    /// driver, or by itself once it took the role); a plain operation queued
    /// meanwhile is never lost.
    #[test]
    fn an_urgent_operation_runs_exactly_once_whoever_lets_go() {
        loom::model(|| {
            let handover = Arc::new(Handover::<Op, ()>::new());
            let plain = Arc::new(AtomicUsize::new(0));
            assert!(handover.try_acquire());

            let driver = {
                let (handover, plain) = (Arc::clone(&handover), Arc::clone(&plain));
                thread::spawn(move || drive(&handover, &plain))
            };
            let spawner = {
                let handover = Arc::clone(&handover);
                thread::spawn(move || handover.push(Op::Plain).map_err(drop).unwrap())
            };

            let done = Arc::new(Mutex::new(false));
            let handed = handover.hand_over(
                Op::Urgent(Arc::clone(&done)),
                || *done.lock().unwrap(),
                |op| {
                    run(op, &handover, &plain);
                    drop(handover.release(|ops| run_all(ops, &handover, &plain)));
                },
                || {},
            );
            assert!(handed.is_ok());
            assert!(*done.lock().unwrap());
            driver.join().unwrap();
            spawner.join().unwrap();

            // Plain work left in the queue is taken by the next driver.
            assert!(handover.try_acquire());
            drive(&handover, &plain);
            assert_eq!(plain.load(Ordering::Relaxed), 1, "the plain operation ran once");
        });
    }

    /// A thread that parks while the role is held is handed back by the
    /// release, whichever comes first; parking when nobody drives is refused.
    #[test]
    fn a_parked_waiter_is_released_or_refused() {
        loom::model(|| {
            let handover = Arc::new(Handover::<Op, u32>::new());
            assert!(handover.try_acquire());
            let releaser = {
                let handover = Arc::clone(&handover);
                thread::spawn(move || handover.release(|_| unreachable!("nothing urgent")))
            };
            let parked = handover.park(7, |&other| other == 7);
            let released = releaser.join().unwrap();
            match parked {
                Ok(None) => assert_eq!(released, [7]),
                Err(7) => assert!(released.is_empty()),
                other => panic!("unexpected {other:?}"),
            }
        });
    }
}
