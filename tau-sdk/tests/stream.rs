//! `tau::stream` behaviour that the oracle tests cannot show: drops of
//! in-flight futures, merge fairness, time, bounds, panics, `Send`, and code
//! written for tokio-stream compiling unchanged.

mod common;

use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use common::scripted::{delayed, resolve};
use common::{pending_with, yield_until, DropCounter};
use futures::FutureExt;
use tau::stream::{self, BoxStream, Elapsed, Stream, StreamExt};
use tau::time::Instant;

/// Spawns `pipeline`, waits until `counter` saw `started` futures created,
/// aborts the task and checks each was dropped exactly once.
async fn abort_mid_flight(
    counter: &DropCounter,
    started: usize,
    pipeline: impl Future<Output = ()> + Send + 'static,
) {
    let task = tau::spawn(pipeline);
    yield_until(1000, || counter.created() == started).await;
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    assert_eq!(counter.created(), started, "no further futures were started");
    assert_eq!(counter.dropped(), started, "every in-flight future dropped");
    assert_eq!(counter.live(), 0);
    assert_eq!(counter.lowest_live(), 0, "no future dropped twice");
}

#[tau::test]
async fn then_aborted_mid_flight_drops_its_future_exactly_once() {
    let counter = DropCounter::new();
    let detectors = counter.clone();
    let pipeline = stream::iter(0..10).then(move |_| pending_with(detectors.detector())).for_each(|()| {});
    abort_mid_flight(&counter, 1, pipeline).await;
}

#[tau::test]
async fn buffered_aborted_mid_flight_drops_running_and_waiting_futures_exactly_once() {
    let counter = DropCounter::new();
    let detectors = counter.clone();
    // The first never completes; the next three complete at once and their
    // outputs (detectors too) wait for their turn inside `buffered`.
    let pipeline = stream::iter(0..10)
        .map(move |i| {
            let detector = detectors.detector();
            async move {
                if i == 0 {
                    std::future::pending::<()>().await;
                }
                detector
            }
            .boxed()
        })
        .buffered(4)
        .for_each(drop);
    abort_mid_flight(&counter, 4, pipeline).await;
}

#[tau::test]
async fn buffer_unordered_aborted_mid_flight_drops_its_futures_exactly_once() {
    let counter = DropCounter::new();
    let detectors = counter.clone();
    let pipeline = stream::iter(0..10)
        .map(move |_| pending_with(detectors.detector()))
        .buffer_unordered(3)
        .for_each(|()| {});
    abort_mid_flight(&counter, 3, pipeline).await;
}

#[test]
fn dropping_a_buffered_stream_drops_what_it_holds_exactly_once() {
    let counter = DropCounter::new();
    let make = |stalls| delayed(counter.detector(), stalls);
    let mut buffered = stream::iter([make(5), make(0), make(0), make(9)]).buffered(3);
    assert!(buffered.next().now_or_never().is_none(), "the first future is still running");
    assert_eq!(counter.created(), 4);
    drop(buffered);
    assert_eq!((counter.dropped(), counter.lowest_live()), (4, 0));
}

/// The most futures running at once, for `limit` over 10 slow futures.
fn most_running_at_once(ordered: bool, limit: usize) -> usize {
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let futures = stream::iter(0..10).map(|i| {
        let (running, most) = (running.clone(), most.clone());
        async move {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            delayed((), 3 + (i % 3)).await;
            running.fetch_sub(1, Ordering::SeqCst);
            i
        }
    });
    let outputs: Vec<u8> = if ordered {
        resolve(futures.buffered(limit).collect())
    } else {
        let mut outputs: Vec<u8> = resolve(futures.buffer_unordered(limit).collect());
        outputs.sort();
        outputs
    };
    assert_eq!(outputs, (0..10).collect::<Vec<_>>());
    most.load(Ordering::SeqCst)
}

