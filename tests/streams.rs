//! End-to-end: streams across plugins. `stream-test-producer` returns boxed
//! streams whose items come from its own timers and tasks; the host hands
//! them to `stream-test-consumer`, or consumes them itself, and every item
//! and the end arrive intact.

mod common;

use std::future::poll_fn;
use std::task::Poll;

use common::{host, library};
use tau::stream::{BoxStream, StreamExt};
use tau_host::{Host, PluginId};

const PRODUCER: &str = "stream-test-plugin/producer";
const CONSUMER: &str = "stream-test-plugin/consumer";

fn load(host: &mut Host, name: &str) -> PluginId {
    host.load(library(name)).unwrap_or_else(|error| panic!("loading {name}: {error}"))
}

/// A host with both plugins loaded: (host, producer, consumer).
fn pair() -> (Host, PluginId, PluginId) {
    let mut host = host();
    let producer = load(&mut host, PRODUCER);
    let consumer = load(&mut host, CONSUMER);
    assert_eq!(host.plugin(producer).unwrap().name(), "stream-test-producer");
    assert_eq!(host.plugin(consumer).unwrap().name(), "stream-test-consumer");
    (host, producer, consumer)
}

/// A stream from one of the producer's sync exports.
fn produce<T: 'static, A: tau_host::Args>(
    host: &Host,
    producer: PluginId,
    export: &str,
    args: A,
) -> BoxStream<'static, T> {
    host.plugin(producer).unwrap().call(export, args).unwrap_or_else(|error| panic!("{export}: {error}"))
}

/// Runs one of the consumer's async exports to completion.
fn consume<R: Send + 'static, A: tau_host::Args>(
    host: &Host,
    consumer: PluginId,
    export: &str,
    args: A,
) -> R {
    let call = host.plugin(consumer).unwrap().spawn_call::<R, A>(export, args).unwrap();
    host.block_on(call).unwrap_or_else(|error| panic!("{export}: {error}"))
}

/// `"{prefix}-0"` .. `"{prefix}-{count - 1}"`, concatenated.
fn expected(prefix: &str, count: u32) -> String {
    (0..count).map(|i| format!("{prefix}-{i}")).collect()
}

/// Reads a stream to its end from the host, then checks that it stays ended.
fn drain<T>(host: &Host, stream: &mut BoxStream<'static, T>) -> Vec<T> {
    host.block_on(async {
        let mut items = Vec::new();
        while let Some(item) = stream.next().await {
            items.push(item);
        }
        assert!(stream.next().await.is_none(), "the stream yielded after its end");
        items
    })
}

/// Polls `stream` once from the host; asserts it has no item ready.
fn poll_pending<T>(host: &Host, stream: &mut BoxStream<'static, T>) {
    host.block_on(poll_fn(|cx| {
        assert!(stream.poll_next_unpin(cx).is_pending(), "an item was ready");
        Poll::Ready(())
    }));
}

#[test]
fn the_producers_tokens_reach_the_consumer_in_order_with_their_end() {
    let (host, producer, consumer) = pair();
    let exports = host.plugin(producer).unwrap();
    assert_eq!(
        exports.export("tokens").unwrap().to_string(),
        "tokens(count: u32) -> BoxStream<'static, String>"
    );
    for count in [1, 5, 40] {
        let tokens = produce::<String, _>(&host, producer, "tokens", (count,));
        let (received, text) = consume::<(u32, String), _>(&host, consumer, "concat", (tokens,));
        assert_eq!((received, text), (count, expected("token", count)));
    }
    // Fed by a task of the producer, which wakes the consumer's task.
    let fed = produce::<String, _>(&host, producer, "fed", (12u32,));
    assert_eq!(consume::<(u32, String), _>(&host, consumer, "concat", (fed,)), (12, expected("fed", 12)));
    assert_eq!(host.plugin_metrics(producer).unwrap().num_alive_tasks(), 0);
    assert_eq!(host.plugin_metrics(producer).unwrap().num_timers(), 0);
}

