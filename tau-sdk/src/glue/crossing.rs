//! What an export hands out, made safe to keep after the plugin is gone.
//!
//! A stream an export returns (directly, inside an `Option`, a `Result`, a
//! tuple or a `Vec`, or as an async export's result) is polled by the host
//! or another plugin, with this plugin's code running inside their poll.
//! Two things would go wrong there, and the generated thunks wrap each
//! such stream in [`Guarded`] against both:
//!
//! - a panic in this plugin's code cannot unwind into the caller's (two
//!   copies of std: the caller's would abort the process): the wrapper
//!   catches it, prints it, and ends the stream;
//! - after this plugin's unload its code has no runtime: the wrapper gives
//!   out the items the stream already holds (what waits on the gone
//!   runtime stays pending meanwhile, so nothing new is made), then ends
//!   it, instead of letting it run on or losing what it held.
//!
//! The other way round, a stream the caller (the host) hands to an export
//! runs the caller's code inside this plugin's poll: a panic there can be
//! caught only by the caller's std, so it is polled through the runtime
//! table's `catch_unwind` ([`Received`]), and a panic ends it.
//!
//! A boxed future or closure has no value to give after a panic, so a
//! panic goes on as one of the std it crosses into: in one the plugin
//! handed out, the plugin's std catches it and the table's `raise` panics
//! again in the host's; in one the plugin was handed, the table's
//! `catch_unwind` catches it and the plugin panics again (failing its
//! call or task, as a panic of its own would).
//!
//! The wrapping follows the type's structure ([`Guard`]); the thunks pick
//! it by type (method resolution on `&Crossing<T>`: the [`Guard`] impl is
//! found first, the pass-through one after one more auto-reference), so
//! an alias of a guarded type is guarded too.

use std::future::Future;
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use abi_stable::std_types::RString;

use crate::context::TableRef;
use crate::stream::{BoxStream, Stream};

/// Picks how a value of type `T` crosses; see the module docs.
pub struct Crossing<T> {
    how: Guarding,
    _value: PhantomData<fn(T) -> T>,
}

impl<T> Crossing<T> {
    /// For a value plugin `plugin` (its package name, for messages) hands out.
    pub const fn new(plugin: &'static str) -> Crossing<T> {
        Crossing { how: Guarding { plugin, inward: false }, _value: PhantomData }
    }

    /// For a value plugin `plugin` is handed (an export's argument).
    pub const fn inward(plugin: &'static str) -> Crossing<T> {
        Crossing { how: Guarding { plugin, inward: true }, _value: PhantomData }
    }
}

/// How [`Guard::guard`] wraps what it finds: as this plugin's code, handed
/// out (a stream in [`Guarded`]), or as the caller's, handed in (a stream
/// in [`Received`]); see the module docs for futures and closures.
#[derive(Clone, Copy, Debug)]
pub struct Guarding {
    plugin: &'static str,
    inward: bool,
}

/// A value that crosses (an export's result, or its argument) with each
/// stream, boxed future and boxed closure inside it guarded (see the
/// module docs): those themselves, and `Option`, `Result`, `Vec` and
/// tuples of guarded values, scalars and strings. A result that names a
/// stream, a future or a closure must implement it (checked when the
/// plugin compiles); an argument that does not crosses as it is.
///
/// A type of your own holding one implements it to guard what it holds
/// (`self.events = self.events.guard(how)`); a type that holds none can
/// implement it with the default
/// method (`impl tau::plugin::Guard for MyError {}`), so that it can sit
/// next to a stream in a `Result` or a tuple.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not implement `tau::plugin::Guard`: the plugin code in this value would cross unguarded",
    label = "a panic in a stream, future or closure in here would abort the host",
    note = "streams, boxed futures and boxed closures (`Fn`, `FnMut`, `FnOnce` of up to 3 arguments) cross guarded as they are, or inside `Option`, `Result`, `Vec` and tuples of types that implement `tau::plugin::Guard`; implement it for your own types (an empty impl for one that holds none of them)"
)]
pub trait Guard: Sized {
    /// `self` with each stream, future and closure inside wrapped as `how`
    /// says (pass it on to the fields). The default: `self` as it is.
    fn guard(self, how: Guarding) -> Self {
        let _ = how;
        self
    }
}

impl<T: Send + 'static> Guard for BoxStream<'static, T> {
    fn guard(self, how: Guarding) -> Self {
        let table = crate::context::try_current();
        if how.inward {
            Box::pin(Received { inner: Some(self), table, plugin: how.plugin })
        } else {
            Box::pin(Guarded { inner: Some(self), table, plugin: how.plugin })
        }
    }
}

impl<T: Guard> Guard for Option<T> {
    fn guard(self, how: Guarding) -> Self {
        self.map(|value| value.guard(how))
    }
}

