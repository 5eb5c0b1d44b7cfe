//! End-to-end, in a real terminal: crossterm inside a plugin (tau's overlay,
//! no mio) under tmux. The host (`tau call`) runs in a tmux pane; the test
//! types with `send-keys`, resizes with `resize-window`, pastes with
//! `paste-buffer -p`, and compares the exact `Event` values the plugin logs.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{cache_dir, example, library};

/// A tmux server of the test's own (its own socket), killed when dropped.
struct Tmux {
    socket: String,
    dir: tempfile::TempDir,
}

impl Tmux {
    /// A server not started yet, and a directory for the pane's files.
    fn new() -> Tmux {
        let dir = tempfile::tempdir().unwrap();
        let socket =
            format!("tau-test-{}-{}", std::process::id(), dir.path().file_name().unwrap().to_string_lossy());
        Tmux { socket, dir }
    }

    /// Starts `shell_command` in a detached 80×24 session named `t`.
    fn start(&self, shell_command: &str) {
        self.run(&["new-session", "-d", "-s", "t", "-x", "80", "-y", "24", shell_command]);
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run(&self, args: &[&str]) -> String {
        let output = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("tmux is installed (scripts/install-deps.sh installs it)");
        assert!(output.status.success(), "tmux {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "t"])
    }

    /// Waits until the screen shows every one of `texts` (read every 20 ms,
    /// for at most 60 s: what a terminal shows has no event of its own).
    fn wait_for_screen(&self, texts: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let screen = self.screen();
            if texts.iter().all(|text| screen.contains(text)) {
                return screen;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {texts:?} on the screen:\n{screen}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").arg("-L").arg(&self.socket).arg("kill-server").output();
    }
}

/// The pane's command: `tau call <term-plugin> <args>` (see [`tau_pane`]).
fn pane_command(tmux: &Tmux, prelude: &str, args: &str) -> String {
    tau_pane(tmux, prelude, &format!("call {} {args}", library("term-plugin").display()))
}

/// The pane's command: `tau <args>`, then its exit code and `stty -a`
/// written to the directory, then the `done` channel signalled (see
/// [`finished`]), then it waits to be killed.
fn tau_pane(tmux: &Tmux, prelude: &str, args: &str) -> String {
    format!(
        "{prelude}TAU_CACHE_DIR={cache} {tau} {args} 2>{err}; echo $? > {rc}; stty -a > {stty}; \
         tmux -L {socket} wait-for -S done; sleep 600",
        cache = cache_dir().display(),
        tau = env!("CARGO_BIN_EXE_tau"),
        err = tmux.path("err").display(),
        rc = tmux.path("rc").display(),
        stty = tmux.path("stty").display(),
        socket = tmux.socket,
    )
}

/// Waits for the pane's command to signal `done` (at most 60 s); returns
/// the host's exit code and what it wrote on stderr.
fn finished(tmux: &Tmux) -> (String, String) {
    let status = Command::new("timeout")
        .args(["60", "tmux", "-L", &tmux.socket, "wait-for", "done"])
        .status()
        .expect("timeout (coreutils) runs");
    let errors = std::fs::read_to_string(tmux.path("err")).unwrap_or_default();
    assert!(status.success(), "the host did not exit within 60 s ({status}); its stderr: {errors}");
    let rc = std::fs::read_to_string(tmux.path("rc")).unwrap();
    (rc.trim().to_string(), errors)
}

/// The plugin's log, a FIFO the test reads: each line the plugin writes
/// (it opens the file for each) arrives as it is written.
struct Log {
    lines: Vec<String>,
    arrivals: std::sync::mpsc::Receiver<String>,
    /// What a timeout reports: the pane's screen and the host's stderr.
    diagnose: Box<dyn Fn() -> String>,
}

impl Log {
    fn at(tmux: &Tmux, path: &Path) -> Log {
        let name = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: `name` is a valid C string for the call.
        assert_eq!(
            unsafe { libc::mkfifo(name.as_ptr(), 0o600) },
            0,
            "mkfifo: {}",
            std::io::Error::last_os_error()
        );
        let (sender, arrivals) = std::sync::mpsc::channel();
        // Open once, for reading and writing, and never closed: the pipe
        // always has a reader (the plugin's opens never wait) and never
        // sees its end. A reader that closed and opened again per writer
        // would lose a line written between its end of file and its close
        // (the kernel drops what a pipe holds when its last reader goes).
        // The thread ends with the test's receiver.
        let fifo = std::fs::OpenOptions::new().read(true).write(true).open(path).unwrap();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(fifo).lines() {
                let Ok(line) = line else { return };
                if sender.send(line).is_err() {
                    return;
                }
            }
        });
        let (socket, err) = (tmux.socket.clone(), tmux.path("err"));
        let diagnose = Box::new(move || {
            let screen = Command::new("tmux").args(["-L", &socket, "capture-pane", "-p", "-t", "t"]).output();
            let screen =
                screen.map(|out| String::from_utf8_lossy(&out.stdout).into_owned()).unwrap_or_default();
            let errors = std::fs::read_to_string(&err).unwrap_or_default();
            format!("the screen:\n{screen}\nthe host's stderr:\n{errors}")
        });
        Log { lines: Vec::new(), arrivals, diagnose }
    }

    /// Waits (at most 60 s) until `count` lines have arrived; returns them.
    fn wait(&mut self, count: usize) -> &[String] {
        while self.lines.len() < count {
            match self.arrivals.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => self.lines.push(line),
                Err(error) => panic!(
                    "waiting for line {} of the log ({error}); so far: {:?}\n{}",
                    count,
                    self.lines,
                    (self.diagnose)()
                ),
            }
        }
        &self.lines[..count]
    }
}

