//! End-to-end: the example plugins of `examples/`, built by tau and loaded
//! in a host, doing real network work against servers this test starts on
//! 127.0.0.1 (ports chosen at run time).

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::http_server::{pattern, HttpServer};
use common::kube_api::KubeApi;
use common::{example, host, off_runtime, run};
use tau::stream::{BoxStream, StreamExt};
use tau_host::{Host, PluginId};

fn load_example(host: &mut Host, name: &str) -> PluginId {
    host.load(example(name)).unwrap_or_else(|error| panic!("loading {name}: {error}"))
}

fn http_fetch(host: &mut Host) -> PluginId {
    load_example(host, "http-fetch")
}

/// Calls http-fetch's `download` of `url` and drains the stream here, in
/// the host: every item, in order.
fn download(host: &Host, plugin: PluginId, url: String) -> Vec<Result<Vec<u8>, String>> {
    let stream: BoxStream<'static, Result<Vec<u8>, String>> =
        host.plugin(plugin).unwrap().call("download", (url,)).unwrap();
    host.block_on(stream.collect())
}

/// Loads web-server and starts it: the plugin and its port.
fn web_server(host: &mut Host) -> (PluginId, u16) {
    let server = load_example(host, "web-server");
    let port: Result<u16, String> = run(host, server, "serve", (0u16,));
    (server, port.expect("starting the server"))
}

/// web-server started and http-fetch loaded beside it: (server, its port,
/// client).
fn server_and_client(host: &mut Host) -> (PluginId, u16, PluginId) {
    let (server, port) = web_server(host);
    (server, port, http_fetch(host))
}

/// One HTTP/1.1 request over a std socket from a blocking-pool thread
/// (the host's runtime keeps running meanwhile): the whole response.
fn raw_request(host: &Host, port: u16, request: String) -> String {
    use std::io::{Read, Write};
    off_runtime(host, move || {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    })
}

/// Which end of a TCP connection a port is.
#[derive(Clone, Copy)]
enum End {
    /// Our socket's own port (a server's listener and accepted streams).
    Local(u16),
    /// The peer's port (our client sockets to a server).
    Remote(u16),
}

/// How many of this process's open fds are TCP sockets with `end`. Other
/// tests run in parallel in this process, so counting all fds would race;
/// counting the sockets to or from one test's own port does not.
fn sockets(end: End) -> usize {
    let mut matching = std::collections::HashSet::new();
    for table in ["/proc/self/net/tcp", "/proc/self/net/tcp6"] {
        for line in std::fs::read_to_string(table).unwrap_or_default().lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let port =
                |field: &str| field.rsplit(':').next().and_then(|hex| u16::from_str_radix(hex, 16).ok());
            let hit = match end {
                End::Local(wanted) => port(fields[1]) == Some(wanted),
                End::Remote(wanted) => port(fields[2]) == Some(wanted),
            };
            if hit {
                matching.insert(format!("socket:[{}]", fields[9]));
            }
        }
    }
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .flatten()
        .filter_map(|entry| std::fs::read_link(entry.path()).ok())
        .filter(|target| matching.contains(&target.display().to_string()))
        .count()
}

#[test]
fn http_fetch_gets_text_and_reports_statuses_and_refusals_as_errors() {
    let server = HttpServer::start();
    let mut host = host();
    let plugin = http_fetch(&mut host);
    let body: Result<String, String> = run(&host, plugin, "get", (server.url("/hello"),));
    assert_eq!(body.as_deref(), Ok("hello from the test server"));

    let missing: Result<String, String> = run(&host, plugin, "get", (server.url("/missing"),));
    let error = missing.unwrap_err();
    assert!(error.contains("404 Not Found"), "{error}");

    // A port nobody listens on: bind one, note it, close it.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let refused: Result<String, String> = run(&host, plugin, "get", (format!("http://{closed}/"),));
    let error = refused.unwrap_err();
    assert!(error.contains("Connection refused"), "{error}");
}

#[test]
fn http_fetch_posts_json_and_decodes_the_reply_with_serde() {
    let server = HttpServer::start();
    let mut host = host();
    let plugin = http_fetch(&mut host);
    let receipt: Result<(u64, u64), String> =
        run(&host, plugin, "post_json", (server.url("/orders"), "tea".to_string(), 3u32));
    assert_eq!(receipt, Ok((7, 750)));
}

