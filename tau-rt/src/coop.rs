//! What the driver knows of the poll in progress: whose task it is, and how
//! much more the task may take from ready timers and IO before it must
//! yield (tokio's cooperative budget, `coop`).
//!
//! The budget keeps one task from holding the thread forever by looping on
//! resources that are always ready: `loop { sleep(ZERO).await }`, a socket
//! that always has data, or a timer of a plugin that is gone. Each poll of
//! a timer or an IO readiness through the table that ends the wait spends
//! one unit; once the task's units are spent, such polls answer "pending"
//! and wake the task, so it returns to the executor, which polls it again
//! after the others and after the work queued for the driver (a revoke, an
//! abort). Outside of a task's poll (the future of `block_on`, work run
//! between polls) nothing is counted.

use std::cell::Cell;

use crate::scope::{Scope, ScopePtr};

/// Waits a task may end in one poll before it must yield: tokio's figure.
pub(crate) const BUDGET: u16 = 128;

/// The task being polled on the driver thread, if any. Driver state.
#[derive(Default)]
pub(crate) struct CurrentPoll {
    /// The scope the task was spawned through.
    scope: Cell<Option<ScopePtr>>,
    /// Units left; `None` outside of a task's poll (unconstrained).
    budget: Cell<Option<u16>>,
}

impl CurrentPoll {
    /// A task of `scope` is about to be polled, with a fresh budget.
    pub(crate) fn enter(&self, scope: ScopePtr) {
        self.scope.set(Some(scope));
        self.budget.set(Some(BUDGET));
    }

    /// The task's poll returned.
    pub(crate) fn exit(&self) {
        self.scope.set(None);
        self.budget.set(None);
    }

    /// True if the poll in progress is of a task spawned through `scope`.
    pub(crate) fn is_task_of(&self, scope: &Scope) -> bool {
        self.scope.get() == Some(ScopePtr::of(scope))
    }

    /// True if the task in progress has spent its budget.
    pub(crate) fn is_exhausted(&self) -> bool {
        self.budget.get() == Some(0)
    }

    /// A wait of the task in progress ended: one unit spent.
    pub(crate) fn spend(&self) {
        if let Some(left) = self.budget.get() {
            self.budget.set(Some(left.saturating_sub(1)));
        }
    }
}
