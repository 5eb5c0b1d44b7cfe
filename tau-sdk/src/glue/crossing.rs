//! What an export hands out, made safe to keep after the plugin is gone.
//!
//! A stream an export returns (a `BoxStream<'static, T>`, directly or as
//! an async export's result) is polled by the host or another plugin, with
//! this plugin's code running inside their poll. Two things would go wrong
//! there, and the generated thunks wrap such a stream in
//! [`Guarded`] against both:
//!
//! - after this plugin's unload, its code has no runtime: the wrapper ends
//!   the stream (`None`) and drops it, instead of running it;
//! - a panic in this plugin's code cannot unwind into the caller's (two
//!   copies of std: the caller's would abort the process): the wrapper
//!   catches it, prints it, and ends the stream.
//!
//! Other values cross as they are. The thunks pick the wrapper by
//! type (method resolution on `&Crossing<T>`: the stream impl is found
//! first, the pass-through one after one more auto-reference).

use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::context::TableRef;
use crate::stream::{BoxStream, Stream};

/// Picks how a value of type `T` crosses; see the module docs.
pub struct Crossing<T> {
    plugin: &'static str,
    _value: PhantomData<fn(T) -> T>,
}

impl<T> Crossing<T> {
    /// For a value of plugin `plugin` (its package name, for messages).
    pub const fn new(plugin: &'static str) -> Crossing<T> {
        Crossing { plugin, _value: PhantomData }
    }
}

/// Streams: wrapped in [`Guarded`].
pub trait CrossStream<T> {
    /// The stream, guarded.
    fn cross(&self, stream: BoxStream<'static, T>) -> BoxStream<'static, T>;
}

impl<T: Send + 'static> CrossStream<T> for Crossing<BoxStream<'static, T>> {
    fn cross(&self, stream: BoxStream<'static, T>) -> BoxStream<'static, T> {
        Box::pin(Guarded { inner: Some(stream), table: crate::context::try_current(), plugin: self.plugin })
    }
}

/// Everything else: as it is.
pub trait CrossAsIs<V> {
    /// The value itself.
    fn cross(&self, value: V) -> V;
}

impl<V> CrossAsIs<V> for &Crossing<V> {
    fn cross(&self, value: V) -> V {
        value
    }
}

/// A plugin's stream, ended when the plugin is gone or when it panics.
pub struct Guarded<T> {
    inner: Option<BoxStream<'static, T>>,
    /// The plugin's runtime scope, which says when the plugin is gone.
    table: Option<TableRef>,
    plugin: &'static str,
}

impl<T> Guarded<T> {
    fn plugin_is_gone(&self) -> bool {
        self.table.as_ref().is_some_and(TableRef::is_gone)
    }

    /// Drops the inner stream (its Drop is the plugin's code: contained).
    fn end(&mut self) {
        if let Some(inner) = self.inner.take() {
            let dropped = catch_unwind(AssertUnwindSafe(move || drop(inner)));
            if let Err(payload) = dropped {
                report(self.plugin, "dropping a stream", &*payload);
            }
        }
    }
}

fn report(plugin: &str, what: &str, payload: &(dyn std::any::Any + Send)) {
    eprintln!(
        "tau: plugin `{plugin}` panicked {what} it returned: {}; the stream ends here",
        super::ffi::panic_message(payload)
    );
}

impl<T> Stream for Guarded<T> {
    type Item = T;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = &mut *self;
        if this.inner.is_none() {
            return Poll::Ready(None);
        }
        if this.plugin_is_gone() {
            this.end();
            return Poll::Ready(None);
        }
        let inner = this.inner.as_mut().expect("checked above");
        match catch_unwind(AssertUnwindSafe(|| inner.as_mut().poll_next(cx))) {
            Ok(Poll::Ready(None)) => {
                this.end();
                Poll::Ready(None)
            }
            Ok(polled) => polled,
            Err(payload) => {
                report(this.plugin, "polling a stream", &*payload);
                this.end();
                Poll::Ready(None)
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.inner {
            Some(inner) => inner.size_hint(),
            None => (0, Some(0)),
        }
    }
}

impl<T> crate::stream::FusedStream for Guarded<T> {
    fn is_terminated(&self) -> bool {
        self.inner.is_none()
    }
}

impl<T> Drop for Guarded<T> {
    fn drop(&mut self) {
        self.end();
    }
}