impl<T: Guard, E: Guard> Guard for Result<T, E> {
    fn guard(self, how: Guarding) -> Self {
        self.map(|value| value.guard(how)).map_err(|error| error.guard(how))
    }
}

impl<T: Guard> Guard for Vec<T> {
    fn guard(self, how: Guarding) -> Self {
        self.into_iter().map(|value| value.guard(how)).collect()
    }
}

macro_rules! guard_tuples {
    ($(($($name:ident),+))*) => {$(
        impl<$($name: Guard),+> Guard for ($($name,)+) {
            #[allow(non_snake_case)]
            fn guard(self, how: Guarding) -> Self {
                let ($($name,)+) = self;
                ($($name.guard(how),)+)
            }
        }
    )*};
}

guard_tuples! { (A) (A, B) (A, B, C) (A, B, C, D) (A, B, C, D, E) (A, B, C, D, E, F) }

macro_rules! hold_no_stream {
    ($($ty:ty),*) => {$(impl Guard for $ty {})*};
}

hold_no_stream! {
    (), bool, char, u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64, String, RString,
    std::time::Duration
}

/// Runs `body`, this plugin's code that the caller runs (a closure or a
/// future it handed out): a panic in it cannot unwind into the caller's
/// std, so it is caught here and raised again in the caller's (the
/// runtime table's program) as the caller's own.
fn raise_in_caller<R>(table: &Option<TableRef>, plugin: &str, body: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(value) => value,
        Err(payload) => {
            let message = format!("plugin `{plugin}` panicked: {}", super::ffi::panic_message(&*payload));
            let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
            match table {
                Some(table) => table.raise(&message),
                // No runtime table: one program, one std.
                None => std::panic::resume_unwind(Box::new(message)),
            }
        }
    }
}

/// Runs `body`, the caller's code that this plugin runs (a closure or a
/// future it was handed): a panic in it is caught by the caller's std,
/// through the runtime table, and raised again as this plugin's (which
/// fails the call it happens in, as a panic of the plugin's own would).
fn catch_from_caller<R>(table: &Option<TableRef>, plugin: &str, what: &str, body: impl FnOnce() -> R) -> R {
    let Some(table) = table else { return body() };
    let mut value = None;
    if table.catch_unwind(|| value = Some(body())) {
        if let Some(value) = value {
            return value;
        }
    }
    panic!("a {what} handed to plugin `{plugin}` panicked")
}

impl<T: Send + 'static> Guard for Pin<Box<dyn Future<Output = T> + Send>> {
    fn guard(self, how: Guarding) -> Self {
        Box::pin(GuardedFuture { inner: Some(self), table: crate::context::try_current(), how })
    }
}

/// A boxed future that crosses, polled (and dropped) as [`raise_in_caller`]
/// (handed out) or [`catch_from_caller`] (handed in) says.
struct GuardedFuture<T> {
    inner: Option<Pin<Box<dyn Future<Output = T> + Send>>>,
    table: Option<TableRef>,
    how: Guarding,
}

/// Runs `body`, code of the plugin or of its caller as `how` says.
fn run_guarded<R>(table: &Option<TableRef>, how: Guarding, what: &str, body: impl FnOnce() -> R) -> R {
    if how.inward {
        catch_from_caller(table, how.plugin, what, body)
    } else {
        raise_in_caller(table, how.plugin, body)
    }
}

impl<T> Future for GuardedFuture<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let this = self.get_mut();
        let inner = this.inner.as_mut().expect("a future polled after it completed");
        let polled = run_guarded(&this.table, this.how, "future", || inner.as_mut().poll(cx));
        if polled.is_ready() {
            this.end();
        }
        polled
    }
}

impl<T> GuardedFuture<T> {
    fn end(&mut self) {
        if let Some(inner) = self.inner.take() {
            // A panic in a drop has no one to go to: caught where it can be, and told.
            let dropped = if self.how.inward {
                self.table.as_ref().is_none_or(|table| table.catch_unwind(move || drop(inner)))
            } else {
                catch_unwind(AssertUnwindSafe(move || drop(inner))).is_ok()
            };
            if !dropped {
                eprintln!("tau: a future crossing plugin `{}` panicked when dropped", self.how.plugin);
            }
        }
    }
}

impl<T> Drop for GuardedFuture<T> {
    fn drop(&mut self) {
        self.end();
    }
}

