//! `tokio::io::stdin` when stdin is a terminal: it reads through the
//! process's owner of the terminal (`tau::tty`), as every other reader in
//! the process does, so that none takes a key from another.

use std::io::BufRead;
use std::os::fd::{AsRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

#[path = "../../../tau-rt/tests/support/pty.rs"]
mod pty;

/// Reads `count` lines through a subscription of its own to the terminal.
async fn lines_through_the_owner(reader: &tau::tty::TtyReader, count: usize) -> Vec<String> {
    let mut bytes = Vec::new();
    let mut buf = [0u8; 64];
    while bytes.iter().filter(|byte| **byte == b'\n').count() < count {
        let read = reader.read(&mut buf).await.unwrap();
        assert_ne!(read, 0, "the terminal ended");
        bytes.extend_from_slice(&buf[..read]);
    }
    String::from_utf8(bytes).unwrap().lines().map(str::to_string).collect()
}

/// The child: its stdin is the pty. `tokio::io::stdin` reads a first line;
/// then a `tau::tty` subscription begins, and both read the next two lines.
fn child() {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
        let mut stdin = BufReader::new(tokio::io::stdin()).lines();
        assert_eq!(stdin.next_line().await.unwrap().as_deref(), Some("one"));
        let reader = tau::tty::TtyReader::subscribe(std::io::stdin()).unwrap();
        println!("ready");
        let from_stdin = async {
            let mut lines = Vec::new();
            for _ in 0..2 {
                lines.push(stdin.next_line().await.unwrap().unwrap());
            }
            lines
        };
        let (from_stdin, from_owner) = tokio::join!(from_stdin, lines_through_the_owner(&reader, 2));
        println!("stdin: {from_stdin:?}");
        println!("owner: {from_owner:?}");
    });
    std::process::exit(0);
}

/// This test binary run again as a child, its stdin a pseudo-terminal the
/// test types on; its stdout read line by line.
struct Child {
    controller: OwnedFd,
    process: std::process::Child,
    lines: mpsc::Receiver<String>,
    /// Lines that were not waited for.
    seen: Vec<String>,
}

impl Child {
    /// Runs the test `name` in a child with `TAU_STDIO_CHILD` set.
    fn start(name: &str) -> Child {
        let pty::Pty { controller, terminal } = pty::Pty::open();
        let mut process = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", name, "--nocapture"])
            .env("TAU_STDIO_CHILD", "1")
            .stdin(Stdio::from(terminal))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let (sender, lines) = mpsc::channel();
        let stdout = process.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    return;
                }
            }
        });
        Child { controller, process, lines, seen: Vec::new() }
    }

    fn type_text(&self, text: &[u8]) {
        // SAFETY: `text` is valid for its length.
        let written = unsafe { libc::write(self.controller.as_raw_fd(), text.as_ptr().cast(), text.len()) };
        assert_eq!(written, text.len() as isize);
    }

    /// The next line that begins with `prefix` (at most 30 s away).
    fn wait_for(&mut self, prefix: &str) -> String {
        loop {
            match self.lines.recv_timeout(Duration::from_secs(30)) {
                Ok(line) if line.starts_with(prefix) => return line,
                Ok(line) => self.seen.push(line),
                Err(_) => {
                    let _ = self.process.kill();
                    let _ = self.process.wait();
                    panic!("no `{prefix}` line from the child in 30 s; it printed {:?}", self.seen);
                }
            }
        }
    }

    fn succeeded(mut self) -> bool {
        self.process.wait().unwrap().success()
    }
}

/// Issue 25, item 8: before, `tokio::io::stdin` did a blocking `read(2)` of
/// the terminal on the blocking pool, and each line went to it or to the
/// owner's subscriber, never to both.
#[test]
fn stdin_and_a_terminal_subscriber_each_get_every_line() {
    if std::env::var("TAU_STDIO_CHILD").is_ok() {
        return child();
    }
    let mut child = Child::start("stdin_and_a_terminal_subscriber_each_get_every_line");
    child.type_text(b"one\n");
    child.wait_for("ready");
    child.type_text(b"two\nthree\n");
    let from_stdin = child.wait_for("stdin: ");
    let from_owner = child.wait_for("owner: ");
    assert_eq!(from_stdin, r#"stdin: ["two", "three"]"#);
    assert_eq!(from_owner, r#"owner: ["two", "three"]"#);
    assert!(child.succeeded());
}

/// A terminal stdin read on one runtime, then on another (the first one
/// gone): the library's subscription follows the runtime it is read on.
#[test]
fn stdin_is_read_on_one_runtime_then_on_another() {
    if std::env::var("TAU_STDIO_CHILD").is_ok() {
        for _ in 0..2 {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let line =
                runtime.block_on(async { BufReader::new(tokio::io::stdin()).lines().next_line().await });
            println!("line: {line:?}");
        }
        std::process::exit(0);
    }
    let mut child = Child::start("stdin_is_read_on_one_runtime_then_on_another");
    child.type_text(b"one\n");
    assert_eq!(child.wait_for("line: "), r#"line: Ok(Some("one"))"#);
    child.type_text(b"two\n");
    assert_eq!(child.wait_for("line: "), r#"line: Ok(Some("two"))"#);
    assert!(child.succeeded());
}