#[test]
fn the_host_consumes_a_producers_stream() {
    let (host, producer, _) = pair();
    let mut tokens = produce::<String, _>(&host, producer, "tokens", (4u32,));
    assert_eq!(drain(&host, &mut tokens), ["token-0", "token-1", "token-2", "token-3"]);

    let numbers = produce::<u64, _>(&host, producer, "numbers", (6u64,));
    assert_eq!(numbers.size_hint(), (6, Some(6)));
    assert_eq!(host.block_on(numbers.collect::<Vec<_>>()), [1, 2, 3, 4, 5, 6]);

    // The host's own combinators on a plugin's stream.
    let numbers = produce::<u64, _>(&host, producer, "numbers", (10u64,));
    let odd_squares = numbers.filter(|n| n % 2 == 1).map(|n| n * n).fold(0, |sum, n| sum + n);
    assert_eq!(host.block_on(odd_squares), 1 + 9 + 25 + 49 + 81);

    let mut fed = produce::<String, _>(&host, producer, "fed", (3u32,));
    assert_eq!(drain(&host, &mut fed), ["fed-0", "fed-1", "fed-2"]);
}

#[test]
fn buffered_and_unordered_consumption_across_plugins_gives_exact_results() {
    let (host, producer, consumer) = pair();
    let numbers = |n: u64| produce::<u64, _>(&host, producer, "numbers", (n,));
    for window in [1usize, 3, 8, 200] {
        assert_eq!(
            consume::<u64, _>(&host, consumer, "sum_buffered", (numbers(100), window)),
            10_100,
            "{window}"
        );
        assert_eq!(
            consume::<(u32, u64), _>(&host, consumer, "sum_unordered", (numbers(100), window)),
            (100, 10_100),
            "{window}"
        );
        // Later numbers finish first inside a window; `buffered` keeps the stream's order.
        assert_eq!(
            consume::<Vec<u64>, _>(&host, consumer, "collect_buffered", (numbers(13), window)),
            (1..=13).collect::<Vec<u64>>(),
            "{window}"
        );
    }
    // The producer's timers drive the consumer's buffered steps too.
    let tokens = produce::<String, _>(&host, producer, "tokens", (7u32,));
    let lengths = tokens.map(|token| token.len() as u64);
    assert_eq!(consume::<u64, _>(&host, consumer, "sum_buffered", (lengths.boxed(), 4usize)), 7 * 7 * 2);
}

#[test]
fn an_empty_stream_ends_cleanly() {
    let (host, producer, consumer) = pair();
    let tokens = produce::<String, _>(&host, producer, "tokens", (0u32,));
    assert_eq!(consume::<(u32, String), _>(&host, consumer, "concat", (tokens,)), (0, String::new()));
    let fed = produce::<String, _>(&host, producer, "fed", (0u32,));
    assert_eq!(consume::<(u32, String), _>(&host, consumer, "concat", (fed,)), (0, String::new()));

    let mut tokens = produce::<String, _>(&host, producer, "tokens", (0u32,));
    assert!(drain(&host, &mut tokens).is_empty());
    let numbers = produce::<u64, _>(&host, producer, "numbers", (0u64,));
    assert_eq!(consume::<u64, _>(&host, consumer, "sum_buffered", (numbers, 4usize)), 0);
    let numbers = produce::<u64, _>(&host, producer, "numbers", (0u64,));
    assert_eq!(consume::<(u32, u64), _>(&host, consumer, "sum_unordered", (numbers, 4usize)), (0, 0));
    let parsed = produce::<Result<i64, String>, _>(&host, producer, "parsed", (String::new(),));
    assert_eq!(consume::<Result<i64, String>, _>(&host, consumer, "sum_until_error", (parsed,)), Ok(0));
}

#[test]
fn an_error_item_arrives_and_ends_the_stream() {
    let (host, producer, consumer) = pair();
    let parsed =
        |text: &str| produce::<Result<i64, String>, _>(&host, producer, "parsed", (text.to_string(),));
    let sum =
        |text: &str| consume::<Result<i64, String>, _>(&host, consumer, "sum_until_error", (parsed(text),));
    assert_eq!(sum("1 2 3"), Ok(6));
    assert_eq!(sum("1 2 x 4"), Err("`x`: invalid digit found in string".to_string()));

    let mut items = parsed("5 -7 y 9 z");
    assert_eq!(
        drain(&host, &mut items),
        [Ok(5), Ok(-7), Err("`y`: invalid digit found in string".to_string())]
    );
}