macro_rules! guard_closures {
    ($($closure:ident ($($arg:ident),*) $(+ $bound:ident)*;)*) => {$(
        impl<$($arg: 'static,)* R: 'static> Guard for Box<dyn $closure($($arg),*) -> R + Send $(+ $bound)*> {
            #[allow(non_snake_case, unused_mut)]
            fn guard(self, how: Guarding) -> Self {
                let table = crate::context::try_current();
                let mut inner = self;
                Box::new(move |$($arg: $arg),*| run_guarded(&table, how, "closure", || inner($($arg),*)))
            }
        }
    )*};
}

guard_closures! {
    Fn() + Sync; Fn(A) + Sync; Fn(A, B) + Sync; Fn(A, B, C) + Sync;
    Fn(); Fn(A); Fn(A, B); Fn(A, B, C);
    FnMut(); FnMut(A); FnMut(A, B); FnMut(A, B, C);
    FnOnce(); FnOnce(A); FnOnce(A, B); FnOnce(A, B, C);
}

/// The types whose streams the thunks guard: [`Guard`].
pub trait CrossGuarded<T> {
    /// The value, guarded.
    fn cross(&self, value: T) -> T;
}

impl<T: Guard> CrossGuarded<T> for Crossing<T> {
    fn cross(&self, value: T) -> T {
        value.guard(self.how)
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
        let gone = this.plugin_is_gone();
        let inner = this.inner.as_mut().expect("checked above");
        let polled = if gone {
            // What the stream holds comes out; what it would make on the
            // gone runtime stays pending, and that is its end.
            match crate::context::draining(|| catch_unwind(AssertUnwindSafe(|| inner.as_mut().poll_next(cx))))
            {
                Ok(Poll::Pending) => Ok(Poll::Ready(None)),
                polled => polled,
            }
        } else {
            catch_unwind(AssertUnwindSafe(|| inner.as_mut().poll_next(cx)))
        };
        match polled {
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

/// A stream the caller (the host) handed to this plugin: its code is the
/// caller's, and a panic in it can only be caught by the caller's std,
/// which the runtime table reaches (this library's std would abort on
/// it). A panic ends the stream, as in [`Guarded`].
pub struct Received<T> {
    inner: Option<BoxStream<'static, T>>,
    /// The table of the program that made the stream.
    table: Option<TableRef>,
    plugin: &'static str,
}

impl<T> Received<T> {
    /// Runs `body` (the caller's code) where the caller's std catches its
    /// panics; false if it panicked. Without a table (no runtime, one std)
    /// it runs as it is.
    fn caught(&self, body: impl FnOnce()) -> bool {
        match &self.table {
            Some(table) => table.catch_unwind(body),
            None => {
                body();
                true
            }
        }
    }

    /// Drops the stream, its drop being the caller's code too.
    fn end(&mut self) {
        if let Some(inner) = self.inner.take() {
            if !self.caught(move || drop(inner)) {
                eprintln!("tau: a stream handed to plugin `{}` panicked when dropped", self.plugin);
            }
        }
    }
}

impl<T> Stream for Received<T> {
    type Item = T;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = &mut *self;
        let Some(inner) = this.inner.as_mut() else { return Poll::Ready(None) };
        let mut polled = Poll::Ready(None);
        let ok = match &this.table {
            Some(table) => table.catch_unwind(|| polled = inner.as_mut().poll_next(cx)),
            None => {
                polled = inner.as_mut().poll_next(cx);
                true
            }
        };
        if !ok {
            eprintln!("tau: a stream handed to plugin `{}` panicked; the stream ends here", this.plugin);
        }
        if !ok || matches!(polled, Poll::Ready(None)) {
            this.end();
            return Poll::Ready(None);
        }
        polled
    }

    // Not asked of the caller's stream: that would run its code unguarded.
    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.inner {
            Some(_) => (0, None),
            None => (0, Some(0)),
        }
    }
}

impl<T> crate::stream::FusedStream for Received<T> {
    fn is_terminated(&self) -> bool {
        self.inner.is_none()
    }
}

impl<T> Drop for Received<T> {
    fn drop(&mut self) {
        self.end();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::{self, StreamExt};

    fn panicking() -> BoxStream<'static, u32> {
        stream::iter(0..)
            .map(|number| {
                assert_ne!(number, 1, "a stream that panics");
                number
            })
            .boxed()
    }

    /// Issue 25, item 6: streams deep inside a result are guarded too.
    #[test]
    // The `&` picks the rule, as in the thunks (see `Crossing`).
    #[allow(clippy::needless_borrow)]
    fn streams_inside_other_types_are_guarded() {
        type Nested = Result<Vec<(String, Option<BoxStream<'static, u32>>)>, String>;
        let value: Nested = Ok(vec![("a".to_string(), Some(panicking())), ("b".to_string(), None)]);
        let mut value = (&Crossing::<Nested>::new("test")).cross(value).unwrap();
        let mut guarded = value[0].1.take().unwrap();
        // Polled by hand: these streams need no runtime, and none is started.
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let mut items = Vec::new();
        while let Poll::Ready(Some(item)) = guarded.as_mut().poll_next(&mut cx) {
            items.push(item);
        }
        assert_eq!(items, [0], "the panic ended the stream");
        assert!(value[1].1.is_none());
    }
}
