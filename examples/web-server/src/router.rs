//! The server's routes (see the crate docs), as a plain axum `Router`:
//! nothing here knows about tau. `tau-host/benches/network.rs` compiles
//! this same file against real tokio, to compare the two runtimes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::StreamExt;
use serde::Serialize;

/// Requests started and handled, by every server this plugin started.
pub struct Counts {
    pub started: tokio::sync::watch::Sender<u64>,
    pub served: AtomicU64,
}

impl Default for Counts {
    fn default() -> Counts {
        Counts { started: tokio::sync::watch::Sender::new(0), served: AtomicU64::new(0) }
    }
}

#[derive(Serialize)]
struct Named {
    name: String,
    length: usize,
}

pub fn router(counts: Arc<Counts>) -> Router {
    Router::new()
        .route("/", get(|| async { "hello from axum in a tau plugin" }))
        .route(
            "/json/{name}",
            get(|Path(name): Path<String>| async move {
                let length = name.chars().count();
                Json(Named { name, length })
            }),
        )
        .route("/sum", post(|Json(numbers): Json<Vec<i64>>| async move { Json(numbers.iter().sum::<i64>()) }))
        .route(
            "/stream/{n}",
            get(|Path(n): Path<u32>| async move {
                let lines = futures::stream::iter(0..n).then(|i| async move {
                    tokio::task::yield_now().await;
                    Ok::<_, std::io::Error>(format!("line {i}\n"))
                });
                Body::from_stream(lines)
            }),
        )
        .route("/ws", get(|upgrade: WebSocketUpgrade| async move { upgrade.on_upgrade(echo) }))
        .route("/bytes/{n}", get(|Path(n): Path<usize>| async move { vec![7u8; n] }))
        .route(
            "/slow/{ms}",
            get(|Path(ms): Path<u64>| async move {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                "slow"
            }),
        )
        .layer(axum::middleware::from_fn_with_state(counts, count))
}

async fn count(
    State(counts): State<Arc<Counts>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    counts.started.send_modify(|started| *started += 1);
    let response = next.run(request).await;
    counts.served.fetch_add(1, Ordering::Relaxed);
    response
}

/// The `/ws` WebSocket (tokio-tungstenite under axum): every text or binary
/// message comes back, text prefixed with `echo: `; a close ends it.
async fn echo(mut socket: WebSocket) {
    while let Some(Ok(message)) = socket.recv().await {
        let reply = match message {
            Message::Text(text) => Message::Text(format!("echo: {}", text.as_str()).into()),
            Message::Binary(bytes) => Message::Binary(bytes),
            Message::Close(_) => return,
            Message::Ping(_) | Message::Pong(_) => continue, // axum answers pings itself
        };
        if socket.send(reply).await.is_err() {
            return;
        }
    }
}
