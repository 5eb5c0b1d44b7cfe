//! `tokio::process` on tau's runtime: real children, statuses and pipes.

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{ChildStdout, Command};

/// Whether `pid` names a process (a zombie counts: it is not reaped yet).
fn exists(pid: u32) -> bool {
    // SAFETY: signal 0 only checks that the pid exists and may be signalled.
    let result = unsafe { libc::kill(pid as libc::pid_t, 0) };
    result == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// Polls (with timer sleeps, so the runtime keeps running) until `pid` is
/// gone, up to 5 s.
async fn wait_until_gone(pid: u32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if !exists(pid) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

#[tokio::test]
async fn echo_output() {
    let output = Command::new("echo").arg("hi").output().await.unwrap();
    assert!(output.status.success());
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(output.stdout, b"hi\n");
    assert_eq!(output.stderr, b"");
}

#[tokio::test]
async fn exit_codes_and_stderr() {
    let status = Command::new("sh").args(["-c", "exit 3"]).status().await.unwrap();
    assert_eq!(status.code(), Some(3));
    assert!(!status.success());

    let output = Command::new("sh").arg("-c").arg("echo out; echo err >&2; exit 7").output().await.unwrap();
    assert_eq!(output.status.code(), Some(7));
    assert_eq!(output.stdout, b"out\n");
    assert_eq!(output.stderr, b"err\n");
}

#[tokio::test]
async fn environment_directory_and_arg0() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new("sh")
        .args(["-c", "echo \"$GREETING $0\"; pwd; echo \"${HOME-unset}\""])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .envs([("GREETING", "hello"), ("HOME", "/nowhere")])
        .env_remove("HOME")
        .current_dir(dir.path())
        .arg0("renamed")
        .output()
        .await
        .unwrap();
    let expected =
        format!("hello renamed\n{}\nunset\n", std::fs::canonicalize(dir.path()).unwrap().display());
    assert_eq!(String::from_utf8(output.stdout).unwrap(), expected);
}

#[tokio::test]
async fn stdin_piped_to_cat() {
    let mut child = Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    // More than a pipe's buffer, so the write has to wait for cat to read.
    let data: Vec<u8> = (0..200_000u32).map(|n| (n % 251) as u8).collect();
    let to_write = data.clone();
    let writer = tokio::spawn(async move {
        stdin.write_all(&to_write).await.unwrap();
        stdin.flush().await.unwrap();
        // Dropped: cat sees end of file.
    });
    let mut echoed = Vec::new();
    stdout.read_to_end(&mut echoed).await.unwrap();
    writer.await.unwrap();
    assert_eq!(echoed.len(), data.len());
    assert_eq!(echoed, data);
    assert!(child.wait().await.unwrap().success());
    // The status is kept.
    assert!(child.wait().await.unwrap().success());
    assert_eq!(child.id(), None);
}

#[tokio::test]
async fn wait_with_output_closes_stdin() {
    let mut child = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.as_mut().unwrap().write_all(b"line one\nline two\n").await.unwrap();
    let output = child.wait_with_output().await.unwrap();
    assert!(output.status.success());
    assert_eq!(output.stdout, b"line one\nline two\n");
    assert!(output.stderr.is_empty());
}

#[tokio::test]
async fn try_wait_then_kill() {
    let mut child = Command::new("sleep").arg("5").spawn().unwrap();
    let pid = child.id().unwrap();
    assert!(child.try_wait().unwrap().is_none());
    assert_eq!(child.id(), Some(pid));
    child.kill().await.unwrap();
    let status = child.try_wait().unwrap().expect("reaped by kill");
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    assert_eq!(status.code(), None);
    assert_eq!(child.wait().await.unwrap().signal(), Some(9));
    assert!(!exists(pid));
    // Killing a reaped child is fine.
    child.start_kill().unwrap();
}

#[tokio::test]
async fn start_kill_then_wait() {
    let mut child = Command::new("sleep").arg("5").spawn().unwrap();
    child.start_kill().unwrap();
    let status = child.wait().await.unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL));
}

#[tokio::test]
async fn kill_on_drop_kills_and_reaps() {
    let mut command = Command::new("sleep");
    command.arg("30").kill_on_drop(true);
    assert!(command.get_kill_on_drop());
    let child = command.spawn().unwrap();
    let pid = child.id().unwrap();
    assert!(exists(pid));
    drop(child);
    // Killed and reaped in the background: no zombie remains.
    assert!(wait_until_gone(pid).await, "pid {pid} still exists (a zombie?)");
}

#[tokio::test]
async fn dropped_child_is_reaped_once_it_exits() {
    let mut child = Command::new("sh").args(["-c", "read line"]).stdin(Stdio::piped()).spawn().unwrap();
    let pid = child.id().unwrap();
    let stdin = child.stdin.take().unwrap();
    drop(child);
    // Without kill_on_drop it goes on running.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(exists(pid));
    drop(stdin); // now it exits
    assert!(wait_until_gone(pid).await, "pid {pid} was never reaped");
}