#[test]
fn a_stream_dropped_before_its_end_leaves_both_plugins_working() {
    let (host, producer, consumer) = pair();
    let metrics = |id| host.plugin_metrics(id).unwrap();

    // The host takes two tokens and drops the stream.
    let mut tokens = produce::<String, _>(&host, producer, "tokens", (10u32,));
    let first_two = host.block_on(async { [tokens.next().await, tokens.next().await] });
    assert_eq!(first_two, [Some("token-0".to_string()), Some("token-1".to_string())]);
    drop(tokens);
    assert_eq!(metrics(producer).num_timers(), 0);

    // Again, but the host starts waiting for the third token (a timer of the
    // producer) and drops the stream on the runtime's thread: the timer goes.
    let mut tokens = produce::<String, _>(&host, producer, "tokens", (10u32,));
    let first_two = host.block_on(async { [tokens.next().await, tokens.next().await] });
    assert_eq!(first_two, [Some("token-0".to_string()), Some("token-1".to_string())]);
    poll_pending(&host, &mut tokens);
    assert_eq!(metrics(producer).num_timers(), 1);
    host.block_on(async { drop(tokens) });
    assert_eq!(metrics(producer).num_timers(), 0);

    // The same with a stream fed by a task of the producer: dropping it
    // aborts the task.
    let mut fed = produce::<String, _>(&host, producer, "fed", (10u32,));
    let first_two = host.block_on(async { [fed.next().await, fed.next().await] });
    assert_eq!(first_two, [Some("fed-0".to_string()), Some("fed-1".to_string())]);
    assert_eq!(metrics(producer).num_alive_tasks(), 1);
    drop(fed);
    common::yield_until(&host, || metrics(producer).num_alive_tasks() == 0);
    assert_eq!(metrics(producer).num_alive_tasks(), 0);
    assert_eq!(metrics(producer).num_timers(), 0);

    // The consumer's call is aborted while it waits on the producer's timer:
    // the stream goes with the call's task.
    let tokens = produce::<String, _>(&host, producer, "tokens", (1000u32,));
    let call = host.plugin(consumer).unwrap().spawn_call::<(u32, String), _>("concat", (tokens,)).unwrap();
    common::yield_until(&host, || metrics(producer).num_timers() == 1);
    assert_eq!(metrics(producer).num_timers(), 1);
    assert_eq!(metrics(consumer).num_alive_tasks(), 1);
    call.abort();
    assert!(host.block_on(call).unwrap_err().is_cancelled());
    assert_eq!(metrics(consumer).num_alive_tasks(), 0);
    assert_eq!(metrics(producer).num_timers(), 0);

    // Both plugins still work, through the host and across plugins.
    let tokens = produce::<String, _>(&host, producer, "tokens", (3u32,));
    assert_eq!(consume::<(u32, String), _>(&host, consumer, "concat", (tokens,)), (3, expected("token", 3)));
    let mut tokens = produce::<String, _>(&host, producer, "tokens", (2u32,));
    assert_eq!(drain(&host, &mut tokens), ["token-0", "token-1"]);
    let fed = produce::<String, _>(&host, producer, "fed", (4u32,));
    assert_eq!(consume::<(u32, String), _>(&host, consumer, "concat", (fed,)), (4, expected("fed", 4)));
    let numbers = produce::<u64, _>(&host, producer, "numbers", (50u64,));
    assert_eq!(consume::<u64, _>(&host, consumer, "sum_buffered", (numbers, 5usize)), 2550);
}

/// Issue 25, item 6: a stream inside an export's `Result` or `Option` is
/// guarded like one returned as it is: a panic in it ends it, and the host
/// and the plugin go on (before: the panic aborted the process).
#[test]
fn a_panic_in_a_stream_inside_a_result_or_option_ends_the_stream() {
    let mut host = host();
    let producer = load(&mut host, PRODUCER);
    let plugin = host.plugin(producer).unwrap();
    let in_result: Result<BoxStream<'static, u32>, String> = plugin.call("try_counting", (2u32,)).unwrap();
    let in_option: Option<BoxStream<'static, u32>> = plugin.call("maybe_counting", (3u32,)).unwrap();
    assert_eq!(drain(&host, &mut in_result.unwrap()), [0, 1]);
    assert_eq!(drain(&host, &mut in_option.unwrap()), [0, 1, 2]);
    let mut numbers = produce::<u64, _>(&host, producer, "numbers", (3u64,));
    assert_eq!(drain(&host, &mut numbers), [1, 2, 3]);
}

