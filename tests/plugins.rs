//! End-to-end: real plugins built with cargo, loaded into a real host.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use common::{host, library};
use tau::sync::oneshot;
use tau_host::{CallError, Host, LoadError, PluginCall, PluginId, UnloadError};

fn load(host: &mut Host, name: &str) -> PluginId {
    host.load(library(name)).unwrap_or_else(|error| panic!("loading {name}: {error}"))
}

#[test]
fn typed_calls_return_values() {
    let mut host = host();
    let id = load(&mut host, "example-plugin");
    let plugin = host.plugin(id).unwrap();
    assert_eq!(plugin.name(), "example-plugin");
    assert_eq!(plugin.version(), "0.1.0");
    assert_eq!(plugin.call::<i64, _>("add", (40i64, 2i64)), Ok(42));
    assert_eq!(plugin.call::<String, _>("greet", ("tau".to_string(),)), Ok("hello, tau".to_string()));
    assert_eq!(plugin.call::<u64, _>("greetings", ()), Ok(1));
    assert_eq!(plugin.call::<Result<i64, String>, _>("divide", (7i64, 2i64)), Ok(Ok(3)));
    assert_eq!(
        plugin.call::<Result<i64, String>, _>("divide", (7i64, 0i64)),
        Ok(Err("cannot divide 7 by 0".to_string()))
    );
    let add = plugin.typed::<(i64, i64), i64>("add").unwrap();
    assert_eq!((0..100).map(|i| add.call((i, i)).unwrap()).sum::<i64>(), 9900);
    let unloaded = host.unload(id).unwrap();
    assert_eq!(unloaded.tasks_cancelled, 0);
    assert!(host.plugin(id).is_none());
}

#[test]
fn exports_describe_themselves() {
    let mut host = host();
    let id = load(&mut host, "example-plugin");
    let plugin = host.plugin(id).unwrap();
    let slow = plugin.export("slow_double").unwrap();
    assert!(slow.is_async());
    assert_eq!(slow.params().collect::<Vec<_>>(), [("x", "i64")]);
    assert_eq!(slow.output(), "i64");
    assert_eq!(slow.doc(), "Doubles `x` after sleeping 20 ms on the shared runtime.");
    assert_eq!(plugin.export("divide").unwrap().to_string(), "divide(a: i64, b: i64) -> Result<i64, String>");
}

#[test]
fn async_calls_run_on_the_shared_runtime_and_can_be_aborted() {
    let mut host = host();
    let id = load(&mut host, "example-plugin");
    let plugin = host.plugin(id).unwrap();
    let call = plugin.spawn_call::<i64, _>("slow_double", (21i64,)).unwrap();
    assert!(!call.is_finished());
    assert_eq!(host.block_on(call), Ok(42));

    let call = plugin.spawn_call::<i64, _>("slow_double", (1i64,)).unwrap();
    call.abort();
    let error = host.block_on(call).unwrap_err();
    assert!(error.is_cancelled(), "{error}");
    assert_eq!(error.to_string(), "`slow_double` was cancelled");

    // A sync export through spawn_call is already finished.
    let call = plugin.spawn_call::<i64, _>("add", (1i64, 1i64)).unwrap();
    assert!(call.is_finished());
    assert_eq!(host.block_on(call), Ok(2));
    assert_eq!(
        plugin.call::<i64, _>("slow_double", (1i64,)),
        Err(CallError::IsAsync { export: "slow_double".into() })
    );
}

