use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use super::handle::RuntimeFlavor;
use super::runtime::{LocalRuntime, Runtime};

type Callback = Arc<dyn Fn() + Send + Sync>;

/// Builds a [`Runtime`], as `tokio::runtime::Builder`.
///
/// Every option tokio has is accepted. Options about threads
/// (`worker_threads`, `thread_name`, the `on_thread_*` hooks, `max_blocking_threads`…)
/// are recorded and, where tau has no such thread, have no effect: tau runs
/// every task on one executor thread at a time (a multi-thread runtime's
/// one worker, or the thread in `block_on`) and sizes its blocking pool itself.
/// `on_thread_start`/`on_thread_stop` run once around [`Runtime::block_on`]'s
/// thread, which is the one that drives.
///
/// ```
/// use tokio::runtime::Builder;
///
/// let runtime = Builder::new_multi_thread().worker_threads(4).enable_all().build().unwrap();
/// assert_eq!(runtime.block_on(async { 1 + 1 }), 2);
/// ```
#[must_use]
pub struct Builder {
    flavor: RuntimeFlavor,
    start_paused: bool,
    pub(super) on_thread_start: Option<Callback>,
    pub(super) on_thread_stop: Option<Callback>,
    worker_threads: Option<usize>,
    pub(super) name: Option<String>,
    /// `enable_io` / `enable_time` were called (tau's drivers always run;
    /// a runtime without them refuses IO resources and timers, as tokio's).
    pub(super) io: bool,
    pub(super) time: bool,
}

/// What a runtime does when a task panics, as tokio's (unstable) option.
/// tau always keeps running: the panic goes to the task's `JoinHandle`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnhandledPanic {
    /// The panic is the `JoinHandle`'s `JoinError`; the runtime runs on.
    Ignore,
    /// Accepted; tau keeps running (see the type's docs).
    ShutdownRuntime,
}

/// Options for [`Builder::build_local`], as tokio's.
#[derive(Debug, Default, Clone)]
#[non_exhaustive]
pub struct LocalOptions {}

impl Builder {
    /// A builder for a current-thread runtime.
    pub fn new_current_thread() -> Builder {
        Builder::with_flavor(RuntimeFlavor::CurrentThread)
    }

    /// A builder for a multi-thread runtime: one worker thread drives it
    /// while nobody blocks on it (see the [module docs](super)).
    pub fn new_multi_thread() -> Builder {
        Builder::with_flavor(RuntimeFlavor::MultiThread)
    }

    fn with_flavor(flavor: RuntimeFlavor) -> Builder {
        Builder {
            flavor,
            start_paused: false,
            on_thread_start: None,
            on_thread_stop: None,
            worker_threads: None,
            name: None,
            io: false,
            time: false,
        }
    }

    /// Enables the IO and time drivers.
    pub fn enable_all(&mut self) -> &mut Self {
        self.enable_io().enable_time()
    }

    /// Enables the IO driver. tau's reactor always runs, but as with tokio,
    /// creating a socket or an `AsyncFd` on a runtime of one's own built
    /// without this panics ("IO is disabled"). The host's runtime, inside
    /// a plugin, has both drivers.
    pub fn enable_io(&mut self) -> &mut Self {
        self.io = true;
        self
    }

    /// Enables the time driver; without it, a sleep, interval or timeout
    /// on a runtime of one's own panics ("timers are disabled"), as tokio's.
    pub fn enable_time(&mut self) -> &mut Self {
        self.time = true;
        self
    }

    /// Starts the clock paused, as tokio's `test-util` (see
    /// [`time::pause`](crate::time::pause)).
    ///
    /// # Panics
    /// At [`build`](Self::build), inside a plugin loaded by a host: the
    /// host's clock is shared by every plugin.
    pub fn start_paused(&mut self, paused: bool) -> &mut Self {
        self.start_paused = paused;
        self
    }

    /// The number of worker threads: recorded, no effect (one executor).
    ///
    /// # Panics
    /// If `count` is 0, as tokio.
    #[track_caller]
    pub fn worker_threads(&mut self, count: usize) -> &mut Self {
        assert!(count > 0, "Worker threads cannot be set to 0");
        self.worker_threads = Some(count);
        self
    }

