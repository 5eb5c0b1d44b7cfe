//! The blocking pool: threads started on demand for `spawn_blocking`, kept
//! for a while when idle, capped in number.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::abi::BlockingJob;

const MAX_THREADS: usize = 512;
const KEEP_ALIVE: Duration = Duration::from_secs(10);

pub(crate) struct BlockingPool {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    work_available: Condvar,
}

struct State {
    queue: VecDeque<(BlockingJob, u64)>,
    threads: usize,
    idle: usize,
    shutdown: bool,
}

impl BlockingPool {
    pub(crate) fn new() -> Self {
        BlockingPool {
            inner: Arc::new(Inner {
                state: Mutex::new(State { queue: VecDeque::new(), threads: 0, idle: 0, shutdown: false }),
                work_available: Condvar::new(),
            }),
        }
    }

    pub(crate) fn spawn(&self, job: BlockingJob, id: u64) {
        let mut state = self.inner.state.lock().unwrap();
        if state.shutdown {
            drop(state);
            // SAFETY: the job is owned by the pool and neither run nor dropped yet.
            unsafe { (job.drop)(job.data) };
            return;
        }
        state.queue.push_back((job, id));
        if state.idle > 0 {
            self.inner.work_available.notify_one();
        } else if state.threads < MAX_THREADS {
            state.threads += 1;
            let inner = Arc::clone(&self.inner);
            let started =
                std::thread::Builder::new().name("tau-blocking".into()).spawn(move || inner.worker());
            if started.is_err() {
                state.threads -= 1;
                // A queued job still runs once some worker is free; with no
                // worker at all there is nothing we can do but keep it queued.
            }
        }
    }

    /// Lets queued-but-unstarted jobs go (dropped) and idle threads exit.
    /// Running jobs finish on their own.
    pub(crate) fn shutdown(&self) {
        let jobs: Vec<(BlockingJob, u64)> = {
            let mut state = self.inner.state.lock().unwrap();
            state.shutdown = true;
            state.queue.drain(..).collect()
        };
        self.inner.work_available.notify_all();
        for (job, _) in jobs {
            // SAFETY: each job is owned here and was not run.
            unsafe { (job.drop)(job.data) };
        }
    }
}

impl Inner {
    fn worker(&self) {
        let mut state = self.state.lock().unwrap();
        loop {
            if let Some((job, id)) = state.queue.pop_front() {
                drop(state);
                // SAFETY: the job is owned by the pool; `run` consumes it and never unwinds.
                unsafe { (job.run)(job.data, id) };
                state = self.state.lock().unwrap();
                continue;
            }
            if state.shutdown {
                break;
            }
            state.idle += 1;
            let (next, timeout) = self.work_available.wait_timeout(state, KEEP_ALIVE).unwrap();
            state = next;
            state.idle -= 1;
            if timeout.timed_out() && state.queue.is_empty() {
                break;
            }
        }
        state.threads -= 1;
    }
}
