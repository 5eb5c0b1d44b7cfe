//! tau: `EventStream` on tau's reactor. Upstream's spawns a thread that
//! blocks in the event reader and wakes the task; this one asks the reader
//! for an event without waiting and, when there is none, waits on the
//! reactor for the tty or a resize. It reads through crossterm's one event
//! reader, so `cursor::position()` and the keyboard-enhancement query keep
//! working while a stream is active: their replies are taken by the query,
//! and the events that came before them stay queued for the stream.

use std::{
    fmt, io,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use futures_core::stream::Stream;

use crate::event::{
    filter::EventFilter, poll_internal, read_internal, source::unix::tau::Wakeup, Event, InternalEvent,
};

/// A stream of `Result<Event>`, woken by tau's reactor.
///
/// **Note:** use it with [`poll`](super::poll) and [`read`](super::read) in
/// the same program with care: they share one reader, and an event goes to
/// whichever asks first.
pub struct EventStream {
    wakeup: Option<Arc<Wakeup>>,
}

impl fmt::Debug for EventStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventStream").finish_non_exhaustive()
    }
}

impl Default for EventStream {
    fn default() -> Self {
        EventStream { wakeup: None }
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
            match poll_internal(Some(Duration::ZERO), &EventFilter) {
                Ok(true) => {
                    return match read_internal(&EventFilter) {
                        Ok(InternalEvent::Event(event)) => Poll::Ready(Some(Ok(event))),
                        Ok(_) => continue, // the filter lets only events through
                        Err(error) => Poll::Ready(Some(Err(error))),
                    };
                }
                Ok(false) => {}
                Err(error) => return Poll::Ready(Some(Err(error))),
            }
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
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}
