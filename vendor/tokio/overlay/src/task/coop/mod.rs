//! tau overlay of `tokio::task::coop` (upstream file: src/task/coop/mod.rs).
//!
//! Upstream keeps the cooperative budget in its own runtime context, which
//! is unconstrained when no tokio runtime runs the thread: on tau's one
//! shared thread a hot `recv()` or `io::copy` loop would then never yield
//! and would starve every other plugin. Here the budget is tau's
//! (`tau::task::coop`): tau's task poll starts it, and upstream's channels,
//! semaphores and io-util spend it through the same crate-internal names.

#![cfg_attr(not(feature = "full"), allow(dead_code))]
#![cfg_attr(not(feature = "rt"), allow(unreachable_pub))]

use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

#[allow(unused_imports)]
pub use tau::task::coop::{
    consume_budget, has_budget_remaining, poll_proceed, unconstrained, RestoreOnPending,
    Unconstrained,
};

/// Kept for `runtime::context`'s cell, which tau never reads.
#[derive(Debug, Copy, Clone)]
pub(crate) struct Budget(Option<u8>);

impl Budget {
    pub(crate) const fn unconstrained() -> Budget {
        Budget(None)
    }
}

/// Runs `f` with a full budget (upstream's `block_on` polls through it).
#[inline]
pub(crate) fn budget<R>(f: impl FnOnce() -> R) -> R {
    tau::task::coop::with_budget(f)
}

#[inline]
pub(crate) fn poll_budget_available(cx: &mut Context<'_>) -> Poll<()> {
    tau::task::coop::poll_budget_available(cx)
}

pin_project! {
    /// A future that spends one unit of the budget per ready poll.
    #[must_use = "futures do nothing unless polled"]
    #[derive(Debug)]
    pub struct Coop<F: Future> {
        #[pin]
        pub(crate) fut: F,
    }
}

impl<F: Future> Future for Coop<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let coop = ready!(poll_proceed(cx));
        let me = self.project();
        if let Poll::Ready(ret) = me.fut.poll(cx) {
            coop.made_progress();
            Poll::Ready(ret)
        } else {
            Poll::Pending
        }
    }
}

/// Makes `fut` spend the budget.
#[inline]
pub fn cooperative<F: Future>(fut: F) -> Coop<F> {
    Coop { fut }
}
