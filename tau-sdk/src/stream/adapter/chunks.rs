use std::mem;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;

use super::Fuse;
use crate::stream::{FusedStream, Stream};

pin_project! {
    /// The stream returned by [`StreamExt::chunks`](crate::stream::StreamExt::chunks).
    #[must_use = "streams do nothing unless polled"]
    pub struct Chunks<S>
    where
        S: Stream,
    {
        #[pin]
        stream: Fuse<S>,
        chunk: Vec<S::Item>,
        capacity: usize,
    }
}

impl<S: Stream> Chunks<S> {
    pub(crate) fn new(stream: S, capacity: usize) -> Self {
        assert!(capacity > 0, "StreamExt::chunks: the capacity must be at least 1");
        Chunks { stream: Fuse::new(stream), chunk: Vec::with_capacity(capacity), capacity }
    }

    fn take_chunk(chunk: &mut Vec<S::Item>, capacity: usize) -> Vec<S::Item> {
        mem::replace(chunk, Vec::with_capacity(capacity))
    }
}

impl<S: Stream> Stream for Chunks<S> {
    type Item = Vec<S::Item>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Vec<S::Item>>> {
        let mut this = self.project();
        loop {
            match ready!(this.stream.as_mut().poll_next(cx)) {
                Some(item) => {
                    this.chunk.push(item);
                    if this.chunk.len() >= *this.capacity {
                        return Poll::Ready(Some(Self::take_chunk(this.chunk, *this.capacity)));
                    }
                }
                // The last chunk may be short; an empty one is not yielded.
                None if this.chunk.is_empty() => return Poll::Ready(None),
                None => return Poll::Ready(Some(mem::take(this.chunk))),
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let held = self.chunk.len();
        let chunks_of = |items: usize| items.div_ceil(self.capacity);
        let (lower, upper) = self.stream.size_hint();
        let upper = upper.and_then(|upper| upper.checked_add(held)).map(chunks_of);
        (chunks_of(lower.saturating_add(held)), upper)
    }
}

impl<S: Stream> FusedStream for Chunks<S> {
    fn is_terminated(&self) -> bool {
        self.stream.is_done() && self.chunk.is_empty()
    }
}

debug_stream_adapter!(impl[S] Chunks<S>, "Chunks" where S: crate::stream::Stream,);
