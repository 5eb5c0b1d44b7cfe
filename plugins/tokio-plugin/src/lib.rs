//! A plugin whose code is plain tokio: tasks, timers, channels, sockets,
//! tokio-stream's wrappers and tokio-util's codecs, tokens and queues. The
//! host builds it with tau's tokio patched in, so all of it runs on the
//! host's one runtime. Every export returns what it observed, for the test
//! (`tests/tokio_shim.rs`) to compare with what tokio would give.

use std::any::Any;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, mpsc, oneshot, watch, Mutex, Notify, Semaphore};
use tokio::time::Instant;
use tokio_stream::wrappers::{
    BroadcastStream, IntervalStream, ReceiverStream, TcpListenerStream, UnboundedReceiverStream, WatchStream,
};
use tokio_stream::StreamMap;
use tokio_util::codec::{Framed, LinesCodec};
use tokio_util::sync::{CancellationToken, PollSender};

#[derive(Default)]
pub struct TokioPlugin {
    /// The receiver of the channel [`channel_for_host`](Self::channel_for_host)
    /// made, until [`host_channel_stream`](Self::host_channel_stream) takes it.
    for_host: std::sync::Mutex<Option<mpsc::Receiver<u64>>>,
}

/// A channel's sending end as the host holds it: any `Sink` of `u64`.
pub type HostSink = std::pin::Pin<Box<dyn futures::Sink<u64, Error = String> + Send>>;

#[tau::plugin]
impl TokioPlugin {
    /// `tokio::spawn`ed tasks that sleep and report through a `JoinSet`.
    #[tau::export]
    pub async fn spawn_and_sleep(&self, tasks: u64) -> u64 {
        let mut set = tokio::task::JoinSet::new();
        for n in 0..tasks {
            set.spawn(async move {
                tokio::time::sleep(Duration::from_millis(n % 5)).await;
                n
            });
        }
        let mut sum = 0;
        while let Some(joined) = set.join_next().await {
            sum += joined.unwrap();
        }
        sum
    }

    /// A bounded channel of capacity 1: the sender waits for each receive.
    /// Returns "sent,received" order marks that prove the backpressure.
    #[tau::export]
    pub async fn bounded_backpressure(&self) -> String {
        let (tx, mut rx) = mpsc::channel::<u32>(1);
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sender_log = log.clone();
        let sender = tokio::spawn(async move {
            for n in 0..3 {
                tx.send(n).await.unwrap();
                sender_log.lock().unwrap().push_str(&format!("s{n}"));
            }
        });
        // Let the sender run until it blocks on the full channel.
        tokio::task::yield_now().await;
        tokio::task::yield_now().await;
        log.lock().unwrap().push('|');
        while let Some(n) = rx.recv().await {
            log.lock().unwrap().push_str(&format!("r{n}"));
            tokio::task::yield_now().await;
        }
        sender.await.unwrap();
        let log = log.lock().unwrap().clone();
        log
    }

    /// `select!`, `join!`, `try_join!`, `Notify`, `oneshot`, `watch`, a
    /// `Semaphore` and a `Mutex`, each with a value to check.
    #[tau::export]
    pub async fn sync_primitives(&self) -> String {
        let mut out = Vec::new();
        // select!: the ready branch wins over a long sleep.
        let (tx, rx) = oneshot::channel();
        tx.send(7).unwrap();
        let chosen = tokio::select! {
            value = rx => format!("oneshot {}", value.unwrap()),
            _ = tokio::time::sleep(Duration::from_secs(5)) => "sleep".to_string(),
        };
        out.push(chosen);
        // join!: every branch runs.
        let (a, b, c) = tokio::join!(async { 1 }, async { 2 }, async { 3 });
        out.push(format!("join {}", a + b + c));
        let joined: Result<(u8, u8), &str> =
            tokio::try_join!(async { Ok(4) }, async { Err("second failed") });
        out.push(format!("try_join {joined:?}"));
        // Notify: a stored permit wakes the next waiter.
        let notify = std::sync::Arc::new(Notify::new());
        notify.notify_one();
        notify.notified().await;
        out.push("notify".to_string());
        // oneshot: the receiver's drop is seen by the sender.
        let (mut tx, rx) = oneshot::channel::<u8>();
        drop(rx);
        tx.closed().await;
        out.push(format!("closed {}", tx.is_closed()));
        // watch: the latest value.
        let (tx, mut rx) = watch::channel(0);
        tx.send(5).unwrap();
        rx.changed().await.unwrap();
        out.push(format!("watch {}", *rx.borrow()));
        // Semaphore: two permits, the third waits until one is dropped.
        let semaphore = std::sync::Arc::new(Semaphore::new(2));
        let one = semaphore.clone().acquire_owned().await.unwrap();
        let _two = semaphore.clone().acquire_owned().await.unwrap();
        out.push(format!("try_acquire {}", semaphore.try_acquire().is_ok()));
        drop(one);
        out.push(format!("available {}", semaphore.available_permits()));
        // Mutex across tasks.
        let counter = std::sync::Arc::new(Mutex::new(0));
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let counter = counter.clone();
                tokio::spawn(async move { *counter.lock().await += 1 })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        out.push(format!("mutex {}", *counter.lock().await));
        out.join(", ")
    }

