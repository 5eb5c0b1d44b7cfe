//! Real network crates in plugins against the same code on real tokio, and
//! one tool call through three designs (issue 13). Three tables:
//!
//! ```text
//! cargo bench -p tau-host --bench network              # all three
//! cargo bench -p tau-host --bench network -- server    # or: client, call
//! ```
//!
//! - **server**: `examples/web-server`'s axum router in the plugin (built in
//!   release) vs the same router (`examples/web-server/src/router.rs`) on
//!   real tokio's current-thread runtime, each driven by the main thread;
//!   one load generator for both (real tokio on a thread of its own, 64
//!   keep-alive connections, `GET /`): requests per second and p99 latency.
//! - **client**: reqwest GETs of a small and a 1 MiB body from a server on
//!   another thread (the same router on real tokio), through
//!   `plugins/net-bench-plugin` vs the same function
//!   (`benches/common/net_workloads.rs`) on real tokio: requests per second.
//! - **call**: one tool call, a JSON request in and a JSON result out, the
//!   tool doing no work: (a) a tau async export (`spawn_call` + `block_on`;
//!   and a sync export, `call`, beside it),
//!   (b) a child process with its own tokio runtime speaking JSON lines over
//!   stdin/stdout (this binary, re-run with `TAU_BENCH_CHILD=1`), (c)
//!   `async-ffi`'s `FfiFuture` from a cdylib (`plugins/async-ffi-tool`,
//!   built here with cargo). Median and p99 per call.
//!
//! Server and client rounds alternate between the sides; each figure is the
//! median of 3 rounds. Without `--bench` (`cargo test --benches`) the sizes
//! are divided by 100: a smoke test. Figures are printed, never asserted;
//! both sides must agree on what they received. `TAU_BENCH_SIDE=tau` or
//! `=tokio` runs one side of the server table alone, for profiling.

#[path = "common/sides.rs"]
mod sides;

#[path = "common/net_workloads.rs"]
mod workloads;

#[path = "common/tool.rs"]
mod tool;

#[path = "../../examples/web-server/src/router.rs"]
#[allow(dead_code)]
mod router;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use sides::{median, Settings};
use tau_host::{Builder, Host, PluginId};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ROUNDS: usize = 3;

fn percentile(sorted: &[u64], per_mille: usize) -> u64 {
    sorted[(sorted.len() * per_mille / 1000).min(sorted.len() - 1)]
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// The router on real tokio, on a thread of its own: its port, and what
/// stops it.
fn tokio_server() -> (u16, tokio::sync::oneshot::Sender<()>, std::thread::JoinHandle<()>) {
    let (port_tx, port_rx) = std::sync::mpsc::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        current_thread().block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            port_tx.send(listener.local_addr().unwrap().port()).unwrap();
            let app = router::router(Arc::new(router::Counts::default()));
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        })
    });
    (port_rx.recv().unwrap(), stop, thread)
}

/// Serves the router on real tokio on this thread while `load` runs on a
/// thread of its own with the server's port; `load`'s result.
fn serve_on_tokio_while<T: Send + 'static>(load: impl FnOnce(u16) -> T + Send + 'static) -> T {
    let runtime = current_thread();
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let loader = std::thread::spawn(move || {
        let result = load(port);
        let _ = stop.send(());
        result
    });
    let app = router::router(Arc::new(router::Counts::default()));
    runtime
        .block_on(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
        })
        .unwrap();
    loader.join().unwrap()
}

/// Reads one HTTP/1.1 response with a `content-length` from `stream`;
/// returns its body length.
async fn read_response(stream: &mut tokio::net::TcpStream, buf: &mut Vec<u8>) -> usize {
    buf.clear();
    let mut chunk = [0u8; 4096];
    loop {
        let read = stream.read(&mut chunk).await.unwrap();
        assert!(read > 0, "the server closed the connection");
        buf.extend_from_slice(&chunk[..read]);
        let Some(head_end) = buf.windows(4).position(|window| window == b"\r\n\r\n") else { continue };
        let head = std::str::from_utf8(&buf[..head_end]).unwrap();
        let length: usize = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length").then(|| value.trim().parse().unwrap())
            })
            .expect("a content-length");
        if buf.len() >= head_end + 4 + length {
            return length;
        }
    }
}

