//! A plugin that uses crossterm as any terminal program does: raw mode,
//! bracketed paste, `EventStream`, `event::poll`/`read` and
//! `cursor::position`. Each export writes what it saw, one `Debug` line per
//! event, to a file the test names, so that a test driving a real terminal
//! (tmux) can compare exact values.

use std::io::Write;
use std::time::{Duration, Instant};

use crossterm::event::{self, DisableBracketedPaste, EnableBracketedPaste, EventStream};
use crossterm::{cursor, execute, terminal};
use futures::StreamExt;

#[derive(Default)]
pub struct TermPlugin {
    /// The task of `record_background`, awaited by `finish`.
    recorder: std::sync::Mutex<Option<tau::task::JoinHandle<Result<u32, String>>>>,
}

fn log(path: &str, line: &str) -> Result<(), String> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|error| format!("{path}: {error}"))?;
    writeln!(file, "{line}").map_err(|error| format!("{path}: {error}"))
}

/// Writes the next `count` events of `events` to `path`, one `Debug` line
/// each; returns how many (fewer if the stream ended).
async fn log_events(events: &mut EventStream, path: &str, count: u32) -> Result<u32, String> {
    let mut seen = 0;
    while seen < count {
        match events.next().await {
            Some(Ok(event)) => log(path, &format!("{event:?}"))?,
            Some(Err(error)) => return Err(format!("event stream: {error}")),
            None => break,
        }
        seen += 1;
    }
    Ok(seen)
}

/// Raw mode and bracketed paste for the life of the value.
struct RawTerminal;

impl RawTerminal {
    fn enter() -> Result<RawTerminal, String> {
        terminal::enable_raw_mode().map_err(|error| format!("raw mode: {error}"))?;
        execute!(std::io::stdout(), EnableBracketedPaste).map_err(|error| error.to_string())?;
        Ok(RawTerminal)
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        let _ = execute!(std::io::stdout(), DisableBracketedPaste);
        let _ = terminal::disable_raw_mode();
    }
}

#[tau::plugin]
impl TermPlugin {
    /// In raw mode, writes `ready` to `path`, then the next `count` events
    /// of an `EventStream`, one `Debug` line each; returns how many.
    #[tau::export]
    pub async fn record(&self, path: String, count: u32) -> Result<u32, String> {
        let _raw = RawTerminal::enter()?;
        let mut events = EventStream::new();
        log(&path, "ready")?;
        log_events(&mut events, &path, count).await
    }

    /// Like `record`, in a task of its own that this call leaves running
    /// (see `finish`): turns raw mode on, writes `ready` once its stream
    /// waits, then `count` events and, after raw mode is off again, `done`.
    #[tau::export]
    pub async fn record_background(&self, path: String, count: u32) -> Result<String, String> {
        let raw = RawTerminal::enter()?;
        let mut events = EventStream::new();
        if let std::task::Poll::Ready(event) = futures::poll!(events.next()) {
            return Err(format!("an event was already waiting: {event:?}"));
        }
        log(&path, "ready")?;
        let task = tau::spawn(async move {
            let seen = log_events(&mut events, &path, count).await?;
            drop(raw);
            log(&path, "done")?;
            Ok(seen)
        });
        *self.recorder.lock().unwrap() = Some(task);
        Ok("recording".to_string())
    }

    /// Waits for the task `record_background` started: how many events it saw.
    #[tau::export]
    pub async fn finish(&self) -> Result<u32, String> {
        let task = self.recorder.lock().unwrap().take().ok_or("nothing is recording")?;
        task.await.map_err(|error| error.to_string())?
    }

    /// The same with the sync API, `event::poll` and `event::read`, on the
    /// blocking pool (off the runtime's thread).
    #[tau::export]
    pub async fn record_sync(&self, path: String, count: u32) -> Result<u32, String> {
        tau::task::spawn_blocking(move || {
            let _raw = RawTerminal::enter()?;
            log(&path, "ready")?;
            let mut seen = 0;
            while seen < count {
                if event::poll(Duration::from_secs(60)).map_err(|error| error.to_string())? {
                    let event = event::read().map_err(|error| error.to_string())?;
                    log(&path, &format!("{event:?}"))?;
                    seen += 1;
                }
            }
            Ok(seen)
        })
        .await
        .map_err(|error| error.to_string())?
    }

    /// With an `EventStream` active (polled once, waiting on the reactor),
    /// `cursor::position()` from the blocking pool: `(column, row)`.
    #[tau::export]
    pub async fn position_while_streaming(&self) -> Result<String, String> {
        let _raw = RawTerminal::enter()?;
        let mut events = EventStream::new();
        let pending = futures::poll!(events.next());
        if pending.is_ready() {
            return Err(format!("an event was already waiting: {pending:?}"));
        }
        let position =
            tau::task::spawn_blocking(cursor::position).await.map_err(|error| error.to_string())?;
        let (column, row) = position.map_err(|error| format!("cursor::position: {error}"))?;
        Ok(format!("{column},{row}"))
    }

