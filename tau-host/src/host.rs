//! The host: one runtime, the plugins loaded into it, and their life cycle.

use std::collections::BTreeMap;
use std::ffi::c_void;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use abi_stable::std_types::RString;
use tau::plugin::abi::CALL_OK;
use tau::runtime::{Handle, Runtime};

use crate::build::Builder;
use crate::error::{LoadError, UnloadError};
use crate::library;
use crate::plugin::{Plugin, PluginId};

/// How long unload waits, by default, for a plugin's running blocking jobs
/// before it reports them as still running and goes on.
const BLOCKING_GRACE: Duration = Duration::from_secs(10);

/// A tau host: owns the runtime that it and all of its plugins share, and
/// the plugins. Calls borrow the host; [`unload`](Self::unload) needs it
/// mutably, so no call can be in progress while a plugin goes away.
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut host = tau_host::Host::new()?;
/// // A crate directory is built first (cargo, with tau-sdk patched in); a
/// // library file is loaded as it is.
/// let id = host.load("plugins/example-plugin")?;
/// let plugin = host.plugin(id).unwrap();
/// let greeting: String = plugin.call("greet", ("tau".to_string(),))?;
/// assert_eq!(greeting, "hello, tau");
/// let doubled: i64 = host.block_on(plugin.spawn_call("slow_double", (21i64,))?)?;
/// assert_eq!(doubled, 42);
/// host.unload(id)?;
/// # Ok(()) }
/// ```
pub struct Host {
    plugins: BTreeMap<PluginId, Plugin>,
    next_id: u32,
    builder: Builder,
    /// How long unload waits for a plugin's running blocking jobs.
    blocking_grace: Duration,
    /// Dropped after the plugins (field order): unload needs the runtime.
    runtime: Runtime,
}

/// What [`Host::unload`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Unloaded {
    /// The plugin's tasks that were still alive and were cancelled.
    pub tasks_cancelled: usize,
    /// Blocking jobs of the plugin still running after the grace period
    /// (they keep running: the plugin's code stays mapped); 0 if `deferred`.
    pub blocking_jobs_running: usize,
    /// True if the unload was called from the plugin's own code (a host
    /// service or callback that its task, the drop of one, or its blocking
    /// job called, on this thread): see [`Host::unload`].
    pub deferred: bool,
}

impl Host {
    /// A host with a fresh runtime and the default [`Builder`].
    pub fn new() -> std::io::Result<Host> {
        Ok(Host::with_builder(Builder::new(), Runtime::new()?))
    }

    /// A host that builds plugin crates with `builder`.
    pub fn with_builder(builder: Builder, runtime: Runtime) -> Host {
        Host { plugins: BTreeMap::new(), next_id: 1, builder, blocking_grace: BLOCKING_GRACE, runtime }
    }

    /// Sets how long [`unload`](Self::unload) waits for the plugin's
    /// blocking jobs that are still running (10 s unless set). Jobs still
    /// running after it go on, on the plugin's revoked scope: their spawns
    /// are cancelled, their timers and IO report the plugin gone.
    pub fn set_blocking_grace(&mut self, grace: Duration) {
        self.blocking_grace = grace;
    }

    /// The builder used for crate directories.
    pub fn builder(&self) -> &Builder {
        &self.builder
    }

    /// The shared runtime.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// A handle to the shared runtime (to spawn host tasks).
    pub fn handle(&self) -> &Handle {
        self.runtime.handle()
    }

    /// Drives the shared runtime (the host's and every plugin's tasks) on
    /// this thread until `future` completes.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// Loads a plugin: a built library, or a crate directory, which is built
    /// first ([`Builder::build`]: cargo runs only when the cached library is
    /// not up to date). The library is validated before any of its code
    /// runs, then the plugin is constructed and its `on_load` runs.
    pub fn load(&mut self, path: impl AsRef<Path>) -> Result<PluginId, LoadError> {
        let path = path.as_ref();
        let library_path = if path.is_dir() { self.builder.build(path)?.library } else { path.to_path_buf() };
        self.load_library(&library_path)
    }

    fn load_library(&mut self, path: &Path) -> Result<PluginId, LoadError> {
        let wanted = canonical(path);
        if let Some(loaded) = self.plugins.values().find(|plugin| canonical(plugin.path()) == wanted) {
            return Err(LoadError::AlreadyLoaded {
                path: path.to_path_buf(),
                name: loaded.name().to_string(),
            });
        }
        let library = library::open(path)?;
        let id = PluginId(self.next_id);
        self.next_id += 1;
        let scope = self.runtime.as_rt().scope(id.0);
        let mut error = RString::new();
        let descriptor = library.descriptor();
        // SAFETY: the descriptor was validated; the scope's table outlives
        // the instance (it is dropped after `destroy`, in `unload`).
        let instance = unsafe { (descriptor.create)(scope.table() as *const _ as *const c_void, &mut error) };
        if instance.is_null() {
            // What it started before failing ends now.
            scope.revoke();
            scope.cancel_blocking(self.blocking_grace);
            return Err(LoadError::Init {
                path: path.to_path_buf(),
                name: descriptor.name.to_string(),
                message: error.into_string(),
            });
        }
        self.plugins.insert(id, Plugin { id, instance, scope, library });
        Ok(id)
    }

