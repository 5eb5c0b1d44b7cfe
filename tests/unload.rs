//! End-to-end: unload as real hosts do it. A server host drives the runtime
//! on a thread of its own while another thread unloads; the host keeps a
//! plugin's stream, call or task handle past the unload; a plugin's blocking
//! job outlives it; the same library is loaded through a hard link and again
//! after an unload.

mod common;

use std::os::unix::net::UnixStream;
use std::sync::{mpsc, Arc, Barrier, Mutex};
use std::time::Duration;

use common::{host, library};
use tau::stream::{BoxStream, StreamExt};
use tau::sync::oneshot;
use tau_host::{CallError, Host, Plugin, PluginCall, PluginId, UnloadError, Unloaded};

fn load(host: &mut Host, name: &str) -> PluginId {
    host.load(library(name)).unwrap_or_else(|error| panic!("loading {name}: {error}"))
}

/// A thread driving `host`'s runtime in `block_on` until told to stop, as a
/// server does with `std::thread::spawn(move || handle.block_on(serve()))`.
struct Server {
    stop: oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Server {
    fn start(host: &Host) -> Server {
        let handle = host.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let (serving_tx, serving) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            handle.block_on(async move {
                serving_tx.send(()).unwrap();
                let _ = stopped.await;
            })
        });
        serving.recv().unwrap();
        Server { stop, thread }
    }

    fn stop(self) {
        let _ = self.stop.send(());
        self.thread.join().unwrap();
    }
}

/// Issue 11, item 3: metrics, unload and dropping the host, from the main
/// thread, while a server thread is inside `block_on`: each is handed to
/// the server's thread and returns, instead of waiting for the server to end.
#[test]
fn unload_metrics_and_drop_work_while_another_thread_drives() {
    let mut host = host();
    let id = load(&mut host, "example-plugin");
    let server = Server::start(&host);
    let plugin = host.plugin(id).unwrap();
    // An async call, awaited from this thread while the server drives.
    assert_eq!(host.block_on(plugin.spawn_call::<i64, _>("slow_double", (21i64,)).unwrap()), Ok(42));
    let (reply, _kept) = oneshot::channel::<i64>();
    plugin.call::<(), _>("send_later", (reply, 1i64, 60_000u64)).unwrap();
    let metrics = host.plugin_metrics(id).unwrap();
    assert_eq!(metrics.num_alive_tasks(), 1, "exact: counted on the server's thread");
    let unloaded = host.unload(id).unwrap();
    assert_eq!(unloaded.tasks_cancelled, 1);
    let second = load(&mut host, "example-plugin");
    host.plugin(second).unwrap().call::<String, _>("tick_forever", ()).unwrap();
    drop(host); // unloads (a live task) and shuts the runtime down, on the server's thread
    server.stop();
}

/// Issue 25, item 1: a plugin whose task loops on a timer (`loop { work
/// 300 µs; sleep(1ms).await }`) is unloaded from this thread while a server
/// thread drives, again and again. Before, the unload marked the plugin
/// gone and then queued its cancellation for the driver; a tick working
/// meanwhile found its next sleep gone, every sleep ended at once, the
/// task never yielded, and the unload waited forever at 100% CPU (seen:
/// 10 minutes, in `unload_metrics_and_drop_work_while_another_thread_drives`).
#[test]
fn a_plugin_looping_on_its_timer_is_unloaded_while_another_thread_drives() {
    let mut host = host();
    let library = library("ticker-plugin");
    let server = Server::start(&host);
    common::within(Duration::from_secs(120), "unloading a ticking plugin while a server drives", || {
        for _ in 0..60 {
            let id = host.load(&library).unwrap();
            let plugin = host.plugin(id).unwrap();
            assert_eq!(plugin.call::<String, _>("start_working", (1u64, 300u64)).unwrap(), "started");
            // Unloaded as it ticks: once its timer has fired at least once.
            while plugin.call::<u64, _>("ticks", ()).unwrap() == 0 {
                std::thread::yield_now();
            }
            assert_eq!(host.unload(id).unwrap().tasks_cancelled, 1);
        }
    });
    server.stop();
}

