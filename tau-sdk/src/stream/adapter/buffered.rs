use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use super::Fuse;
use crate::in_flight::InFlight;
use crate::stream::{size_hint, FusedStream, Stream};

pin_project! {
    /// The stream returned by [`StreamExt::buffered`](crate::stream::StreamExt::buffered).
    #[must_use = "streams do nothing unless polled"]
    pub struct Buffered<S>
    where
        S: Stream,
        S::Item: Future,
    {
        #[pin]
        stream: Fuse<S>,
        in_flight: InFlight<S::Item>,
        // Slots in the order their futures were pulled from `stream`.
        order: VecDeque<usize>,
        // Per slot: an output that completed before its turn.
        outputs: Vec<Option<<S::Item as Future>::Output>>,
        limit: usize,
    }
}

impl<S> Buffered<S>
where
    S: Stream,
    S::Item: Future,
{
    pub(crate) fn new(stream: S, limit: usize) -> Self {
        assert!(limit > 0, "StreamExt::buffered: the limit must be at least 1");
        Buffered {
            stream: Fuse::new(stream),
            in_flight: InFlight::new(),
            order: VecDeque::new(),
            outputs: Vec::new(),
            limit,
        }
    }
}

impl<S> Stream for Buffered<S>
where
    S: Stream,
    S::Item: Future,
{
    type Item = <S::Item as Future>::Output;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        // Outputs waiting for their turn count against the limit too.
        while this.in_flight.reserved() < *this.limit {
            let Poll::Ready(Some(future)) = this.stream.as_mut().poll_next(cx) else { break };
            this.order.push_back(this.in_flight.push(future));
        }
        while let Some(&front) = this.order.front() {
            if let Some(output) = this.outputs.get_mut(front).and_then(Option::take) {
                this.order.pop_front();
                this.in_flight.release(front);
                return Poll::Ready(Some(output));
            }
            match this.in_flight.poll_next(cx) {
                Poll::Ready(Some((slot, output))) if slot == front => {
                    this.order.pop_front();
                    this.in_flight.release(slot);
                    return Poll::Ready(Some(output));
                }
                Poll::Ready(Some((slot, output))) => {
                    if this.outputs.len() <= slot {
                        this.outputs.resize_with(slot + 1, || None);
                    }
                    this.outputs[slot] = Some(output);
                }
                Poll::Ready(None) => unreachable!("the front future has neither completed nor is running"),
                Poll::Pending => return Poll::Pending,
            }
        }
        if this.stream.is_done() {
            Poll::Ready(None)
        } else {
            Poll::Pending // the stream is pending: it has our waker
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        size_hint::plus(self.stream.size_hint(), self.order.len())
    }
}

impl<S> FusedStream for Buffered<S>
where
    S: Stream,
    S::Item: Future,
{
    fn is_terminated(&self) -> bool {
        self.stream.is_done() && self.order.is_empty()
    }
}

debug_stream_adapter!(impl[S] Buffered<S>, "Buffered" where S: crate::stream::Stream, S::Item: ::std::future::Future,);