    /// The plugin with this id.
    pub fn plugin(&self, id: PluginId) -> Option<&Plugin> {
        self.plugins.get(&id)
    }

    /// The loaded plugin with this package name.
    pub fn plugin_by_name(&self, name: &str) -> Option<&Plugin> {
        self.plugins.values().find(|plugin| plugin.name() == name)
    }

    /// The loaded plugins, in load order.
    pub fn plugins(&self) -> impl Iterator<Item = &Plugin> {
        self.plugins.values()
    }

    /// Counts of what the plugin has alive in the runtime (tasks, timers, IO
    /// registrations); `None` if it is not loaded. Exact, from any thread:
    /// if another thread drives the runtime, it counts for us.
    pub fn plugin_metrics(&self, id: PluginId) -> Option<tau::runtime::RuntimeMetrics> {
        let plugin = self.plugins.get(&id)?;
        Some(tau::runtime::RuntimeMetrics::from_raw(plugin.scope.metrics()))
    }

    /// Unloads a plugin. Its runtime scope is revoked: from now on what its
    /// code spawns is cancelled at once, and its timers and IO report it
    /// gone; its tasks are cancelled (their futures dropped, with their
    /// `Drop`), its timers and IO registrations removed and whoever waits on
    /// them woken to see it. Then its blocking jobs that have not started are
    /// dropped and running ones waited for (up to 10 s, see
    /// [`set_blocking_grace`](Self::set_blocking_grace)), `on_unload` runs and
    /// the instance is dropped.
    ///
    /// Values the plugin made that live on elsewhere (a stream the host or
    /// another plugin holds, a `JoinHandle`, a `Sleep`) stay safe to poll and
    /// drop: they see the revoked scope (a `Sleep` panics when polled, as
    /// tokio's does after a shutdown; an `AsyncFd` returns an error; a spawn
    /// is cancelled). The plugin's code stays mapped (`RTLD_NODELETE`) for
    /// them, and because its std registered thread-exit destructors on the
    /// threads that ran it.
    ///
    /// Works whichever thread drives the runtime: if another thread is in
    /// `block_on` (a server host), the cancelling is handed to it, and this
    /// call waits for it rather than for that `block_on` to end.
    ///
    /// An `on_unload` that fails or panics is reported as an error, but the
    /// plugin is gone either way.
    ///
    /// Called from the plugin's own code (a host service or callback that
    /// one of its tasks, the drop of one, or one of its blocking jobs
    /// called on this thread, the `Host` kept behind a mutex), the unload
    /// returns at once with [`Unloaded::deferred`] set: the plugin is gone
    /// from the host and its scope revoked, but the wait for its blocking
    /// jobs, `on_unload` and the drop of its instance happen on this thread
    /// once that code has returned (the task's poll and, if cancelled, its
    /// drop), since that code may still use the instance. A failing
    /// `on_unload` is then printed on stderr.
    pub fn unload(&mut self, id: PluginId) -> Result<Unloaded, UnloadError> {
        let plugin = self.plugins.remove(&id).ok_or(UnloadError::NotLoaded(id.0))?;
        let tasks_cancelled = plugin.scope.revoke();
        let grace = self.blocking_grace;
        if let Some(here) = plugin.scope.running_here() {
            // Called from the plugin's own code (a callback its task, a
            // task's drop or its blocking job made): destroying the
            // instance now would free it under that code. Revoked already, it is destroyed once
            // that code has returned; nobody is left to take an error then.
            let name = plugin.name().to_string();
            here.after_return(Box::new(move || {
                if let Err(error) = destroy(plugin, grace) {
                    eprintln!("tau: unloading plugin `{name}` (deferred until its code returned): {error}");
                }
            }));
            return Ok(Unloaded { tasks_cancelled, blocking_jobs_running: 0, deferred: true });
        }
        let blocking_jobs_running = destroy(plugin, grace)?;
        Ok(Unloaded { tasks_cancelled, blocking_jobs_running, deferred: false })
    }

    /// Unloads every plugin, newest first; returns the errors of those whose
    /// `on_unload` failed.
    pub fn unload_all(&mut self) -> Vec<UnloadError> {
        let ids: Vec<PluginId> = self.plugins.keys().rev().copied().collect();
        ids.into_iter().filter_map(|id| self.unload(id).err()).collect()
    }
}

/// The rest of an unload, after the revoke: waits for the plugin's running
/// blocking jobs (up to `grace`), runs its `on_unload` and drops the
/// instance. Returns how many blocking jobs are still running.
fn destroy(plugin: Plugin, grace: Duration) -> Result<usize, UnloadError> {
    let blocking_jobs_running = plugin.scope.cancel_blocking(grace);
    let mut error = RString::new();
    let name = plugin.name().to_string();
    // SAFETY: the instance came from `create` and is destroyed once; none
    // of the plugin's tasks is left to use it, its scope refuses new ones,
    // and none of its code is running on this thread (see `Host::unload`).
    let status = unsafe { (plugin.library.descriptor().destroy)(plugin.instance, &mut error) };
    drop(plugin.scope);
    if status != CALL_OK {
        return Err(UnloadError::Hook { name, message: error.into_string() });
    }
    Ok(blocking_jobs_running)
}

impl Drop for Host {
    fn drop(&mut self) {
        for error in self.unload_all() {
            eprintln!("tau: {error}");
        }
    }
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}
