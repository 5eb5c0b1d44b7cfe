//! The blocking pool: threads started on demand for `spawn_blocking`, kept
//! for a while when idle, capped in number.
//!
//! `idle` counts the threads waiting for work that nobody has claimed. A
//! new job claims one (`idle -= 1`, `notified += 1`) when it wakes it, so
//! the next job, queued before that thread gets to run, sees no idle thread
//! and starts another instead of waiting behind the first.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::abi::BlockingJob;
use crate::running;

const MAX_THREADS: usize = 512;
const KEEP_ALIVE: Duration = Duration::from_secs(10);

pub(crate) struct BlockingPool {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    work_available: Condvar,
    /// Signalled whenever an owner's last job finishes.
    owner_idle: Condvar,
}

struct Queued {
    job: BlockingJob,
    id: u64,
    owner: u32,
    /// The scope it came through (`running::key_of`): marked as running
    /// while the job runs.
    scope: usize,
}

struct State {
    queue: VecDeque<Queued>,
    /// Jobs queued or running, per owner (absent: none).
    in_flight: HashMap<u32, usize>,
    threads: usize,
    /// Waiting threads not yet claimed by a job.
    idle: usize,
    /// Wake-ups sent for jobs and not yet taken by a waiting thread.
    notified: usize,
    shutdown: bool,
}

impl State {
    fn finished(&mut self, owner: u32) -> bool {
        let count = self.in_flight.get_mut(&owner).expect("job owner counted");
        *count -= 1;
        let idle = *count == 0;
        if idle {
            self.in_flight.remove(&owner);
        }
        idle
    }
}

impl BlockingPool {
    pub(crate) fn new() -> Self {
        BlockingPool {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    queue: VecDeque::new(),
                    in_flight: HashMap::new(),
                    threads: 0,
                    idle: 0,
                    notified: 0,
                    shutdown: false,
                }),
                work_available: Condvar::new(),
                owner_idle: Condvar::new(),
            }),
        }
    }

    pub(crate) fn spawn(&self, job: BlockingJob, id: u64, owner: u32, scope: usize) {
        let mut state = self.inner.state.lock().unwrap();
        if state.shutdown {
            drop(state);
            // SAFETY: the job is owned by the pool and neither run nor dropped yet.
            unsafe { (job.drop)(job.data) };
            return;
        }
        state.queue.push_back(Queued { job, id, owner, scope });
        *state.in_flight.entry(owner).or_default() += 1;
        if state.idle > 0 {
            state.idle -= 1;
            state.notified += 1;
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

    /// Threads in the pool, and how many of them wait for work.
    /// True while any job is queued or running (a paused clock does not
    /// auto-advance then, as tokio's does not).
    pub(crate) fn has_in_flight(&self) -> bool {
        !self.inner.state.lock().unwrap().in_flight.is_empty()
    }

    pub(crate) fn counts(&self) -> (usize, usize) {
        let state = self.inner.state.lock().unwrap();
        (state.threads, state.idle)
    }

    /// Lets queued-but-unstarted jobs go (dropped) and idle threads exit.
    /// Running jobs finish on their own.
    pub(crate) fn shutdown(&self) {
        let jobs: Vec<Queued> = {
            let mut state = self.inner.state.lock().unwrap();
            state.shutdown = true;
            state.queue.drain(..).collect()
        };
        self.inner.work_available.notify_all();
        self.drop_jobs(jobs);
    }

    /// Drops `owner`'s queued jobs that have not started, then waits up to
    /// `timeout` for its running ones; returns how many are still running.
    pub(crate) fn cancel_owned(&self, owner: u32, timeout: Duration) -> usize {
        let jobs: Vec<Queued> = {
            let mut state = self.inner.state.lock().unwrap();
            let (mine, others): (Vec<Queued>, Vec<Queued>) =
                state.queue.drain(..).partition(|queued| queued.owner == owner);
            state.queue = others.into();
            mine
        };
        self.drop_jobs(jobs);
        let deadline = Instant::now() + timeout;
        let mut state = self.inner.state.lock().unwrap();
        loop {
            let running = state.in_flight.get(&owner).copied().unwrap_or(0);
            let left = deadline.saturating_duration_since(Instant::now());
            if running == 0 || left.is_zero() {
                return running;
            }
            state = self.inner.owner_idle.wait_timeout(state, left).unwrap().0;
        }
    }

    fn drop_jobs(&self, jobs: Vec<Queued>) {
        for queued in jobs {
            // SAFETY: each job is owned here and was not run.
            unsafe { (queued.job.drop)(queued.job.data) };
            if self.inner.state.lock().unwrap().finished(queued.owner) {
                self.inner.owner_idle.notify_all();
            }
        }
    }
}

impl Inner {
    fn worker(&self) {
        let mut state = self.state.lock().unwrap();
        loop {
            if let Some(Queued { job, id, owner, scope }) = state.queue.pop_front() {
                drop(state);
                // Until the job is counted finished: what an unload from
                // inside it deferred then no longer waits for it.
                running::run_as(scope, || {
                    // SAFETY: the job is owned by the pool; `run` consumes it and never unwinds.
                    unsafe { (job.run)(job.data, id) };
                    if self.state.lock().unwrap().finished(owner) {
                        self.owner_idle.notify_all();
                    }
                });
                state = self.state.lock().unwrap();
                continue;
            }
            if state.shutdown {
                break;
            }
            state.idle += 1;
            let timed_out = loop {
                let (next, timeout) = self.work_available.wait_timeout(state, KEEP_ALIVE).unwrap();
                state = next;
                if state.notified > 0 {
                    // Claimed by a job (which took us out of `idle`).
                    state.notified -= 1;
                    break false;
                }
                if timeout.timed_out() || state.shutdown {
                    state.idle -= 1;
                    break true;
                }
                // A spurious wake-up: keep waiting, still idle.
            };
            if timed_out && state.queue.is_empty() {
                break;
            }
        }
        state.threads -= 1;
    }
}