fn key(code: &str, modifiers: &str) -> String {
    format!("Key(KeyEvent {{ code: {code}, modifiers: KeyModifiers({modifiers}), kind: Press, state: KeyEventState(0x0) }})")
}

/// Types letters, an arrow and Ctrl-C, resizes the window, pastes and types
/// Enter; checks the seven events the plugin's export `export` logged, its
/// exit code and the terminal mode it left.
fn type_and_resize(export: &str) {
    let tmux = Tmux::new();
    let mut log = Log::at(&tmux, &tmux.path("log"));
    tmux.start(&pane_command(&tmux, "", &format!("{export} {} 7", tmux.path("log").display())));
    assert_eq!(log.wait(1), ["ready"]);
    tmux.keys(&["a", "B", "Left", "C-c"]);
    log.wait(5);
    tmux.run(&["resize-window", "-t", "t", "-x", "100", "-y", "30"]);
    log.wait(6);
    tmux.run(&["set-buffer", "pasted text"]);
    tmux.run(&["paste-buffer", "-p", "-t", "t"]);
    log.wait(7);
    tmux.keys(&["Enter"]);
    let events = log.wait(8)[1..].to_vec();
    let (rc, errors) = finished(&tmux);
    assert_eq!(rc, "0", "the host failed: {errors}");
    assert_eq!(
        events,
        [
            key("Char('a')", "0x0"),
            key("Char('B')", "SHIFT"),
            key("Left", "0x0"),
            key("Char('c')", "CONTROL"),
            "Resize(100, 30)".to_string(),
            "Paste(\"pasted text\")".to_string(),
            key("Enter", "0x0"),
        ]
    );
    // The plugin left raw mode on its way out: the pane is cooked again.
    let stty = std::fs::read_to_string(tmux.path("stty")).unwrap();
    assert!(stty.split_whitespace().any(|flag| flag == "icanon"), "{stty}");
    assert!(stty.split_whitespace().any(|flag| flag == "echo"), "{stty}");
}

#[test]
fn event_stream_reports_keys_resizes_and_pastes_exactly() {
    type_and_resize("record");
}

#[test]
fn poll_and_read_report_keys_resizes_and_pastes_exactly() {
    type_and_resize("record_sync");
}

#[test]
fn cursor_position_while_an_event_stream_waits() {
    position_is_9_4("position_while_streaming");
}

#[test]
fn cursor_position_from_the_blocking_pool_while_a_stream_task_waits() {
    position_is_9_4("position_with_stream_task");
}

fn position_is_9_4(export: &str) {
    let tmux = Tmux::new();
    // Column 10, row 5 (1-based in the escape sequence; crossterm is 0-based).
    tmux.start(&pane_command(&tmux, "clear; printf '\\033[5;10H'; ", export));
    let (rc, errors) = finished(&tmux);
    assert_eq!(rc, "0", "the host failed: {errors}");
    let screen = tmux.screen();
    assert!(screen.lines().any(|line| line.trim() == "9,4"), "the position printed: {screen}");
}