#[test]
fn text_calls_parse_arguments_and_render_results() {
    let mut host = host();
    let id = load(&mut host, "example-plugin");
    let plugin = host.plugin(id).unwrap();
    let text = |export: &str, args: &[&str]| host.block_on(plugin.call_text(export, args).unwrap());
    assert_eq!(text("greet", &["two words"]), Ok("hello, two words".to_string()));
    assert_eq!(text("add", &["-5", "7"]), Ok("2".to_string()));
    assert_eq!(text("slow_double", &["4"]), Ok("8".to_string()));
    let error = text("divide", &["1", "0"]).unwrap_err();
    assert_eq!(error.to_string(), "`divide`: cannot divide 1 by 0");
    let error = text("add", &["x", "1"]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "`add`: argument `a`: `x` is not a valid i64: invalid digit found in string"
    );
    let error = plugin.call_text("add", &["1"]).unwrap_err();
    assert_eq!(error.to_string(), "`add` takes 2 arguments (a: i64, b: i64), but 1 was given");
}

#[test]
fn wrong_calls_get_clear_errors() {
    let mut host = host();
    let id = load(&mut host, "example-plugin");
    let plugin = host.plugin(id).unwrap();
    let error = plugin.call::<i64, _>("gret", ("x".to_string(),)).unwrap_err();
    let CallError::UnknownExport { available, .. } = &error else { panic!("{error:?}") };
    assert!(available.contains(&"greet(name: String) -> String".to_string()), "{available:?}");
    assert!(error
        .to_string()
        .starts_with("plugin `example-plugin` has no export `gret`; its exports are: greet("));

    let error = plugin.call::<i64, _>("add", (1i64,)).unwrap_err();
    assert_eq!(error.to_string(), "`add` takes 2 arguments (a: i64, b: i64), but 1 was given");
    let error = plugin.call::<i64, _>("add", (1i32, 2i64)).unwrap_err();
    assert_eq!(error.to_string(), "`add`: parameter `a` is `i64`, but the call uses `i32`");
    let error = plugin.call::<String, _>("add", (1i64, 2i64)).unwrap_err();
    assert_eq!(error.to_string(), "`add`: the result is `i64`, but the call uses `alloc::string::String`");
    // The plugin still works.
    assert_eq!(plugin.call::<i64, _>("add", (1i64, 2i64)), Ok(3));
}

/// Starts second-plugin's `await_value` on a new channel; returns the sender.
fn await_value(host: &Host, second: PluginId) -> (oneshot::Sender<i64>, PluginCall<Result<i64, String>>) {
    let (sender, receiver) = oneshot::channel::<i64>();
    let call = host.plugin(second).unwrap().spawn_call("await_value", (receiver,)).unwrap();
    (sender, call)
}

#[test]
fn one_runtime_a_task_in_one_plugin_awaits_a_value_from_another() {
    let mut host = host();
    let example = load(&mut host, "example-plugin");
    let second = load(&mut host, "second-plugin");
    let (sender, waiting) = await_value(&host, second);
    // The example plugin sends from a task of its own, 5 ms later.
    host.plugin(example).unwrap().call::<(), _>("send_later", (sender, 41i64, 5u64)).unwrap();
    assert_eq!(host.block_on(waiting), Ok(Ok(42)));

    // The sender's plugin goes away before sending: the receiver sees it.
    let (sender, waiting) = await_value(&host, second);
    host.plugin(example).unwrap().call::<(), _>("send_later", (sender, 1i64, 60_000u64)).unwrap();
    assert_eq!(host.unload(example).unwrap().tasks_cancelled, 1);
    assert_eq!(host.block_on(waiting), Ok(Err("the sender went away: channel closed".to_string())));
}

#[test]
fn abort_inside_a_plugin_follows_tokio() {
    let mut host = host();
    let id = load(&mut host, "abort-test-plugin");
    let plugin = host.plugin(id).unwrap();
    let expected = Ok("finished=true dropped=true cancelled=true".to_string());
    assert_eq!(host.block_on(plugin.spawn_call::<String, _>("abort_running", ()).unwrap()), expected);
    assert_eq!(host.block_on(plugin.spawn_call::<String, _>("abort_from_blocking", ()).unwrap()), expected);
}