/// Issue 25, item 6: a stream the host passes to a plugin panics inside
/// the plugin's poll: the panic (the host's std's) is caught by the host's
/// std, the stream ends there, and the call completes with what came
/// before it (before: it unwound into the plugin's std, which aborted the
/// process).
#[test]
fn a_panic_in_a_stream_the_host_passes_to_a_plugin_ends_the_stream() {
    let (host, producer, consumer) = pair();
    let panicking: BoxStream<'static, String> = tau::stream::iter(0..)
        .map(|number| {
            assert_ne!(number, 2, "the host's stream panics");
            format!("host-{number}")
        })
        .boxed();
    assert_eq!(
        consume::<(u32, String), _>(&host, consumer, "concat", (panicking,)),
        (2, expected("host", 2))
    );
    let tokens = produce::<String, _>(&host, producer, "tokens", (2u32,));
    assert_eq!(consume::<(u32, String), _>(&host, consumer, "concat", (tokens,)), (2, expected("token", 2)));
}

/// The text of a panic's payload (a `String` or a `&str`).
fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(text) => *text,
        Err(payload) => {
            payload.downcast_ref::<&str>().map_or_else(|| "?".to_string(), |text| text.to_string())
        }
    }
}

/// Issue 25, item 6: a closure the host passes to a plugin panics when the
/// plugin calls it: the host's std catches its own panic (through the
/// runtime table) and the call fails with it, as a panic of the plugin's
/// would (before: it unwound into the plugin's std, which aborted the
/// process).
#[test]
fn a_panic_in_a_closure_the_host_passes_to_a_plugin_fails_the_call() {
    let (host, _producer, consumer) = pair();
    let plugin = host.plugin(consumer).unwrap();
    let double = |x: u32| {
        assert_ne!(x, 0, "the host's closure panics");
        x * 2
    };
    let boxed = |f: fn(u32) -> u32| -> Box<dyn Fn(u32) -> u32 + Send + Sync> { Box::new(f) };
    assert_eq!(plugin.call::<u32, _>("apply", (boxed(double), 21u32)), Ok(42));
    let failed = plugin.call::<u32, _>("apply", (boxed(double), 0u32)).unwrap_err();
    assert_eq!(
        failed,
        tau_host::CallError::Panicked {
            export: "apply".to_string(),
            message: "a closure handed to plugin `stream-test-consumer` panicked".to_string(),
        }
    );
    assert_eq!(plugin.call::<u32, _>("apply", (boxed(double), 1u32)), Ok(2));
}

/// Issue 25, item 6: a closure and a future a plugin returns panic when the
/// host runs them: the panic reaches the host as the host's own, with the
/// plugin's message (before: it unwound from the plugin's std into the
/// host's, which aborted the process).
#[test]
fn a_panic_in_a_closure_or_future_a_plugin_returns_reaches_the_host_as_its_own() {
    let (host, producer, _consumer) = pair();
    let plugin = host.plugin(producer).unwrap();
    let add: Box<dyn Fn(u32) -> u32 + Send + Sync> = plugin.call("adder", (1u32,)).unwrap();
    assert_eq!(add(2), 3);
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| add(0))).unwrap_err();
    assert_eq!(panic_text(panicked), "plugin `stream-test-producer` panicked: assertion `left != right` failed: adder got 0\n  left: 0\n right: 0");
    assert_eq!(add(5), 6);

    type Later = std::pin::Pin<Box<dyn std::future::Future<Output = u32> + Send>>;
    let later: Later = plugin.call("later", (7u32,)).unwrap();
    assert_eq!(host.block_on(later), 7);
    let later: Later = plugin.call("later", (0u32,)).unwrap();
    let joined = host.block_on(host.handle().spawn(later)).unwrap_err();
    assert!(joined.is_panic(), "{joined:?}");
    assert_eq!(
        panic_text(joined.into_panic()),
        "plugin `stream-test-producer` panicked: assertion `left != right` failed: later got 0\n  left: 0\n right: 0"
    );
}
