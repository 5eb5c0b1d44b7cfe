//! Cooperative scheduling: a per-poll budget, as `tokio::task::coop`.
//!
//! Every task poll starts with a budget of 128 units. Leaf futures that can
//! be ready again and again (a channel receiver with queued messages, a
//! socket with buffered data) spend one unit per ready result through
//! [`poll_proceed`]; once the budget is spent they return `Pending` and wake
//! the task at once, so it goes to the back of the run queue and the other
//! tasks — other plugins' included — get their turn. On one shared thread
//! this is what keeps a hot `recv()` loop from starving every timer.
//!
//! The budget is kept per plugin library, on the thread that polls: a
//! plugin's task polls start with a full budget in that plugin. Code of
//! another library that a task reaches (a stream a second plugin returned)
//! runs unconstrained, as tokio code outside a runtime does.
//!
//! ```
//! use std::sync::atomic::{AtomicBool, Ordering};
//! use std::sync::Arc;
//!
//! tau::block_on(async {
//!     let ran = Arc::new(AtomicBool::new(false));
//!     let flag = ran.clone();
//!     tau::spawn(async move { flag.store(true, Ordering::SeqCst) });
//!     // More units than one poll has: the loop is made to yield, so the
//!     // other task runs before it ends, although nothing here awaits it.
//!     for _ in 0..1000 {
//!         tau::task::coop::consume_budget().await;
//!     }
//!     assert!(ran.load(Ordering::SeqCst));
//! });
//! ```

use std::cell::Cell;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

/// Units per task poll, as tokio.
const INITIAL: u8 = 128;

/// `None` is unconstrained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Budget(Option<u8>);

thread_local! {
    static BUDGET: Cell<Budget> = const { Cell::new(Budget(None)) };
}

/// Restores the previous budget when dropped.
pub(crate) struct BudgetGuard {
    previous: Budget,
}

impl Drop for BudgetGuard {
    fn drop(&mut self) {
        let _ = BUDGET.try_with(|cell| cell.set(self.previous));
    }
}

fn set(budget: Budget) -> BudgetGuard {
    BudgetGuard { previous: BUDGET.with(|cell| cell.replace(budget)) }
}

/// No budget until the guard drops: for a synchronous check that cannot
/// yield (`JoinSet::try_join_next`), as [`unconstrained`] for a future.
pub(crate) fn suspend() -> BudgetGuard {
    set(Budget(None))
}

/// A full budget for one poll of a task (or of `block_on`'s future).
pub(crate) fn start_poll() -> BudgetGuard {
    set(Budget(Some(INITIAL)))
}

/// Runs `f` as one poll with a full budget, restoring the previous budget
/// afterwards: for executors built on tau's (a `LocalSet`, a `block_on`)
/// that poll futures themselves.
pub fn with_budget<R>(f: impl FnOnce() -> R) -> R {
    let _budget = start_poll();
    f()
}

/// True unless the current poll has spent its budget.
///
/// ```
/// tau::block_on(async {
///     assert!(tau::task::coop::has_budget_remaining());
/// });
/// ```
pub fn has_budget_remaining() -> bool {
    BUDGET.try_with(|cell| cell.get().0 != Some(0)).unwrap_or(true)
}

/// Proof that a unit was taken, from [`poll_proceed`]. Dropped without
/// [`made_progress`](Self::made_progress) it gives the unit back, as the
/// operation did nothing.
#[derive(Debug)]
#[must_use]
pub struct RestoreOnPending {
    taken: Cell<bool>,
    _not_send: PhantomData<*mut ()>,
}

impl RestoreOnPending {
    /// The operation made progress: the unit stays spent.
    pub fn made_progress(&self) {
        self.taken.set(false);
    }
}

impl Drop for RestoreOnPending {
    fn drop(&mut self) {
        if self.taken.get() {
            let _ = BUDGET.try_with(|cell| {
                if let Budget(Some(left)) = cell.get() {
                    cell.set(Budget(Some(left.saturating_add(1))));
                }
            });
        }
    }
}

