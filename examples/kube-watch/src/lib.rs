//! kube-runtime inside a plugin, unchanged: a [`watcher`] on ConfigMaps
//! feeding a [`reflector`] [`Store`], on the host's runtime. The watcher
//! lists, then watches; when the watch connection drops it watches again,
//! and when the API server answers `410 Gone` (the resource version is too
//! old) it lists again, so the store converges on what the server holds.
//!
//! ```sh
//! tau call examples/kube-watch start http://127.0.0.1:8001 default
//! ```
//!
//! [`watcher`]: kube::runtime::watcher()
//! [`reflector`]: kube::runtime::reflector::reflector()

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Api, ResourceExt};

#[derive(Default)]
pub struct KubeWatch {
    watching: Mutex<Option<Watching>>,
}

struct Watching {
    store: Store<ConfigMap>,
    /// What the watcher reported, one line per event.
    log: Arc<Mutex<Vec<String>>>,
    /// Bumped after every event the store applied.
    changes: tokio::sync::watch::Receiver<u64>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Watching {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A ConfigMap as the host sees it: its name and its `data.value`.
fn summary(config_map: &ConfigMap) -> (String, String) {
    let value = config_map.data.as_ref().and_then(|data| data.get("value")).cloned().unwrap_or_default();
    (config_map.name_any(), value)
}

fn describe(event: &watcher::Result<watcher::Event<ConfigMap>>) -> String {
    match event {
        Ok(watcher::Event::Init) => "init".to_string(),
        Ok(watcher::Event::InitApply(object)) => format!("init_apply {}", object.name_any()),
        Ok(watcher::Event::InitDone) => "init_done".to_string(),
        Ok(watcher::Event::Apply(object)) => format!("apply {}", object.name_any()),
        Ok(watcher::Event::Delete(object)) => format!("delete {}", object.name_any()),
        Err(error) => format!("error {error}"),
    }
}

impl KubeWatch {
    fn with<R>(&self, f: impl FnOnce(&Watching) -> R) -> Result<R, String> {
        self.watching
            .lock()
            .unwrap()
            .as_ref()
            .map(f)
            .ok_or_else(|| "not watching: call `start` first".to_string())
    }

    /// The store's objects, sorted by name.
    fn objects_now(&self) -> Result<Vec<(String, String)>, String> {
        self.with(|watching| {
            let mut objects: Vec<_> = watching.store.state().iter().map(|object| summary(object)).collect();
            objects.sort();
            objects
        })
    }
}

#[tau::plugin]
impl KubeWatch {
    /// Starts watching the ConfigMaps of `namespace` on the API server at
    /// `api_url` (plain HTTP), replacing an earlier watch.
    #[tau::export]
    pub fn start(&self, api_url: String, namespace: String) -> Result<(), String> {
        let url = api_url.parse().map_err(|error| format!("`{api_url}` is not a URL: {error}"))?;
        let client = kube::Client::try_from(kube::Config::new(url)).map_err(|error| error.to_string())?;
        let api: Api<ConfigMap> = Api::namespaced(client, &namespace);
        let (store, writer) = reflector::store();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (bump, changes) = tokio::sync::watch::channel(0u64);
        let events = reflector::reflector(writer, watcher(api, watcher::Config::default())).default_backoff();
        let logged = log.clone();
        let task = tokio::spawn(async move {
            let mut events = std::pin::pin!(events);
            while let Some(event) = events.next().await {
                logged.lock().unwrap().push(describe(&event));
                bump.send_modify(|count| *count += 1);
            }
        });
        *self.watching.lock().unwrap() = Some(Watching { store, log, changes, task });
        Ok(())
    }

    /// The objects in the store now: `(name, data.value)`, sorted by name.
    #[tau::export]
    pub fn objects(&self) -> Result<Vec<(String, String)>, String> {
        self.objects_now()
    }

    /// Waits until the store holds exactly `expected` (sorted by name), at
    /// most `timeout_ms`; the store's objects, or an error naming them.
    #[tau::export]
    pub async fn wait_for(
        &self,
        expected: Vec<(String, String)>,
        timeout_ms: u64,
    ) -> Result<Vec<(String, String)>, String> {
        let mut changes = self.with(|watching| watching.changes.clone())?;
        let waited = tokio::time::timeout(Duration::from_millis(timeout_ms), async {
            loop {
                let objects = self.objects_now()?;
                if objects == expected {
                    return Ok(objects);
                }
                changes.changed().await.map_err(|_| "the watch ended".to_string())?;
            }
        });
        match waited.await {
            Ok(result) => result,
            Err(_elapsed) => Err(format!("after {timeout_ms} ms the store holds {:?}", self.objects_now()?)),
        }
    }

    /// Waits, at most `timeout_ms`, until the watcher's first list is in the
    /// store; the store's objects then.
    #[tau::export]
    pub async fn ready(&self, timeout_ms: u64) -> Result<Vec<(String, String)>, String> {
        let store = self.with(|watching| watching.store.clone())?;
        tokio::time::timeout(Duration::from_millis(timeout_ms), store.wait_until_ready())
            .await
            .map_err(|_elapsed| format!("the first list did not arrive within {timeout_ms} ms"))?
            .map_err(|error| error.to_string())?;
        self.objects_now()
    }

    /// The watcher's events so far, one line each (`init`, `init_apply NAME`,
    /// `init_done`, `apply NAME`, `delete NAME`, `error MESSAGE`).
    #[tau::export]
    pub fn events(&self) -> Result<Vec<String>, String> {
        self.with(|watching| watching.log.lock().unwrap().clone())
    }

    /// Stops the watch; `false` if there was none.
    #[tau::export]
    pub fn stop(&self) -> bool {
        self.watching.lock().unwrap().take().is_some()
    }
}
