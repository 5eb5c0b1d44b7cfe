//! Runs the embed-host program as a user would and checks what it printed,
//! line by line (the port and some counts vary; the rest is exact).

#[path = "../../../tests/common/kube_api.rs"]
#[allow(dead_code)]
mod kube_api;

use std::path::Path;
use std::process::Command;

/// Runs embed-host with `args`; its stdout, once it succeeded.
fn embed_host(args: &[&str]) -> String {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let output = Command::new(env!("CARGO_BIN_EXE_embed-host"))
        .args(args)
        // The build cache the workspace's tests share.
        .env("TAU_CACHE_DIR", workspace.join("target/tau-cache"))
        .output()
        .expect("running embed-host");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "embed-host failed:\n{stdout}\n{stderr}");
    stdout
}

#[test]
fn embed_host_loads_calls_streams_and_unloads_the_example_plugins() {
    let stdout = embed_host(&[]);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 9, "{stdout}");
    assert_eq!(lines[0], "loaded: web-server, http-fetch");
    let port: u16 = lines[1].strip_prefix("web-server serves 127.0.0.1:").expect(lines[1]).parse().unwrap();
    assert_ne!(port, 0);
    assert_eq!(lines[2], "GET / -> hello from axum in a tau plugin");
    assert_eq!(lines[3], r#"GET /json/embed -> {"name":"embed","length":5}"#);
    assert_eq!(lines[4], r#"GET /stream/3 streamed 3 chunks: "line 0\nline 1\nline 2\n""#);
    assert!(lines[5].starts_with("web-server: 3 requests served; "), "{}", lines[5]);
    assert_eq!(lines[6], "web-server stopped gracefully: true");
    assert_eq!(lines[7], "unloaded web-server: 0 tasks cancelled");
    assert!(lines[8].starts_with("unloaded http-fetch: "), "{}", lines[8]);
}

#[test]
fn embed_host_with_a_directory_without_the_plugins_says_what_is_missing() {
    let empty = std::env::temp_dir().join(format!("embed-host-empty-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let output =
        Command::new(env!("CARGO_BIN_EXE_embed-host")).arg(&empty).output().expect("running embed-host");
    std::fs::remove_dir_all(&empty).unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.starts_with("embed-host: "), "{stderr}");
    assert!(stderr.contains("web-server"), "the message names what is missing: {stderr}");
}

#[test]
fn embed_host_with_kube_also_watches_the_api_servers_config_maps() {
    let api = kube_api::KubeApi::start();
    api.create("settings", "on");
    api.create("limits", "7");
    let stdout = embed_host(&["--kube", &api.url()]);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 11, "{stdout}");
    assert_eq!(lines[6], r#"kube-watch store: [("limits", "7"), ("settings", "on")]"#);
    assert!(lines[7].starts_with("unloaded kube-watch: "), "{}", lines[7]);
    assert_eq!(lines[8], "web-server stopped gracefully: true");
    assert_eq!(api.requests().0, 1, "one list");
}