#[test]
fn the_host_consumes_a_streamed_download_chunk_by_chunk() {
    let server = HttpServer::start();
    let mut host = host();
    let plugin = http_fetch(&mut host);
    const SIZE: usize = 1 << 20;
    let chunks: Vec<Vec<u8>> = download(&host, plugin, server.url(&format!("/bytes/{SIZE}")))
        .into_iter()
        .map(|chunk| chunk.expect("a download chunk"))
        .collect();
    assert!(chunks.len() > 1, "the body came in {} chunk(s), not streamed", chunks.len());
    assert_eq!(chunks.concat(), pattern(SIZE));

    let items = download(&host, plugin, server.url("/missing"));
    assert_eq!(items.len(), 1, "{items:?}");
    assert!(items[0].as_ref().unwrap_err().contains("404"), "{items:?}");
}

#[test]
fn concurrent_requests_share_one_client_and_its_connection_pool() {
    let server = HttpServer::start();
    let mut host = host();
    let plugin = http_fetch(&mut host);
    let urls: Vec<String> = (0..40).map(|n| server.url(&format!("/echo/{n}"))).collect();
    let bodies: Vec<Result<String, String>> = run(&host, plugin, "get_many", (urls, 5u64));
    let expected: Vec<Result<String, String>> = (0..40).map(|n| Ok(n.to_string())).collect();
    assert_eq!(bodies, expected);
    // 40 requests, 5 at a time, over kept-alive connections of one pool:
    // about 5 connections (hyper hands a connection back to the pool just
    // after its response, so a request may open a sixth meanwhile), never
    // one per request.
    let connections = server.connections();
    assert!((1..=10).contains(&connections), "{connections} connections for 40 requests at concurrency 5");
    // A second batch reuses the pool: no new connection beyond the five.
    let again: Vec<Result<String, String>> =
        run(&host, plugin, "get_many", (vec![server.url("/hello")], 1u64));
    assert_eq!(again, vec![Ok("hello from the test server".to_string())]);
    assert_eq!(server.connections(), connections);
}

#[test]
fn a_request_past_its_timeout_fails_with_a_timeout_error_and_the_next_one_works() {
    let server = HttpServer::start();
    let mut host = host();
    let plugin = http_fetch(&mut host);
    let started = Instant::now();
    let slow: Result<String, String> =
        run(&host, plugin, "get_with_timeout", (server.url("/slow/3000"), 100u64));
    let error = slow.unwrap_err();
    assert!(error.contains("timed out"), "{error}");
    assert!(started.elapsed() < Duration::from_millis(2900), "the timeout did not cut the request");
    let fast: Result<String, String> =
        run(&host, plugin, "get_with_timeout", (server.url("/hello"), 5_000u64));
    assert_eq!(fast.as_deref(), Ok("hello from the test server"));
}

#[test]
fn unloading_mid_request_cancels_it_closes_its_sockets_and_the_host_goes_on() {
    let server = HttpServer::start();
    let mut host = host();
    let plugin = http_fetch(&mut host);
    // One request first, so the client, its pool and the runtime's own fds
    // exist before the count.
    let warm: Result<String, String> = run(&host, plugin, "get", (server.url("/hello"),));
    assert!(warm.is_ok(), "{warm:?}");
    let call = host
        .plugin(plugin)
        .unwrap()
        .spawn_call::<Result<String, String>, _>("get", (server.url("/slow/60000"),))
        .unwrap();
    // Until the request is on the wire: the server has read it.
    let waiting = server.clone();
    let arrived = off_runtime(&host, move || waiting.wait_for_requests(2, Duration::from_secs(10)));
    assert!(arrived, "the slow request never reached the server");
    assert!(sockets(End::Remote(server.port())) >= 1, "no socket to the server before the unload");
    host.unload(plugin).unwrap();
    let error = host.block_on(call).unwrap_err();
    assert!(error.is_cancelled(), "{error}");
    assert_eq!(
        sockets(End::Remote(server.port())),
        0,
        "the plugin's sockets to the server outlived the unload"
    );
    // The host goes on: a fresh load of the same plugin works.
    let again = http_fetch(&mut host);
    let body: Result<String, String> = run(&host, again, "get", (server.url("/hello"),));
    assert_eq!(body.as_deref(), Ok("hello from the test server"));
}

/// `openssl s_server -WWW` serving `hello.txt` from a temporary directory,
/// with a certificate for 127.0.0.1 signed by a fresh self-signed CA.
struct TlsServer {
    child: Child,
    port: u16,
    certificate: String,
    _dir: tempfile::TempDir,
}