/// Issue 11, item 4: the host keeps a plugin's stream past the unload. A
/// task of the host waiting on it (on the plugin's timer) is woken by the
/// unload and sees the plugin gone: the stream ends, so the task finishes
/// instead of hanging (before: it hung, and the stream's next poll read the
/// plugin's freed runtime scope). Polling the stream again from the host
/// gives its end; dropping it is fine.
#[test]
fn a_stream_kept_past_its_plugins_unload_is_woken_and_ends() {
    let mut host = host();
    let producer = load(&mut host, "stream-test-plugin/producer");
    let plugin = host.plugin(producer).unwrap();
    let mut tokens: BoxStream<'static, String> = plugin.call("tokens", (1_000u32,)).unwrap();
    assert_eq!(host.block_on(tokens.next()), Some("token-0".to_string()));
    let waiting = host.handle().spawn(async move {
        let mut seen = 0;
        while tokens.next().await.is_some() {
            seen += 1;
        }
        seen
    });
    common::yield_until(&host, || host.plugin_metrics(producer).unwrap().num_timers() == 1);
    host.unload(producer).unwrap();
    let ended = host.block_on(async { tau::time::timeout(Duration::from_secs(10), waiting).await });
    let seen = ended.expect("the waiting task was woken by the unload").unwrap();
    assert!(seen < 999, "the stream ended early, after {seen} more tokens");

    let mut again: BoxStream<'static, String> = {
        let producer = load(&mut host, "stream-test-plugin/producer");
        let stream = host.plugin(producer).unwrap().call("tokens", (5u32,)).unwrap();
        host.unload(producer).unwrap();
        stream
    };
    assert_eq!(host.block_on(again.next()), None);
    assert_eq!(host.block_on(again.next()), None, "and stays ended");
    drop(again);
    let id = load(&mut host, "example-plugin");
    assert_eq!(host.plugin(id).unwrap().call::<i64, _>("add", (2i64, 3i64)), Ok(5), "the host goes on");
}

/// Issue 11, item 4: a plugin's stream reading through its `AsyncFd`, kept
/// past the unload: the registration is removed with the plugin (its
/// reader woken), and the stream ends instead of spinning on a key the
/// reactor no longer knows (before, such a key reported ready forever).
#[test]
fn an_io_stream_kept_past_its_plugins_unload_ends() {
    let mut host = host();
    let producer = load(&mut host, "stream-test-plugin/producer");
    let (mut writer, reader) = UnixStream::pair().unwrap();
    let mut reads: BoxStream<'static, Result<usize, String>> =
        host.plugin(producer).unwrap().call("reads", (reader,)).unwrap();
    std::io::Write::write_all(&mut writer, b"hello").unwrap();
    assert_eq!(host.block_on(reads.next()), Some(Ok(5)));
    let waiting = host.handle().spawn(async move { reads.collect::<Vec<_>>().await });
    common::yield_until(&host, || host.plugin_metrics(producer).unwrap().num_io_registrations() == 1);
    host.unload(producer).unwrap();
    let rest = host.block_on(async { tau::time::timeout(Duration::from_secs(10), waiting).await });
    assert_eq!(rest.expect("woken by the unload").unwrap(), [], "nothing more, then the end");
    assert_eq!(host.runtime().metrics().num_io_registrations(), 0);
    drop(writer);
}

/// Reads what `stream` gives, up to `limit` items, to its end or the limit;
/// fails the test if that takes more than 10 s.
fn read_up_to<T: Send + 'static>(host: &Host, stream: &mut BoxStream<'static, T>, limit: usize) -> Vec<T> {
    host.block_on(async {
        let read = stream.take(limit).collect::<Vec<T>>();
        tau::time::timeout(Duration::from_secs(10), read)
            .await
            .expect("the stream neither ended nor gave items")
    })
}

/// Issue 25, item 7: the items a plugin's stream holds at the unload (five
/// queued, the task that could send more cancelled) still reach the host,
/// then the stream ends (before: it ended at once, the five lost).
#[test]
fn items_a_stream_holds_at_its_plugins_unload_reach_the_host() {
    let mut host = host();
    let producer = load(&mut host, "stream-test-plugin/producer");
    let mut queued: BoxStream<'static, String> =
        host.plugin(producer).unwrap().call("queued", (5u32,)).unwrap();
    host.unload(producer).unwrap();
    let expected: Vec<String> = (0..5).map(|i| format!("queued-{i}")).collect();
    assert_eq!(read_up_to(&host, &mut queued, 100), expected);
    assert_eq!(host.block_on(queued.next()), None, "ended, and stays ended");
}