/// The load generator: `connections` keep-alive connections to `port`,
/// each sending `GET /` `per_connection` times, one request at a time.
/// Returns (nanoseconds, sorted latencies, body bytes).
fn load(port: u16, connections: usize, per_connection: usize) -> (u64, Vec<u64>, u64) {
    current_thread().block_on(async move {
        let start = Instant::now();
        let clients: Vec<_> = (0..connections)
            .map(|_| {
                tokio::spawn(async move {
                    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
                    stream.set_nodelay(true).unwrap();
                    let (mut latencies, mut bytes, mut buf) =
                        (Vec::with_capacity(per_connection), 0, Vec::new());
                    for _ in 0..per_connection {
                        let sent = Instant::now();
                        stream.write_all(b"GET / HTTP/1.1\r\nhost: bench\r\n\r\n").await.unwrap();
                        bytes += read_response(&mut stream, &mut buf).await as u64;
                        latencies.push(sent.elapsed().as_nanos() as u64);
                    }
                    (latencies, bytes)
                })
            })
            .collect();
        let (mut latencies, mut bytes) = (Vec::new(), 0);
        for client in clients {
            let (more, received) = client.await.unwrap();
            latencies.extend(more);
            bytes += received;
        }
        let nanos = start.elapsed().as_nanos() as u64;
        latencies.sort_unstable();
        (nanos, latencies, bytes)
    })
}

fn run<R: Send + 'static, A: tau_host::Args>(host: &Host, plugin: PluginId, export: &str, args: A) -> R {
    host.block_on(host.plugin(plugin).unwrap().spawn_call::<R, A>(export, args).unwrap()).unwrap()
}

fn server_table(host: &Host, web_server: PluginId, settings: &Settings) {
    let scale = settings.scale;
    let (connections, per_connection) = (64, (50_000 / 64 / scale).max(2));
    let requests = (connections * per_connection) as f64;
    let port: Result<u16, String> = run(host, web_server, "serve", (0u16,));
    let tau_port = port.unwrap();
    let (mut tau_rate, mut tokio_rate, mut tau_p99, mut tokio_p99) = (vec![], vec![], vec![], vec![]);
    for _ in 0..ROUNDS {
        // tau: the host's thread drives the runtime (the plugin's server);
        // the load runs on a blocking-pool thread meanwhile.
        let tau_bytes = settings.run_tau.then(|| {
            // This thread drives the runtime (the plugin's server) until the
            // load generator, on a thread of its own, reports.
            let (report, reported) = tau::sync::oneshot::channel();
            let loader = std::thread::spawn(move || {
                let _ = report.send(load(tau_port, connections, per_connection));
            });
            let (nanos, latencies, bytes) = host.block_on(reported).unwrap();
            loader.join().unwrap();
            tau_rate.push((requests * 1e9 / nanos as f64) as u64);
            tau_p99.push(percentile(&latencies, 990));
            bytes
        });
        let tokio_bytes = settings.run_tokio.then(|| {
            // The same arrangement: the server's runtime on this thread.
            let (nanos, latencies, bytes) =
                serve_on_tokio_while(move |port| load(port, connections, per_connection));
            tokio_rate.push((requests * 1e9 / nanos as f64) as u64);
            tokio_p99.push(percentile(&latencies, 990));
            bytes
        });
        if let (Some(tau_bytes), Some(tokio_bytes)) = (tau_bytes, tokio_bytes) {
            assert_eq!(tau_bytes, tokio_bytes, "the two servers sent different bodies");
        }
    }
    let stopped: Result<bool, String> = run(host, web_server, "stop", ());
    assert_eq!(stopped, Ok(true));
    let (tau_rate, tokio_rate) = (median(tau_rate), median(tokio_rate));
    let (tau_p99, tokio_p99) = (median(tau_p99), median(tokio_p99));
    println!("\nserver: axum, 64 keep-alive connections, GET /, {} requests a round", requests as u64);
    println!("{:<28} {:>14} {:>14} {:>10}", "", "tau plugin", "tokio", "tau/tokio");
    println!(
        "{:<28} {:>14} {:>14} {:>9.2}x",
        "requests/s",
        tau_rate,
        tokio_rate,
        tau_rate as f64 / tokio_rate as f64
    );
    println!(
        "{:<28} {:>11.1} µs {:>11.1} µs {:>9.2}x",
        "p99 latency",
        tau_p99 as f64 / 1e3,
        tokio_p99 as f64 / 1e3,
        tokio_p99 as f64 / tau_p99 as f64
    );
}

