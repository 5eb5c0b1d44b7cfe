//! The producing half of the stream test pair: exports that return boxed
//! streams whose items come from this plugin's own timers and tasks, for
//! the host or another plugin (`stream-test-consumer`) to consume.

use std::collections::VecDeque;
use std::future::Future;
use std::io::Read;
use std::os::unix::net::UnixStream;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::Duration;

use tau::stream::{self, BoxStream, StreamExt};
use tau::task::AbortHandle;

/// No state.
#[derive(Default)]
pub struct Producer;

#[tau::plugin]
impl Producer {
    /// `"token-0"` to `"token-{count - 1}"`, each after a 1 ms sleep on this plugin's timers.
    #[tau::export]
    pub fn tokens(&self, count: u32) -> BoxStream<'static, String> {
        stream::unfold(0u32, move |next| async move {
            if next == count {
                return None;
            }
            tau::time::sleep(Duration::from_millis(1)).await;
            Some((format!("token-{next}"), next + 1))
        })
        .boxed()
    }

    /// `1..=n`, each number after a yield to the runtime.
    #[tau::export]
    pub fn numbers(&self, n: u64) -> BoxStream<'static, u64> {
        stream::iter(1..=n)
            .then(|number| async move {
                tau::task::yield_now().await;
                number
            })
            .boxed()
    }

    /// The words of `text` parsed as `i64`s; the first word that is not a
    /// number gives an `Err` and ends the stream.
    #[tau::export]
    pub fn parsed(&self, text: String) -> BoxStream<'static, Result<i64, String>> {
        let words: Vec<String> = text.split_whitespace().map(str::to_string).collect();
        let mut failed = false;
        stream::iter(words)
            .map(|word| word.parse::<i64>().map_err(|error| format!("`{word}`: {error}")))
            .map_while(move |parsed| {
                if failed {
                    return None;
                }
                failed = parsed.is_err();
                Some(parsed)
            })
            .boxed()
    }

    /// The byte counts of what arrives on `socket`, read through an
    /// `AsyncFd` this plugin registers at the first poll; the first error
    /// (as text) ends the stream.
    #[tau::export]
    pub fn reads(&self, socket: UnixStream) -> BoxStream<'static, Result<usize, String>> {
        socket.set_nonblocking(true).expect("a socket");
        stream::unfold(Reads::Unregistered(socket), |state| async move {
            let fd = match state {
                Reads::Unregistered(socket) => match tau::io::AsyncFd::new(socket) {
                    Ok(fd) => fd,
                    Err(error) => return Some((Err(error.to_string()), Reads::Done)),
                },
                Reads::Registered(fd) => fd,
                Reads::Done => return None,
            };
            let read = fd
                .async_io(tau::io::Interest::READABLE, |socket| (&*socket).read(&mut [0u8; 64]))
                .await;
            match read {
                Ok(count) => Some((Ok(count), Reads::Registered(fd))),
                Err(error) => Some((Err(error.to_string()), Reads::Done)),
            }
        })
        .boxed()
    }

    /// `"fed-0"` to `"fed-{count - 1}"`, sent 1 ms apart by a task of this
    /// plugin; dropping the stream aborts that task.
    #[tau::export]
    pub fn fed(&self, count: u32) -> BoxStream<'static, String> {
        let feed = Arc::new(Mutex::new(Feed::default()));
        let sender = Arc::clone(&feed);
        let task = tau::spawn(async move {
            for i in 0..count {
                tau::time::sleep(Duration::from_millis(1)).await;
                Feed::push(&sender, Some(format!("fed-{i}")));
            }
            Feed::push(&sender, None);
        });
        let guard = AbortOnDrop(task.abort_handle());
        stream::poll_fn(move |cx| {
            let _owned = &guard;
            Feed::poll_next(&feed, cx)
        })
        .boxed()
    }

    /// `"queued-0"` to `"queued-{count - 1}"`, all queued before this
    /// returns, on a feed that a task of this plugin holds open: it sends
    /// nothing more, and not the end either.
    #[tau::export]
    pub fn queued(&self, count: u32) -> BoxStream<'static, String> {
        let feed = Arc::new(Mutex::new(Feed::default()));
        for i in 0..count {
            Feed::push(&feed, Some(format!("queued-{i}")));
        }
        let open = Arc::clone(&feed);
        tau::spawn(async move {
            let _open = open;
            std::future::pending::<()>().await
        });
        stream::poll_fn(move |cx| Feed::poll_next(&feed, cx)).boxed()
    }

    /// [`counting`], inside an `Ok`.
    #[tau::export]
    pub fn try_counting(&self, panic_at: u32) -> Result<BoxStream<'static, u32>, String> {
        Ok(counting(panic_at))
    }

    /// [`counting`], inside a `Some`.
    #[tau::export]
    pub fn maybe_counting(&self, panic_at: u32) -> Option<BoxStream<'static, u32>> {
        Some(counting(panic_at))
    }

    /// [`ticking`], inside an `Ok`.
    #[tau::export]
    pub fn try_ticking(&self) -> Result<BoxStream<'static, u64>, String> {
        Ok(ticking())
    }

    /// [`ticking`], inside a `Some`.
    #[tau::export]
    pub fn maybe_ticking(&self) -> Option<BoxStream<'static, u64>> {
        Some(ticking())
    }

    /// A closure adding `n`; it panics when given 0.
    #[tau::export]
    pub fn adder(&self, n: u32) -> Box<dyn Fn(u32) -> u32 + Send + Sync> {
        Box::new(move |x| {
            assert_ne!(x, 0, "adder got 0");
            x + n
        })
    }

    /// A future giving `value` after a 1 ms sleep on this plugin's timers;
    /// it panics for 0.
    #[tau::export]
    pub fn later(&self, value: u32) -> Pin<Box<dyn Future<Output = u32> + Send>> {
        Box::pin(async move {
            tau::time::sleep(Duration::from_millis(1)).await;
            assert_ne!(value, 0, "later got 0");
            value
        })
    }
}