#[tokio::test]
async fn missing_program_is_not_found() {
    let error = Command::new("/definitely/not/a/program").spawn().unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
    let error = Command::new("no-such-program-tau-shim").output().await.unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
}

#[tokio::test]
async fn wait_does_not_block_the_runtime_thread() {
    let ticks = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&ticks);
    let ticker = tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_millis(10));
        loop {
            interval.tick().await;
            counter.fetch_add(1, Ordering::Relaxed);
        }
    });
    let started = Instant::now();
    let status = Command::new("sleep").arg("0.3").status().await.unwrap();
    assert!(status.success());
    assert!(started.elapsed() >= Duration::from_millis(300));
    // The ticker ran all along on the same thread (about 30 ticks).
    let seen = ticks.load(Ordering::Relaxed);
    assert!(seen >= 10, "only {seen} ticks while waiting");
    ticker.abort();
}

#[tokio::test]
async fn wait_does_not_reap_other_children() {
    let mut other = std::process::Command::new("true").spawn().unwrap();
    let other_pid = other.id();
    // Let it exit (and stay a zombie until reaped).
    tokio::time::sleep(Duration::from_millis(50)).await;
    let status = Command::new("true").status().await.unwrap();
    assert!(status.success());
    // Still there to be reaped by its owner.
    assert!(exists(other_pid));
    assert!(other.wait().unwrap().success());
}

#[tokio::test]
async fn many_children_at_once() {
    let mut children = Vec::new();
    for n in 0..16 {
        children.push(tokio::spawn(async move {
            Command::new("sh").arg("-c").arg(format!("exit {n}")).status().await.unwrap().code()
        }));
    }
    for (n, child) in children.into_iter().enumerate() {
        assert_eq!(child.await.unwrap(), Some(n as i32));
    }
}

#[tokio::test]
async fn pipes_convert_to_std_and_back() {
    // `echo`'s stdout becomes `tr`'s stdin.
    let mut first = Command::new("echo").arg("pipeline").stdout(Stdio::piped()).spawn().unwrap();
    let stdout: ChildStdout = first.stdout.take().unwrap();
    let stdio: Stdio = stdout.try_into().unwrap();
    let output = Command::new("tr").args(["a-z", "A-Z"]).stdin(stdio).output().await.unwrap();
    assert_eq!(output.stdout, b"PIPELINE\n");
    assert!(first.wait().await.unwrap().success());

    // A std child's pipes wrapped afterwards.
    let mut std_child = std::process::Command::new("sh")
        .args(["-c", "cat; echo done >&2"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = tokio::process::ChildStdin::from_std(std_child.stdin.take().unwrap()).unwrap();
    let stdout = ChildStdout::from_std(std_child.stdout.take().unwrap()).unwrap();
    let stderr = tokio::process::ChildStderr::from_std(std_child.stderr.take().unwrap()).unwrap();
    use std::os::fd::{AsFd, AsRawFd};
    assert_eq!(stdin.as_fd().as_raw_fd(), stdin.as_raw_fd());
    stdin.write_all(b"one\ntwo\n").await.unwrap();
    drop(stdin);
    let mut lines = BufReader::new(stdout).lines();
    assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("one"));
    assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("two"));
    assert_eq!(lines.next_line().await.unwrap(), None);
    let mut err = String::new();
    BufReader::new(stderr).read_to_string(&mut err).await.unwrap();
    assert_eq!(err, "done\n");
    assert!(std_child.wait().unwrap().success());

    // into_owned_fd is blocking again.
    let mut child = Command::new("true").stdout(Stdio::piped()).spawn().unwrap();
    let fd = child.stdout.take().unwrap().into_owned_fd().unwrap();
    // SAFETY: F_GETFL only reads the flags of an open fd.
    let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
    assert_eq!(flags & libc::O_NONBLOCK, 0);
    child.wait().await.unwrap();
}

#[tokio::test]
async fn process_group_and_std_access() {
    let mut command = Command::new("sh");
    command.args(["-c", "ps -o pgid= -p $$ 2>/dev/null || echo none"]).process_group(0);
    assert_eq!(command.as_std().get_program(), "sh");
    command.as_std_mut().stdout(Stdio::piped());
    let child = command.spawn().unwrap();
    let pid = child.id().unwrap();
    let output = child.wait_with_output().await.unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    // Its own group, whose id is its pid (where `ps` is installed).
    if text.trim() != "none" {
        assert_eq!(text.trim(), pid.to_string());
    }

    let std: std::process::Command = Command::new("true").into_std();
    assert_eq!(std.get_program(), "true");
    let mut from_std = Command::from(std);
    assert!(from_std.status().await.unwrap().success());
}

#[tokio::test]
async fn pre_exec_runs_in_the_child() {
    let mut command = Command::new("true");
    // SAFETY: the closure only returns an error value: no allocation, no locks.
    unsafe {
        command.pre_exec(|| Err(std::io::Error::from_raw_os_error(libc::EPERM)));
    }
    let error = command.spawn().unwrap_err();
    assert_eq!(error.raw_os_error(), Some(libc::EPERM));
}

