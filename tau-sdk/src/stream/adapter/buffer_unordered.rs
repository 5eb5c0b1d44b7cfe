use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use super::Fuse;
use crate::in_flight::InFlight;
use crate::stream::{size_hint, FusedStream, Stream};

pin_project! {
    /// The stream returned by
    /// [`StreamExt::buffer_unordered`](crate::stream::StreamExt::buffer_unordered).
    #[must_use = "streams do nothing unless polled"]
    pub struct BufferUnordered<S>
    where
        S: Stream,
        S::Item: Future,
    {
        #[pin]
        stream: Fuse<S>,
        in_flight: InFlight<S::Item>,
        limit: usize,
    }
}

impl<S> BufferUnordered<S>
where
    S: Stream,
    S::Item: Future,
{
    pub(crate) fn new(stream: S, limit: usize) -> Self {
        assert!(limit > 0, "StreamExt::buffer_unordered: the limit must be at least 1");
        BufferUnordered { stream: Fuse::new(stream), in_flight: InFlight::new(), limit }
    }
}

impl<S> Stream for BufferUnordered<S>
where
    S: Stream,
    S::Item: Future,
{
    type Item = <S::Item as Future>::Output;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        while this.in_flight.running() < *this.limit {
            let Poll::Ready(Some(future)) = this.stream.as_mut().poll_next(cx) else { break };
            this.in_flight.push(future);
        }
        match this.in_flight.poll_next(cx) {
            Poll::Ready(Some((slot, output))) => {
                this.in_flight.release(slot);
                Poll::Ready(Some(output))
            }
            Poll::Ready(None) if this.stream.is_done() => Poll::Ready(None),
            // Nothing running, and the stream is pending: it has our waker.
            Poll::Ready(None) | Poll::Pending => Poll::Pending,
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        size_hint::plus(self.stream.size_hint(), self.in_flight.running())
    }
}

impl<S> FusedStream for BufferUnordered<S>
where
    S: Stream,
    S::Item: Future,
{
    fn is_terminated(&self) -> bool {
        self.stream.is_done() && self.in_flight.running() == 0
    }
}

debug_stream_adapter!(impl[S] BufferUnordered<S>, "BufferUnordered" where S: crate::stream::Stream, S::Item: ::std::future::Future,);
