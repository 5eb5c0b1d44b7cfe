//! The network benchmark's client-side workload, written against reqwest
//! and futures only: compiled into
//! `plugins/net-bench-plugin` (tau's tokio, in a plugin) and into
//! `benches/network.rs` (real tokio), so both sides run the same code.

use std::time::Instant;

/// `n` GETs of `url` over one shared `client`, `concurrency` at a time;
/// the time in nanoseconds and the body bytes received.
pub async fn reqwest_gets(client: &reqwest::Client, url: &str, n: u64, concurrency: u64) -> (u64, u64) {
    use futures::StreamExt;
    let start = Instant::now();
    let bytes: u64 = futures::stream::iter(0..n)
        .map(|_| async {
            let response = client.get(url).send().await.expect("GET");
            response.bytes().await.expect("body").len() as u64
        })
        .buffer_unordered(concurrency as usize)
        .fold(0, |sum, len| async move { sum + len })
        .await;
    (start.elapsed().as_nanos() as u64, bytes)
}
