//! A program that embeds `tau-host` as a library: the reference for host
//! authors. It loads two example plugins from their crates (building them
//! first, through the build cache), starts the web server of one, calls it
//! with the HTTP client of the other, consumes a stream that plugin hands
//! out, reads per-plugin metrics, and unloads both.
//!
//! With `--kube URL` it also loads kube-watch, watches the ConfigMaps of
//! namespace `default` on the API server at `URL` and prints what its
//! reflector store holds once the initial list is in.
//!
//! ```sh
//! cargo run -p embed-host                          # the plugins are found beside this crate
//! cargo run -p embed-host -- DIR                   # or in DIR (web-server/, http-fetch/, kube-watch/)
//! cargo run -p embed-host -- --kube http://127.0.0.1:8001
//! ```
//!
//! Every step prints one line; any error ends the program with a message
//! and exit code 1.

use std::path::PathBuf;
use std::process::ExitCode;

use tau::stream::{BoxStream, StreamExt};
use tau_host::{Host, PluginId};

type Error = Box<dyn std::error::Error>;

/// Runs an async export to its end: the export's own result.
fn run<R: Send + 'static, A: tau_host::Args>(
    host: &Host,
    id: PluginId,
    export: &str,
    args: A,
) -> Result<R, Error> {
    let plugin = host.plugin(id).ok_or("the plugin is not loaded")?;
    Ok(host.block_on(plugin.spawn_call::<R, A>(export, args)?)?)
}

fn main() -> ExitCode {
    match embed() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("embed-host: {error}");
            ExitCode::FAILURE
        }
    }
}

/// `[DIR] [--kube URL]`.
fn arguments() -> Result<(PathBuf, Option<String>), Error> {
    let mut examples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut kube = None;
    let mut args = std::env::args_os().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--kube" {
            let url = args.next().ok_or("--kube needs the API server's URL")?;
            kube = Some(url.into_string().map_err(|_| "the --kube URL is not UTF-8")?);
        } else {
            examples = PathBuf::from(arg);
        }
    }
    Ok((examples, kube))
}

fn embed() -> Result<(), Error> {
    let (examples, kube) = arguments()?;
    // One host: one runtime (executor, reactor, timers) for every plugin.
    let mut host = Host::new()?;
    let server = host.load(examples.join("web-server"))?;
    let client = host.load(examples.join("http-fetch"))?;
    println!(
        "loaded: {}",
        host.plugins().map(|plugin| plugin.name().to_string()).collect::<Vec<_>>().join(", ")
    );

    let port = run::<Result<u16, String>, _>(&host, server, "serve", (0u16,))??;
    println!("web-server serves 127.0.0.1:{port}");
    let url = |path: &str| format!("http://127.0.0.1:{port}{path}");

    let hello = run::<Result<String, String>, _>(&host, client, "get", (url("/"),))??;
    println!("GET / -> {hello}");
    let json = run::<Result<String, String>, _>(&host, client, "get", (url("/json/embed"),))??;
    println!("GET /json/embed -> {json}");

    // A stream the plugin returns is polled here, by the host; the plugin's
    // code runs inside each poll.
    let mut body: BoxStream<'static, Result<Vec<u8>, String>> =
        host.plugin(client).ok_or("http-fetch is gone")?.call("download", (url("/stream/3"),))?;
    let chunks = host.block_on(async {
        let mut chunks = Vec::new();
        while let Some(chunk) = body.next().await {
            chunks.push(String::from_utf8_lossy(&chunk?).into_owned());
        }
        Ok::<_, String>(chunks)
    })?;
    println!("GET /stream/3 streamed {} chunks: {:?}", chunks.len(), chunks.concat());

    let served: u64 = host.plugin(server).ok_or("web-server is gone")?.call("requests_served", ())?;
    let metrics = host.plugin_metrics(server).ok_or("web-server is gone")?;
    println!(
        "web-server: {served} requests served; {} tasks alive, {} sockets registered",
        metrics.num_alive_tasks(),
        metrics.num_io_registrations()
    );

    if let Some(url) = kube {
        let watcher = host.load(examples.join("kube-watch"))?;
        host.plugin(watcher)
            .ok_or("kube-watch is gone")?
            .call::<Result<(), String>, _>("start", (url, "default".to_string()))??;
        // Until the watcher's first list is in the store.
        let objects = run::<Result<Vec<(String, String)>, String>, _>(&host, watcher, "ready", (5_000u64,))??;
        println!("kube-watch store: {objects:?}");
        println!("unloaded kube-watch: {} tasks cancelled", host.unload(watcher)?.tasks_cancelled);
    }

    let stopped = run::<Result<bool, String>, _>(&host, server, "stop", ())??;
    println!("web-server stopped gracefully: {stopped}");
    for (name, id) in [("web-server", server), ("http-fetch", client)] {
        let unloaded = host.unload(id)?;
        println!("unloaded {name}: {} tasks cancelled", unloaded.tasks_cancelled);
    }
    Ok(())
}
