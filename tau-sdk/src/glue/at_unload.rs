//! Work a library's own code asks to run when its plugin is unloaded: put
//! back what it changed outside itself (crossterm's raw mode: the terminal
//! belongs to the process, not to the plugin).
//!
//! The hooks live in the plugin library's copy of tau-sdk, so each plugin
//! runs only its own. They run once, in the order registered, after the
//! plugin's `on_unload` and the drop of its instance, while the host's
//! table is still installed; a panicking hook is caught and the others
//! still run.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex;

static HOOKS: Mutex<Vec<Box<dyn FnOnce() + Send>>> = Mutex::new(Vec::new());

/// Registers `hook` to run when this library's plugin is unloaded. Outside
/// a plugin (a plain program, a plugin's own tests) it never runs.
pub fn at_unload(hook: impl FnOnce() + Send + 'static) {
    HOOKS.lock().unwrap_or_else(|poison| poison.into_inner()).push(Box::new(hook));
}

/// Runs and forgets the registered hooks (the descriptor's `destroy`).
pub(crate) fn run_hooks() {
    let hooks = std::mem::take(&mut *HOOKS.lock().unwrap_or_else(|poison| poison.into_inner()));
    for hook in hooks {
        let _ = catch_unwind(AssertUnwindSafe(hook));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[test]
    fn hooks_run_once_in_order_past_a_panic() {
        let order = Arc::new(Mutex::new(Vec::new()));
        let count = Arc::new(AtomicUsize::new(0));
        for n in 0..3 {
            let (order, count) = (Arc::clone(&order), Arc::clone(&count));
            at_unload(move || {
                count.fetch_add(1, Ordering::SeqCst);
                order.lock().unwrap().push(n);
                assert_ne!(n, 1, "a hook that panics");
            });
        }
        run_hooks();
        run_hooks();
        assert_eq!(count.load(Ordering::SeqCst), 3);
        assert_eq!(*order.lock().unwrap(), [0, 1, 2]);
    }
}
