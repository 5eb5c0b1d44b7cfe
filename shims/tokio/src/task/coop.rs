//! Cooperative scheduling, as `tokio::task::coop`: tau's budget, the one
//! upstream's channels and io-util spend too (see the crate docs).

pub use tau::task::coop::{
    consume_budget, has_budget_remaining, poll_proceed, unconstrained, RestoreOnPending, Unconstrained,
};

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

pin_project_lite::pin_project! {
    /// A future that spends a unit of the budget when ready, as tokio's.
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct Coop<F> {
        #[pin]
        inner: F,
    }
}

impl<F: Future> Future for Coop<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let restore = ready!(poll_proceed(cx));
        let polled = self.project().inner.poll(cx);
        if polled.is_ready() {
            restore.made_progress();
        }
        polled
    }
}

/// Makes `inner` take part in cooperative scheduling, as tokio's.
pub fn cooperative<F: Future>(inner: F) -> Coop<F> {
    Coop { inner }
}