#[test]
fn no_terminal_is_a_clear_error() {
    // No controlling terminal (a new session) and stdin not a tty.
    let output = Command::new("setsid")
        .arg("-w")
        .arg(env!("CARGO_BIN_EXE_tau"))
        .args(["call", &library("term-plugin").to_string_lossy(), "poll_error"])
        .env("TAU_CACHE_DIR", cache_dir())
        .stdin(Stdio::null())
        .output()
        .expect("setsid (util-linux) runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    // crossterm opens /dev/tty, which a process without a terminal cannot;
    // its reader says so (upstream's words, then the cause), and the host
    // goes on (the export returned, the exit code is 0).
    assert_eq!(
        stdout.trim(),
        "Other: Failed to initialize input reader: no terminal: stdin is not a tty and /dev/tty cannot be \
         opened (No such device or address (os error 6)); run the program in a terminal"
    );
}

#[test]
fn another_plugins_timer_fires_while_poll_waits() {
    let tmux = Tmux::new();
    // stdin is the command file, so crossterm reads the pane through /dev/tty.
    let commands = tmux.path("commands");
    std::fs::write(&commands, "start 10\nticks\nidle_poll 1000\nticks\npoll_on_runtime_thread 300\n")
        .unwrap();
    let out = tmux.path("out");
    let args = format!(
        "run {} {} <{} >{}",
        library("term-plugin").display(),
        library("ticker-plugin").display(),
        commands.display(),
        out.display()
    );
    tmux.start(&tau_pane(&tmux, "", &args));
    let (rc, errors) = finished(&tmux);
    assert_eq!(rc, "0", "the host failed: {errors}");
    let out = std::fs::read_to_string(out).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}");
    assert_eq!(lines[0], "started");
    let number = |line: &str| line.parse::<u64>().unwrap_or_else(|_| panic!("a number: {line:?} in {out}"));
    let (before, waited_ms, after) = (number(lines[1]), number(lines[2]), number(lines[3]));
    assert!(waited_ms >= 1000, "poll(1 s) returned false after {waited_ms} ms");
    // A 10 ms timer wakes up to 100 times in that second; a runtime stalled
    // by the poll would have woken it at most once.
    assert!(after - before >= 20, "the other plugin's timer woke {} times in {waited_ms} ms", after - before);
    // On the runtime's thread the poll blocks it, as documented: the
    // plugin's own 1 ms timer did not run during the 300 ms.
    assert_eq!(lines[4], "ready=false waited=true ticks_during=0");
}

#[test]
fn the_ratatui_example_draws_counts_keys_and_follows_resizes() {
    let tmux = Tmux::new();
    // `tau run` reads its commands from stdin (a file here); crossterm then
    // reads the keys from the pane through /dev/tty. The app draws on
    // stdout, the pane, where `tau run` prints the result after it.
    let commands = tmux.path("commands");
    std::fs::write(&commands, "run\n").unwrap();
    let args = format!("run {} <{}", example("tui").display(), commands.display());
    tmux.start(&tau_pane(&tmux, "", &args));
    tmux.wait_for_screen(&["tau tui", "count: 0", "size: 80x24", "keys: 0"]);
    tmux.keys(&["+", "+", "+", "-", "Right"]);
    let screen = tmux.wait_for_screen(&["count: 2", "keys: 5"]);
    // The marker moved one column right of the border's inner edge.
    assert!(screen.lines().any(|line| line.starts_with("│ ^ ")), "{screen}");
    tmux.run(&["resize-window", "-t", "t", "-x", "70", "-y", "18"]);
    let screen = tmux.wait_for_screen(&["size: 70x18"]);
    assert_eq!(screen.lines().next().map(|line| line.chars().count()), Some(70), "{screen}");
    tmux.keys(&["q"]);
    let (rc, errors) = finished(&tmux);
    assert_eq!(rc, "0", "the host failed: {errors}");
    let screen = tmux.screen();
    assert!(screen.lines().any(|line| line == "count=2 keys=6"), "{screen}");
    let stty = std::fs::read_to_string(tmux.path("stty")).unwrap();
    assert!(stty.split_whitespace().any(|flag| flag == "icanon"), "{stty}");
}

#[test]
fn unload_puts_back_the_mode_raw_mode_replaced() {
    let tmux = Tmux::new();
    // The plugin turns raw mode on and returns; `tau call` then unloads it.
    tmux.start(&pane_command(&tmux, "", "raw_on"));
    let (rc, errors) = finished(&tmux);
    assert_eq!(rc, "0", "the host failed: {errors}");
    assert!(tmux.screen().lines().any(|line| line.trim() == "true"), "raw mode was on: {}", tmux.screen());
    assert_cooked(&tmux, "after the unload");
}
/// The mode the pane was left in (`stty -a` after the host exited) is
/// cooked: `when` says at which point, for the message.
fn assert_cooked(tmux: &Tmux, when: &str) {
    let stty = std::fs::read_to_string(tmux.path("stty")).unwrap();
    let flags: Vec<&str> = stty.split_whitespace().collect();
    for flag in ["icanon", "echo", "isig", "icrnl", "opost"] {
        assert!(flags.contains(&flag), "{flag} is off {when}: {stty}");
    }
}

