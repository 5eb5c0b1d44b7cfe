//! Child processes, as `tokio::process`: std's `Command` to build and
//! spawn them, and a [`Child`] whose exit and pipes are waited for on the
//! reactor.
//!
//! ```
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//! use tokio::process::Command;
//! use std::process::Stdio;
//!
//! #[tokio::main]
//! async fn run() -> std::io::Result<()> {
//!     let output = Command::new("echo").arg("hello").output().await?;
//!     assert!(output.status.success());
//!     assert_eq!(output.stdout, b"hello\n");
//!
//!     let mut child = Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?;
//!     let mut stdin = child.stdin.take().unwrap();
//!     stdin.write_all(b"meow").await?;
//!     drop(stdin); // end of file for `cat`
//!     let mut echoed = String::new();
//!     child.stdout.take().unwrap().read_to_string(&mut echoed).await?;
//!     assert_eq!(echoed, "meow");
//!     assert!(child.wait().await?.success());
//!     Ok(())
//! }
//! # run().unwrap();
//! ```
//!
//! Waiting never blocks the runtime's thread and never reaps another
//! child: on Linux the child's pidfd is watched by the reactor; without
//! pidfds (kernels before 5.3) a blocking-pool job watches the pid. A
//! [`Child`] dropped before its child was reaped has it reaped in the
//! background (killed first with [`Command::kill_on_drop`]), so no zombie
//! is left behind.

mod orphan;
mod pipe;
mod reap;

use std::ffi::OsStr;
use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command as StdCommand, ExitStatus, Output, Stdio};

use upstream::io::{AsyncRead, AsyncReadExt};

pub use pipe::{ChildStderr, ChildStdin, ChildStdout};
use reap::Process;

/// A process to spawn, as `tokio::process::Command`: std's `Command`, whose
/// [`spawn`](Self::spawn), [`status`](Self::status) and
/// [`output`](Self::output) give an async [`Child`].
///
/// Defaults, as std's: no arguments, the parent's environment and working
/// directory, and stdin, stdout and stderr inherited for `spawn` and
/// `status` (`output` pipes stdout and stderr).
#[derive(Debug)]
pub struct Command {
    std: StdCommand,
    kill_on_drop: bool,
}

impl Command {
    /// A command for the program `program`, looked up in `PATH` unless it
    /// is a path.
    pub fn new<S: AsRef<OsStr>>(program: S) -> Command {
        Command::from(StdCommand::new(program))
    }

    /// The std command inside.
    pub fn as_std(&self) -> &StdCommand {
        &self.std
    }

    /// The std command inside, to configure what has no method here.
    pub fn as_std_mut(&mut self) -> &mut StdCommand {
        &mut self.std
    }

    /// The std command; [`kill_on_drop`](Self::kill_on_drop) is lost.
    pub fn into_std(self) -> StdCommand {
        self.std
    }