/// Issue 25, item 6: a ticking stream inside an export's `Result` or
/// `Option`, kept past the unload, ends there (before: unguarded, its
/// sleeps completed at once on the gone runtime and it spun, yielding
/// as fast as it was polled).
#[test]
fn a_ticking_stream_inside_a_result_or_option_ends_at_its_plugins_unload() {
    let mut host = host();
    let producer = load(&mut host, "stream-test-plugin/producer");
    let plugin = host.plugin(producer).unwrap();
    let in_result: Result<BoxStream<'static, u64>, String> = plugin.call("try_ticking", ()).unwrap();
    let in_option: Option<BoxStream<'static, u64>> = plugin.call("maybe_ticking", ()).unwrap();
    let mut streams = [in_result.unwrap(), in_option.unwrap()];
    for stream in &mut streams {
        assert_eq!(host.block_on(stream.next()), Some(0));
    }
    host.unload(producer).unwrap();
    for stream in &mut streams {
        assert_eq!(
            read_up_to(&host, stream, 1000),
            [] as [u64; 0],
            "nothing more after the unload, then the end"
        );
        assert_eq!(host.block_on(stream.next()), None);
    }
}

/// Issue 11, item 4: a `PluginCall` aborted on one thread while another
/// unloads its plugin: the abort reaches a revoked scope that is still
/// valid (the call's task cell holds it), and the call ends cancelled.
#[test]
fn aborting_a_call_while_another_thread_unloads_its_plugin() {
    let mut host = host();
    for _ in 0..20 {
        let id = load(&mut host, "example-plugin");
        let call = host.plugin(id).unwrap().spawn_call::<i64, _>("slow_double", (1i64,)).unwrap();
        let start = Arc::new(Barrier::new(2));
        let aborter = {
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                start.wait();
                call.abort();
                call
            })
        };
        start.wait();
        host.unload(id).unwrap();
        let call = aborter.join().unwrap();
        assert!(call.is_finished());
        assert_eq!(host.block_on(call), Err(CallError::Cancelled { export: "slow_double".into() }));
    }
}

/// Issue 11, item 4: a blocking job still running after the unload's grace
/// period spawns a task: the plugin's revoked scope cancels it at once
/// (before, it went to freed memory, or an undriven runtime).
#[test]
fn a_blocking_job_that_outlives_the_unload_gets_its_spawns_cancelled() {
    let mut host = host();
    host.set_blocking_grace(Duration::from_millis(50));
    let id = load(&mut host, "abort-test-plugin");
    let (started_tx, started) = mpsc::channel::<()>();
    let (release, released) = mpsc::channel::<()>();
    let (report, reported) = mpsc::channel::<String>();
    host.plugin(id).unwrap().call::<(), _>("spawn_after", (started_tx, released, report)).unwrap();
    started.recv().unwrap();
    let unloaded = host.unload(id).unwrap();
    assert_eq!(unloaded.blocking_jobs_running, 1, "still running after the grace period");
    release.send(()).unwrap();
    let outcome = reported.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(outcome, "cancelled (finished at once: true)");
}

/// Issue 11, item 6: cargo's `target/debug/libx.so` and `deps/libx-<hash>.so`
/// are hard links to one file. Loading both gives two instances with
/// statics of their own (before, the second failed and broke the first);
/// unloading and loading an unchanged path again starts from fresh statics.
#[test]
fn hard_links_and_reloads_get_statics_of_their_own() {
    let mut host = host();
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("libexample_plugin-linked.so");
    std::fs::hard_link(library("example-plugin"), &link).unwrap();
    let first = load(&mut host, "example-plugin");
    let second = host.load(&link).unwrap_or_else(|error| panic!("{error}"));
    for id in [first, second] {
        let plugin = host.plugin(id).unwrap();
        assert_eq!(plugin.call::<u64, _>("loads", ()), Ok(1), "each instance has its own statics");
        let call = plugin.spawn_call::<i64, _>("slow_double", (4i64,)).unwrap();
        assert_eq!(
            host.block_on(async { tau::time::timeout(Duration::from_secs(10), call).await }),
            Ok(Ok(8))
        );
    }
    host.plugin(first).unwrap().call::<String, _>("greet", ("a".to_string(),)).unwrap();
    assert_eq!(host.plugin(first).unwrap().call::<u64, _>("greetings", ()), Ok(1));
    assert_eq!(host.plugin(second).unwrap().call::<u64, _>("greetings", ()), Ok(0));
    host.unload(first).unwrap();
    let reloaded = load(&mut host, "example-plugin");
    assert_eq!(host.plugin(reloaded).unwrap().call::<u64, _>("loads", ()), Ok(1), "a reload starts afresh");
}

