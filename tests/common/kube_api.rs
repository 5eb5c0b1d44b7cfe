//! A fake Kubernetes API server for ConfigMaps, real HTTP on 127.0.0.1:
//! list (`GET /api/v1/namespaces/{ns}/configmaps`) and watch (the same
//! with `watch=true`: a chunked response of JSON watch events, one per
//! line). Objects carry resource versions; a watch from version `v` first
//! replays the events after `v`, as the real server does, then streams
//! live ones. The test changes objects and can drop every watch connection
//! or expire them (an `ERROR` event with a `410 Gone` status, after which
//! any watch from an old version gets 410 too, forcing a re-list).

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

#[derive(Clone)]
pub struct KubeApi {
    address: SocketAddr,
    shared: Arc<(Mutex<State>, Condvar)>,
}

#[derive(Default)]
struct State {
    version: u64,
    /// name → (resource version, data.value)
    objects: BTreeMap<String, (u64, String)>,
    /// Every event: (resource version, the watch event's JSON).
    history: Vec<(u64, Value)>,
    /// Watches from a version below this get 410 Gone.
    compacted_below: u64,
    watchers: Vec<mpsc::Sender<Message>>,
    lists: usize,
    watches: usize,
}

enum Message {
    Event(Value),
    /// End the watch response and close the connection.
    Close,
}

fn config_map(name: &str, version: u64, value: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "namespace": NAMESPACE,
            "uid": format!("uid-{name}"),
            "resourceVersion": version.to_string(),
        },
        "data": { "value": value },
    })
}

fn gone_status() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Status",
        "metadata": {},
        "status": "Failure",
        "message": "too old resource version",
        "reason": "Expired",
        "code": 410,
    })
}

const NAMESPACE: &str = "default";