    /// Adds one argument, passed as is (no shell).
    pub fn arg<S: AsRef<OsStr>>(&mut self, arg: S) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds arguments, in order.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets an environment variable for the child.
    pub fn env<K, V>(&mut self, key: K, val: V) -> &mut Command
    where
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.env(key, val);
        self
    }

    /// Sets several environment variables for the child.
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    /// Removes an environment variable from the child's environment.
    pub fn env_remove<K: AsRef<OsStr>>(&mut self, key: K) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Starts the child with an empty environment (plus what `env` adds).
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// The child's working directory (a relative program path is then
    /// looked up from it, as std does).
    pub fn current_dir<P: AsRef<Path>>(&mut self, dir: P) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// The child's stdin: `Stdio::piped()` makes [`Child::stdin`] a
    /// [`ChildStdin`].
    pub fn stdin<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.std.stdin(cfg);
        self
    }

    /// The child's stdout: `Stdio::piped()` makes [`Child::stdout`] a
    /// [`ChildStdout`].
    pub fn stdout<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.std.stdout(cfg);
        self
    }

    /// The child's stderr: `Stdio::piped()` makes [`Child::stderr`] a
    /// [`ChildStderr`].
    pub fn stderr<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.std.stderr(cfg);
        self
    }

    /// Whether dropping the [`Child`] (or the future of `status` or
    /// `output`) before the child has been reaped sends it `SIGKILL`.
    /// Either way it is reaped in the background, so no zombie remains.
    /// Off by default: a dropped child goes on running, as std's does.
    pub fn kill_on_drop(&mut self, kill_on_drop: bool) -> &mut Command {
        self.kill_on_drop = kill_on_drop;
        self
    }

    /// The child's user id (`setuid` before `exec`).
    pub fn uid(&mut self, id: u32) -> &mut Command {
        self.std.uid(id);
        self
    }

    /// The child's group id (`setgid` before `exec`).
    pub fn gid(&mut self, id: u32) -> &mut Command {
        self.std.gid(id);
        self
    }

    /// The child's `argv[0]`, instead of the program name.
    pub fn arg0<S>(&mut self, arg: S) -> &mut Command
    where
        S: AsRef<OsStr>,
    {
        self.std.arg0(arg);
        self
    }

    /// Runs `f` in the child after `fork` and before `exec`; an error
    /// fails the spawn with it.
    ///
    /// # Safety
    /// As std's `CommandExt::pre_exec`: `f` runs in a copy of the process
    /// with a single thread, so it must only do what is async-signal-safe
    /// (no allocation, no locks others may hold).
    pub unsafe fn pre_exec<F>(&mut self, f: F) -> &mut Command
    where
        F: FnMut() -> io::Result<()> + Send + Sync + 'static,
    {
        // SAFETY: the caller upholds `pre_exec`'s contract, which is std's.
        unsafe { self.std.pre_exec(f) };
        self
    }

    /// Puts the child in the process group `pgroup` (`0`: a new group
    /// whose id is the child's pid).
    pub fn process_group(&mut self, pgroup: i32) -> &mut Command {
        self.std.process_group(pgroup);
        self
    }

    /// Spawns the child. Its pipes and its exit are registered with the
    /// current runtime's reactor, so call this on the runtime's thread (a
    /// task or `block_on`).
    ///
    /// # Errors
    /// `NotFound` for a missing program, `PermissionDenied` for one that is
    /// not executable, `WouldBlock` at the process limit, and the errors of
    /// `fork`/`exec` and of registering the pipes (off the runtime's
    /// thread). A child spawned before such a registration error is
    /// handled as a dropped [`Child`].
    #[track_caller]
    pub fn spawn(&mut self) -> io::Result<Child> {
        let mut std = self.std.spawn()?;
        let stdin = std.stdin.take();
        let stdout = std.stdout.take();
        let stderr = std.stderr.take();
        let process = Process::new(std, self.kill_on_drop);
        let stdin = stdin.map(ChildStdin::from_std).transpose()?;
        let stdout = stdout.map(ChildStdout::from_std).transpose()?;
        let stderr = stderr.map(ChildStderr::from_std).transpose()?;
        Ok(Child { child: Status::Running(process), stdin, stdout, stderr })
    }

    /// Spawns the child (now, not when awaited), closes the parent's ends
    /// of any pipes, and waits for it to exit.
    ///
    /// # Errors
    /// As [`spawn`](Self::spawn) and [`Child::wait`].
    pub fn status(&mut self) -> impl Future<Output = io::Result<ExitStatus>> {
        let child = self.spawn();
        async move {
            let mut child = child?;
            // A child writing to a pipe nobody reads would never exit.
            child.stdin.take();
            child.stdout.take();
            child.stderr.take();
            child.wait().await
        }
    }

    /// Spawns the child (now) with stdout and stderr piped — whatever they
    /// were set to — and collects both while waiting for it to exit.
    ///
    /// # Errors
    /// As [`spawn`](Self::spawn) and [`Child::wait_with_output`].
    pub fn output(&mut self) -> impl Future<Output = io::Result<Output>> {
        self.std.stdout(Stdio::piped());
        self.std.stderr(Stdio::piped());
        let child = self.spawn();
        async move { child?.wait_with_output().await }
    }

    /// Whether [`kill_on_drop`](Self::kill_on_drop) is set.
    pub fn get_kill_on_drop(&self) -> bool {
        self.kill_on_drop
    }
}

impl From<StdCommand> for Command {
    fn from(std: StdCommand) -> Command {
        Command { std, kill_on_drop: false }
    }
}