#[test]
fn buffered_runs_exactly_up_to_its_limit_at_once() {
    for limit in [1, 3, 10, 50] {
        assert_eq!(most_running_at_once(true, limit), limit.min(10), "buffered({limit})");
        assert_eq!(most_running_at_once(false, limit), limit.min(10), "buffer_unordered({limit})");
    }
}

#[test]
fn buffer_unordered_yields_in_completion_order() {
    let futures = stream::iter([(1, 6), (2, 0), (3, 3)]).map(|(value, stalls)| delayed(value, stalls));
    assert_eq!(resolve(futures.buffer_unordered(3).collect::<Vec<_>>()), [2, 3, 1]);
}

#[test]
fn merge_alternates_between_two_always_ready_streams() {
    let merged: Vec<_> = resolve(stream::repeat(1).merge(stream::repeat(2)).take(8).collect());
    assert_eq!(merged, [1, 2, 1, 2, 1, 2, 1, 2]);
}

#[test]
fn merge_lets_one_side_finish_after_the_other_ends() {
    let merged: Vec<_> = resolve(stream::iter([1, 1]).merge(stream::repeat(2)).take(7).collect());
    assert_eq!(merged, [1, 2, 1, 2, 2, 2, 2]);
    let merged: Vec<_> = resolve(stream::iter([1; 2]).merge(stream::iter([2; 5])).collect());
    assert_eq!(merged, [1, 2, 1, 2, 2, 2, 2], "ends once both have ended");
    let mut merged = stream::pending::<i32>().merge(stream::iter([3]));
    assert_eq!(merged.next().now_or_never(), Some(Some(3)));
    assert_eq!(merged.next().now_or_never(), None, "one side pending: not the end");
}

/// A stream the test feeds by hand: `push` an item or `end` it.
#[derive(Clone, Default)]
struct Feed {
    state: Arc<Mutex<FeedState>>,
}

#[derive(Default)]
struct FeedState {
    items: VecDeque<i32>,
    ended: bool,
    waiting: Option<std::task::Waker>,
}

impl Feed {
    fn push(&self, item: i32) {
        let mut state = self.state.lock().unwrap();
        state.items.push_back(item);
        if let Some(waker) = state.waiting.take() {
            waker.wake();
        }
    }

    fn end(&self) {
        let mut state = self.state.lock().unwrap();
        state.ended = true;
        if let Some(waker) = state.waiting.take() {
            waker.wake();
        }
    }

