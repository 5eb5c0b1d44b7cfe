//! A plugin whose code calls back into its host, for the tests of a plugin
//! unloaded from inside its own code. It tells the host what happens, in
//! order, through a `Log` the host hands it: a callback returned, its
//! `on_unload` ran, its instance was dropped.

use std::sync::{Arc, Mutex};

/// Where the plugin reports what happens.
pub type Log = Arc<dyn Fn(String) + Send + Sync>;

/// Something of the host's to call.
pub type Callback = Box<dyn Fn() + Send + Sync>;

pub struct Callbacks {
    /// Read after a callback returns: what a freed instance would lose.
    name: String,
    log: Mutex<Option<Log>>,
}

impl Callbacks {
    fn say(&self, what: &str) {
        if let Some(log) = self.log.lock().unwrap().as_ref() {
            log(what.to_string());
        }
    }
}

struct CallBackOnDrop<'a> {
    plugin: &'a Callbacks,
    callback: Callback,
}

impl Drop for CallBackOnDrop<'_> {
    fn drop(&mut self) {
        (self.callback)();
        self.plugin.say("callback returned");
    }
}

impl Drop for Callbacks {
    fn drop(&mut self) {
        if let Some(log) = self.log.get_mut().unwrap().take() {
            log("instance dropped".to_string());
        }
    }
}

#[tau::plugin]
impl Callbacks {
    fn new() -> Self {
        Callbacks { name: "callbacks".to_string(), log: Mutex::new(None) }
    }

    fn on_unload(&self) {
        self.say("on_unload");
    }

    /// Calls `callback` in this call's task, then reads the instance.
    #[tau::export]
    pub async fn call_back(&self, log: Log, callback: Callback) -> String {
        *self.log.lock().unwrap() = Some(log);
        tau::task::yield_now().await;
        callback();
        self.say("callback returned");
        self.name.clone()
    }

    /// Spawns a task that calls `callback`.
    #[tau::export]
    pub fn call_back_in_task(&self, log: Log, callback: Callback) {
        *self.log.lock().unwrap() = Some(Arc::clone(&log));
        tau::spawn(async move {
            callback();
            log("callback returned".to_string());
        });
    }

    /// Calls `callback` in a blocking job.
    #[tau::export]
    pub fn call_back_in_blocking_job(&self, log: Log, callback: Callback) {
        *self.log.lock().unwrap() = Some(Arc::clone(&log));
        drop(tau::task::spawn_blocking(move || {
            callback();
            log("callback returned".to_string());
        }));
    }

    /// Says "waiting" and waits forever; when the call is aborted, the drop
    /// of its future calls `callback`, then reads the instance.
    #[tau::export]
    pub async fn call_back_when_dropped(&self, log: Log, callback: Callback) -> String {
        *self.log.lock().unwrap() = Some(log);
        let _on_drop = CallBackOnDrop { plugin: self, callback };
        self.say("waiting");
        std::future::pending::<()>().await;
        unreachable!()
    }

    /// Does nothing (the host checks that the plugin answers).
    #[tau::export]
    pub fn ping(&self) {}
}
