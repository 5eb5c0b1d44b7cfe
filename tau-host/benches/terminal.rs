//! Key-to-event latency: crossterm's `EventStream` on tau's reactor (in a
//! plugin, `plugins/term-plugin`'s `echo_keys`) against upstream crossterm
//! 0.29 with mio (this binary, real tokio current-thread), in one run.
//!
//! ```text
//! cargo bench -p tau-host --bench terminal
//! ```
//!
//! Each side is a child process whose controlling terminal and stdin are
//! the slave of a pty pair this bench opens. The bench writes one key (`a`)
//! to the master and waits for the child's answer (one byte on a pipe,
//! written when its `EventStream` yields the key event): the round trip is
//! the key-to-event latency plus one pipe write, the same on both sides.

#[path = "../../tau-rt/tests/support/pty.rs"]
mod pty;
#[path = "common/sides.rs"]
#[allow(dead_code)] // `wants`: this bench has one table
mod sides;

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use sides::{median, Settings};

const KEYS: usize = 5_000;
const WARMUP: usize = 200;
const ROUNDS: usize = 3;

fn main() {
    match std::env::var("TAU_BENCH_TTY_CHILD").as_deref() {
        Ok("tau") => return tau_child(),
        Ok("mio") => return mio_child(),
        _ => {}
    }
    let settings = Settings::from_env();
    let keys = (KEYS / settings.scale).max(20);
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let cache_dir = std::env::var_os("TAU_CACHE_DIR")
        .map(Into::into)
        .unwrap_or_else(|| workspace.join("target").join("tau-cache"));
    let builder = tau_host::Builder::new().release(true).quiet(true).cache_dir(cache_dir);
    let library =
        builder.build(&workspace.join("plugins/term-plugin")).expect("building term-plugin").library;

    println!("key-to-event latency through a pty, {keys} keys a round, median of {ROUNDS} rounds' medians");
    // Rounds alternate between the sides, so that a change in the
    // machine's speed during the run falls on both.
    let sides: Vec<&str> = [("tau", settings.run_tau), ("mio", settings.run_tokio)]
        .iter()
        .filter(|side| side.1)
        .map(|side| side.0)
        .collect();
    let mut medians = vec![Vec::new(); sides.len()];
    let mut p99s = vec![Vec::new(); sides.len()];
    for _ in 0..ROUNDS {
        for (index, side) in sides.iter().enumerate() {
            let mut latencies = round(side, &library, keys);
            latencies.sort_unstable();
            medians[index].push(latencies[latencies.len() / 2]);
            p99s[index].push(latencies[latencies.len() * 99 / 100]);
        }
    }
    let rows: Vec<(&str, u64, u64)> = sides
        .iter()
        .zip(medians)
        .zip(p99s)
        .map(|((side, medians), p99s)| (*side, median(medians), median(p99s)))
        .collect();
    println!("{:<52} {:>10} {:>10}", "", "median", "p99");
    for (side, median, p99) in &rows {
        let name = match *side {
            "tau" => "crossterm on tau's reactor (EventStream in a plugin)",
            _ => "upstream crossterm 0.29, mio (EventStream, tokio)",
        };
        println!("{name:<52} {:>7.1} µs {:>7.1} µs", *median as f64 / 1e3, *p99 as f64 / 1e3);
    }
    if let [(_, tau, tau_p99), (_, mio, mio_p99)] = rows[..] {
        println!(
            "mio/tau (above 1: tau faster): median {:.2}x, p99 {:.2}x",
            mio as f64 / tau as f64,
            mio_p99 as f64 / tau_p99 as f64
        );
    }
}

/// One child on a fresh pty: `keys` round trips after a warm-up, in ns.
fn round(side: &str, library: &Path, keys: usize) -> Vec<u64> {
    let (master, slave) = open_pty();
    let slave_fd = slave.as_raw_fd();
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .env("TAU_BENCH_TTY_CHILD", side)
        .env("TAU_BENCH_TTY_KEYS", (keys + WARMUP).to_string())
        .env("TAU_BENCH_TTY_LIBRARY", library)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    // SAFETY: between fork and exec the closure calls only async-signal-safe
    // functions (setsid, ioctl, dup2) on fds that stay open in the child.
    unsafe {
        command.pre_exec(move || {
            if libc::setsid() < 0
                || libc::ioctl(slave_fd, libc::TIOCSCTTY, 0) < 0
                || libc::dup2(slave_fd, 0) < 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command.spawn().expect("starting the child");
    drop(slave);
    let mut answers = child.stdout.take().unwrap();
    let mut master = std::fs::File::from(master);
    // The child says `r` once it is in raw mode and listening.
    let mut byte = [0u8; 1];
    answers.read_exact(&mut byte).expect("the child's ready byte");
    assert_eq!(&byte, b"r");
    let mut latencies = Vec::with_capacity(keys);
    for index in 0..keys + WARMUP {
        let start = Instant::now();
        master.write_all(b"a").unwrap();
        answers.read_exact(&mut byte).expect("the child's answer");
        if index >= WARMUP {
            latencies.push(start.elapsed().as_nanos() as u64);
        }
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "the {side} child failed: {status}");
    latencies
}

fn open_pty() -> (OwnedFd, OwnedFd) {
    let pty::Pty { controller, terminal } = pty::Pty::open();
    (controller, terminal)
}

/// The count of keys a child answers.
fn child_keys() -> u32 {
    std::env::var("TAU_BENCH_TTY_KEYS").unwrap().parse().unwrap()
}

fn tau_child() {
    let library = std::env::var_os("TAU_BENCH_TTY_LIBRARY").unwrap();
    let mut host = tau_host::Host::new().unwrap();
    let plugin = host.load(Path::new(&library)).expect("loading term-plugin");
    let call = host
        .plugin(plugin)
        .unwrap()
        .spawn_call::<Result<u32, String>, _>("echo_keys", (child_keys(),))
        .unwrap();
    let answered = host.block_on(call).unwrap().expect("echo_keys");
    assert_eq!(answered, child_keys());
}

fn mio_child() {
    use futures::StreamExt;
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
        crossterm::terminal::enable_raw_mode().unwrap();
        let mut events = crossterm::event::EventStream::new();
        let mut out = std::io::stdout();
        out.write_all(b"r").unwrap();
        out.flush().unwrap();
        let mut seen = 0;
        while seen < child_keys() {
            match events.next().await {
                Some(Ok(crossterm::event::Event::Key(_))) => {
                    out.write_all(b"k").unwrap();
                    out.flush().unwrap();
                    seen += 1;
                }
                Some(Ok(_)) => {}
                other => panic!("the event stream ended: {other:?}"),
            }
        }
        let _ = crossterm::terminal::disable_raw_mode();
    });
}
