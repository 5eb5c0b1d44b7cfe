//! Unix signals, as `tokio::signal::unix`.

use std::future::poll_fn;
use std::io;
use std::task::{Context, Poll};

use tau_rt::abi::{ERR_GONE, POLL_PENDING, POLL_READY};

use crate::context::{self, TableRef};
use crate::ffi_waker;

/// A kind of signal, as `tokio::signal::unix::SignalKind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SignalKind(libc::c_int);

impl SignalKind {
    /// A signal by number.
    pub const fn from_raw(signal: libc::c_int) -> SignalKind {
        SignalKind(signal)
    }

    /// The signal's number.
    pub const fn as_raw_value(&self) -> libc::c_int {
        self.0
    }

    /// `SIGALRM`.
    pub const fn alarm() -> SignalKind {
        SignalKind(libc::SIGALRM)
    }

    /// `SIGCHLD`.
    pub const fn child() -> SignalKind {
        SignalKind(libc::SIGCHLD)
    }

    /// `SIGHUP`.
    pub const fn hangup() -> SignalKind {
        SignalKind(libc::SIGHUP)
    }

    /// `SIGINT`.
    pub const fn interrupt() -> SignalKind {
        SignalKind(libc::SIGINT)
    }

    /// `SIGIO`.
    pub const fn io() -> SignalKind {
        SignalKind(libc::SIGIO)
    }

    /// `SIGPIPE`.
    pub const fn pipe() -> SignalKind {
        SignalKind(libc::SIGPIPE)
    }

    /// `SIGQUIT`.
    pub const fn quit() -> SignalKind {
        SignalKind(libc::SIGQUIT)
    }

    /// `SIGTERM`.
    pub const fn terminate() -> SignalKind {
        SignalKind(libc::SIGTERM)
    }

    /// `SIGUSR1`.
    pub const fn user_defined1() -> SignalKind {
        SignalKind(libc::SIGUSR1)
    }

    /// `SIGUSR2`.
    pub const fn user_defined2() -> SignalKind {
        SignalKind(libc::SIGUSR2)
    }

    /// `SIGWINCH`.
    pub const fn window_change() -> SignalKind {
        SignalKind(libc::SIGWINCH)
    }
}

impl From<libc::c_int> for SignalKind {
    fn from(signal: libc::c_int) -> SignalKind {
        SignalKind(signal)
    }
}

impl From<SignalKind> for libc::c_int {
    fn from(kind: SignalKind) -> libc::c_int {
        kind.0
    }
}

/// A stream of deliveries of one signal, as `tokio::signal::unix::Signal`:
/// deliveries between two receives coalesce into one, as in tokio.
///
/// ```
/// use tau::signal::unix::{signal, SignalKind};
///
/// tau::block_on(async {
///     let mut hangups = signal(SignalKind::user_defined1()).unwrap();
///     // SAFETY: raising a signal this process handles.
///     unsafe { libc::raise(libc::SIGUSR1) };
///     assert_eq!(hangups.recv().await, Some(()));
/// });
/// ```
pub struct Signal {
    key: u64,
    table: TableRef,
}

impl std::fmt::Debug for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signal").field("key", &self.key).finish_non_exhaustive()
    }
}

/// Subscribes to `kind`, as `tokio::signal::unix::signal`.
///
/// The first subscription to a signal in the process installs the host's
/// handler for it, replacing the default action (as tokio) and chaining to a
/// handler the host had installed; unlike tokio, the action before it is put
/// back once no subscription is left and the plugin that subscribed is
/// unloaded (or, for the host's own code, its runtime dropped).
///
/// # Errors
/// For a signal that cannot be handled (`SIGKILL`, `SIGSTOP`, `SIGSEGV`,
/// `SIGILL`, `SIGFPE`, a number past the last signal), as tokio: "Refusing
/// to register signal N"; once the plugin's runtime is gone.
///
/// # Panics
/// Outside of any runtime, and for a negative signal number, as tokio.
#[track_caller]
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    assert!(kind.0 >= 0, "invalid signal number {}: signal numbers are positive", kind.0);
    let Some(table) = context::try_current() else {
        panic!("there is no signal driver running, must be called from the context of a Tokio 1.x runtime");
    };
    match table.signal_subscribe(kind.0) {
        Ok(key) => Ok(Signal { key, table }),
        Err(ERR_GONE) => {
            Err(io::Error::other("the runtime is gone: the plugin that made this value was unloaded"))
        }
        Err(libc::EINVAL) => Err(io::Error::other(format!("Refusing to register signal {}", kind.0))),
        Err(errno) => Err(io::Error::from_raw_os_error(errno)),
    }
}

impl Signal {
    /// Waits for the next delivery. `None` only if the subscription is gone.
    pub async fn recv(&mut self) -> Option<()> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next delivery.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        let status = ffi_waker::with_ffi_waker(cx.waker(), |waker| self.table.signal_poll(self.key, waker));
        match status {
            POLL_READY => Poll::Ready(Some(())),
            POLL_PENDING => Poll::Pending,
            _ => Poll::Ready(None),
        }
    }
}

impl Drop for Signal {
    fn drop(&mut self) {
        // The key is ours, given back once.
        self.table.signal_unsubscribe(self.key)
    }
}