impl KubeApi {
    pub fn start() -> KubeApi {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the fake API server");
        let api = KubeApi { address: listener.local_addr().unwrap(), shared: Default::default() };
        let serving = api.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let serving = serving.clone();
                std::thread::spawn(move || {
                    let _ = serving.serve(stream);
                });
            }
        });
        api
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    fn change(&self, kind: &str, name: &str, value: Option<&str>) {
        let (state, changed) = &*self.shared;
        let mut state = state.lock().unwrap();
        state.version += 1;
        let version = state.version;
        let object = match value {
            Some(value) => {
                state.objects.insert(name.to_string(), (version, value.to_string()));
                config_map(name, version, value)
            }
            None => {
                let (_, old) = state.objects.remove(name).expect("deleting an object that does not exist");
                config_map(name, version, &old)
            }
        };
        let event = json!({ "type": kind, "object": object });
        state.history.push((version, event.clone()));
        state.watchers.retain(|watcher| watcher.send(Message::Event(event.clone())).is_ok());
        changed.notify_all();
    }

    /// Creates `name` with `data.value = value` (an `ADDED` event).
    pub fn create(&self, name: &str, value: &str) {
        self.change("ADDED", name, Some(value));
    }

    /// Changes `name`'s value (a `MODIFIED` event).
    pub fn update(&self, name: &str, value: &str) {
        self.change("MODIFIED", name, Some(value));
    }

    /// Deletes `name` (a `DELETED` event).
    pub fn delete(&self, name: &str) {
        self.change("DELETED", name, None);
    }

    /// Changes objects without telling the watches (as if their events were
    /// lost), then expires every watch with `410 Gone`: only a re-list
    /// shows the client the changes.
    pub fn change_unseen_then_expire(&self, create: &[(&str, &str)], delete: &[&str]) {
        let (state, changed) = &*self.shared;
        let mut state = state.lock().unwrap();
        for name in delete {
            state.objects.remove(*name).expect("deleting an object that does not exist");
            state.version += 1;
        }
        for (name, value) in create {
            state.version += 1;
            let version = state.version;
            state.objects.insert(name.to_string(), (version, value.to_string()));
        }
        state.compacted_below = state.version + 1;
        let gone = json!({ "type": "ERROR", "object": gone_status() });
        for watcher in state.watchers.drain(..) {
            let _ = watcher.send(Message::Event(gone.clone()));
            let _ = watcher.send(Message::Close);
        }
        changed.notify_all();
    }

    /// Ends every watch response and closes its connection.
    pub fn drop_watches(&self) {
        let mut state = self.shared.0.lock().unwrap();
        for watcher in state.watchers.drain(..) {
            let _ = watcher.send(Message::Close);
        }
    }

    /// Waits (blocking the thread) until `count` watches and `lists` lists
    /// have been started in all, or `timeout` passes; whether they were.
    pub fn wait_for_requests(&self, lists: usize, watches: usize, timeout: Duration) -> bool {
        let (state, changed) = &*self.shared;
        let state = state.lock().unwrap();
        let (state, _) = changed
            .wait_timeout_while(state, timeout, |state| state.lists < lists || state.watches < watches)
            .unwrap();
        state.lists >= lists && state.watches >= watches
    }

    /// (lists, watches) started so far.
    pub fn requests(&self) -> (usize, usize) {
        let state = self.shared.0.lock().unwrap();
        (state.lists, state.watches)
    }

    fn serve(&self, stream: TcpStream) -> io::Result<()> {
        let mut reader = BufReader::new(stream.try_clone()?);
        let mut stream = stream;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line)? == 0 {
                return Ok(());
            }
            let target = line.split_whitespace().nth(1).unwrap_or_default().to_string();
            loop {
                let mut header = String::new();
                reader.read_line(&mut header)?;
                if header.trim_end().is_empty() {
                    break;
                }
            }
            let (path, query) = target.split_once('?').unwrap_or((&target, ""));
            let params: BTreeMap<&str, &str> =
                query.split('&').filter_map(|pair| pair.split_once('=')).collect();
            if path != format!("/api/v1/namespaces/{NAMESPACE}/configmaps") {
                let body = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404,
                    "reason": "NotFound", "message": format!("no route {path}")})
                .to_string();
                write!(stream, "HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}", body.len())?;
                continue;
            }
            if matches!(params.get("watch"), Some(&"true") | Some(&"1")) {
                let from =
                    params.get("resourceVersion").and_then(|version| version.parse().ok()).unwrap_or(0);
                return self.watch(stream, from);
            }
            let body = {
                let (state, changed) = &*self.shared;
                let mut state = state.lock().unwrap();
                state.lists += 1;
                changed.notify_all();
                let items: Vec<Value> = state
                    .objects
                    .iter()
                    .map(|(name, (version, value))| config_map(name, *version, value))
                    .collect();
                json!({
                    "apiVersion": "v1",
                    "kind": "ConfigMapList",
                    "metadata": { "resourceVersion": state.version.to_string() },
                    "items": items,
                })
                .to_string()
            };
            write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            )?;
        }
    }

    /// Streams watch events from resource version `from` on, until closed.
    fn watch(&self, mut stream: TcpStream, from: u64) -> io::Result<()> {
        let (sender, events) = mpsc::channel();
        let replay: Vec<Value> = {
            let (state, changed) = &*self.shared;
            let mut state = state.lock().unwrap();
            state.watches += 1;
            changed.notify_all();
            if from < state.compacted_below {
                vec![json!({ "type": "ERROR", "object": gone_status() })]
            } else {
                let replay = state
                    .history
                    .iter()
                    .filter(|(version, _)| *version > from)
                    .map(|(_, event)| event.clone());
                let replay = replay.collect();
                state.watchers.push(sender.clone());
                replay
            }
        };
        write!(
            stream,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
        )?;
        let expired = replay.iter().any(|event| event["type"] == "ERROR");
        for event in replay {
            write_chunk(&mut stream, &event)?;
        }
        if !expired {
            while let Ok(Message::Event(event)) = events.recv() {
                write_chunk(&mut stream, &event)?;
            }
        }
        stream.write_all(b"0\r\n\r\n")?;
        stream.shutdown(std::net::Shutdown::Both)
    }
}

fn write_chunk(stream: &mut TcpStream, event: &Value) -> io::Result<()> {
    let line = format!("{event}\n");
    write!(stream, "{:x}\r\n{line}\r\n", line.len())?;
    stream.flush()
}