#[derive(Debug)]
enum Status {
    Running(Process),
    Exited(ExitStatus),
}

/// A spawned child process, as `tokio::process::Child`.
///
/// Dropping it does not stop the child (unless
/// [`Command::kill_on_drop`] was set) but it is reaped in the background
/// once it exits.
pub struct Child {
    child: Status,
    /// The parent's end of the child's stdin, if piped. Take it (so the
    /// rest of the `Child` stays usable) and drop it to close the pipe.
    pub stdin: Option<ChildStdin>,
    /// The parent's end of the child's stdout, if piped.
    pub stdout: Option<ChildStdout>,
    /// The parent's end of the child's stderr, if piped.
    pub stderr: Option<ChildStderr>,
}

impl Child {
    /// The child's pid; `None` once it has been reaped (the number may
    /// belong to another process by then).
    pub fn id(&self) -> Option<u32> {
        match &self.child {
            Status::Running(process) => Some(process.id()),
            Status::Exited(_) => None,
        }
    }

    /// Sends `SIGKILL` without waiting; `Ok` if it has already been reaped.
    ///
    /// # Errors
    /// If the signal cannot be sent.
    pub fn start_kill(&mut self) -> io::Result<()> {
        match &mut self.child {
            Status::Running(process) => process.kill(),
            Status::Exited(_) => Ok(()),
        }
    }

    /// Sends `SIGKILL` and waits for the child to exit (and reaps it).
    ///
    /// # Errors
    /// As [`start_kill`](Self::start_kill) and [`wait`](Self::wait).
    pub async fn kill(&mut self) -> io::Result<()> {
        self.start_kill()?;
        self.wait().await?;
        Ok(())
    }

    /// Closes [`stdin`](Self::stdin) (so a child reading it is not left
    /// waiting) and waits for the child to exit, then reaps it. Neither
    /// blocks the runtime's thread nor reaps another child. Cancel safe;
    /// once it has returned a status, later calls return it again.
    ///
    /// # Errors
    /// If the exit cannot be waited for: the child was reaped by someone
    /// else (`ECHILD`, e.g. with `SIGCHLD` ignored), or the runtime is gone.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        match &mut self.child {
            Status::Exited(status) => Ok(*status),
            Status::Running(process) => {
                let status = poll_fn(|cx| process.poll_wait(cx)).await?;
                self.child = Status::Exited(status);
                Ok(status)
            }
        }
    }

    /// The exit status if the child has exited (reaping it), `None` if it
    /// is still running; never waits.
    ///
    /// # Errors
    /// If `waitpid` fails (`ECHILD` if someone else reaped it).
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        match &mut self.child {
            Status::Exited(status) => Ok(Some(*status)),
            Status::Running(process) => {
                let status = process.try_wait()?;
                if let Some(status) = status {
                    self.child = Status::Exited(status);
                }
                Ok(status)
            }
        }
    }

    /// Waits for the child to exit while reading all of its stdout and
    /// stderr (those that are piped; the others give empty vectors).
    /// Closes stdin first, as [`wait`](Self::wait).
    ///
    /// # Errors
    /// The first error of waiting or reading.
    pub async fn wait_with_output(mut self) -> io::Result<Output> {
        async fn read_all<A: AsyncRead + Unpin>(pipe: &mut Option<A>) -> io::Result<Vec<u8>> {
            let mut bytes = Vec::new();
            if let Some(pipe) = pipe.as_mut() {
                pipe.read_to_end(&mut bytes).await?;
            }
            Ok(bytes)
        }

        let mut stdout_pipe = self.stdout.take();
        let mut stderr_pipe = self.stderr.take();
        let (status, stdout, stderr) =
            upstream::try_join!(self.wait(), read_all(&mut stdout_pipe), read_all(&mut stderr_pipe))?;
        // The pipes close only after all three are done.
        drop(stdout_pipe);
        drop(stderr_pipe);
        Ok(Output { status, stdout, stderr })
    }
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("child", &self.child)
            .field("stdin", &self.stdin)
            .field("stdout", &self.stdout)
            .field("stderr", &self.stderr)
            .finish()
    }
}
