//! An [axum] server inside a plugin, unchanged: axum and hyper run on tokio,
//! and tau's tokio runs them on the host's one runtime, so the server's
//! listener, connections and handlers are this plugin's tasks and sockets.
//!
//! [`serve`](WebServer::serve) starts it and returns the port; the server
//! runs until [`stop`](WebServer::stop) (graceful: requests in flight
//! finish, new connections are refused) or until the plugin is unloaded
//! (abrupt: unload cancels the plugin's tasks, so requests in flight are
//! cut, their connections closed, and the port is free at once).
//!
//! Routes:
//! - `GET /` → `hello from axum in a tau plugin`
//! - `GET /json/{name}` → `{"name": name, "length": name's length}`
//! - `POST /sum` with a JSON array of numbers → their sum as JSON
//! - `GET /stream/{n}` → `n` lines `line 0\n` … streamed, one per chunk
//! - `GET /bytes/{n}` → `n` bytes in one body
//! - `GET /ws` → a WebSocket echo (text comes back as `echo: TEXT`)
//! - `GET /slow/{ms}` → `slow` after `ms` milliseconds (tokio's timer)

mod router;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use router::{router, Counts};
use tokio::sync::oneshot;

#[derive(Default)]
pub struct WebServer {
    counts: Arc<Counts>,
    /// The running server's stop signal and its end (the serve task's result).
    running: Mutex<Option<Running>>,
}

struct Running {
    stop: oneshot::Sender<()>,
    ended: tokio::task::JoinHandle<std::io::Result<()>>,
}

#[tau::plugin]
impl WebServer {
    /// Starts the server on 127.0.0.1:`port` (0: a port the OS picks) and
    /// returns the port. A second `serve` while one runs is an error.
    #[tau::export]
    pub async fn serve(&self, port: u16) -> Result<u16, String> {
        if self.running.lock().unwrap().is_some() {
            return Err("the server is already running: stop it first".to_string());
        }
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|error| format!("binding 127.0.0.1:{port}: {error}"))?;
        let port = listener.local_addr().map_err(|error| error.to_string())?.port();
        let mut running = self.running.lock().unwrap();
        if running.is_some() {
            return Err("the server is already running: stop it first".to_string());
        }
        let (stop, stopped) = oneshot::channel::<()>();
        let app = router(self.counts.clone());
        let ended = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
        });
        *running = Some(Running { stop, ended });
        Ok(port)
    }

    /// Stops the server gracefully: it stops accepting, lets the requests
    /// in flight finish, and returns once it has ended. `false` if none ran.
    #[tau::export]
    pub async fn stop(&self) -> Result<bool, String> {
        let Some(Running { stop, ended }) = self.running.lock().unwrap().take() else { return Ok(false) };
        let _ = stop.send(());
        match ended.await {
            Ok(served) => served.map(|()| true).map_err(|error| error.to_string()),
            Err(error) => Err(error.to_string()),
        }
    }

    /// Requests handled so far (their responses made).
    #[tau::export]
    pub fn requests_served(&self) -> u64 {
        self.counts.served.load(Ordering::Relaxed)
    }

    /// Waits until `count` requests in all have reached a handler; returns
    /// how many have.
    #[tau::export]
    pub async fn until_started(&self, count: u64) -> u64 {
        let mut started = self.counts.started.subscribe();
        let reached = started.wait_for(|started| *started >= count).await.map(|started| *started);
        reached.expect("the sender lives in self")
    }
}