    /// A line-echo server and client over loopback TCP with tokio-util's
    /// `Framed<TcpStream, LinesCodec>`; returns the echoed lines.
    #[tau::export]
    pub async fn framed_echo(&self, lines: Vec<String>) -> Vec<String> {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (socket, _) = listener.accept().await.unwrap();
            let mut framed = Framed::new(socket, LinesCodec::new());
            while let Some(line) = framed.next().await {
                framed.send(format!("echo: {}", line.unwrap())).await.unwrap();
            }
        });
        let mut client = Framed::new(TcpStream::connect(address).await.unwrap(), LinesCodec::new());
        let mut echoed = Vec::new();
        for line in lines {
            client.send(line).await.unwrap();
            echoed.push(client.next().await.unwrap().unwrap());
        }
        drop(client);
        server.await.unwrap();
        echoed
    }

    /// Raw TCP: a 1 MiB transfer through `io::copy` on the server side.
    #[tau::export]
    pub async fn tcp_copy(&self, bytes: u64) -> u64 {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let address = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let (mut read, mut write) = socket.split();
            tokio::io::copy(&mut read, &mut write).await.unwrap()
        });
        let stream = TcpStream::connect(address).await.unwrap();
        let (mut read, mut write) = stream.into_split();
        let writer = tokio::spawn(async move {
            let chunk = vec![0xA5u8; 64 * 1024];
            let mut left = bytes;
            while left > 0 {
                let count = left.min(chunk.len() as u64) as usize;
                write.write_all(&chunk[..count]).await.unwrap();
                left -= count as u64;
            }
            write.shutdown().await.unwrap();
        });
        let mut received = Vec::new();
        read.read_to_end(&mut received).await.unwrap();
        writer.await.unwrap();
        let copied = server.await.unwrap();
        assert!(received.iter().all(|&byte| byte == 0xA5));
        assert_eq!(copied, received.len() as u64);
        copied
    }

    /// tokio-stream's wrappers and `StreamMap`, each summarised.
    #[tau::export]
    pub async fn stream_wrappers(&self) -> Vec<String> {
        let mut out = Vec::new();
        let (tx, rx) = mpsc::channel(8);
        tokio::spawn(async move {
            for n in 1..=3 {
                tx.send(n).await.unwrap();
            }
        });
        let items: Vec<i32> = ReceiverStream::new(rx).collect().await;
        out.push(format!("receiver {items:?}"));

        let (tx, rx) = mpsc::unbounded_channel();
        for n in 4..=5 {
            tx.send(n).unwrap();
        }
        drop(tx);
        let items: Vec<i32> = UnboundedReceiverStream::new(rx).collect().await;
        out.push(format!("unbounded {items:?}"));

        let start = Instant::now();
        let ticks =
            IntervalStream::new(tokio::time::interval(Duration::from_millis(10))).take(3).count().await;
        out.push(format!("interval {ticks} ticks, {}", start.elapsed() >= Duration::from_millis(20)));

        let (tx, rx) = broadcast::channel(4);
        let stream = BroadcastStream::new(rx);
        tx.send("a").unwrap();
        tx.send("b").unwrap();
        drop(tx);
        let items: Vec<_> = stream.map(|item| item.unwrap()).collect().await;
        out.push(format!("broadcast {items:?}"));

        let (tx, rx) = watch::channel("first");
        let mut stream = WatchStream::new(rx);
        let first = stream.next().await;
        tx.send("second").unwrap();
        let second = stream.next().await;
        out.push(format!("watch {first:?} {second:?}"));

        let mut map = StreamMap::new();
        map.insert("x", tokio_stream::iter(vec![1, 2]));
        map.insert("y", tokio_stream::iter(vec![3]));
        let mut pairs: Vec<(&str, i32)> = map.collect().await;
        pairs.sort();
        out.push(format!("map {pairs:?}"));

        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let mut incoming = TcpListenerStream::new(listener);
        let client = tokio::spawn(async move { TcpStream::connect(address).await.map(|_| ()) });
        let accepted = incoming.next().await.unwrap().map(|socket| socket.peer_addr().is_ok());
        client.await.unwrap().unwrap();
        out.push(format!("listener {accepted:?}"));
        out
    }

    /// tokio-util: `CancellationToken`, `PollSender`, `ReaderStream`, `DelayQueue`.
    #[tau::export]
    pub async fn util_pieces(&self) -> Vec<String> {
        let mut out = Vec::new();
        let token = CancellationToken::new();
        let child = token.child_token();
        let waiter = tokio::spawn(async move {
            child.cancelled().await;
            "child cancelled"
        });
        token.cancel();
        out.push(waiter.await.unwrap().to_string());

        let (tx, mut rx) = mpsc::channel::<u8>(1);
        let mut sender = PollSender::new(tx);
        sender.send(9).await.unwrap();
        out.push(format!("poll sender {:?}", rx.recv().await));

        let reader = std::io::Cursor::new(b"reader stream bytes".to_vec());
        let chunks: Vec<_> =
            tokio_util::io::ReaderStream::new(reader).map(|chunk| chunk.unwrap()).collect().await;
        let joined: Vec<u8> = chunks.concat();
        out.push(format!("reader {}", String::from_utf8(joined).unwrap()));

        let mut queue = tokio_util::time::DelayQueue::new();
        queue.insert("late", Duration::from_millis(30));
        queue.insert("early", Duration::from_millis(5));
        let mut order = Vec::new();
        while let Some(expired) = queue.next().await {
            order.push(expired.into_inner());
        }
        out.push(format!("delay queue {order:?}"));
        out
    }

    /// tokio-util's `DelayQueue`, unchanged: an entry inserted for 5 s and
    /// polled (the queue's task waits on its one `Sleep`), then moved
    /// earlier with `reset_at` (to 40 ms, then 30 ms) while the task waits.
    /// Returns the milliseconds until it expired.
    #[tau::export]
    pub async fn delay_queue_reset_earlier(&self) -> u64 {
        use std::sync::{Arc, Mutex};
        let queue = Arc::new(Mutex::new(tokio_util::time::DelayQueue::new()));
        let start = tokio::time::Instant::now();
        let key = queue.lock().unwrap().insert("entry", Duration::from_secs(5));
        let (polled_tx, polled) = tokio::sync::oneshot::channel();
        let waiter = {
            let queue = Arc::clone(&queue);
            let mut polled_tx = Some(polled_tx);
            tokio::spawn(async move {
                std::future::poll_fn(|cx| {
                    let polled = queue.lock().unwrap().poll_expired(cx);
                    if let Some(tx) = polled_tx.take() {
                        let _ = tx.send(());
                    }
                    polled
                })
                .await
            })
        };
        polled.await.unwrap();
        queue.lock().unwrap().reset_at(&key, start + Duration::from_millis(40));
        queue.lock().unwrap().reset_at(&key, start + Duration::from_millis(30));
        let expired = waiter.await.unwrap().expect("an entry");
        assert_eq!(*expired.get_ref(), "entry");
        start.elapsed().as_millis() as u64
    }

    /// Loops on an always-ready channel for `millis` ms (the receive side
    /// never waits): tau's budget must make it yield, so other plugins'
    /// timers still fire. Returns how many messages it received.
    #[tau::export]
    pub async fn hot_loop(&self, millis: u64) -> u64 {
        let (tx, mut rx) = mpsc::unbounded_channel::<u64>();
        let deadline = std::time::Instant::now() + Duration::from_millis(millis);
        let mut received = 0;
        while std::time::Instant::now() < deadline {
            tx.send(received).unwrap();
            rx.recv().await.unwrap();
            received += 1;
        }
        received
    }

    /// How the shim answers what it cannot do: each call is run in its own
    /// task and the panic message (or "no panic") is returned.
    #[tau::export]
    pub async fn refusals(&self) -> Vec<String> {
        let mut out = Vec::new();
        let probes: Vec<(&str, fn())> = vec![
            ("block_in_place", || tokio::task::block_in_place(|| ())),
            ("block_on", || {
                let runtime = tokio::runtime::Runtime::new().unwrap();
                runtime.block_on(async {});
            }),
            ("blocking_recv", || {
                let (_tx, mut rx) = mpsc::channel::<u8>(1);
                let _ = rx.blocking_recv();
            }),
            ("pause", tokio::time::pause),
        ];
        for (name, probe) in probes {
            let joined = tokio::spawn(async move { probe() }).await;
            let message = match joined {
                Ok(()) => "no panic".to_string(),
                Err(error) => {
                    let payload = error.into_panic();
                    payload
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| payload.downcast_ref::<&str>().map(|text| text.to_string()))
                        .unwrap_or_default()
                }
            };
            out.push(format!("{name}: {message}"));
        }
        out
    }

    /// Spawns `count` tasks that each hold a listening socket and a long
    /// sleep, and one that holds a child process (`sleep 3600`, killed on
    /// drop) while waiting for it. Returns the first port and the child's
    /// pid: after unload the port must be free and the pid gone, not a zombie.
    #[tau::export]
    pub async fn hold_resources(&self, count: u64) -> (u16, u32) {
        let mut first_port = 0;
        for n in 0..count {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            if n == 0 {
                first_port = listener.local_addr().unwrap().port();
            }
            tokio::spawn(async move {
                let _listener = listener;
                tokio::time::sleep(Duration::from_secs(3600)).await;
            });
        }
        let mut child = tokio::process::Command::new("sleep").arg("3600").kill_on_drop(true).spawn().unwrap();
        let pid = child.id().unwrap();
        tokio::spawn(async move {
            let _ = child.wait().await;
        });
        (first_port, pid)
    }

    /// A bounded channel of `capacity`, both ends boxed: another plugin
    /// feeds it (see tokio-peer) and [`sum_all`](Self::sum_all) drains it.
    #[tau::export]
    pub fn channel(&self, capacity: u64) -> Box<dyn Any + Send> {
        Box::new(mpsc::channel::<u64>(capacity as usize))
    }

    /// Receives until the channel closes; the sum, or `None` if the box
    /// held anything but a `Receiver<u64>`.
    #[tau::export]
    pub async fn sum_all(&self, receiver: Box<dyn Any + Send>) -> Option<u64> {
        let mut rx = *receiver.downcast::<mpsc::Receiver<u64>>().ok()?;
        let mut sum = 0;
        while let Some(n) = rx.recv().await {
            sum += n;
        }
        Some(sum)
    }

    /// A bounded tokio channel of `capacity` whose sender goes to the host
    /// as a `Sink` (tokio-util's `PollSender`; the host's sends wait while
    /// the channel is full). Its receiver is kept for
    /// [`host_channel_stream`](Self::host_channel_stream).
    #[tau::export]
    pub fn channel_for_host(&self, capacity: u64) -> HostSink {
        let (tx, rx) = mpsc::channel::<u64>(capacity as usize);
        *self.for_host.lock().unwrap() = Some(rx);
        Box::pin(PollSender::new(tx).sink_map_err(|error| error.to_string()))
    }

    /// The receiver [`channel_for_host`](Self::channel_for_host) kept, as a
    /// stream (tokio-stream's `ReceiverStream`); an empty stream if there is
    /// none.
    #[tau::export]
    pub fn host_channel_stream(&self) -> tau::stream::BoxStream<'static, u64> {
        match self.for_host.lock().unwrap().take() {
            Some(rx) => Box::pin(ReceiverStream::new(rx)),
            None => Box::pin(futures::stream::empty()),
        }
    }

    /// Captures `Handle::current()` in this task, moves it to a new OS
    /// thread, spawns from there onto the (host's) runtime and awaits the
    /// result here. Returns the value and whether the spawning thread was
    /// another one.
    #[tau::export]
    pub async fn spawn_from_thread(&self) -> (u64, bool) {
        let handle = tokio::runtime::Handle::current();
        let here = std::thread::current().id();
        let (tx, rx) = oneshot::channel();
        std::thread::spawn(move || {
            let there = std::thread::current().id();
            let task = handle.spawn(async move {
                tokio::time::sleep(Duration::from_millis(2)).await;
                41 + 1
            });
            let _ = tx.send((task, there != here));
        });
        let (task, other_thread) = rx.await.unwrap();
        (task.await.unwrap(), other_thread)
    }
}
