//! Calling exports: typed argument tuples, and [`PluginCall`], the future
//! of an async (or text) call.

use std::ffi::c_void;
use std::future::Future;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use abi_stable::std_types::RString;
use tau::plugin::abi::{
    CallHandle, CallStatus, TypeIdentity, CALL_CANCELLED, CALL_FAILED, CALL_OK, CALL_PANICKED, CALL_PENDING,
};

use crate::error::CallError;
use crate::library::Library;

/// The arguments of a typed call: a tuple, `()` for none, `(x,)` for one.
///
/// Each element's type must be the export's parameter type exactly (same
/// name, size and alignment as the plugin's compiler sees it).
pub trait Args: Send + 'static {
    /// The identities of the tuple's element types, in order.
    fn identities() -> Vec<TypeIdentity>;
}

macro_rules! tuple_args {
    ($($name:ident),*) => {
        impl<$($name: Send + 'static),*> Args for ($($name,)*) {
            fn identities() -> Vec<TypeIdentity> {
                vec![$(TypeIdentity::of::<$name>()),*]
            }
        }
    };
}

tuple_args!();
tuple_args!(A);
tuple_args!(A, B);
tuple_args!(A, B, C);
tuple_args!(A, B, C, D);
tuple_args!(A, B, C, D, E);
tuple_args!(A, B, C, D, E, F);
tuple_args!(A, B, C, D, E, F, G);
tuple_args!(A, B, C, D, E, F, G, H);

/// Turns a call's status into a result, reading `out` on success (the
/// common case comes first and allocates nothing).
///
/// # Safety
/// On [`CALL_OK`] the callee wrote a `T` into `out`.
#[inline(always)]
pub(crate) unsafe fn finish<T>(
    status: CallStatus,
    out: MaybeUninit<T>,
    error: RString,
    export: &str,
) -> Result<T, CallError> {
    if status == CALL_OK {
        // SAFETY: per the contract.
        return Ok(unsafe { out.assume_init() });
    }
    Err(failure(status, error, export))
}

#[cold]
fn failure(status: CallStatus, error: RString, export: &str) -> CallError {
    let export = export.to_string();
    match status {
        CALL_PANICKED => CallError::Panicked { export, message: error.into_string() },
        CALL_CANCELLED => CallError::Cancelled { export },
        CALL_FAILED => CallError::Failed { export, message: error.into_string() },
        other => CallError::Failed {
            export,
            message: format!("the plugin returned an unknown status {}", other.0),
        },
    }
}

/// A call in flight: await it for the result. Sync exports give a call that
/// is already finished.
///
/// Like a tokio `JoinHandle`, dropping it detaches the call's task (it keeps
/// running); [`abort`](Self::abort) cancels it, and awaiting it then gives
/// [`CallError::Cancelled`]. Unloading the plugin cancels it too. The
/// plugin's library stays mapped until every `PluginCall` of it is dropped.
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use tau_host::CallError;
///
/// let mut host = tau_host::Host::new()?;
/// let id = host.load("plugins/example-plugin")?;
/// let call = host.plugin(id).unwrap().spawn_call::<i64, _>("slow_double", (21i64,))?;
/// assert_eq!(call.export(), "slow_double");
/// call.abort();
/// assert!(matches!(host.block_on(call), Err(CallError::Cancelled { .. })));
/// # Ok(()) }
/// ```
#[must_use = "a PluginCall does nothing unless awaited; drop it to detach the call"]
pub struct PluginCall<R> {
    state: State<R>,
    export: Arc<str>,
}

enum State<R> {
    Ready(Option<Result<R, CallError>>),
    Running {
        handle: CallHandle,
        /// `None`: the handle writes an `R`. `Some`: it writes an `RString`
        /// (a text call), turned into the `R` by this function.
        from_text: Option<fn(String) -> R>,
        _library: Arc<Library>,
    },
    Done,
}

impl<R> Unpin for PluginCall<R> {}

