// The workloads of the tokio-shim benchmark, written against tokio's API
// only. Compiled twice: into `plugins/tokio-bench-plugin` (tokio is tau's
// shim there, on the host's runtime) and into `benches/tokio_shim.rs`
// (real tokio, current-thread runtime). Each returns the nanoseconds it
// took and a checksum the bench compares between the two.

use std::sync::Arc;
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One workload's result.
pub struct Measured {
    pub nanos: u64,
    pub checksum: u64,
    /// Per-operation latencies' 99th percentile, where the workload has one.
    pub p99_nanos: u64,
}

fn done(start: Instant, checksum: u64) -> Measured {
    Measured { nanos: start.elapsed().as_nanos() as u64, checksum, p99_nanos: 0 }
}

/// `n` messages through a bounded(1024) channel from a spawned producer.
pub async fn mpsc_throughput(n: u64) -> Measured {
    let start = Instant::now();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<u64>(1024);
    tokio::spawn(async move {
        for i in 0..n {
            tx.send(i).await.unwrap();
        }
    });
    let mut sum = 0u64;
    while let Some(i) = rx.recv().await {
        sum = sum.wrapping_add(i);
    }
    done(start, sum)
}

/// `n` round trips between two tasks through a pair of `Notify`s.
pub async fn notify_ping_pong(n: u64) -> Measured {
    let start = Instant::now();
    let ping = Arc::new(tokio::sync::Notify::new());
    let pong = Arc::new(tokio::sync::Notify::new());
    let (ping2, pong2) = (ping.clone(), pong.clone());
    let peer = tokio::spawn(async move {
        for _ in 0..n {
            ping2.notified().await;
            pong2.notify_one();
        }
    });
    for _ in 0..n {
        ping.notify_one();
        pong.notified().await;
    }
    peer.await.unwrap();
    done(start, n)
}

/// `n` round trips, each a fresh `oneshot` answered by a spawned task.
pub async fn oneshot_ping_pong(n: u64) -> Measured {
    let start = Instant::now();
    let (requests, mut incoming) =
        tokio::sync::mpsc::unbounded_channel::<(u64, tokio::sync::oneshot::Sender<u64>)>();
    tokio::spawn(async move {
        while let Some((value, reply)) = incoming.recv().await {
            let _ = reply.send(value + 1);
        }
    });
    let mut sum = 0u64;
    for i in 0..n {
        let (tx, rx) = tokio::sync::oneshot::channel();
        requests.send((i, tx)).unwrap();
        sum = sum.wrapping_add(rx.await.unwrap());
    }
    done(start, sum)
}

/// `n` tasks spawned and joined in order.
pub async fn spawn_join(n: u64) -> Measured {
    let start = Instant::now();
    let handles: Vec<_> = (0..n).map(|i| tokio::spawn(async move { i })).collect();
    let mut sum = 0u64;
    for handle in handles {
        sum = sum.wrapping_add(handle.await.unwrap());
    }
    done(start, sum)
}

/// `n` tasks that each sleep 1–10 ms, all joined.
pub async fn sleeps(n: u64) -> Measured {
    let start = Instant::now();
    let handles: Vec<_> = (0..n)
        .map(|i| {
            tokio::spawn(async move {
                tokio::time::sleep(std::time::Duration::from_millis(1 + i % 10)).await;
                1u64
            })
        })
        .collect();
    let mut count = 0;
    for handle in handles {
        count += handle.await.unwrap();
    }
    done(start, count)
}

/// `n` round trips of a `size`-byte message to an echo server over
/// loopback TCP; the time is the whole run, the p99 per round trip.
pub async fn tcp_echo(n: u64, size: usize) -> Measured {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        socket.set_nodelay(true).unwrap();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let read = socket.read(&mut buf).await.unwrap();
            if read == 0 {
                return;
            }
            socket.write_all(&buf[..read]).await.unwrap();
        }
    });
    let mut client = tokio::net::TcpStream::connect(address).await.unwrap();
    client.set_nodelay(true).unwrap();
    let message = vec![7u8; size];
    let mut reply = vec![0u8; size];
    let mut latencies = Vec::with_capacity(n as usize);
    let start = Instant::now();
    for _ in 0..n {
        let sent = Instant::now();
        client.write_all(&message).await.unwrap();
        client.read_exact(&mut reply).await.unwrap();
        latencies.push(sent.elapsed().as_nanos() as u64);
    }
    let nanos = start.elapsed().as_nanos() as u64;
    latencies.sort_unstable();
    let p99 = latencies[(latencies.len() * 99 / 100).min(latencies.len() - 1)];
    Measured { nanos, checksum: reply.iter().map(|&b| b as u64).sum::<u64>() * n, p99_nanos: p99 }
}

/// Moves `total` bytes through the echo server in 64 KiB writes, reading
/// the echo concurrently: throughput.
pub async fn tcp_stream(total: u64) -> Measured {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let (mut read, mut write) = socket.split();
        tokio::io::copy(&mut read, &mut write).await.unwrap();
    });
    let start = Instant::now();
    let stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let writer = tokio::spawn(async move {
        let chunk = vec![1u8; 64 * 1024];
        let mut left = total;
        while left > 0 {
            let count = left.min(chunk.len() as u64) as usize;
            write.write_all(&chunk[..count]).await.unwrap();
            left -= count as u64;
        }
        write.shutdown().await.unwrap();
    });
    let mut buf = vec![0u8; 64 * 1024];
    let mut received = 0u64;
    loop {
        let count = read.read(&mut buf).await.unwrap();
        if count == 0 {
            break;
        }
        received += count as u64;
    }
    writer.await.unwrap();
    done(start, received)
}