impl TlsServer {
    fn start() -> TlsServer {
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name);
        let openssl = |args: &[&str]| {
            let status = Command::new("openssl")
                .args(args)
                .current_dir(dir.path())
                .stderr(Stdio::null())
                .status()
                .expect("running openssl (install the `openssl` package)");
            assert!(status.success(), "openssl {args:?} failed");
        };
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=tau test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ]);
        openssl(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "key.pem",
            "-out",
            "server.csr",
        ]);
        std::fs::write(
            path("server.ext"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n",
        )
        .unwrap();
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "1",
            "-extfile",
            "server.ext",
            "-out",
            "cert.pem",
        ]);
        std::fs::write(path("hello.txt"), "hello over TLS\n").unwrap();
        let mut child = Command::new("openssl")
            .args(["s_server", "-accept", "127.0.0.1:0", "-WWW", "-cert"])
            .arg(path("cert.pem"))
            .arg("-key")
            .arg(path("key.pem"))
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting openssl s_server");
        let port = read_accept_port(child.stdout.take().unwrap());
        let certificate = std::fs::read_to_string(path("ca.pem")).unwrap();
        TlsServer { child, port, certificate, _dir: dir }
    }
}

/// The port of s_server's `ACCEPT 127.0.0.1:<port>` line; what it prints
/// after that is drained on a thread, so that it never blocks on (or dies
/// of) a full or closed pipe.
fn read_accept_port(stdout: impl std::io::Read + Send + 'static) -> u16 {
    use std::io::BufRead;
    let mut lines = std::io::BufReader::new(stdout);
    let mut line = String::new();
    while lines.read_line(&mut line).unwrap() > 0 {
        if let Some(address) = line.trim_end().strip_prefix("ACCEPT ") {
            let port = address.rsplit(':').next().unwrap().parse().unwrap();
            std::thread::spawn(move || std::io::copy(&mut lines, &mut std::io::sink()));
            return port;
        }
        line.clear();
    }
    panic!("openssl s_server ended before it listened");
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn https_with_a_self_signed_certificate_through_rustls_and_native_tls() {
    let server = TlsServer::start();
    let mut host = host();
    let plugin = http_fetch(&mut host);
    let url = format!("https://127.0.0.1:{}/hello.txt", server.port);
    for tls in ["rustls", "native-tls"] {
        let body: Result<String, String> =
            run(&host, plugin, "get_tls", (url.clone(), server.certificate.clone(), tls.to_string()));
        assert_eq!(body.as_deref(), Ok("hello over TLS\n"), "through {tls}");
    }
    // Without the certificate among its roots, the client refuses the server.
    let untrusted: Result<String, String> = run(&host, plugin, "get", (url,));
    let error = untrusted.unwrap_err();
    assert!(error.to_lowercase().contains("certificate"), "{error}");
    let unknown: Result<String, String> =
        run(&host, plugin, "get_tls", (String::new(), server.certificate.clone(), "gnutls".to_string()));
    assert_eq!(unknown.unwrap_err(), "unknown TLS backend `gnutls`: use `rustls` or `native-tls`");
}

#[test]
fn web_server_serves_routes_json_and_a_streamed_response() {
    let mut host = host();
    let (server, port, client) = server_and_client(&mut host);
    let url = |path: &str| format!("http://127.0.0.1:{port}{path}");

    let hello: Result<String, String> = run(&host, client, "get", (url("/"),));
    assert_eq!(hello.as_deref(), Ok("hello from axum in a tau plugin"));
    let named: Result<String, String> = run(&host, client, "get", (url("/json/plugin"),));
    let named: serde_json::Value = serde_json::from_str(&named.unwrap()).unwrap();
    assert_eq!(named, serde_json::json!({ "name": "plugin", "length": 6 }));

    // A JSON POST from outside the runtime, over a plain socket.
    let body = "[1, 2, 3, 36]";
    let response = raw_request(
        &host,
        port,
        format!("POST /sum HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len()),
    );
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(response.ends_with("\r\n\r\n42"), "{response}");

    // The streamed response, consumed by the host through http-fetch's stream.
    let chunks: Vec<Vec<u8>> =
        download(&host, client, url("/stream/200")).into_iter().map(Result::unwrap).collect();
    let expected: String = (0..200).map(|i| format!("line {i}\n")).collect();
    assert_eq!(String::from_utf8(chunks.concat()).unwrap(), expected);
    assert!(chunks.len() > 1, "not streamed: {} chunk(s)", chunks.len());

    // HTTP/2 (h2c, prior knowledge) through hyper's client in reqwest.
    let h2: Result<(String, String), String> = run(&host, client, "get_h2", (url("/"),));
    assert_eq!(h2, Ok(("HTTP/2.0".to_string(), "hello from axum in a tau plugin".to_string())));

    let served: u64 = host.plugin(server).unwrap().call("requests_served", ()).unwrap();
    assert_eq!(served, 5);
    let again: Result<u16, String> = run(&host, server, "serve", (0u16,));
    assert_eq!(again, Err("the server is already running: stop it first".to_string()));
}

#[test]
fn two_plugins_share_the_runtime_under_load_while_a_third_plugins_timer_fires() {
    let mut host = host();
    let (server, port, client) = server_and_client(&mut host);
    let timer = host.load(common::library("example-plugin")).unwrap();
    let urls: Vec<String> = (0..1000).map(|n| format!("http://127.0.0.1:{port}/json/n{n}")).collect();
    let load = host
        .plugin(client)
        .unwrap()
        .spawn_call::<Vec<Result<String, String>>, _>("get_many", (urls, 50u64))
        .unwrap();
    // A 20 ms sleep in the third plugin, again and again while the load runs.
    let mut lateness = Vec::new();
    while !load.is_finished() {
        let started = Instant::now();
        let doubled: i64 = run(&host, timer, "slow_double", (21i64,));
        assert_eq!(doubled, 42);
        lateness.push(started.elapsed().saturating_sub(Duration::from_millis(20)));
    }
    let bodies = host.block_on(load).unwrap();
    assert_eq!(bodies.len(), 1000);
    for (n, body) in bodies.iter().enumerate() {
        let value: serde_json::Value = serde_json::from_str(body.as_ref().unwrap()).unwrap();
        assert_eq!(value["name"], format!("n{n}"));
    }
    let served: u64 = host.plugin(server).unwrap().call("requests_served", ()).unwrap();
    assert_eq!(served, 1000);
    assert!(!lateness.is_empty(), "the load ended before the first timer did");
    lateness.sort();
    eprintln!(
        "1000 requests at concurrency 50: {} timers of 20 ms fired meanwhile, lateness median {:?}, max {:?}",
        lateness.len(),
        lateness[lateness.len() / 2],
        lateness.last().unwrap()
    );
}

#[test]
fn unloading_the_server_mid_request_cuts_it_frees_the_port_and_the_client_goes_on() {
    let mut host = host();
    let (server, port, client) = server_and_client(&mut host);
    let url = |path: &str| format!("http://127.0.0.1:{port}{path}");
    let warm: Result<String, String> = run(&host, client, "get", (url("/"),));
    assert!(warm.is_ok(), "{warm:?}");
    let slow = host
        .plugin(client)
        .unwrap()
        .spawn_call::<Result<String, String>, _>("get", (url("/slow/60000"),))
        .unwrap();
    let started: u64 = run(&host, server, "until_started", (2u64,));
    assert_eq!(started, 2);
    assert!(sockets(End::Local(port)) >= 2, "the listener and the connection in flight");
    host.unload(server).unwrap();
    assert_eq!(sockets(End::Local(port)), 0, "the server's sockets outlived the unload");
    // The request in flight is cut: the client sees its connection close.
    let cut = host.block_on(slow).unwrap();
    assert!(cut.is_err(), "{cut:?}");
    // The port is free at once.
    drop(std::net::TcpListener::bind(("127.0.0.1", port)).expect("the port is free after unload"));
    // A new server instance on the same port; the client plugin still works.
    let server = load_example(&mut host, "web-server");
    let again: Result<u16, String> = run(&host, server, "serve", (port,));
    assert_eq!(again, Ok(port));
    let hello: Result<String, String> = run(&host, client, "get", (url("/"),));
    assert_eq!(hello.as_deref(), Ok("hello from axum in a tau plugin"));
}

#[test]
fn a_graceful_stop_lets_the_request_in_flight_finish_then_refuses_connections() {
    let mut host = host();
    let (server, port, client) = server_and_client(&mut host);
    let url = format!("http://127.0.0.1:{port}/slow/300");
    let slow = host.plugin(client).unwrap().spawn_call::<Result<String, String>, _>("get", (url,)).unwrap();
    let _: u64 = run(&host, server, "until_started", (1u64,));
    let stopped: Result<bool, String> = run(&host, server, "stop", ());
    assert_eq!(stopped, Ok(true));
    assert_eq!(host.block_on(slow).unwrap().as_deref(), Ok("slow"));
    let refused: Result<String, String> = run(&host, client, "get", (format!("http://127.0.0.1:{port}/"),));
    assert!(refused.unwrap_err().contains("Connection refused"));
    let again: Result<bool, String> = run(&host, server, "stop", ());
    assert_eq!(again, Ok(false));
}

/// Loads kube-watch and starts its watch on `api`.
fn kube_watch(host: &mut Host, api: &KubeApi) -> PluginId {
    let plugin = load_example(host, "kube-watch");
    let started: Result<(), String> =
        host.plugin(plugin).unwrap().call("start", (api.url(), "default".to_string())).unwrap();
    started.expect("starting the watch");
    plugin
}

/// Waits until the plugin's store holds exactly `expected`.
fn store_holds(host: &Host, plugin: PluginId, expected: &[(&str, &str)]) {
    let expected: Vec<(String, String)> =
        expected.iter().map(|(name, value)| (name.to_string(), value.to_string())).collect();
    let held: Result<Vec<(String, String)>, String> =
        run(host, plugin, "wait_for", (expected.clone(), 20_000u64));
    assert_eq!(held, Ok(expected));
}

fn watch_events(host: &Host, plugin: PluginId) -> Vec<String> {
    let events: Result<Vec<String>, String> = host.plugin(plugin).unwrap().call("events", ()).unwrap();
    events.unwrap()
}

#[test]
fn the_kube_watcher_and_its_store_follow_adds_updates_and_deletes() {
    let api = KubeApi::start();
    api.create("alpha", "1");
    api.create("beta", "2");
    let mut host = host();
    let plugin = kube_watch(&mut host, &api);
    store_holds(&host, plugin, &[("alpha", "1"), ("beta", "2")]);
    api.create("gamma", "3");
    api.update("alpha", "10");
    api.delete("beta");
    store_holds(&host, plugin, &[("alpha", "10"), ("gamma", "3")]);
    assert_eq!(
        watch_events(&host, plugin),
        [
            "init",
            "init_apply alpha",
            "init_apply beta",
            "init_done",
            "apply gamma",
            "apply alpha",
            "delete beta"
        ]
    );
    assert_eq!(api.requests(), (1, 1), "(lists, watches)");
}

#[test]
fn the_kube_watcher_recovers_after_a_dropped_watch_and_after_410_gone() {
    let api = KubeApi::start();
    api.create("a", "1");
    let mut host = host();
    let plugin = kube_watch(&mut host, &api);
    store_holds(&host, plugin, &[("a", "1")]);
    // The watch request follows the list: wait until the server has it.
    let waiting = api.clone();
    let watching = off_runtime(&host, move || waiting.wait_for_requests(1, 1, Duration::from_secs(10)));
    assert!(watching, "the watcher never watched");

    // The server ends the watch response: the watcher watches again from
    // the version it had, and the server replays what it missed.
    api.drop_watches();
    api.create("b", "2");
    store_holds(&host, plugin, &[("a", "1"), ("b", "2")]);
    let (lists, watches) = api.requests();
    assert_eq!(lists, 1, "a dropped watch needs no new list");
    assert!(watches >= 2, "{watches} watches");

    // Changes the watch never reports, then 410 Gone: only a re-list can
    // make the store right, and it must.
    api.change_unseen_then_expire(&[("c", "3")], &["a"]);
    store_holds(&host, plugin, &[("b", "2"), ("c", "3")]);
    assert_eq!(api.requests().0, 2, "410 Gone forces exactly one re-list");
    let events = watch_events(&host, plugin);
    assert!(
        events
            .iter()
            .any(|event| event.starts_with("error") && event.contains("too old resource version: Expired")),
        "{events:?}"
    );
    assert_eq!(events.iter().filter(|event| *event == "init_done").count(), 2, "{events:?}");

    // Unload while the watch connection is open: it closes.
    assert!(sockets(End::Remote(api.port())) >= 1, "no watch connection before the unload");
    host.unload(plugin).unwrap();
    assert_eq!(sockets(End::Remote(api.port())), 0, "the watch connection outlived the unload");
}

#[test]
fn a_websocket_echo_inside_the_web_server_plugin() {
    use tungstenite::Message;
    let mut host = host();
    let (_server, port) = web_server(&mut host);
    // A plain tungstenite client on a blocking-pool thread; the host's
    // runtime runs the plugin's side meanwhile.
    let replies = off_runtime(&host, move || {
        let stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (mut socket, response) =
            tungstenite::client::client(format!("ws://127.0.0.1:{port}/ws"), stream).expect("the handshake");
        assert_eq!(response.status(), 101);
        let mut replies = Vec::new();
        for text in ["hello", "tau"] {
            socket.send(Message::text(text)).unwrap();
            replies.push(socket.read().unwrap());
        }
        socket.send(Message::binary(vec![1u8, 2, 3])).unwrap();
        replies.push(socket.read().unwrap());
        socket.close(None).unwrap();
        replies
    });
    assert_eq!(
        replies,
        [Message::text("echo: hello"), Message::text("echo: tau"), Message::binary(vec![1u8, 2, 3])]
    );
}
