//! Streams and futures that play a script of `Pending`s, and drivers that
//! poll them by hand while checking the contract of `poll`: a `Pending` must
//! have arranged a wake-up, and `size_hint` must bound what is left.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use proptest::prelude::*;
use tau::stream::Stream;

/// Items, and how many times to return `Pending` before each of them and
/// before the end.
#[derive(Clone, Debug)]
pub struct Script {
    pub steps: Vec<(u8, i32)>,
    pub stalls_before_end: u8,
}

impl Script {
    pub fn items(&self) -> Vec<i32> {
        self.steps.iter().map(|&(_, item)| item).collect()
    }

    /// A fresh stream that plays this script.
    pub fn stream(&self) -> Scripted {
        let mut stalls: VecDeque<u8> = self.steps.iter().map(|&(stalls, _)| stalls).collect();
        stalls.push_back(self.stalls_before_end);
        Scripted { items: self.items().into(), stalls, polls_after_end: 0 }
    }
}

/// Scripts of up to `max_len` items in -50..50, each behind 0..3 `Pending`s.
pub fn script(max_len: usize) -> impl Strategy<Value = Script> {
    (prop::collection::vec((0u8..3, -50i32..50), 0..=max_len), 0u8..3)
        .prop_map(|(steps, stalls_before_end)| Script { steps, stalls_before_end })
}

/// The stream a [`Script`] plays. Its `size_hint` is exact.
#[derive(Debug)]
pub struct Scripted {
    items: VecDeque<i32>,
    stalls: VecDeque<u8>,
    pub polls_after_end: usize,
}

impl Stream for Scripted {
    type Item = i32;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<i32>> {
        let this = &mut *self;
        match this.stalls.front_mut() {
            Some(stalls) if *stalls > 0 => {
                *stalls -= 1;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            Some(_) => {
                this.stalls.pop_front();
            }
            None => this.polls_after_end += 1,
        }
        Poll::Ready(this.items.pop_front())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.items.len(), Some(self.items.len()))
    }
}

/// A future that returns `Pending` `stalls` times (waking itself), then `value`.
#[derive(Debug)]
pub struct Delayed<T> {
    value: Option<T>,
    stalls: u8,
}

impl<T> Unpin for Delayed<T> {}

/// `value` after `stalls` `Pending`s.
pub fn delayed<T>(value: T, stalls: u8) -> Delayed<T> {
    Delayed { value: Some(value), stalls }
}

/// `value` after a number of `Pending`s derived from the value itself, so
/// two pipelines fed the same items see the same delays.
pub fn delayed_by_value(value: i32) -> Delayed<i32> {
    delayed(value, (value.unsigned_abs() % 4) as u8)
}

impl<T> Future for Delayed<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        if self.stalls > 0 {
            self.stalls -= 1;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        Poll::Ready(self.value.take().expect("Delayed polled after it completed"))
    }
}

#[derive(Default)]
struct WakeFlag(AtomicBool);

impl Wake for WakeFlag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

const POLL_LIMIT: usize = 1_000_000;

/// Every item of `stream`, polled by hand; panics on a `Pending` that did
/// not arrange a wake-up (which would hang a real executor).
pub fn drive<S: Stream>(stream: S) -> Vec<S::Item> {
    drive_inner(stream, false)
}

/// [`drive`], also checking before every poll that `size_hint` bounds the
/// number of items still to come.
pub fn drive_checked<S: Stream>(stream: S) -> Vec<S::Item> {
    drive_inner(stream, true)
}

fn drive_inner<S: Stream>(stream: S, check_hints: bool) -> Vec<S::Item> {
    let mut stream = Box::pin(stream);
    let flag = Arc::new(WakeFlag::default());
    let waker = Waker::from(flag.clone());
    let mut cx = Context::from_waker(&waker);
    let mut items = Vec::new();
    let mut hints = Vec::new();
    for _ in 0..POLL_LIMIT {
        hints.push((items.len(), stream.size_hint()));
        flag.0.store(false, Ordering::SeqCst);
        match stream.as_mut().poll_next(&mut cx) {
            Poll::Ready(Some(item)) => items.push(item),
            Poll::Ready(None) => {
                if check_hints {
                    check_size_hints(&hints, items.len());
                }
                return items;
            }
            Poll::Pending => assert!(
                flag.0.load(Ordering::SeqCst),
                "Pending without a wake-up after {} items",
                items.len()
            ),
        }
    }
    panic!("the stream did not end within {POLL_LIMIT} polls");
}

fn check_size_hints(hints: &[(usize, (usize, Option<usize>))], total: usize) {
    for &(yielded, (lower, upper)) in hints {
        let left = total - yielded;
        assert!(lower <= left, "size_hint lower bound {lower} with {left} items left (after {yielded})");
        if let Some(upper) = upper {
            assert!(left <= upper, "size_hint upper bound {upper} with {left} items left (after {yielded})");
        }
    }
}

/// The output of `future`, polled by hand with the same check as [`drive`].
pub fn resolve<F: Future>(future: F) -> F::Output {
    let mut future = Box::pin(future);
    let flag = Arc::new(WakeFlag::default());
    let waker = Waker::from(flag.clone());
    let mut cx = Context::from_waker(&waker);
    for _ in 0..POLL_LIMIT {
        flag.0.store(false, Ordering::SeqCst);
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(output) => return output,
            Poll::Pending => assert!(flag.0.load(Ordering::SeqCst), "Pending without a wake-up"),
        }
    }
    panic!("the future did not complete within {POLL_LIMIT} polls");
}
