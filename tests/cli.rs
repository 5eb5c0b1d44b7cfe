//! End-to-end: the `tau` command, as a user runs it.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{cache_dir, library, plugin_dir, workspace};

fn tau(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tau"));
    command.args(args).env("TAU_CACHE_DIR", cache_dir()).env_remove("TAU_FAULT");
    command
}

fn run(command: &mut Command, stdin: &str) -> Output {
    let mut child =
        command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn lib(name: &str) -> String {
    library(name).to_string_lossy().into_owned()
}

/// Runs `command` to its end, or kills it after `limit` and fails.
fn run_within(command: &mut Command, limit: std::time::Duration) -> Output {
    let child = command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let pid = child.id();
    let (done, finished) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let output = child.wait_with_output().unwrap();
        let _ = done.send(());
        output
    });
    if finished.recv_timeout(limit).is_err() {
        // SAFETY: kills the child we started, by its pid.
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        let output = waiter.join().unwrap();
        panic!("still running after {limit:?}; stderr: {}", text(&output.stderr));
    }
    waiter.join().unwrap()
}

/// Issue 11, item 10: after the call, `tau call` waits for the plugin's
/// tasks (woken when the last one ends, not polling), at most `--grace`;
/// then it cancels them and says how many on stderr. The call's output and
/// exit code are as they were.
#[test]
fn call_waits_for_plugin_tasks_at_most_the_grace_period() {
    let limit = std::time::Duration::from_secs(60);
    let output =
        run_within(&mut tau(&["call", "--grace", "200ms", &lib("example-plugin"), "tick_forever"]), limit);
    assert_eq!(
        (text(&output.stdout).as_str(), output.status.code()),
        (
            "ticking
",
            Some(0)
        )
    );
    assert_eq!(
        text(&output.stderr),
        "tau: cancelled 1 task of plugin `example-plugin` still running 200ms after the last call (raise --grace to wait longer)\n"
    );
    // A task that ends within the grace period is waited for, not cancelled
    // (the call's result is printed once the plugin is unloaded).
    let output = run_within(&mut tau(&["call", &lib("example-plugin"), "wake_later", "30"]), limit);
    assert_eq!(text(&output.stdout), "woke after 30 ms\nsleeping\n");
    assert_eq!((text(&output.stderr).as_str(), output.status.code()), ("", Some(0)));
    let output =
        run_within(&mut tau(&["call", "--grace", "soon", &lib("example-plugin"), "add", "1", "2"]), limit);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("`soon` is not a duration"), "{}", text(&output.stderr));
}

#[test]
fn call_prints_the_result() {
    let output = run(&mut tau(&["call", &lib("example-plugin"), "greet", "big world"]), "");
    assert_eq!(text(&output.stdout), "hello, big world\n");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let output = run(&mut tau(&["call", &lib("example-plugin"), "slow_double", "-21"]), "");
    assert_eq!((text(&output.stdout).as_str(), output.status.code()), ("-42\n", Some(0)));
}