#[test]
fn two_crossterm_plugins_each_get_every_key_whole_and_share_raw_mode() {
    let tmux = Tmux::new();
    // term-plugin (crossterm 0.29) and term-peer (the same code on
    // crossterm 0.28): two copies of crossterm's statics in one host, each
    // with a stream waiting in a task of its own.
    let (first_log, second_log) = (tmux.path("first"), tmux.path("second"));
    let (mut first, mut second) = (Log::at(&tmux, &first_log), Log::at(&tmux, &second_log));
    let commands = tmux.path("commands");
    std::fs::write(
        &commands,
        format!(
            "term_plugin.record_background {} 4\nterm_peer.record_background {} 6\nterm_plugin.finish\n\
             term_peer.finish\n",
            first_log.display(),
            second_log.display()
        ),
    )
    .unwrap();
    // stdout is the pane: bracketed paste is turned on there.
    let args = format!(
        "run {} {} <{}",
        library("term-plugin").display(),
        library("term-peer").display(),
        commands.display()
    );
    tmux.start(&tau_pane(&tmux, "", &args));
    assert_eq!(first.wait(1), ["ready"]);
    assert_eq!(second.wait(1), ["ready"]);
    // An arrow and a paste are escape sequences: split between two readers,
    // neither would parse.
    tmux.keys(&["a", "Left"]);
    tmux.run(&["set-buffer", "pasted text"]);
    tmux.run(&["paste-buffer", "-p", "-t", "t"]);
    tmux.keys(&["C-c"]);
    let together = [
        key("Char('a')", "0x0"),
        key("Left", "0x0"),
        "Paste(\"pasted text\")".to_string(),
        key("Char('c')", "CONTROL"),
    ];
    let mut expected_first = vec!["ready".to_string()];
    expected_first.extend(together.iter().cloned());
    expected_first.push("done".to_string());
    assert_eq!(first.wait(6), expected_first);
    // The first plugin let go of raw mode; the second still wants it, so
    // what is typed now arrives key by key (in cooked mode the line
    // discipline would hold it back until Enter).
    assert_eq!(second.wait(5)[1..], together);
    tmux.keys(&["Right", "z"]);
    let mut expected_second = vec!["ready".to_string()];
    expected_second.extend(together.iter().cloned());
    expected_second.extend([key("Right", "0x0"), key("Char('z')", "0x0"), "done".to_string()]);
    assert_eq!(second.wait(8), expected_second);
    let (rc, errors) = finished(&tmux);
    assert_eq!(rc, "0", "the host failed: {errors}");
    assert!(!errors.contains("error"), "a command failed: {errors}");
    // Nobody wants raw mode any more: the pane is cooked again.
    assert_cooked(&tmux, "at the end");
}

#[test]
fn a_plugin_does_not_take_another_plugins_position_reply_for_its_own() {
    let tmux = Tmux::new();
    // Every crossterm in the host sees the terminal's reply to every
    // position query. term-peer asks (9,4, where the pane put the cursor),
    // then term-plugin (one line down: the answer was printed), then
    // term-peer again: the reply to term-plugin's query, still waiting in
    // term-peer's stream, is not the answer to its second one.
    let commands = tmux.path("commands");
    std::fs::write(
        &commands,
        "term_peer.position_while_streaming\nterm_plugin.position_while_streaming\n\
         term_peer.position_while_streaming\n",
    )
    .unwrap();
    let args = format!(
        "run {} {} <{}",
        library("term-plugin").display(),
        library("term-peer").display(),
        commands.display()
    );
    tmux.start(&tau_pane(&tmux, "clear; printf '\\033[5;10H'; ", &args));
    let (rc, errors) = finished(&tmux);
    assert_eq!(rc, "0", "the host failed: {errors}");
    assert!(!errors.contains("error"), "a command failed: {errors}");
    let screen = tmux.screen();
    let positions: Vec<&str> = screen.lines().map(str::trim).filter(|line| !line.is_empty()).collect();
    assert_eq!(positions, ["9,4", "0,5", "0,6"], "{screen}");
}

#[test]
fn tau_run_reading_commands_from_the_terminal_takes_no_key_from_a_plugin() {
    let tmux = Tmux::new();
    let log_path = tmux.path("log");
    let mut log = Log::at(&tmux, &log_path);
    // stdin is the pane: the commands are typed there too.
    let args = format!("run {}", library("term-plugin").display());
    tmux.start(&tau_pane(&tmux, "", &args));
    tmux.keys(&[&format!("record_background {} 3", log_path.display()), "Enter"]);
    assert_eq!(log.wait(1), ["ready"]);
    // `tau run` waits for its next command meanwhile. Before, its
    // `read(2)` of the pane took some of these keys from the plugin.
    tmux.keys(&["a", "Left", "C-c"]);
    assert_eq!(
        log.wait(5)[1..],
        [key("Char('a')", "0x0"), key("Left", "0x0"), key("Char('c')", "CONTROL"), "done".to_string()]
    );
    // `tau run` saw those keys too (every reader of the terminal does): an
    // Enter makes them a command, which fails; Ctrl-D ends the session.
    tmux.keys(&["Enter", "C-d"]);
    let (rc, errors) = finished(&tmux);
    assert_eq!(rc, "0", "the host failed: {errors}");
    assert_cooked(&tmux, "at the end");
}
