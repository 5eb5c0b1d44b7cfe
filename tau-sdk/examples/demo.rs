//! A tour of the tau runtime: tasks, timers, abort, IO and the blocking pool,
//! each step checked. `cargo run -p tau-sdk --example demo`
//!
//! (A later issue makes the main job a plugin loaded by `tau run`.)

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use tau::io::{AsyncFd, Interest};
use tau::task::JoinSet;
use tau::time::{self, Instant};

#[tau::main]
async fn main() -> std::io::Result<()> {
    let start = Instant::now();

    // Tasks and timers: ten sleepers, joined in the order they finish.
    let mut set = JoinSet::new();
    for i in (1..=10u64).rev() {
        set.spawn(async move {
            time::sleep(Duration::from_millis(i * 3)).await;
            i
        });
    }
    let mut order = Vec::new();
    while let Some(result) = set.join_next().await {
        order.push(result?);
    }
    assert_eq!(order, (1..=10).collect::<Vec<_>>());
    println!("timers   10 sleepers finished in deadline order: {order:?}");

    // Abort: a task that would sleep an hour is cancelled and its timer released.
    let sleeper = tau::spawn(time::sleep(Duration::from_secs(3600)));
    tau::task::yield_now().await;
    sleeper.abort();
    let error = sleeper.await.unwrap_err();
    assert!(error.is_cancelled());
    println!("abort    {error}; timers left: {}", tau::runtime::Handle::current().metrics().num_timers());

    // A panicking task is contained.
    let error = tau::spawn(async { panic!("contained") }).await.unwrap_err();
    assert!(error.is_panic());
    println!("panic    {error}");

    // IO on the shared reactor: an echo over a socketpair.
    let (client, server) = UnixStream::pair()?;
    client.set_nonblocking(true)?;
    server.set_nonblocking(true)?;
    let echo = tau::spawn(async move {
        let server = AsyncFd::with_interest(server, Interest::READABLE)?;
        let mut buf = [0u8; 64];
        let read = server.async_io(Interest::READABLE, |s| (&*s).read(&mut buf)).await?;
        server.get_ref().write_all(&buf[..read])?;
        Ok::<_, std::io::Error>(read)
    });
    let client = AsyncFd::new(client)?;
    client.get_ref().write_all(b"hello over the reactor")?;
    let mut reply = [0u8; 64];
    let read = client.async_io(Interest::READABLE, |c| (&*c).read(&mut reply)).await?;
    assert_eq!(echo.await??, read);
    println!("io       echoed {:?}", std::str::from_utf8(&reply[..read]).unwrap());

    // The blocking pool.
    let sum = tau::task::spawn_blocking(|| (1..=1_000_000u64).sum::<u64>()).await?;
    assert_eq!(sum, 500_000_500_000);
    println!("blocking sum computed on a pool thread: {sum}");

    println!("done in {:?}", start.elapsed());
    Ok(())
}
