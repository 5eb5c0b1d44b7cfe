use std::future::Future;
use std::mem;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;

use super::timeout::deadline_after;
use super::Fuse;
use crate::stream::{FusedStream, Stream};
use crate::time::{sleep_until, Sleep};

pin_project! {
    /// The stream returned by
    /// [`StreamExt::chunks_timeout`](crate::stream::StreamExt::chunks_timeout).
    #[must_use = "streams do nothing unless polled"]
    pub struct ChunksTimeout<S>
    where
        S: Stream,
    {
        #[pin]
        stream: Fuse<S>,
        chunk: Vec<S::Item>,
        capacity: usize,
        duration: Duration,
        // Set by the chunk's first item: when the chunk goes out, full or not.
        deadline: Option<Sleep>,
    }
}

impl<S: Stream> ChunksTimeout<S> {
    pub(crate) fn new(stream: S, capacity: usize, duration: Duration) -> Self {
        assert!(capacity > 0, "StreamExt::chunks_timeout: max_size must be at least 1");
        ChunksTimeout { stream: Fuse::new(stream), chunk: Vec::new(), capacity, duration, deadline: None }
    }

    /// The items gathered for the next chunk, taken out.
    pub fn into_remainder(self: Pin<&mut Self>) -> Vec<S::Item> {
        mem::take(self.project().chunk)
    }
}

impl<S: Stream> Stream for ChunksTimeout<S> {
    type Item = Vec<S::Item>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Vec<S::Item>>> {
        let mut this = self.project();
        loop {
            match this.stream.as_mut().poll_next(cx) {
                Poll::Ready(Some(item)) => {
                    if this.chunk.is_empty() {
                        *this.deadline = Some(sleep_until(deadline_after(*this.duration)));
                        this.chunk.reserve_exact(*this.capacity);
                    }
                    this.chunk.push(item);
                    if this.chunk.len() >= *this.capacity {
                        *this.deadline = None;
                        return Poll::Ready(Some(mem::take(this.chunk)));
                    }
                }
                Poll::Ready(None) if this.chunk.is_empty() => return Poll::Ready(None),
                Poll::Ready(None) => return Poll::Ready(Some(mem::take(this.chunk))),
                Poll::Pending => break,
            }
        }
        if this.chunk.is_empty() {
            return Poll::Pending; // the stream has our waker
        }
        if let Some(deadline) = this.deadline.as_mut() {
            ready!(Pin::new(deadline).poll(cx));
        }
        *this.deadline = None;
        Poll::Ready(Some(mem::take(this.chunk)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        // Chunks hold 1..=capacity items, the one being gathered included.
        let held = self.chunk.len();
        let (lower, upper) = self.stream.size_hint();
        let lower = lower.saturating_add(held).div_ceil(self.capacity);
        (lower, upper.and_then(|upper| upper.checked_add(usize::from(held > 0))))
    }
}

impl<S: Stream> FusedStream for ChunksTimeout<S> {
    fn is_terminated(&self) -> bool {
        self.stream.is_done() && self.chunk.is_empty()
    }
}

debug_stream_adapter!(impl[S] ChunksTimeout<S>, "ChunksTimeout" where S: crate::stream::Stream,);