    /// `cursor::position()` from the blocking pool while another task of
    /// this plugin waits in an `EventStream` (the reply wakes both): the
    /// position, or an error if it did not come within 10 s.
    #[tau::export]
    pub async fn position_with_stream_task(&self) -> Result<String, String> {
        let _raw = RawTerminal::enter()?;
        let (started, ready) = tau::sync::oneshot::channel();
        let stream = tau::spawn(async move {
            let mut events = EventStream::new();
            let first = futures::poll!(events.next());
            let _ = started.send(first.is_pending());
            events.next().await.map(|event| format!("{event:?}"))
        });
        if !ready.await.map_err(|_| "the stream task ended".to_string())? {
            return Err("an event was already waiting".to_string());
        }
        let position =
            tau::time::timeout(Duration::from_secs(10), tau::task::spawn_blocking(cursor::position))
                .await
                .map_err(|_| "cursor::position did not return within 10 s".to_string())?
                .map_err(|error| error.to_string())?;
        stream.abort();
        let (column, row) = position.map_err(|error| format!("cursor::position: {error}"))?;
        Ok(format!("{column},{row}"))
    }

    /// `event::poll(ms)` on the blocking pool with nothing typed: false,
    /// after about `ms` (returned: the milliseconds it took).
    #[tau::export]
    pub async fn idle_poll(&self, ms: u64) -> Result<u64, String> {
        tau::task::spawn_blocking(move || {
            let start = Instant::now();
            let ready = event::poll(Duration::from_millis(ms)).map_err(|error| error.to_string())?;
            if ready {
                return Err("an event arrived while nothing was typed".to_string());
            }
            Ok(start.elapsed().as_millis() as u64)
        })
        .await
        .map_err(|error| error.to_string())?
    }

    /// `event::poll(ms)` called inside this task, on the thread that drives
    /// the runtime (what the docs warn of): returns the ticks a 1 ms timer
    /// task of this plugin counted before and after the call, which are
    /// equal (nothing else ran meanwhile), and whether it waited `ms`.
    #[tau::export]
    pub async fn poll_on_runtime_thread(&self, ms: u64) -> Result<String, String> {
        use std::sync::atomic::{AtomicU64, Ordering};
        use std::sync::Arc;
        let ticks = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&ticks);
        let ticker = tau::spawn(async move {
            loop {
                tau::time::sleep(Duration::from_millis(1)).await;
                counter.fetch_add(1, Ordering::SeqCst);
            }
        });
        while ticks.load(Ordering::SeqCst) < 3 {
            tau::time::sleep(Duration::from_millis(1)).await;
        }
        let before = ticks.load(Ordering::SeqCst);
        let start = Instant::now();
        let ready = event::poll(Duration::from_millis(ms)).map_err(|error| error.to_string())?;
        let waited = start.elapsed() >= Duration::from_millis(ms);
        let after = ticks.load(Ordering::SeqCst);
        ticker.abort();
        Ok(format!("ready={ready} waited={waited} ticks_during={}", after - before))
    }

    /// Turns raw mode on and leaves it on (the unload puts it back); returns
    /// whether crossterm reports it on.
    #[tau::export]
    pub fn raw_on(&self) -> Result<bool, String> {
        terminal::enable_raw_mode().map_err(|error| format!("raw mode: {error}"))?;
        terminal::is_raw_mode_enabled().map_err(|error| error.to_string())
    }

    /// For the latency bench (`tau-host/benches/terminal.rs`): in raw mode,
    /// answers each of the next `count` key events of an `EventStream` with
    /// one byte `k` on stdout (a pipe to the bench), after one byte `r`
    /// once it listens; returns how many.
    #[tau::export]
    pub async fn echo_keys(&self, count: u32) -> Result<u32, String> {
        terminal::enable_raw_mode().map_err(|error| format!("raw mode: {error}"))?;
        let mut events = EventStream::new();
        let mut out = std::io::stdout();
        out.write_all(b"r").and_then(|()| out.flush()).map_err(|error| error.to_string())?;
        let mut seen = 0;
        while seen < count {
            match events.next().await {
                Some(Ok(event::Event::Key(_))) => {
                    out.write_all(b"k").and_then(|()| out.flush()).map_err(|error| error.to_string())?;
                    seen += 1;
                }
                Some(Ok(_)) => {}
                Some(Err(error)) => return Err(error.to_string()),
                None => break,
            }
        }
        let _ = terminal::disable_raw_mode();
        Ok(seen)
    }

    /// `event::poll` with no terminal: the error crossterm gives, as text.
    #[tau::export]
    pub fn poll_error(&self) -> String {
        match event::poll(Duration::from_millis(10)) {
            Ok(ready) => format!("no error (ready: {ready})"),
            Err(error) => format!("{:?}: {error}", error.kind()),
        }
    }
}
