//! tau: `EventStream` on tau's reactor. Upstream's spawns a thread that
//! blocks in the event reader and wakes the task; this one asks the reader
//! for an event without waiting and, when there is none, waits on the
//! reactor for the tty or a resize. It reads through crossterm's one event
//! reader, so `cursor::position()` and the keyboard-enhancement query keep
//! working while a stream is active: their replies are taken by the query,
//! and the events that came before them stay queued for the stream.
//!
//! The stream never waits for the reader's lock: a sync call on another
//! thread (`cursor::position()` from `spawn_blocking`) may hold it while it
//! waits on the runtime, and a task blocking the runtime's thread on that
//! lock could deadlock both. While the lock is held elsewhere, the stream
//! tries again every millisecond on tau's timer. Such a call's wait also
//! takes the one waker slot of the tty's readiness; it wakes the stream
//! when it is done, so that the stream registers again.

use std::{
    fmt,
    future::Future,
    io,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use futures_core::stream::Stream;

use crate::event::{
    filter::EventFilter, read::InternalEventReader, source::unix::tau::Wakeup, Event, InternalEvent,
    INTERNAL_EVENT_READER,
};

/// How long the stream waits before it tries a busy reader again.
const BUSY_RETRY: Duration = Duration::from_millis(1);

/// A stream of `Result<Event>`, woken by tau's reactor.
///
/// **Note:** use it with [`poll`](super::poll) and [`read`](super::read) in
/// the same program with care: they share one reader, and an event goes to
/// whichever asks first.
pub struct EventStream {
    wakeup: Option<Arc<Wakeup>>,
    retry: Option<Pin<Box<tau::time::Sleep>>>,
}

impl fmt::Debug for EventStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventStream").finish_non_exhaustive()
    }
}

impl Default for EventStream {
    fn default() -> Self {
        EventStream { wakeup: None, retry: None }
    }
}

impl EventStream {
    /// Constructs a new instance of `EventStream`.
    pub fn new() -> EventStream {
        EventStream::default()
    }
}

impl Stream for EventStream {
    type Item = io::Result<Event>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            let Some(mut guard) = INTERNAL_EVENT_READER.try_lock() else {
                // Another thread reads (see the module docs): try again soon.
                let retry = self.retry.get_or_insert_with(|| Box::pin(tau::time::sleep(BUSY_RETRY)));
                if retry.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                self.retry = None;
                continue;
            };
            self.retry = None;
            let reader = guard.get_or_insert_with(InternalEventReader::default);
            match reader.poll(Some(Duration::ZERO), &EventFilter) {
                Ok(true) => {
                    return match reader.read(&EventFilter) {
                        Ok(InternalEvent::Event(event)) => Poll::Ready(Some(Ok(event))),
                        Ok(_) => continue, // the filter lets only events through
                        Err(error) => Poll::Ready(Some(Err(error))),
                    };
                }
                Ok(false) => {}
                Err(error) => return Poll::Ready(Some(Err(error))),
            }
            drop(guard);
            if self.wakeup.is_none() {
                match Wakeup::of_tty() {
                    Ok(wakeup) => self.wakeup = Some(wakeup),
                    Err(error) => return Poll::Ready(Some(Err(error))),
                }
            }
            let wakeup = self.wakeup.as_ref().expect("set above");
            match wakeup.poll(cx) {
                Poll::Ready(Ok(())) => continue,
                Poll::Ready(Err(error)) => return Poll::Ready(Some(Err(error))),
                Poll::Pending => {
                    wakeup.park_stream(cx.waker());
                    return Poll::Pending;
                }
            }
        }
    }
}