fn client_table(host: &Host, net_bench: PluginId, scale: usize) {
    let (port, stop, thread) = tokio_server();
    let client = reqwest::Client::new();
    let tokio = current_thread();
    println!("\nclient: reqwest GETs from a server on another thread (rate: tau/tokio, above 1: tau faster)");
    println!("{:<40} {:>12} {:>12} {:>10}", "", "tau plugin", "tokio", "tau/tokio");
    for (name, path, n, concurrency) in [
        ("small body (31 B), 16 at a time", "/", 20_000, 16),
        ("1 MiB body, 4 at a time", "/bytes/1048576", 500, 4),
    ] {
        let n = (n / scale as u64).max(4);
        let url = format!("http://127.0.0.1:{port}{path}");
        let (mut tau_rate, mut tokio_rate) = (vec![], vec![]);
        for _ in 0..ROUNDS {
            let (nanos, tau_bytes): (u64, u64) =
                run(host, net_bench, "reqwest_gets", (url.clone(), n, concurrency));
            tau_rate.push((n as f64 * 1e9 / nanos as f64) as u64);
            let (nanos, tokio_bytes) = tokio.block_on(workloads::reqwest_gets(&client, &url, n, concurrency));
            tokio_rate.push((n as f64 * 1e9 / nanos as f64) as u64);
            assert_eq!(tau_bytes, tokio_bytes, "{name}: the two sides received different bytes");
        }
        let (tau_rate, tokio_rate) = (median(tau_rate), median(tokio_rate));
        println!(
            "{:<40} {:>10}/s {:>10}/s {:>9.2}x",
            name,
            tau_rate,
            tokio_rate,
            tau_rate as f64 / tokio_rate as f64
        );
    }
    let _ = stop.send(());
    thread.join().unwrap();
}

/// What a call returns: the result's `x`, checked by the caller.
fn result_x(result: &str) -> u64 {
    let value: serde_json::Value = serde_json::from_str(result).unwrap();
    assert_eq!(value["ok"], true);
    value["x"].as_u64().unwrap()
}

fn request(x: u64) -> String {
    serde_json::json!({ "tool": "noop", "args": { "x": x } }).to_string()
}

/// Times `calls` calls of `call`, after a tenth as many to warm up:
/// sorted latencies.
fn time_calls(calls: u64, mut call: impl FnMut(u64) -> u64) -> Vec<u64> {
    for x in 0..calls / 10 {
        assert_eq!(call(x), x);
    }
    let mut latencies: Vec<u64> = (0..calls)
        .map(|x| {
            let start = Instant::now();
            assert_eq!(call(x), x);
            start.elapsed().as_nanos() as u64
        })
        .collect();
    latencies.sort_unstable();
    latencies
}

type ToolCall = unsafe extern "C" fn(*const u8, usize) -> async_ffi::FfiFuture<ToolText>;
type ToolFree = unsafe extern "C" fn(ToolText);

/// `plugins/async-ffi-tool`'s `ToolText`.
#[repr(C)]
struct ToolText {
    ptr: *mut u8,
    len: usize,
    cap: usize,
}

