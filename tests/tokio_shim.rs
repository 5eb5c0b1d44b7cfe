//! End-to-end: a plugin written against tokio, tokio-stream and tokio-util
//! (`plugins/tokio-plugin`) is built with tau's tokio patched in and loaded
//! by a host; its tokio code runs on the host's one runtime and gives the
//! values real tokio gives.

mod common;

use std::any::Any;
use std::time::{Duration, Instant};

use common::{host, library, run};
use tau::stream::BoxStream;
use tau_host::{Host, PluginId};

const PLUGIN: &str = "tokio-plugin";

fn load(host: &mut Host) -> PluginId {
    load_named(host, PLUGIN)
}

fn load_named(host: &mut Host, name: &str) -> PluginId {
    host.load(library(name)).unwrap_or_else(|error| panic!("loading {name}: {error}"))
}

#[test]
fn tokio_tasks_timers_and_join_sets_run_on_the_hosts_runtime() {
    let mut host = host();
    let plugin = load(&mut host);
    let sum: u64 = run(&host, plugin, "spawn_and_sleep", (100u64,));
    assert_eq!(sum, (0..100).sum::<u64>());
}

#[test]
fn a_bounded_channel_applies_backpressure() {
    let mut host = host();
    let plugin = load(&mut host);
    let log: String = run(&host, plugin, "bounded_backpressure", ());
    // Capacity 1: the first send completes, the second waits for the first
    // receive, and so on.
    assert_eq!(log, "s0|r0s1r1s2r2");
}

#[test]
fn upstream_sync_primitives_and_macros_keep_tokios_semantics() {
    let mut host = host();
    let plugin = load(&mut host);
    let report: String = run(&host, plugin, "sync_primitives", ());
    assert_eq!(
        report,
        "oneshot 7, join 6, try_join Err(\"second failed\"), notify, closed true, watch 5, \
         try_acquire false, available 1, mutex 10"
    );
}

#[test]
fn tokio_util_framed_lines_echo_over_loopback_tcp() {
    let mut host = host();
    let plugin = load(&mut host);
    let lines = vec!["one".to_string(), "two".to_string(), "three".to_string()];
    let echoed: Vec<String> = run(&host, plugin, "framed_echo", (lines,));
    assert_eq!(echoed, ["echo: one", "echo: two", "echo: three"]);
}

#[test]
fn io_copy_moves_a_megabyte_through_split_tcp_halves() {
    let mut host = host();
    let plugin = load(&mut host);
    let copied: u64 = run(&host, plugin, "tcp_copy", (1u64 << 20,));
    assert_eq!(copied, 1 << 20);
}

#[test]
fn tokio_stream_wrappers_yield_what_their_sources_hold() {
    let mut host = host();
    let plugin = load(&mut host);
    let report: Vec<String> = run(&host, plugin, "stream_wrappers", ());
    assert_eq!(
        report,
        [
            "receiver [1, 2, 3]",
            "unbounded [4, 5]",
            "interval 3 ticks, true",
            "broadcast [\"a\", \"b\"]",
            "watch Some(\"first\") Some(\"second\")",
            "map [(\"x\", 1), (\"x\", 2), (\"y\", 3)]",
            "listener Ok(true)",
        ]
    );
}

#[test]
fn tokio_util_tokens_poll_sender_reader_stream_and_delay_queue() {
    let mut host = host();
    let plugin = load(&mut host);
    let report: Vec<String> = run(&host, plugin, "util_pieces", ());
    assert_eq!(
        report,
        [
            "child cancelled",
            "poll sender Some(9)",
            "reader reader stream bytes",
            "delay queue [\"early\", \"late\"]",
        ]
    );
}

/// Issue 25, item 3: tokio-util's `DelayQueue` moved to an earlier
/// deadline while its task waits fires at the new deadline (30 ms), not
/// the first one (5 s): a reset `Sleep` moves its timer at once. Before,
/// it fired after 5 s. (The bound is the two deadlines' midpoint-ish, far
/// from either, not a measure of speed.)
#[test]
fn a_delay_queue_entry_moved_earlier_expires_at_its_new_deadline() {
    let mut host = host();
    let plugin = load(&mut host);
    let elapsed_ms: u64 = run(&host, plugin, "delay_queue_reset_earlier", ());
    assert!((30..2_500).contains(&elapsed_ms), "expired after {elapsed_ms} ms, for a deadline of 30 ms");
}

#[test]
fn what_one_thread_cannot_do_panics_with_a_message_naming_the_alternative() {
    let mut host = host();
    let plugin = load(&mut host);
    let report: Vec<String> = run(&host, plugin, "refusals", ());
    assert_eq!(report.len(), 4, "{report:?}");
    assert!(report[0].starts_with("block_in_place: ") && report[0].contains("spawn_blocking"), "{report:?}");
    assert!(report[1].starts_with("block_on: Cannot start a runtime from within a runtime"), "{report:?}");
    assert!(
        report[2].starts_with("blocking_recv: Cannot block the current thread from within a runtime"),
        "{report:?}"
    );
    // The plugin is still usable afterwards.
    let sum: u64 = run(&host, plugin, "spawn_and_sleep", (3u64,));
    assert_eq!(sum, 3);
}

/// The state letter of `/proc/<pid>/stat` (`Z`: a zombie), `None` once gone.
fn process_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(") ").and_then(|(_, rest)| rest.chars().next())
}

