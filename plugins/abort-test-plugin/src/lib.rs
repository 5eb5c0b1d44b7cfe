//! Abort, inside a plugin, on the host's runtime: each export reports what
//! it observed, and the host's tests assert on the reports.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Condvar, Mutex};
use std::time::Duration;

/// Sets its flag when dropped.
struct DropDetector(Arc<AtomicBool>);

impl Drop for DropDetector {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Adds one to a counter the host owns when dropped.
struct DropCounter(Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A gate a blocking thread waits at until it is opened.
#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    opened: Condvar,
}

impl Gate {
    fn wait(&self) {
        let mut open = self.open.lock().unwrap();
        while !*open {
            open = self.opened.wait(open).unwrap();
        }
    }
}

/// Opens its gate when dropped.
struct GateOpener(Arc<Gate>);

impl Drop for GateOpener {
    fn drop(&mut self) {
        *self.0.open.lock().unwrap() = true;
        self.0.opened.notify_all();
    }
}

/// A long task that holds a detector.
fn long_task(dropped: &Arc<AtomicBool>) -> tau::task::JoinHandle<()> {
    let detector = DropDetector(Arc::clone(dropped));
    tau::spawn(async move {
        let _detector = detector;
        tau::time::sleep(Duration::from_secs(3600)).await;
    })
}

fn report(finished: bool, dropped: &AtomicBool, result: Result<(), tau::task::JoinError>) -> String {
    let cancelled = result.err().is_some_and(|error| error.is_cancelled());
    format!("finished={finished} dropped={} cancelled={cancelled}", dropped.load(Ordering::SeqCst))
}

/// No state.
#[derive(Default)]
pub struct AbortTest;

#[tau::plugin]
impl AbortTest {
    /// Spawns a long task, lets it start, aborts it; reports whether the
    /// handle says it finished, whether its Drop ran, and whether awaiting
    /// it gave a cancelled error.
    #[tau::export]
    pub async fn abort_running(&self) -> String {
        let dropped = Arc::new(AtomicBool::new(false));
        let handle = long_task(&dropped);
        tau::task::yield_now().await; // the task starts and parks on its sleep
        handle.abort();
        let finished = handle.is_finished();
        report(finished, &dropped, handle.await)
    }

    /// As `abort_running`, but the abort comes from a `spawn_blocking` thread.
    #[tau::export]
    pub async fn abort_from_blocking(&self) -> String {
        let dropped = Arc::new(AtomicBool::new(false));
        let handle = long_task(&dropped);
        tau::task::yield_now().await;
        let abort = handle.abort_handle();
        tau::task::spawn_blocking(move || abort.abort()).await.expect("the blocking job ran");
        let result = handle.await;
        report(true, &dropped, result)
    }

    /// Spawns `count` tasks that sleep for an hour, each holding a guard
    /// that bumps `dropped` when its future is dropped (unload must do it).
    #[tau::export]
    pub fn start_sleepers(&self, dropped: Arc<AtomicUsize>, count: u64) {
        for _ in 0..count {
            let guard = DropCounter(Arc::clone(&dropped));
            tau::spawn(async move {
                let _guard = guard;
                tau::time::sleep(Duration::from_secs(3600)).await;
            });
        }
    }

    /// Runs a blocking job that says it `started`, waits for `release`,
    /// then spawns a task and reports on `report` how the spawn went
    /// (`"cancelled"` once the plugin is unloaded: its runtime scope refuses
    /// new work).
    #[tau::export]
    pub fn spawn_after(
        &self,
        started: std::sync::mpsc::Sender<()>,
        release: std::sync::mpsc::Receiver<()>,
        report: std::sync::mpsc::Sender<String>,
    ) {
        tau::task::spawn_blocking(move || {
            let _ = started.send(());
            let _ = release.recv();
            let handle = tau::spawn(async { 1 });
            let finished = handle.is_finished();
            let outcome = match tau::block_on(handle) {
                Ok(value) => format!("ran: {value}"),
                Err(error) if error.is_cancelled() => "cancelled".to_string(),
                Err(error) => format!("failed: {error}"),
            };
            let _ = report.send(format!("{outcome} (finished at once: {finished})"));
        });
    }

    /// Runs a blocking job that meets the caller at `started`, then waits
    /// until this plugin is unloaded (a task of the plugin opens the gate
    /// when unload drops it), then bumps `done`.
    #[tau::export]
    pub fn start_blocking(&self, started: Arc<Barrier>, done: Arc<AtomicUsize>) {
        let gate = Arc::new(Gate::default());
        let opener = GateOpener(Arc::clone(&gate));
        tau::spawn(async move {
            let _opener = opener;
            std::future::pending::<()>().await;
        });
        tau::task::spawn_blocking(move || {
            started.wait();
            gate.wait();
            done.fetch_add(1, Ordering::SeqCst);
        });
    }
}