#[test]
fn call_of_a_crate_directory_builds_it_first() {
    let dir = plugin_dir("example-plugin");
    let output = run(&mut tau(&["call", "-q", dir.to_str().unwrap(), "add", "2", "3"]), "");
    assert_eq!(
        (text(&output.stdout).as_str(), output.status.code()),
        ("5\n", Some(0)),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn call_errors_exit_non_zero_with_a_message() {
    let cases: [(&[&str], &str); 5] = [
        (&["divide", "1", "0"], "error: `divide`: cannot divide 1 by 0\n"),
        (&["add", "1"], "error: `add` takes 2 arguments (a: i64, b: i64), but 1 was given\n"),
        (
            &["add", "one", "2"],
            "error: `add`: argument `a`: `one` is not a valid i64: invalid digit found in string\n",
        ),
        (&["gret"], "error: no loaded plugin exports `gret`; the exports are: example-plugin.greet, "),
        (
            &["send_later", "x", "1", "2"],
            "error: `send_later`: argument `reply`: a `Sender<i64>` cannot be given as text",
        ),
    ];
    for (args, expected) in cases {
        let mut all = vec!["call", "-q"];
        let library = lib("example-plugin");
        all.push(&library);
        all.extend(args);
        let output = run(&mut tau(&all), "");
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        assert!(text(&output.stderr).starts_with(expected), "{args:?}: {}", text(&output.stderr));
        assert_eq!(text(&output.stdout), "");
    }
}

#[test]
fn run_reads_commands_until_the_end_of_input() {
    let script = "\
        # a comment, then an empty line\n\
        \n\
        greet \"two words\"\n\
        slow_double 21\n\
        divide 1 0\n\
        example-plugin.add 5 -7\n\
        nope\n\
        await_value x\n\
        greetings\n";
    let output = run(&mut tau(&["run", &lib("example-plugin"), &lib("second-plugin")]), script);
    assert_eq!(text(&output.stdout), "hello, two words\n42\n-2\n1\n");
    let stderr = text(&output.stderr);
    let errors: Vec<&str> = stderr.lines().collect();
    assert_eq!(errors.len(), 3, "{stderr}");
    assert_eq!(errors[0], "error: `divide`: cannot divide 1 by 0");
    assert!(errors[1]
        .starts_with("error: no loaded plugin exports `nope`; the exports are: example-plugin.greet"));
    assert!(errors[1].ends_with("second-plugin.await_value"), "{}", errors[1]);
    assert!(errors[2]
        .starts_with("error: `await_value`: argument `value`: a `Receiver<i64>` cannot be given as text"));
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn run_goes_on_after_panics_in_exports_and_tasks() {
    // The fault plugin's async export panics in its task; the session goes on.
    let output = run(&mut tau(&["run", &lib("fault-plugin")]), "ok\nboom_async\nboom oops\nok\n");
    assert_eq!(text(&output.stdout), "1\n2\n");
    let stderr = text(&output.stderr);
    assert!(stderr.contains("error: `boom_async` panicked: async boom\n"), "{stderr}");
    assert!(stderr.contains("error: `boom` panicked: oops\n"), "{stderr}");
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn failing_plugins_are_reported_and_refused() {
    let fault = lib("fault-plugin");
    let cases = [
        ("new", "plugin `fault-plugin` failed to start: building `Fault` panicked: the constructor exploded"),
        ("on_load", "plugin `fault-plugin` failed to start: building `Fault` panicked: on_load exploded"),
        (
            "on_load_error",
            "plugin `fault-plugin` failed to start: `Fault::on_load` failed: the configuration is missing",
        ),
    ];
    for (fault_kind, expected) in cases {
        let output = run(tau(&["call", &fault, "ok"]).env("TAU_FAULT", fault_kind), "");
        assert_eq!(output.status.code(), Some(1), "{fault_kind}");
        assert!(
            text(&output.stderr).trim_end().ends_with(expected),
            "{fault_kind}: {}",
            text(&output.stderr)
        );
    }
    let output = run(tau(&["call", &fault, "ok"]).env("TAU_FAULT", "on_unload"), "");
    assert_eq!(text(&output.stdout), "1\n", "the call worked; the unload failed");
    assert!(text(&output.stderr)
        .ends_with("error: plugin `fault-plugin`: `Fault::on_unload` panicked: on_unload exploded\n"));
    assert_eq!(output.status.code(), Some(1));

    let output = run(&mut tau(&["call", "/no/such/plugin", "x"]), "");
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        text(&output.stderr),
        "error: /no/such/plugin: no such file or directory; give the path of a plugin library or of a plugin crate directory\n"
    );
}

#[test]
fn build_prints_the_library_and_shows_compile_errors() {
    let output = run(&mut tau(&["build", "-q", plugin_dir("example-plugin").to_str().unwrap()]), "");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let printed = text(&output.stdout);
    assert!(Path::new(printed.trim_end()).is_file(), "{printed}");

    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken");
    assert_eq!(run(&mut tau(&["new", broken.to_str().unwrap()]), "").status.code(), Some(0));
    let lib_rs = broken.join("src/lib.rs");
    let source = std::fs::read_to_string(&lib_rs).unwrap();
    std::fs::write(&lib_rs, source.replace("format!(\"hello, {name}\")", "42")).unwrap();
    let output = run(&mut tau(&["build", broken.to_str().unwrap()]), "");
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr.contains("error[E0308]: mismatched types"), "cargo's diagnostics are shown: {stderr}");
    assert!(stderr.contains("failed: cargo exited with exit status: 101 (its errors are above)"), "{stderr}");
}

#[test]
fn new_makes_a_crate_that_tau_and_cargo_test_accept() {
    let dir = tempfile::tempdir().unwrap();
    // A path with a space, outside the workspace.
    let target = dir.path().join("my plugin");
    let output = run(&mut tau(&["new", target.to_str().unwrap()]), "");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(text(&output.stdout).starts_with("created plugin crate `my-plugin` in "));

    let output = run(&mut tau(&["run", "-q", target.to_str().unwrap()]), "hello tau\ndouble_later 4\n");
    assert_eq!(text(&output.stdout), "hello, tau\n8\n", "{}", text(&output.stderr));
    assert_eq!(output.status.code(), Some(0));

    // Plain cargo test in the new crate (sharing the tests' target directory to save time).
    let output = Command::new(env!("CARGO"))
        .args(["test", "--quiet"])
        .current_dir(&target)
        .env("CARGO_TARGET_DIR", cache_dir().join("target"))
        .output()
        .unwrap();
    assert!(output.status.success(), "cargo test failed:\n{}{}", text(&output.stdout), text(&output.stderr));
    assert!(text(&output.stdout).contains("2 passed"), "{}", text(&output.stdout));

    let output = run(&mut tau(&["new", target.to_str().unwrap()]), "");
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).ends_with("already exists and is not empty; give a new directory\n"));
}