    fn stream(&self) -> impl Stream<Item = i32> + Send + Unpin + 'static {
        let state = self.state.clone();
        stream::poll_fn(move |cx| {
            let mut state = state.lock().unwrap();
            match state.items.pop_front() {
                Some(item) => Poll::Ready(Some(item)),
                None if state.ended => Poll::Ready(None),
                None => {
                    state.waiting = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
    }
}

const GAP: Duration = Duration::from_millis(20);

#[tau::test]
async fn timeout_reports_one_elapsed_per_gap_and_goes_on() {
    let feed = Feed::default();
    let mut watched = pin!(feed.stream().timeout(GAP));
    feed.push(1);
    // Before the item: the adapter measures the gap from when it hands it out.
    let before_item = Instant::now();
    assert_eq!(watched.next().await, Some(Ok(1)));
    let elapsed: Option<Result<i32, Elapsed>> = watched.next().await;
    assert!(matches!(elapsed, Some(Err(_))), "{elapsed:?}");
    assert!(before_item.elapsed() >= GAP, "the gap is measured from the item");
    assert!(watched.next().now_or_never().is_none(), "one error per gap");
    feed.push(2);
    feed.push(3);
    assert_eq!(watched.next().await, Some(Ok(2)));
    assert_eq!(watched.next().await, Some(Ok(3)));
    feed.end();
    assert_eq!(watched.next().await, None);
}

#[tau::test]
async fn timeout_measures_the_first_gap_from_creation_and_never_fires_for_ready_items() {
    let created = Instant::now();
    let mut watched = pin!(stream::pending::<i32>().timeout(GAP));
    assert!(watched.next().await.unwrap().is_err());
    assert!(created.elapsed() >= GAP);
    let items: Vec<_> = stream::iter(0..1000).timeout(Duration::from_nanos(1)).collect().await;
    assert_eq!(items, (0..1000).map(Ok).collect::<Vec<_>>());
    assert_eq!(stream::iter(0..3).timeout(GAP).size_hint(), (3, Some(7)));
}

#[tau::test]
async fn throttle_spaces_items_without_dropping_any() {
    let mut throttled = pin!(stream::iter(0..4).throttle(GAP));
    // Each item's delay runs from when the previous one was handed out,
    // which is after the call that handed it out began.
    let mut previous_asked = Instant::now();
    assert_eq!(throttled.next().now_or_never(), Some(Some(0)), "the first item is not delayed");
    for expected in 1..4 {
        let asked = Instant::now();
        assert_eq!(throttled.next().await, Some(expected));
        assert!(previous_asked.elapsed() >= GAP, "item {expected} came too early");
        previous_asked = asked;
    }
    assert_eq!(throttled.next().await, None);
    let unthrottled: Vec<_> = stream::iter(0..100).throttle(Duration::ZERO).collect().now_or_never().unwrap();
    assert_eq!(unthrottled, (0..100).collect::<Vec<_>>());
}

#[test]
#[should_panic(expected = "buffered: the limit must be at least 1")]
fn buffered_zero_panics() {
    let _ = stream::iter([std::future::ready(1)]).buffered(0);
}

#[test]
#[should_panic(expected = "buffer_unordered: the limit must be at least 1")]
fn buffer_unordered_zero_panics() {
    let _ = stream::iter([std::future::ready(1)]).buffer_unordered(0);
}

#[test]
#[should_panic(expected = "chunks: the capacity must be at least 1")]
fn chunks_zero_panics() {
    let _ = stream::iter([1]).chunks(0);
}

#[test]
fn size_hints_at_the_edges() {
    assert_eq!(stream::repeat(1).take(5).size_hint(), (5, Some(5)));
    assert_eq!(stream::repeat(1).skip(5).size_hint(), (usize::MAX - 5, None));
    assert_eq!(stream::iter(0..7).chunks(3).size_hint(), (3, Some(3)));
    assert_eq!(stream::repeat(1).chain(stream::repeat(2)).size_hint(), (usize::MAX, None));
    assert_eq!(stream::iter(0..3).zip(stream::repeat(1)).size_hint(), (3, Some(3)));
    assert_eq!(stream::iter(0..3).map(|n| stream::iter(0..n)).flatten().size_hint(), (0, None));
    assert_eq!(stream::empty::<i32>().size_hint(), (0, Some(0)));
    assert_eq!(stream::pending::<i32>().size_hint(), (0, Some(0)));
    assert_eq!(stream::once(async { 1 }).size_hint(), (1, Some(1)));
}

fn assert_send<T: Send>(value: T) -> T {
    value
}

#[test]
fn adapters_are_send_when_their_parts_are() {
    // Built inside a runtime: `throttle` makes its timer at once, and a timer
    // outside any runtime panics, as tokio's does.
    tau::block_on(async {
        let pipeline = stream::iter(0..20)
            .map(|n| n + 1)
            .filter(|n| n % 2 == 0)
            .filter_map(|n| Some(n * 2))
            .map_while(Some)
            .take_while(|n| *n < 1000)
            .skip_while(|n| *n < 4)
            .then(|n| async move { n })
            .merge(stream::iter(100..102))
            .take(100)
            .skip(1)
            .chain(stream::once(async { 7 }))
            .zip(stream::repeat(()))
            .map(|(n, ())| n)
            .enumerate()
            .inspect(|_| {})
            .flat_map(|(_, n)| stream::iter([n]))
            .map(|n| stream::iter([n]))
            .flatten()
            .fuse()
            .peekable()
            .chunks(2)
            .map(|chunk| async move { chunk.len() })
            .buffered(2)
            .map(std::future::ready)
            .buffer_unordered(2)
            .throttle(Duration::ZERO);
        let boxed: BoxStream<'static, usize> = assert_send(pipeline).boxed();
        let total: usize = boxed.fold(0, |sum, len| sum + len).await;
        assert_eq!(total, 12, "12 items survive the pipeline");
    });
}

/// The same body, compiled against tokio-stream's `StreamExt` and against
/// tau's: code written for tokio-stream compiles unchanged against tau.
macro_rules! written_for_tokio_stream {
    ($module:ident, $ext:path) => {
        mod $module {
            use tokio_stream::Stream;

            pub async fn run(
                input: impl Stream<Item = i32> + Unpin,
                more: impl Stream<Item = i32> + Unpin,
            ) -> (Option<i32>, bool, bool, Vec<i32>, i64) {
                use $ext;
                let mut numbers = input
                    .map(|x| x + 1)
                    .filter(|x: &i32| x % 3 != 0)
                    .filter_map(|x| if x > 0 { Some(x) } else { None })
                    .take_while(|x| *x < 40)
                    .skip_while(|x| *x < 2)
                    .map_while(|x| Some(x * 2))
                    .take(30)
                    .skip(1)
                    .fuse();
                let first = numbers.next().await;
                let any = numbers.any(|x| x > 20).await;
                let all = numbers.all(|x| x < 30).await;
                let rest: Vec<i32> = numbers
                    .then(|x| async move { x + 1 })
                    .merge(more)
                    .chain(tokio_stream::empty())
                    .collect()
                    .await;
                let total = tokio_stream::iter(rest.clone()).fold(0i64, |sum, x| sum + i64::from(x)).await;
                (first, any, all, rest, total)
            }
        }
    };
}

written_for_tokio_stream!(with_tokio_stream, tokio_stream::StreamExt);
written_for_tokio_stream!(with_tau, tau::stream::StreamExt);

#[test]
fn code_written_for_tokio_stream_compiles_and_agrees() {
    let input = || tokio_stream::iter((-5..60).chain((0..30).rev()));
    let more = || stream::iter([1000, 1001]);
    let ours = resolve(with_tau::run(input(), more()));
    assert_eq!(ours, resolve(with_tokio_stream::run(input(), more())));
    assert_eq!((ours.0, ours.1, ours.2), (Some(8), true, false), "the pipeline did something");
    assert!(ours.3.len() > 3 && ours.3.contains(&1000) && ours.4 > 2001, "{ours:?}");
}

#[test]
fn chain_drops_the_first_stream_as_soon_as_it_ends() {
    let counter = DropCounter::new();
    let detector = counter.detector();
    let first = stream::iter([1]).inspect(move |_| {
        let _held = &detector;
    });
    let mut chained = first.chain(stream::pending());
    assert_eq!(chained.next().now_or_never(), Some(Some(1)));
    assert_eq!(counter.dropped(), 0);
    assert!(chained.next().now_or_never().is_none(), "the second stream is pending");
    assert_eq!(counter.dropped(), 1);
}

/// A stream of `items` that holds a detector of `counter` until it is dropped.
fn holding(counter: &DropCounter, items: Vec<i32>) -> impl Stream<Item = i32> + Send + Unpin {
    let detector = counter.detector();
    stream::iter(items).inspect(move |_| {
        let _held = &detector;
    })
}

#[tau::test]
async fn fuse_merge_and_timeout_drop_an_inner_stream_as_soon_as_it_ends() {
    let counter = DropCounter::new();
    let mut fused = holding(&counter, vec![1]).fuse();
    assert_eq!(fused.next().await, Some(1));
    assert_eq!(counter.dropped(), 0);
    assert_eq!(fused.next().await, None);
    assert_eq!(counter.dropped(), 1, "fuse");

    let counter = DropCounter::new();
    let mut merged = holding(&counter, vec![1]).merge(stream::pending());
    assert_eq!(merged.next().await, Some(1));
    assert!(merged.next().now_or_never().is_none());
    assert_eq!(counter.dropped(), 1, "merge");

    let counter = DropCounter::new();
    let mut watched = pin!(holding(&counter, vec![]).timeout(Duration::from_secs(3600)));
    assert_eq!(watched.next().await, None);
    assert_eq!(counter.dropped(), 1, "timeout");
}

#[tau::test]
async fn any_and_all_yield_every_32_items_as_tokio_stream_does() {
    let mut numbers = stream::iter(0..100);
    assert_eq!(numbers.any(|n| n == 20).now_or_never(), Some(true), "decided within 32 items");
    let mut numbers = stream::iter(0..100);
    assert_eq!(numbers.any(|n| n == 50).now_or_never(), None, "yields after 32 items");
    let mut theirs = stream::iter(0..100);
    assert_eq!(tokio_stream::StreamExt::any(&mut theirs, |n| n == 50).now_or_never(), None);
    assert_eq!(numbers.next().await, Some(32), "the items read stay read");
    // An endless stream no longer holds the thread: a timeout around it fires.
    let mut zeros = stream::repeat(0);
    assert!(tau::time::timeout(Duration::from_millis(1), zeros.all(|n| n == 0)).await.is_err());
    assert!(stream::iter(0..1000).all(|n| n < 1000).await);
}

#[test]
fn collect_builds_what_tokio_streams_collect_builds() {
    let items = || stream::iter([Ok(1), Ok(2), Err("no"), Ok(4)]);
    let pulled = AtomicUsize::new(0);
    let ours: Result<Vec<i32>, &str> =
        resolve(items().inspect(|_| _ = pulled.fetch_add(1, Ordering::SeqCst)).collect());
    assert_eq!(ours, Err("no"));
    assert_eq!(pulled.load(Ordering::SeqCst), 3, "stops at the first error");
    assert_eq!(ours, resolve(tokio_stream::StreamExt::collect::<Result<Vec<i32>, &str>>(items())));
    let all_ok: Result<Box<[i32]>, ()> = resolve(stream::iter([Ok(1), Ok(2)]).collect());
    assert_eq!(all_ok, Ok(vec![1, 2].into_boxed_slice()));
    let words = || stream::iter(["tau", " ", "streams"].map(String::from));
    assert_eq!(resolve(words().collect::<String>()), "tau streams");
    assert_eq!(
        resolve(words().collect::<String>()),
        resolve(tokio_stream::StreamExt::collect::<String>(words()))
    );
    let some: Option<Vec<i32>> = resolve(stream::iter([Some(1), None, Some(3)]).collect());
    assert_eq!(some, None);
    let map: std::collections::HashMap<i32, char> = resolve(stream::iter([(1, 'a'), (2, 'b')]).collect());
    assert_eq!(map[&2], 'b');
    let sorted: std::collections::BTreeSet<i32> = resolve(stream::iter([3, 1, 2, 1]).collect());
    assert_eq!(sorted.into_iter().collect::<Vec<_>>(), [1, 2, 3]);
    resolve(stream::iter([(), ()]).collect::<()>());
}

#[tau::test]
async fn buffered_futures_woken_from_other_threads() {
    let doubled = |i: u64| async move { tau::task::spawn_blocking(move || i * 2).await.unwrap() };
    let ordered: Vec<u64> = stream::iter(0..64).map(doubled).buffered(8).collect().await;
    assert_eq!(ordered, (0..64).map(|i| i * 2).collect::<Vec<_>>());
    let mut unordered: Vec<u64> = stream::iter(0..64).map(doubled).buffer_unordered(8).collect().await;
    unordered.sort();
    assert_eq!(unordered, ordered);
}

/// A future that keeps its first waker in `stash`, then completes on its
/// second poll.
fn stashing(stash: &Arc<Mutex<Vec<std::task::Waker>>>, value: u32) -> impl Future<Output = u32> + Unpin {
    let stash = stash.clone();
    let mut polled = false;
    std::future::poll_fn(move |cx| {
        if std::mem::replace(&mut polled, true) {
            return Poll::Ready(value);
        }
        stash.lock().unwrap().push(cx.waker().clone());
        cx.waker().wake_by_ref();
        Poll::Pending
    })
}

#[test]
fn stale_wakers_of_reused_slots_do_no_harm() {
    for ordered in [true, false] {
        let stash = Arc::new(Mutex::new(Vec::new()));
        let wakers = stash.clone();
        let futures = stream::iter(0..40).map(move |i| stashing(&wakers, i));
        let mut outputs: BoxStream<'static, u32> =
            if ordered { futures.buffered(3).boxed() } else { futures.buffer_unordered(3).boxed() };
        let mut seen = Vec::new();
        while let Some(item) = resolve(outputs.next()) {
            seen.push(item);
            // Fire every waker ever handed out, most of them for slots
            // whose future has completed and been replaced.
            stash.lock().unwrap().iter().for_each(std::task::Waker::wake_by_ref);
        }
        if !ordered {
            seen.sort();
        }
        assert_eq!(seen, (0..40).collect::<Vec<_>>(), "ordered: {ordered}");
    }
}

#[tau::test]
async fn timeout_repeating_reports_an_error_per_tick_until_an_item_comes() {
    let feed = Feed::default();
    // Taken before the interval is made: its ticks are due `GAP` and `2 * GAP`
    // after this, never earlier (under valgrind, making it takes a while).
    let start = Instant::now();
    let ticks = tau::time::interval_at(start + GAP, GAP);
    let mut watched = pin!(feed.stream().timeout_repeating(ticks));
    assert!(watched.next().await.unwrap().is_err());
    assert!(watched.next().await.unwrap().is_err());
    assert!(start.elapsed() >= 2 * GAP, "one error per period");
    feed.push(5);
    assert_eq!(watched.next().await, Some(Ok(5)));
    feed.end();
    assert_eq!(watched.next().await, None);
}

#[tau::test]
async fn chunks_timeout_sends_full_chunks_at_once_and_partial_ones_after_the_duration() {
    let feed = Feed::default();
    let mut chunks = pin!(feed.stream().chunks_timeout(3, GAP));
    (1..=4).for_each(|item| feed.push(item));
    assert_eq!(chunks.next().now_or_never(), Some(Some(vec![1, 2, 3])), "full: no wait");
    let partial_started = Instant::now();
    assert_eq!(chunks.next().await, Some(vec![4]));
    assert!(partial_started.elapsed() >= GAP, "a partial chunk waits for the duration");
    feed.push(5);
    feed.end();
    assert_eq!(chunks.next().await, Some(vec![5]), "the end sends the rest at once");
    assert_eq!(chunks.next().await, None);
    let ready: Vec<_> = stream::iter(0..10).chunks_timeout(3, GAP).collect().await;
    assert_eq!(ready, [vec![0, 1, 2], vec![3, 4, 5], vec![6, 7, 8], vec![9]]);
}

#[test]
#[should_panic(expected = "chunks_timeout: max_size must be at least 1")]
fn chunks_timeout_zero_panics() {
    tau::block_on(async {
        let _ = stream::iter([1]).chunks_timeout(0, GAP);
    });
}

#[test]
fn adapters_give_back_their_stream_and_show_it_in_debug() {
    tau::block_on(async {
        let mut doubled = stream::iter(vec![1, 2, 3]).map(|x| x * 2);
        assert_eq!(doubled.next().await, Some(2));
        // The rest is still in the underlying stream, past the closure.
        assert_eq!(doubled.get_ref().size_hint(), (2, Some(2)));
        let mut rest = doubled.into_inner();
        assert_eq!(rest.next().await, Some(2), "into_inner skips the map");
        let mut skipping = stream::iter(vec![1, 2, 3]).skip_while(|x| *x < 2);
        assert_eq!(skipping.get_mut().next().await, Some(1), "get_mut takes past the adapter");
        assert_eq!(skipping.next().await, Some(2));
        let shown = format!("{:?}", stream::iter(vec![7]).filter(|_| true));
        assert!(shown.starts_with("Filter { stream: Iter") && shown.ends_with(".. }"), "{shown}");
    });
}