impl<R> PluginCall<R> {
    pub(crate) fn ready(export: &str, result: Result<R, CallError>) -> PluginCall<R> {
        PluginCall { state: State::Ready(Some(result)), export: export.into() }
    }

    /// A call whose handle writes an `R`.
    pub(crate) fn running(export: &str, handle: CallHandle, library: Arc<Library>) -> PluginCall<R> {
        PluginCall {
            state: State::Running { handle, from_text: None, _library: library },
            export: export.into(),
        }
    }

    /// A text call, whose handle writes an `RString`.
    pub(crate) fn running_text(
        export: &str,
        handle: CallHandle,
        library: Arc<Library>,
        from_text: fn(String) -> R,
    ) -> PluginCall<R> {
        PluginCall {
            state: State::Running { handle, from_text: Some(from_text), _library: library },
            export: export.into(),
        }
    }

    /// Aborts the call's task, with tokio's semantics: a task not running is
    /// dropped at once, a running one after its current poll; a finished
    /// call keeps its result.
    pub fn abort(&self) {
        if let State::Running { handle, .. } = &self.state {
            // SAFETY: the handle is live (released only in Drop).
            unsafe { (handle.vtable.abort)(handle.task) }
        }
    }

    /// True once the call has finished (returned, panicked or been cancelled).
    pub fn is_finished(&self) -> bool {
        match &self.state {
            // SAFETY: the handle is live.
            State::Running { handle, .. } => unsafe { (handle.vtable.is_finished)(handle.task) },
            State::Ready(_) | State::Done => true,
        }
    }

    /// The export this call runs.
    pub fn export(&self) -> &str {
        &self.export
    }
}

impl<R> Future for PluginCall<R> {
    type Output = Result<R, CallError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let result = match &mut this.state {
            State::Ready(result) => result.take().expect("PluginCall polled after it returned"),
            State::Done => panic!("PluginCall polled after it returned"),
            State::Running { handle, from_text: None, .. } => {
                // SAFETY: the handle was made for a result of type R (checked when the call was made).
                match unsafe { poll_handle::<R>(handle, cx, &this.export) } {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(result) => result,
                }
            }
            State::Running { handle, from_text: Some(from_text), .. } => {
                // SAFETY: text calls' handles write an RString.
                match unsafe { poll_handle::<RString>(handle, cx, &this.export) } {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(result) => result.map(|text| from_text(text.into_string())),
                }
            }
        };
        if let State::Running { handle, _library, .. } = std::mem::replace(&mut this.state, State::Done) {
            // SAFETY: released exactly once, while `_library` keeps the code mapped.
            unsafe { (handle.vtable.drop)(handle.task) }
        }
        Poll::Ready(result)
    }
}

/// Polls a call handle whose result is a `T`.
///
/// # Safety
/// `handle` is live and writes a `T` on success.
unsafe fn poll_handle<T>(
    handle: &CallHandle,
    cx: &mut Context<'_>,
    export: &str,
) -> Poll<Result<T, CallError>> {
    let waker = tau::io::make_ffi_waker(cx);
    let mut out = MaybeUninit::<T>::uninit();
    let mut error = RString::new();
    // SAFETY: the handle is live; `waker` is borrowed for the call; `out`
    // has room for a T (the contract).
    let status = unsafe {
        (handle.vtable.poll)(
            handle.task,
            &waker as *const _ as *const c_void,
            out.as_mut_ptr() as *mut c_void,
            &mut error,
        )
    };
    if status == CALL_PENDING {
        return Poll::Pending;
    }
    // SAFETY: on CALL_OK the handle wrote a T.
    Poll::Ready(unsafe { finish(status, out, error, export) })
}

impl<R> Drop for PluginCall<R> {
    fn drop(&mut self) {
        if let State::Running { handle, .. } = &self.state {
            // SAFETY: released exactly once; the library is still mapped
            // (`_library` is dropped after this).
            unsafe { (handle.vtable.drop)(handle.task) }
        }
    }
}

impl<R> std::fmt::Debug for PluginCall<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginCall")
            .field("export", &self.export)
            .field("finished", &self.is_finished())
            .finish()
    }
}