/// Takes one unit of the budget: `Ready` with a guard if there was one,
/// else wakes the task (so it is polled again after the others) and returns
/// `Pending`. For leaf futures, as `tokio::task::coop::poll_proceed`.
pub fn poll_proceed(cx: &mut Context<'_>) -> Poll<RestoreOnPending> {
    let taken = BUDGET.try_with(|cell| match cell.get() {
        Budget(None) => Some(false),
        Budget(Some(0)) => None,
        Budget(Some(left)) => {
            cell.set(Budget(Some(left - 1)));
            Some(true)
        }
    });
    match taken {
        Ok(None) => {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        Ok(Some(taken)) => Poll::Ready(RestoreOnPending { taken: Cell::new(taken), _not_send: PhantomData }),
        Err(_) => Poll::Ready(RestoreOnPending { taken: Cell::new(false), _not_send: PhantomData }),
    }
}

/// `Ready` if some budget remains, else wakes the task and returns `Pending`,
/// taking nothing.
pub fn poll_budget_available(cx: &mut Context<'_>) -> Poll<()> {
    if has_budget_remaining() {
        Poll::Ready(())
    } else {
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Spends one unit of the budget, yielding first if it is spent, as
/// `tokio::task::coop::consume_budget`. For loops that do work without
/// touching any tau or tokio resource.
pub async fn consume_budget() {
    std::future::poll_fn(|cx| poll_proceed(cx).map(|restore| restore.made_progress())).await
}

pin_project! {
    /// Polls its future with no budget: see [`unconstrained`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Unconstrained<F> {
        #[pin]
        inner: F,
    }
}

impl<F: Future> Future for Unconstrained<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let _unconstrained = suspend();
        self.project().inner.poll(cx)
    }
}

/// Turns off cooperative scheduling for `inner`, as
/// `tokio::task::coop::unconstrained`: it is never made to yield by the
/// budget. On a shared runtime this lets it starve every other task; use it
/// only for short bursts.
pub fn unconstrained<F: Future>(inner: F) -> Unconstrained<F> {
    Unconstrained { inner }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    #[test]
    fn a_poll_has_128_units_and_a_restore_gives_one_back() {
        let mut cx = Context::from_waker(Waker::noop());
        let _poll = start_poll();
        {
            let unused = poll_proceed(&mut cx);
            assert!(matches!(unused, Poll::Ready(_)));
        }
        for _ in 0..INITIAL {
            match poll_proceed(&mut cx) {
                Poll::Ready(restore) => restore.made_progress(),
                Poll::Pending => panic!("budget ran out early"),
            }
        }
        assert!(!has_budget_remaining());
        assert!(poll_proceed(&mut cx).is_pending());
        assert!(poll_budget_available(&mut cx).is_pending());
    }

    #[test]
    fn outside_a_poll_there_is_no_budget_to_spend() {
        let mut cx = Context::from_waker(Waker::noop());
        for _ in 0..1000 {
            let Poll::Ready(restore) = poll_proceed(&mut cx) else { panic!("constrained") };
            restore.made_progress();
        }
        assert!(has_budget_remaining());
    }

    #[test]
    fn unconstrained_lifts_the_budget_and_restores_it() {
        let mut cx = Context::from_waker(Waker::noop());
        let _poll = start_poll();
        let mut inner = std::pin::pin!(unconstrained(std::future::poll_fn(|cx| {
            for _ in 0..1000 {
                let Poll::Ready(restore) = poll_proceed(cx) else { return Poll::Ready(false) };
                restore.made_progress();
            }
            Poll::Ready(true)
        })));
        assert_eq!(inner.as_mut().poll(&mut cx), Poll::Ready(true));
        assert_eq!(BUDGET.with(Cell::get), Budget(Some(INITIAL)));
    }
}