/// Issue 11, item 11: a host task, polled while a plugin's own
/// `Handle::block_on` drives the runtime on a plain thread, spawns onto the
/// runtime it was spawned on (its own is entered for its poll), not onto a
/// runtime of the host's SDK that nobody drives.
#[test]
fn a_host_task_driven_by_a_plugins_block_on_spawns_where_it_belongs() {
    let mut host = host();
    let id = load(&mut host, "example-plugin");
    let (done, finished) = tau::sync::oneshot::channel::<()>();
    let task = host.handle().spawn(async move {
        let value = tau::spawn(async { 42 }).await.unwrap();
        let _ = done.send(());
        value
    });
    // Nobody drives: the plugin's block_on takes the role on this thread.
    let came = host.plugin(id).unwrap().call::<bool, _>("drive_until", (finished, 10_000u64)).unwrap();
    assert!(came, "the host's task finished within the limit");
    assert!(task.is_finished(), "the plugin's block_on ran the host's task and its child");
    assert_eq!(host.block_on(task).unwrap(), 42);
}

/// A host service the plugin calls (its callback) and where it reports.
type Log = Arc<dyn Fn(String) + Send + Sync>;
type Callback = Box<dyn Fn() + Send + Sync>;

/// What `callback-plugin` reported, what the unload its callback made
/// returned, and the result of its call, if `start` made an async one.
struct FromInside {
    events: Vec<String>,
    unloaded: Result<Unloaded, UnloadError>,
    call: Option<Result<String, CallError>>,
}

/// Issue 25, item 5: a host that keeps its `Host` in a mutex hands
/// `callback-plugin` a callback that unloads it, and the plugin calls it
/// from its own code (`start` picks which: its call's task, a task it
/// spawned, a blocking job, the drop of its call's future) while this
/// thread drives the runtime.
///
/// With `abort_when_waiting`, this thread aborts the call once the plugin
/// says "waiting".
fn unload_from_inside(
    abort_when_waiting: bool,
    start: impl FnOnce(&Plugin, Log, Callback) -> Option<PluginCall<String>>,
) -> FromInside {
    let host = Arc::new(Mutex::new(host()));
    let (id, handle) = {
        let mut host = host.lock().unwrap();
        host.set_blocking_grace(Duration::from_secs(2));
        (load(&mut host, "callback-plugin"), host.handle().clone())
    };
    let events = Arc::new(Mutex::new(Vec::new()));
    let (dropped_tx, dropped) = oneshot::channel::<()>();
    let dropped_tx = Mutex::new(Some(dropped_tx));
    let (waiting_tx, waiting) = oneshot::channel::<()>();
    let waiting_tx = Mutex::new(Some(waiting_tx));
    let log: Log = {
        let events = Arc::clone(&events);
        Arc::new(move |event: String| {
            let (last, started) = (event == "instance dropped", event == "waiting");
            events.lock().unwrap().push(event);
            if let Some(tx) = dropped_tx.lock().unwrap().take_if(|_| last) {
                let _ = tx.send(());
            }
            if let Some(tx) = waiting_tx.lock().unwrap().take_if(|_| started) {
                let _ = tx.send(());
            }
        })
    };
    let unloaded = Arc::new(Mutex::new(None));
    let callback: Callback = {
        let (host, unloaded) = (Arc::clone(&host), Arc::clone(&unloaded));
        Box::new(move || *unloaded.lock().unwrap() = Some(host.lock().unwrap().unload(id)))
    };
    let call = start(host.lock().unwrap().plugin(id).unwrap(), log, callback);
    if let Some(call) = call.as_ref().filter(|_| abort_when_waiting) {
        let waiting = handle.block_on(async { tau::time::timeout(Duration::from_secs(20), waiting).await });
        assert!(matches!(waiting, Ok(Ok(()))), "the call did not start: {:?}", events.lock().unwrap());
        call.abort();
    }
    let outcome = handle.block_on(async { tau::time::timeout(Duration::from_secs(20), dropped).await });
    assert!(matches!(outcome, Ok(Ok(()))), "the instance was not dropped: {:?}", events.lock().unwrap());
    let call = call.map(|call| {
        handle
            .block_on(async { tau::time::timeout(Duration::from_secs(20), call).await })
            .expect("the call ended")
    });
    assert!(host.lock().unwrap().plugin(id).is_none());
    // The host goes on: the same library loads again.
    let again = load(&mut host.lock().unwrap(), "callback-plugin");
    assert_eq!(host.lock().unwrap().plugin(again).unwrap().call::<(), _>("ping", ()), Ok(()));
    let unloaded = unloaded.lock().unwrap().take().expect("the callback ran");
    let events = std::mem::take(&mut *events.lock().unwrap());
    FromInside { events, unloaded, call }
}

