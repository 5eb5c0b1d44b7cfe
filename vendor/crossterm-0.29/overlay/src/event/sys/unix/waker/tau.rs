//! tau: the waker that interrupts a blocking `try_read` of tau's event
//! source (upstream's is a mio `Waker`). `wake` makes the next or current
//! wait return `Interrupted`, as upstream's does.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

#[derive(Clone, Debug, Default)]
pub(crate) struct Waker {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    woken: AtomicBool,
    task: Mutex<Option<std::task::Waker>>,
}

impl Waker {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Interrupts the source's current or next wait.
    pub(crate) fn wake(&self) -> std::io::Result<()> {
        self.inner.woken.store(true, Ordering::SeqCst);
        let task = self.inner.task.lock().unwrap_or_else(|poison| poison.into_inner()).take();
        if let Some(task) = task {
            task.wake();
        }
        Ok(())
    }

    #[allow(dead_code)]
    pub(crate) fn reset(&self) -> std::io::Result<()> {
        self.inner.woken.store(false, Ordering::SeqCst);
        Ok(())
    }

    /// True once after each `wake`.
    pub(crate) fn take_woken(&self) -> bool {
        self.inner.woken.swap(false, Ordering::SeqCst)
    }

    /// Ready when woken; otherwise registers `cx`'s waker.
    pub(crate) fn poll_woken(&self, cx: &mut Context<'_>) -> Poll<()> {
        *self.inner.task.lock().unwrap_or_else(|poison| poison.into_inner()) = Some(cx.waker().clone());
        if self.inner.woken.load(Ordering::SeqCst) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}
