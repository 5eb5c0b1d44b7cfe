//! `tau run` and `tau call`: text calls into loaded plugins.

use std::io::{self, BufRead, IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tau::tty::TtyReader;

use tau_host::{Host, Plugin};

use super::words;

/// Where `tau run` reads its commands.
pub(crate) enum Input {
    /// A file or a pipe: `read_line` on the blocking pool, so the runtime
    /// (and the plugins' background tasks) keeps running while it waits.
    Lines(Arc<Mutex<dyn BufRead + Send>>),
    /// A terminal: through the process's owner of it (`tau::tty`), as the
    /// plugins' crossterm reads it, so that a read of ours never takes
    /// their keys. Subscribed only while a command is awaited: what is
    /// typed while a command runs is that command's.
    Terminal {
        /// Typed ahead: bytes after the last line ended.
        pending: Vec<u8>,
        /// The terminal's end of file (Ctrl-D) was read.
        ended: bool,
    },
}

impl Input {
    /// The process's stdin.
    pub(crate) fn stdin() -> Input {
        let stdin = io::stdin();
        if stdin.is_terminal() {
            Input::Terminal { pending: Vec::new(), ended: false }
        } else {
            Input::Lines(Arc::new(Mutex::new(io::BufReader::new(stdin))))
        }
    }

    /// The next line (with its end), `None` at the end of the input.
    async fn next_line(&mut self) -> io::Result<Option<String>> {
        match self {
            Input::Lines(input) => {
                let input = Arc::clone(input);
                tau::task::spawn_blocking(move || {
                    let mut line = String::new();
                    let read = input.lock().unwrap_or_else(|poison| poison.into_inner()).read_line(&mut line);
                    read.map(|bytes| (bytes > 0).then_some(line))
                })
                .await
                .map_err(io::Error::other)?
            }
            Input::Terminal { pending, ended } => {
                let mut reader = None;
                loop {
                    // A line ends at Enter: `\n` in cooked mode, `\r` if a
                    // plugin left the terminal raw.
                    if let Some(end) = pending.iter().position(|byte| matches!(byte, b'\n' | b'\r')) {
                        let line: Vec<u8> = pending.drain(..=end).collect();
                        return Ok(Some(String::from_utf8_lossy(&line).into_owned()));
                    }
                    if *ended {
                        return Ok(None);
                    }
                    let reader = match &reader {
                        Some(reader) => reader,
                        None => reader.insert(subscribe_stdin()?),
                    };
                    let mut buf = [0u8; 1024];
                    let count = reader.read(&mut buf).await?;
                    if count == 0 {
                        // A last line without its end, then the end.
                        *ended = true;
                        let last = std::mem::take(pending);
                        return Ok((!last.is_empty()).then(|| String::from_utf8_lossy(&last).into_owned()));
                    }
                    pending.extend_from_slice(&buf[..count]);
                }
            }
        }
    }
}

/// A subscription to the terminal that is stdin.
fn subscribe_stdin() -> io::Result<TtyReader> {
    TtyReader::subscribe(io::stdin()).map_err(|error| {
        let message = format!(
            "stdin is a terminal that tau's terminal owner cannot read ({error}); give the commands on a \
             pipe or in a file instead"
        );
        io::Error::new(error.kind(), message)
    })
}

/// Reads commands from `input` until its end, one per line, and prints each
/// result on `out` (errors on stderr); the session goes on after errors.
/// Returns how many commands failed.
pub(crate) fn run(host: &Host, mut input: Input, grace: Duration) -> usize {
    host.block_on(async {
        let mut failures = 0;
        loop {
            let line = match input.next_line().await {
                Ok(Some(line)) => line,
                Ok(None) => break,
                Err(error) => {
                    eprintln!("error: reading stdin: {error}");
                    failures += 1;
                    break;
                }
            };
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            match execute(host, line).await {
                Ok(text) => print_line(&text),
                Err(message) => {
                    eprintln!("error: {message}");
                    failures += 1;
                }
            }
        }
        settle(host, grace).await;
        failures
    })
}

/// Runs one command line, `<export> [args…]` or `<plugin>.<export> [args…]`.
pub(crate) async fn execute(host: &Host, line: &str) -> Result<String, String> {
    let words = words::split(line)?;
    let Some((target, args)) = words.split_first() else { return Err("empty command".to_string()) };
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    call(host, target, &args).await
}

/// Calls `target` (`export` or `plugin.export`) with text arguments.
pub(crate) async fn call(host: &Host, target: &str, args: &[&str]) -> Result<String, String> {
    let (plugin, export) = resolve(host, target)?;
    let call = plugin.call_text(export, args).map_err(|error| error.to_string())?;
    call.await.map_err(|error| error.to_string())
}

/// Finds which plugin `target` (`export` or `plugin.export`) means.
fn resolve<'h>(host: &'h Host, target: &'h str) -> Result<(&'h Plugin, &'h str), String> {
    if let Some((plugin_name, export)) = target.split_once('.') {
        let wanted = plugin_name.replace('_', "-");
        let plugin =
            host.plugins().find(|plugin| plugin.name().replace('_', "-") == wanted).ok_or_else(|| {
                let loaded: Vec<&str> = host.plugins().map(Plugin::name).collect();
                format!("no plugin `{plugin_name}` is loaded; loaded: {}", loaded.join(", "))
            })?;
        return Ok((plugin, export));
    }
    let owners: Vec<&Plugin> = host.plugins().filter(|plugin| plugin.export(target).is_some()).collect();
    match owners.as_slice() {
        [plugin] => Ok((plugin, target)),
        [] => {
            let available: Vec<String> = host
                .plugins()
                .flat_map(|plugin| {
                    plugin.exports().map(move |export| format!("{}.{}", plugin.name(), export.name()))
                })
                .collect();
            Err(format!("no loaded plugin exports `{target}`; the exports are: {}", available.join(", ")))
        }
        several => {
            let names: Vec<&str> = several.iter().map(|plugin| plugin.name()).collect();
            Err(format!(
                "`{target}` is exported by {}; say which with `<plugin>.{target}`",
                names.join(" and ")
            ))
        }
    }
}

/// Drives the runtime until no plugin has a task left (tasks the calls
/// spawned and left running in the background), for at most `grace`.
/// Returns false if some were still running then (unloading cancels them).
/// Woken by the plugins' last tasks ending, not by polling.
pub(crate) async fn settle(host: &Host, grace: Duration) -> bool {
    let all_idle = async {
        for plugin in host.plugins() {
            plugin.idle().await;
        }
    };
    tau::time::timeout(grace, all_idle).await.is_ok()
}

/// Parses a duration as `tau run --grace` takes it: `250ms`, `2s`, `1.5s`,
/// `1m`, or a plain number of seconds.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration; write e.g. `500ms`, `2s` or `1m`"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        other => return Err(format!("`{other}` in `{text}` is not a unit of time; use `ms`, `s` or `m`")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("`{text}` is not a duration tau can wait for"))
}

fn print_line(text: &str) {
    let mut stdout = std::io::stdout().lock();
    // A closed stdout (e.g. `| head`) ends output, not the session.
    let _ = writeln!(stdout, "{text}");
    let _ = stdout.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units_or_as_seconds() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert!(parse_duration("soon").unwrap_err().contains("not a duration"));
        assert!(parse_duration("5h").unwrap_err().contains("`h`"));
    }
}