/// `0, 1, ..`: panics instead of yielding `panic_at`.
fn counting(panic_at: u32) -> BoxStream<'static, u32> {
    stream::iter(0..)
        .map(move |number| {
            assert_ne!(number, panic_at, "counting reached {panic_at}");
            number
        })
        .boxed()
}

/// `0, 1, ..` forever, each after a 1 ms sleep on this plugin's timers.
fn ticking() -> BoxStream<'static, u64> {
    stream::unfold(0u64, |next| async move {
        tau::time::sleep(Duration::from_millis(1)).await;
        Some((next, next + 1))
    })
    .boxed()
}

/// Where `reads` is.
enum Reads {
    Unregistered(UnixStream),
    Registered(tau::io::AsyncFd<UnixStream>),
    Done,
}

/// What `fed`'s task has sent and the stream has not taken yet (`None`:
/// the end), whether the stream has ended, and the waker of its reader.
#[derive(Default)]
struct Feed {
    items: VecDeque<Option<String>>,
    ended: bool,
    waker: Option<Waker>,
}

impl Feed {
    /// The next item, or `Pending` with the reader's waker kept.
    fn poll_next(feed: &Mutex<Feed>, cx: &mut std::task::Context<'_>) -> Poll<Option<String>> {
        let mut feed = feed.lock().unwrap();
        if feed.ended {
            return Poll::Ready(None);
        }
        match feed.items.pop_front() {
            Some(item) => {
                feed.ended = item.is_none();
                Poll::Ready(item)
            }
            None => {
                feed.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }

    /// Queues `item` and wakes the reader (outside the lock).
    fn push(feed: &Mutex<Feed>, item: Option<String>) {
        let waker = {
            let mut feed = feed.lock().unwrap();
            feed.items.push_back(item);
            feed.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// Aborts `fed`'s task when its stream is dropped.
struct AbortOnDrop(AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