fn build_async_ffi_tool(workspace: &Path) -> PathBuf {
    let target = workspace.join("target/async-ffi-tool");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--release", "--quiet", "--manifest-path"])
        .arg(workspace.join("plugins/async-ffi-tool/Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .status()
        .expect("running cargo");
    assert!(status.success(), "building plugins/async-ffi-tool failed");
    target.join("release/libasync_ffi_tool.so")
}

fn call_table(host: &Host, net_bench: PluginId, workspace: &Path, scale: usize) {
    let calls = (100_000 / scale as u64).max(100);
    let mut rows = Vec::new();

    // (a) a tau async export.
    let plugin = host.plugin(net_bench).unwrap();
    rows.push((
        "tau async export (spawn_call + block_on)",
        time_calls(calls, |x| {
            let result =
                host.block_on(plugin.spawn_call::<String, _>("tool_call", (request(x),)).unwrap()).unwrap();
            result_x(&result)
        }),
    ));

    // (a') a tau synchronous export: no task, the call runs in place;
    // `call` checks the types on every call, `typed` once.
    rows.push((
        "tau sync export (call)",
        time_calls(calls, |x| {
            let result: String = plugin.call("tool_call_sync", (request(x),)).unwrap();
            result_x(&result)
        }),
    ));
    let typed = plugin.typed::<(String,), String>("tool_call_sync").unwrap();
    rows.push((
        "tau sync export (typed, checked once)",
        time_calls(calls, |x| result_x(&typed.call((request(x),)).unwrap())),
    ));

    // (b) a child process, JSON lines over stdin/stdout.
    let mut child = Command::new(std::env::current_exe().unwrap())
        .env("TAU_BENCH_CHILD", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("starting the child");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    rows.push((
        "child process, JSON lines on stdio",
        time_calls(calls, |x| {
            let mut sent = request(x);
            sent.push('\n');
            stdin.write_all(sent.as_bytes()).unwrap();
            stdin.flush().unwrap();
            line.clear();
            stdout.read_line(&mut line).unwrap();
            result_x(&line)
        }),
    ));
    drop(stdin);
    assert!(child.wait().unwrap().success());

    // (c) async-ffi's FfiFuture from a cdylib.
    let library = build_async_ffi_tool(workspace);
    // SAFETY: the library is ours (plugins/async-ffi-tool), built just now.
    let library = unsafe { libloading::Library::new(&library) }.expect("loading async-ffi-tool");
    // SAFETY: the symbols have these signatures in plugins/async-ffi-tool.
    let (tool_call, tool_free) = unsafe {
        (*library.get::<ToolCall>(b"tool_call\0").unwrap(), *library.get::<ToolFree>(b"tool_free\0").unwrap())
    };
    rows.push((
        "async-ffi FfiFuture from a cdylib",
        time_calls(calls, |x| {
            let sent = request(x);
            // SAFETY: `sent` outlives the call; the future owns a copy.
            let future = unsafe { tool_call(sent.as_ptr(), sent.len()) };
            let text = futures::executor::block_on(future);
            // SAFETY: the library wrote `len` bytes of UTF-8 there.
            let result =
                unsafe { std::str::from_utf8_unchecked(std::slice::from_raw_parts(text.ptr, text.len)) };
            let x = result_x(result);
            // SAFETY: a text of this library's, freed once.
            unsafe { tool_free(text) };
            x
        }),
    ));

    println!("\ncall: one tool call, JSON in and out, no work; {calls} calls each");
    println!("{:<44} {:>12} {:>12}", "", "median", "p99");
    for (name, latencies) in rows {
        println!(
            "{:<44} {:>9.2} µs {:>9.2} µs",
            name,
            percentile(&latencies, 500) as f64 / 1e3,
            percentile(&latencies, 990) as f64 / 1e3
        );
    }
}

/// The child of the call benchmark: JSON lines in, JSON lines out, on a
/// tokio runtime of its own.
fn child_main() {
    use tokio::io::AsyncBufReadExt;
    current_thread().block_on(async {
        let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
        let mut stdout = tokio::io::stdout();
        while let Some(line) = lines.next_line().await.unwrap() {
            let mut result = tool::tool(&line);
            result.push('\n');
            stdout.write_all(result.as_bytes()).await.unwrap();
            stdout.flush().await.unwrap();
        }
    });
}

fn main() {
    if std::env::var_os("TAU_BENCH_CHILD").is_some() {
        return child_main();
    }
    let settings = Settings::from_env();
    let (scale, wanted) = (settings.scale, |table: &str| settings.wants(|picked| picked == table));
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let cache_dir = std::env::var_os("TAU_CACHE_DIR")
        .map(Into::into)
        .unwrap_or_else(|| workspace.join("target").join("tau-cache"));
    let builder = Builder::new().release(true).quiet(true).cache_dir(cache_dir);
    let build = |dir: &str| {
        builder.build(&workspace.join(dir)).unwrap_or_else(|error| panic!("{dir}: {error}")).library
    };
    let (web_server, net_bench) = (build("examples/web-server"), build("plugins/net-bench-plugin"));
    let mut host = Host::with_builder(builder.clone(), tau::runtime::Runtime::new().unwrap());
    let web_server = host.load(&web_server).expect("loading web-server");
    let net_bench = host.load(&net_bench).expect("loading net-bench-plugin");
    println!(
        "tau plugins (release) vs the same code on real tokio current-thread, median of {ROUNDS} rounds"
    );
    if wanted("server") {
        server_table(&host, web_server, &settings);
    }
    if wanted("client") {
        client_table(&host, net_bench, scale);
    }
    if wanted("call") {
        call_table(&host, net_bench, workspace, scale);
    }
    host.unload_all();
}