/// The issue-12 scenario: `tau new`, add tokio, write tokio code, `tau call`
/// it, and `cargo test` a `#[tokio::test]` in the crate.
#[test]
fn a_new_crate_with_tokio_runs_its_tokio_code_under_tau_call_and_cargo_test() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("tokio-user");
    let output = run(&mut tau(&["new", target.to_str().unwrap()]), "");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let config = std::fs::read_to_string(target.join(".cargo/config.toml")).unwrap();
    assert!(config.contains("tokio = { path = "), "{config}");
    let manifest = std::fs::read_to_string(target.join("Cargo.toml")).unwrap().replace(
        "tau-sdk = \"0.1\"\n",
        "tau-sdk = \"0.1\"\ntokio = { version = \"1\", features = [\"time\", \"rt\", \"macros\"] }\n",
    );
    std::fs::write(target.join("Cargo.toml"), manifest).unwrap();
    let source = std::fs::read_to_string(target.join("src/lib.rs")).unwrap();
    let source = source.replacen(
        "    /// Greets `name`.",
        "    /// Sleeps in a tokio task.\n    #[tau::export]\n    pub async fn nap(&self, ms: u64) -> u64 {\n        \
         tokio::spawn(async move { tokio::time::sleep(Duration::from_millis(ms)).await; ms * 3 }).await.unwrap()\n    }\n\n    \
         /// Greets `name`.",
        1,
    );
    let source = source.replacen(
        "    #[test]\n",
        "    #[tokio::test]\n    async fn nap_naps() {\n        assert_eq!(TokioUser::default().nap(2).await, 6);\n    }\n\n    #[test]\n",
        1,
    );
    std::fs::write(target.join("src/lib.rs"), source).unwrap();

    let output = run(&mut tau(&["call", "-q", target.to_str().unwrap(), "nap", "5"]), "");
    assert_eq!(
        (text(&output.stdout).as_str(), output.status.code()),
        ("15\n", Some(0)),
        "{}",
        text(&output.stderr)
    );

    let output = Command::new(env!("CARGO"))
        .args(["test", "--quiet"])
        .current_dir(&target)
        .env("CARGO_TARGET_DIR", cache_dir().join("target"))
        .output()
        .unwrap();
    assert!(output.status.success(), "cargo test failed:\n{}{}", text(&output.stdout), text(&output.stderr));
    assert!(text(&output.stdout).contains("3 passed"), "{}", text(&output.stdout));
}

#[test]
fn info_and_help() {
    let output = run(&mut tau(&["info"]), "");
    let stdout = text(&output.stdout);
    assert!(stdout.contains(&format!("toolchain: {}\n", tau::plugin::RUSTC_VERSION)), "{stdout}");
    assert!(stdout.contains(&format!("cache directory: {}\n", cache_dir().display())), "{stdout}");
    let sdk = workspace().join("tau-sdk").canonicalize().unwrap();
    assert!(stdout.contains(&format!("  tau-sdk = {}\n", sdk.display())), "{stdout}");

    let output = run(&mut tau(&["--help"]), "");
    let help = text(&output.stdout);
    for command in ["run", "call", "build", "new", "info", "exports"] {
        assert!(help.contains(&format!("\n  {command} ")), "{command} missing from:\n{help}");
    }
    let output = run(&mut tau(&["call", "--help"]), "");
    assert!(text(&output.stdout).contains("Arguments are given as text and parsed by the plugin"));
    let output = run(&mut tau(&["call"]), "");
    assert_eq!(output.status.code(), Some(2), "usage errors exit 2");

    let output = run(&mut tau(&["exports", &lib("example-plugin")]), "");
    assert!(text(&output.stdout)
        .contains("  async slow_double(x: i64) -> i64  // Doubles `x` after sleeping 20 ms"));
}