#[test]
fn unload_cancels_the_plugins_tasks_and_timers_while_its_code_is_mapped() {
    let mut host = host();
    let id = load(&mut host, "abort-test-plugin");
    let dropped = Arc::new(AtomicUsize::new(0));
    host.plugin(id).unwrap().call::<(), _>("start_sleepers", (Arc::clone(&dropped), 5u64)).unwrap();
    // Drive the runtime until the tasks have started and registered their timers.
    common::yield_until(&host, || host.plugin_metrics(id).unwrap().num_timers() == 5);
    let metrics = host.plugin_metrics(id).unwrap();
    assert_eq!(metrics.num_alive_tasks(), 5);
    assert_eq!(metrics.num_timers(), 5);
    let unloaded = host.unload(id).unwrap();
    assert_eq!(unloaded.tasks_cancelled, 5);
    assert_eq!(unloaded.blocking_jobs_running, 0);
    assert_eq!(dropped.load(Ordering::SeqCst), 5, "every task's future was dropped");
    assert_eq!(host.runtime().metrics().num_timers(), 0);
    assert_eq!(host.runtime().metrics().num_alive_tasks(), 0);
    assert!(host.plugin_metrics(id).is_none());
    assert_eq!(host.unload(id), Err(UnloadError::NotLoaded(id.as_u32())));
}

#[test]
fn unload_waits_for_the_plugins_running_blocking_jobs() {
    let mut host = host();
    let id = load(&mut host, "abort-test-plugin");
    let done = Arc::new(AtomicUsize::new(0));
    let started = Arc::new(Barrier::new(2));
    let args = (Arc::clone(&started), Arc::clone(&done));
    host.plugin(id).unwrap().call::<(), _>("start_blocking", args).unwrap();
    started.wait(); // the job is running; it ends only once unload cancels the plugin's tasks
    let unloaded = host.unload(id).unwrap();
    assert_eq!(done.load(Ordering::SeqCst), 1, "unload returned only after the job finished");
    assert_eq!(unloaded.blocking_jobs_running, 0);
}

#[test]
fn a_panicking_export_leaves_the_plugin_working() {
    let mut host = host();
    let id = load(&mut host, "fault-plugin");
    let plugin = host.plugin(id).unwrap();
    assert_eq!(plugin.call::<u64, _>("ok", ()), Ok(1));
    let error = plugin.call::<u64, _>("boom", ("kaboom".to_string(),)).unwrap_err();
    assert_eq!(error, CallError::Panicked { export: "boom".into(), message: "kaboom".into() });
    assert_eq!(error.to_string(), "`boom` panicked: kaboom");
    let error = host.block_on(plugin.spawn_call::<u64, _>("boom_async", ()).unwrap()).unwrap_err();
    assert!(error.is_panic());
    assert_eq!(error.to_string(), "`boom_async` panicked: async boom");
    assert_eq!(plugin.call::<u64, _>("ok", ()), Ok(2));
    // Another plugin in the same host is unaffected.
    let other = load(&mut host, "example-plugin");
    assert_eq!(host.plugin(other).unwrap().call::<i64, _>("add", (1i64, 1i64)), Ok(2));
}