#[test]
fn unloading_releases_the_sockets_timers_and_children_tokio_tasks_held() {
    let mut host = host();
    let plugin = load(&mut host);
    let (port, pid): (u16, u32) = run(&host, plugin, "hold_resources", (5u64,));
    let metrics = host.plugin_metrics(plugin).unwrap();
    assert_eq!(metrics.num_alive_tasks(), 6);
    assert!(metrics.num_timers() >= 5, "{metrics:?}");
    assert!(std::net::TcpListener::bind(("127.0.0.1", port)).is_err(), "the plugin's listener is gone early");
    assert!(matches!(process_state(pid), Some(state) if state != 'Z'), "the child is not running");
    host.unload(plugin).unwrap();
    std::net::TcpListener::bind(("127.0.0.1", port)).expect("the port is free after unload");
    // The child is killed when its task drops it, and reaped: no zombie.
    // The reaping happens on another thread; poll for it (no event tells
    // this process when another thread reaped a child).
    let deadline = Instant::now() + Duration::from_secs(10);
    while process_state(pid).is_some() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(process_state(pid), None, "the child outlived the unload (state {:?})", process_state(pid));
    // The host runs on.
    let mut host = host;
    let again = load(&mut host);
    let sum: u64 = run(&host, again, "spawn_and_sleep", (3u64,));
    assert_eq!(sum, 3);
}

#[test]
fn a_tokio_channel_made_in_one_plugin_is_fed_by_another() {
    let mut host = host();
    let maker = load(&mut host);
    let peer = load_named(&mut host, "tokio-peer");
    let channel: Box<dyn Any + Send> = host.plugin(maker).unwrap().call("channel", (4u64,)).unwrap();
    let receiver: Option<Box<dyn Any + Send>> =
        host.plugin(peer).unwrap().call("feed", (channel, 100u64)).unwrap();
    let receiver = receiver.expect("tokio-peer did not recognise tokio-plugin's channel type");
    let sum: Option<u64> = run(&host, maker, "sum_all", (receiver,));
    assert_eq!(sum, Some((0..100).sum()));
    // The sender's task ran in the peer and counted there.
    assert_eq!(host.plugin_metrics(peer).unwrap().num_alive_tasks(), 0);
}

/// What `channel_for_host` returns: the plugin's tokio `Sender`, as a `Sink`.
type HostSink = std::pin::Pin<Box<dyn futures::Sink<u64, Error = String> + Send>>;

/// A bounded tokio channel of `capacity` made in `plugin`: its two ends as
/// the host holds them.
fn host_channel(host: &Host, plugin: PluginId, capacity: u64) -> (HostSink, BoxStream<'static, u64>) {
    let plugin = host.plugin(plugin).unwrap();
    let sink: HostSink = plugin.call("channel_for_host", (capacity,)).unwrap();
    (sink, plugin.call("host_channel_stream", ()).unwrap())
}

#[test]
fn the_host_sends_and_receives_on_a_tokio_channel_a_plugin_made() {
    use futures::{SinkExt, StreamExt};
    let mut host = host();
    let plugin = load(&mut host);
    let (mut sink, stream) = host_channel(&host, plugin, 4);
    // Capacity 4 and 100 messages: the host's sends wait on the plugin's
    // channel for the host's receives, in one `block_on`.
    let (sent, received) = host.block_on(futures::future::join(
        async move {
            for n in 0..100 {
                sink.send(n).await?;
            }
            sink.close().await
        },
        stream.collect::<Vec<u64>>(),
    ));
    assert_eq!(sent, Ok(()));
    assert_eq!(received, (0..100).collect::<Vec<u64>>());
}

#[test]
fn sending_on_a_plugin_channel_whose_receiver_is_gone_is_an_error() {
    use futures::SinkExt;
    let mut host = host();
    let plugin = load(&mut host);
    let (mut sink, stream) = host_channel(&host, plugin, 1);
    drop(stream);
    let error = host.block_on(sink.send(7)).unwrap_err();
    assert_eq!(error, "channel closed");
}

#[test]
fn a_handle_captured_in_a_task_spawns_from_another_thread() {
    let mut host = host();
    let plugin = load(&mut host);
    let (value, other_thread): (u64, bool) = run(&host, plugin, "spawn_from_thread", ());
    assert_eq!((value, other_thread), (42, true));
}

#[test]
fn a_hot_channel_loop_yields_so_another_plugins_timer_fires_meanwhile() {
    let mut host = host();
    let hot = load(&mut host);
    let other = load_named(&mut host, "example-plugin");
    // 400 ms of a receive loop that is never pending; the other plugin's
    // 20 ms sleep must finish while it runs, which it can only do if the
    // loop is made to yield (tau's budget in upstream's channel).
    let looping = host.plugin(hot).unwrap().spawn_call::<u64, _>("hot_loop", (400u64,)).unwrap();
    let started = Instant::now();
    let timer = host.plugin(other).unwrap().spawn_call::<i64, _>("slow_double", (21i64,)).unwrap();
    let doubled = host.block_on(timer).unwrap();
    let lateness = started.elapsed().saturating_sub(Duration::from_millis(20));
    assert_eq!(doubled, 42);
    assert!(!looping.is_finished(), "the timer only fired once the hot loop had ended");
    eprintln!("the 20 ms timer fired {lateness:?} late while the hot loop ran");
    let received = host.block_on(looping).unwrap();
    assert!(received > 128, "the loop did little work: {received}");
}