#[tokio::test]
async fn uid_and_gid() {
    // SAFETY: getuid and getgid cannot fail and touch no memory.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    let output = Command::new("sh").args(["-c", "id -u; id -g"]).uid(uid).gid(gid).output().await.unwrap();
    assert_eq!(String::from_utf8(output.stdout).unwrap(), format!("{uid}\n{gid}\n"));
}

#[tokio::test]
async fn waited_for_off_the_runtime_thread() {
    // Polled off the runtime's thread the pidfd cannot be registered: the
    // exit is waited for by a blocking-pool job instead.
    let mut child = Command::new("sh").args(["-c", "sleep 0.1; exit 4"]).spawn().unwrap();
    let pid = child.id().unwrap();
    let status = tokio::task::spawn_blocking(move || {
        let status = tokio::runtime::Handle::current().block_on(child.wait());
        assert_eq!(child.id(), None);
        status
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(status.code(), Some(4));
    assert!(!exists(pid));
}

#[tokio::test]
async fn spawned_off_the_runtime_thread() {
    let mut child =
        tokio::task::spawn_blocking(|| Command::new("sh").args(["-c", "sleep 0.1; exit 5"]).spawn())
            .await
            .unwrap()
            .unwrap();
    assert!(child.try_wait().unwrap().is_none());
    assert_eq!(child.wait().await.unwrap().code(), Some(5));

    let child = tokio::task::spawn_blocking(|| Command::new("sleep").arg("30").kill_on_drop(true).spawn())
        .await
        .unwrap()
        .unwrap();
    let pid = child.id().unwrap();
    drop(child);
    assert!(wait_until_gone(pid).await, "pid {pid} still exists (a zombie?)");

    // Pipes need the reactor: a clear error, and the child is not left behind.
    let error = tokio::task::spawn_blocking(|| {
        Command::new("sleep").arg("30").stdout(Stdio::piped()).kill_on_drop(true).spawn().unwrap_err()
    })
    .await
    .unwrap();
    assert!(error.to_string().contains("runtime's thread"), "{error}");
}

#[test]
fn types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>(_: &T) {}
    send_sync::<Command>();
    send_sync::<tokio::process::Child>();
    send_sync::<tokio::process::ChildStdin>();
    send_sync::<ChildStdout>();
    send_sync::<tokio::process::ChildStderr>();
    send_sync::<tokio::fs::File>();
    send_sync::<tokio::fs::ReadDir>();
    send_sync::<tokio::fs::DirEntry>();
    send_sync::<tokio::fs::OpenOptions>();
    // Spawning needs a runtime (the pipes join its reactor), as tokio's.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let mut command = Command::new("true");
        let output = command.output();
        send(&output);
        let status = command.status();
        send(&status);
        assert!(output.await.unwrap().status.success());
        assert!(status.await.unwrap().success());
        let mut child = Command::new("true").spawn().unwrap();
        let wait = child.wait();
        send(&wait);
        assert!(wait.await.unwrap().success());
        let mut entries = tokio::fs::read_dir(".").await.unwrap();
        let next = entries.next_entry();
        send(&next);
        assert!(next.await.unwrap().is_some());
    });
}

#[tokio::test]
async fn aborted_task_kills_and_reaps_its_child() {
    let (pid_tx, pid_rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(async move {
        let mut child = Command::new("sleep").arg("30").kill_on_drop(true).spawn().unwrap();
        pid_tx.send(child.id().unwrap()).unwrap();
        child.wait().await.unwrap();
    });
    let pid = pid_rx.await.unwrap();
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    assert!(wait_until_gone(pid).await, "pid {pid} still exists (a zombie?)");
}

#[test]
fn child_of_a_dropped_runtime_is_reaped() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (pid_tx, pid_rx) = std::sync::mpsc::channel();
    runtime.block_on(async move {
        tokio::spawn(async move {
            let mut child = Command::new("sleep").arg("30").kill_on_drop(true).spawn().unwrap();
            pid_tx.send(child.id().unwrap()).unwrap();
            child.wait().await.unwrap();
        });
        tokio::task::yield_now().await;
    });
    let pid = pid_rx.recv().unwrap();
    assert!(exists(pid));
    // Shutting down cancels the task: the child is killed and reaped anyway.
    drop(runtime);
    let deadline = Instant::now() + Duration::from_secs(5);
    while exists(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(!exists(pid), "pid {pid} still exists (a zombie?)");
}

#[test]
fn child_dropped_outside_any_runtime_is_reaped() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let child = runtime.block_on(async { Command::new("sleep").arg("0.2").spawn().unwrap() });
    drop(runtime);
    let pid = child.id().unwrap();
    // No runtime here: a thread of its own waits for it.
    drop(child);
    assert!(exists(pid));
    let deadline = Instant::now() + Duration::from_secs(5);
    while exists(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(!exists(pid), "pid {pid} was never reaped");
}