#[test]
fn bad_libraries_are_refused_before_their_code_runs() {
    let mut host = host();
    let good = load(&mut host, "example-plugin");

    let missing = common::workspace().join("no-such-plugin.so");
    let error = host.load(&missing).unwrap_err();
    assert!(matches!(error, LoadError::NotFound { .. }));
    assert!(error.to_string().ends_with("no-such-plugin.so: no such file or directory; give the path of a plugin library or of a plugin crate directory"));

    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.so");
    std::fs::write(&text, "just some text\n").unwrap();
    let error = host.load(&text).unwrap_err();
    assert!(matches!(error, LoadError::Open { .. }), "{error:?}");
    assert!(error.to_string().contains("notes.so: not a loadable shared library ("), "{error}");

    let error = host.load(library("not-a-plugin")).unwrap_err();
    assert!(matches!(error, LoadError::NotAPlugin { .. }), "{error:?}");
    assert!(error
        .to_string()
        .contains("a shared library, but not a tau plugin (it exports no `TAU_PLUGIN` symbol)"));

    let marker = dir.path().join("create-ran");
    // SAFETY (of the env var): only the forged plugins read it, and only in `create`.
    unsafe { std::env::set_var("TAU_FORGED_MARKER", &marker) };
    let error = host.load(library("forged-abi-plugin")).unwrap_err();
    assert!(matches!(error, LoadError::Incompatible { .. }), "{error:?}");
    assert!(error.to_string().ends_with(&format!(
        "built for plugin ABI version 999, but this host speaks version {}; rebuild it with `tau build`",
        tau::plugin::abi::PLUGIN_ABI_VERSION
    )));
    let error = host.load(library("forged-rustc-plugin")).unwrap_err();
    let expected = format!(
        "built with rustc 1.93.0 (254b59607 2026-01-19), host uses {}; rebuild it with `tau build`",
        tau::plugin::RUSTC_VERSION
    );
    // The compiler is compared from the header's inline data, before the
    // layout check (which calls into the library, and would fail too).
    assert!(error.to_string().ends_with(&expected), "{error}");
    // Issue 25, item 12: the same tau-sdk version from other sources (a
    // changed checkout) may lay out what crosses by value differently.
    let error = host.load(library("forged-sdk-plugin")).unwrap_err();
    assert!(matches!(error, LoadError::Incompatible { .. }), "{error:?}");
    let version = tau::plugin::SDK_VERSION;
    let expected = format!(
        "built against tau-sdk {version} with sources hashed 0123456789abcdef, but this host's tau-sdk {version} has sources hashed {}: the same version, changed code; build the host and the plugin from the same tau-sdk; rebuild it with `tau build`",
        tau::plugin::SDK_SOURCE_HASH
    );
    assert!(error.to_string().ends_with(&expected), "{error}");
    assert!(!marker.exists(), "no code of a refused plugin ran");

    // The symbol is checked before its bytes are read.
    let error = host.load(library("forged-symbol-fn")).unwrap_err();
    assert!(matches!(error, LoadError::NotAPlugin { .. }), "{error:?}");
    assert!(
        error.to_string().contains("(`TAU_PLUGIN` is a function, not the data a tau header is)"),
        "{error}"
    );
    let error = host.load(library("forged-symbol-small")).unwrap_err();
    assert!(matches!(error, LoadError::NotAPlugin { .. }), "{error:?}");
    assert!(error.to_string().contains("(`TAU_PLUGIN` is 4 bytes, too small for a tau header)"), "{error}");

    let error = host.load(library("example-plugin")).unwrap_err();
    assert!(
        error.to_string().ends_with("already loaded as plugin `example-plugin`; unload it first"),
        "{error}"
    );

    // The host and its plugin are fine.
    assert_eq!(host.plugin(good).unwrap().call::<i64, _>("add", (2i64, 2i64)), Ok(4));
}

/// Issue 25, item 12: a FIFO given as a plugin is refused before it is
/// opened (opening it for reading waited for a writer forever), as is
/// anything else that is not a regular file or a crate directory.
#[test]
fn a_path_that_is_not_a_regular_file_is_refused_before_it_is_opened() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("libfifo.so");
    let fifo_c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo_c.as_ptr(), 0o600) }, 0, "{}", std::io::Error::last_os_error());
    let (done, loaded) = std::sync::mpsc::channel();
    let fifo_path = fifo.clone();
    std::thread::spawn(move || {
        let mut host = host();
        let fifo = host.load(&fifo).map(drop);
        let device = host.load("/dev/null").map(drop);
        let _ = done.send((fifo, device));
    });
    let Ok((fifo, device)) = loaded.recv_timeout(Duration::from_secs(30)) else {
        // Let the stuck `open` go (it holds the dynamic loader's lock), then fail.
        let _writer = std::fs::OpenOptions::new().write(true).open(&fifo_path);
        panic!("loading a FIFO did not return within 30 s: it was opened");
    };
    let error = fifo.unwrap_err();
    assert!(matches!(error, LoadError::NotAFile { .. }), "{error:?}");
    assert!(
        error.to_string().ends_with(
            "libfifo.so: not a regular file (a FIFO); give the path of a plugin library or of a plugin crate directory"
        ),
        "{error}"
    );
    let error = device.unwrap_err();
    assert_eq!(
        error.to_string(),
        "/dev/null: not a regular file (a character device); give the path of a plugin library or of a plugin crate directory"
    );
}

