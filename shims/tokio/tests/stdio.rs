//! `tokio::io::stdin` when stdin is a terminal: it reads through the
//! process's owner of the terminal (`tau::tty`), as every other reader in
//! the process does, so that none takes a key from another.

use std::io::BufRead;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

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

/// Issue 25, item 8: before, `tokio::io::stdin` did a blocking `read(2)` of
/// the terminal on the blocking pool, and each line went to it or to the
/// owner's subscriber, never to both.
#[test]
fn stdin_and_a_terminal_subscriber_each_get_every_line() {
    if std::env::var("TAU_STDIO_CHILD").is_ok() {
        return child();
    }
    let (mut controller, mut terminal) = (0, 0);
    // SAFETY: both out-pointers are valid; name, mode and size may be null.
    let opened = unsafe {
        libc::openpty(
            &mut controller,
            &mut terminal,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(opened, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: fresh fds, owned by nothing else.
    let (controller, terminal) =
        unsafe { (OwnedFd::from_raw_fd(controller), OwnedFd::from_raw_fd(terminal)) };
    let type_text = |text: &[u8]| {
        // SAFETY: `text` is valid for its length.
        let written = unsafe { libc::write(controller.as_raw_fd(), text.as_ptr().cast(), text.len()) };
        assert_eq!(written, text.len() as isize);
    };
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "stdin_and_a_terminal_subscriber_each_get_every_line", "--nocapture"])
        .env("TAU_STDIO_CHILD", "1")
        .stdin(Stdio::from(terminal))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let (sender, lines) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                return;
            }
        }
    });
    let mut seen = Vec::new();
    let mut wait_for = |prefix: &str, child: &mut std::process::Child| -> String {
        loop {
            match lines.recv_timeout(Duration::from_secs(30)) {
                Ok(line) if line.starts_with(prefix) => return line,
                Ok(line) => seen.push(line),
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("no `{prefix}` line from the child in 30 s; it printed {seen:?}");
                }
            }
        }
    };
    type_text(b"one\n");
    wait_for("ready", &mut child);
    type_text(b"two\nthree\n");
    let from_stdin = wait_for("stdin: ", &mut child);
    let from_owner = wait_for("owner: ", &mut child);
    assert_eq!(from_stdin, r#"stdin: ["two", "three"]"#);
    assert_eq!(from_owner, r#"owner: ["two", "three"]"#);
    assert!(child.wait().unwrap().success());
}