    /// The blocking pool's limit: tau's pool sizes itself.
    #[track_caller]
    pub fn max_blocking_threads(&mut self, count: usize) -> &mut Self {
        assert!(count > 0, "Max blocking threads cannot be set to 0");
        self
    }

    /// The name of the runtime's threads: no effect (tau's threads are the host's).
    pub fn thread_name(&mut self, _name: impl Into<String>) -> &mut Self {
        self
    }

    /// A function naming the runtime's threads: no effect.
    pub fn thread_name_fn<F>(&mut self, _name: F) -> &mut Self
    where
        F: Fn() -> String + Send + Sync + 'static,
    {
        self
    }

    /// The stack size of worker threads: no effect.
    pub fn thread_stack_size(&mut self, _size: usize) -> &mut Self {
        self
    }

    /// The keep-alive of idle blocking threads: no effect.
    pub fn thread_keep_alive(&mut self, _duration: Duration) -> &mut Self {
        self
    }

    /// Runs `f` when the driving thread starts (see the type's docs).
    pub fn on_thread_start<F>(&mut self, f: F) -> &mut Self
    where
        F: Fn() + Send + Sync + 'static,
    {
        self.on_thread_start = Some(Arc::new(f));
        self
    }

    /// Runs `f` when the driving thread stops (see the type's docs).
    pub fn on_thread_stop<F>(&mut self, f: F) -> &mut Self
    where
        F: Fn() + Send + Sync + 'static,
    {
        self.on_thread_stop = Some(Arc::new(f));
        self
    }

    /// A hook when a worker parks: no effect.
    pub fn on_thread_park<F>(&mut self, _f: F) -> &mut Self
    where
        F: Fn() + Send + Sync + 'static,
    {
        self
    }

    /// A hook when a worker unparks: no effect.
    pub fn on_thread_unpark<F>(&mut self, _f: F) -> &mut Self
    where
        F: Fn() + Send + Sync + 'static,
    {
        self
    }

    /// Ticks between polls of the global queue: no effect.
    pub fn global_queue_interval(&mut self, _ticks: u32) -> &mut Self {
        self
    }

    /// Ticks between polls of the reactor: no effect.
    pub fn event_interval(&mut self, _ticks: u32) -> &mut Self {
        self
    }

    /// Events per reactor turn: no effect.
    pub fn max_io_events_per_tick(&mut self, _capacity: usize) -> &mut Self {
        self
    }

    /// Whether a task may be moved out of the LIFO slot: no effect.
    pub fn disable_lifo_slot(&mut self) -> &mut Self {
        self
    }

    /// What to do on a task's panic (see [`UnhandledPanic`]).
    pub fn unhandled_panic(&mut self, _behavior: UnhandledPanic) -> &mut Self {
        self
    }

    /// The runtime's name (`#[tokio::main(name = ..)]`).
    pub fn name(&mut self, name: impl Into<String>) -> &mut Self {
        self.name = Some(name.into());
        self
    }

    /// Builds the runtime: the host's, inside a plugin; a fresh one otherwise.
    ///
    /// # Errors
    /// If the runtime's reactor cannot be created (out of fds).
    ///
    /// # Panics
    /// With `start_paused(true)` in a plugin (see [`start_paused`](Self::start_paused)).
    pub fn build(&mut self) -> io::Result<Runtime> {
        let runtime = Runtime::build(self, self.flavor)?;
        self.pause_if_asked(runtime.handle());
        Ok(runtime)
    }

    /// Builds a [`LocalRuntime`], as tokio's.
    pub fn build_local(&mut self, _options: LocalOptions) -> io::Result<LocalRuntime> {
        let runtime = Runtime::build(self, RuntimeFlavor::CurrentThread)?;
        self.pause_if_asked(runtime.handle());
        Ok(LocalRuntime::new_from(runtime))
    }

    #[track_caller]
    fn pause_if_asked(&self, handle: &super::Handle) {
        if self.start_paused {
            let _entered = handle.enter();
            crate::time::pause();
        }
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("flavor", &self.flavor)
            .field("worker_threads", &self.worker_threads)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}