/// Issue 25, item 12: private copies are named by process id and a
/// counter. What a crashed process with the same id left at the path of
/// this process's next copy (a file, a directory) is skipped, never
/// replaced, and the load succeeds (before, it failed: "File exists").
/// Runs in a child process of this test binary, whose copy counter starts
/// at 0, with a copy directory of its own.
#[test]
fn a_leftover_at_the_next_private_copys_path_does_not_break_loading() {
    const CHILD: &str = "TAU_TEST_LEFTOVER_COPY_CHILD";
    if std::env::var_os(CHILD).is_some() {
        return load_past_leftover_copies();
    }
    let library = library("example-plugin"); // built here: the child only loads it
    let copies = tempfile::tempdir().unwrap();
    std::fs::set_permissions(copies.path(), std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "a_leftover_at_the_next_private_copys_path_does_not_break_loading", "--nocapture"])
        .env(CHILD, &library)
        .env("TAU_COPY_DIR", copies.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the child failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("1 passed"), "the child ran the test:\n{stdout}");
}

fn load_past_leftover_copies() {
    let library = std::path::PathBuf::from(std::env::var_os("TAU_TEST_LEFTOVER_COPY_CHILD").unwrap());
    let copies = std::path::PathBuf::from(std::env::var_os("TAU_COPY_DIR").unwrap());
    let name = library.file_name().unwrap().to_str().unwrap();
    let pid = std::process::id();
    // Left over by a process that had this id: at the first copy's path a
    // directory, at the second's a file.
    let (first, second) = (copies.join(format!("{pid}-0-{name}")), copies.join(format!("{pid}-1-{name}")));
    std::fs::create_dir(&first).unwrap();
    std::fs::write(&second, "left over").unwrap();
    let mut host = host();
    let id = host.load(&library).unwrap(); // mapped under its own name
    host.unload(id).unwrap();
    for _ in 0..2 {
        // A private copy each time.
        let id = host.load(&library).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(host.plugin(id).unwrap().call::<i64, _>("add", (2i64, 3i64)), Ok(5));
        host.unload(id).unwrap();
    }
    assert!(first.is_dir());
    assert_eq!(std::fs::read_to_string(&second).unwrap(), "left over");
}

#[test]
fn a_plugin_loads_again_after_unload() {
    let mut host = host();
    for round in 1..=3 {
        let id = load(&mut host, "example-plugin");
        let plugin = host.plugin(id).unwrap();
        assert_eq!(
            plugin.call::<String, _>("greet", (format!("round {round}"),)),
            Ok(format!("hello, round {round}"))
        );
        assert_eq!(
            host.block_on(plugin.spawn_call::<i64, _>("slow_double", (round,)).unwrap()),
            Ok(round * 2)
        );
        host.unload(id).unwrap();
    }
}

#[test]
fn a_crate_directory_is_built_then_loaded() {
    let mut host = host();
    let id = host.load(common::plugin_dir("second-plugin")).unwrap();
    assert_eq!(host.plugin(id).unwrap().name(), "second-plugin");
    let error = host.load(common::workspace().join("tau-host").join("src")).unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with("no Cargo.toml here; give a plugin crate directory (make one with `tau new <PATH>`)"),
        "{error}"
    );
}