/// The unload returns at once; `on_unload` and the drop of the instance
/// wait until the call's poll has returned (before, they ran under it, and
/// the call went on with a freed instance).
#[test]
fn a_plugin_unloaded_from_its_own_call_is_destroyed_after_the_call_returns() {
    let inside = unload_from_inside(false, |plugin, log, callback| {
        Some(plugin.spawn_call::<String, _>("call_back", (log, callback)).unwrap())
    });
    assert_eq!(inside.events, ["callback returned", "on_unload", "instance dropped"]);
    let unloaded = inside.unloaded.unwrap();
    assert!(unloaded.deferred, "{unloaded:?}");
    assert_eq!(unloaded.tasks_cancelled, 1, "the call's own task");
    // It completed in the poll that unloaded its plugin: its value stands.
    assert_eq!(inside.call, Some(Ok("callbacks".to_string())));
}

#[test]
fn a_plugin_unloaded_from_its_own_task_is_destroyed_after_the_poll_returns() {
    let inside = unload_from_inside(false, |plugin, log, callback| {
        plugin.call::<(), _>("call_back_in_task", (log, callback)).unwrap();
        None
    });
    assert_eq!(inside.events, ["callback returned", "on_unload", "instance dropped"]);
    let unloaded = inside.unloaded.unwrap();
    assert!(unloaded.deferred, "{unloaded:?}");
    assert_eq!(unloaded.tasks_cancelled, 1, "the task that called back");
}

/// (Before, the unload also waited its whole grace period for the very job
/// it was called from, then destroyed the plugin under it.)
#[test]
fn a_plugin_unloaded_from_its_own_blocking_job_is_destroyed_after_the_job_returns() {
    let inside = unload_from_inside(false, |plugin, log, callback| {
        plugin.call::<(), _>("call_back_in_blocking_job", (log, callback)).unwrap();
        None
    });
    assert_eq!(inside.events, ["callback returned", "on_unload", "instance dropped"]);
    let unloaded = inside.unloaded.unwrap();
    assert!(unloaded.deferred, "{unloaded:?}");
    assert_eq!(unloaded.blocking_jobs_running, 0);
}

/// The drop of an aborted call's future is the plugin's code too (and may
/// use the instance): the unload it makes waits until the drop returned.
#[test]
fn a_plugin_unloaded_from_the_drop_of_its_aborted_call_is_destroyed_after_the_drop() {
    let inside = unload_from_inside(true, |plugin, log, callback| {
        Some(plugin.spawn_call::<String, _>("call_back_when_dropped", (log, callback)).unwrap())
    });
    assert_eq!(inside.events, ["waiting", "callback returned", "on_unload", "instance dropped"]);
    let unloaded = inside.unloaded.unwrap();
    assert!(unloaded.deferred, "{unloaded:?}");
    assert!(inside.call.unwrap().unwrap_err().is_cancelled());
}
