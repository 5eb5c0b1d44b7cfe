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
    assert_eq!(watched.next().await, Some(Ok(1)));
    let after_item = Instant::now();
    let elapsed: Option<Result<i32, Elapsed>> = watched.next().await;
    assert!(matches!(elapsed, Some(Err(_))), "{elapsed:?}");
    assert!(after_item.elapsed() >= GAP, "the gap is measured from the item");
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
    assert_eq!(throttled.next().now_or_never(), Some(Some(0)), "the first item is not delayed");
    let mut last = Instant::now();
    for expected in 1..4 {
        assert_eq!(throttled.next().await, Some(expected));
        assert!(last.elapsed() >= GAP, "item {expected} came too early");
        last = Instant::now();
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
    let total: usize = tau::block_on(boxed.fold(0, |sum, len| sum + len));
    assert_eq!(total, 12, "12 items survive the pipeline");
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
