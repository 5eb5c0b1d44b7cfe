//! A plugin that fails on demand, for the host's bad-input tests.
//! `TAU_FAULT` (read when the plugin is built into an instance) picks the
//! failure: `new` (the constructor panics), `on_load` (it panics),
//! `on_load_error` (it returns an error), `on_unload` (it panics).

use std::sync::atomic::{AtomicU64, Ordering};

fn fault() -> String {
    std::env::var("TAU_FAULT").unwrap_or_default()
}

/// Counts successful calls.
pub struct Fault {
    calls: AtomicU64,
}

#[tau::plugin]
impl Fault {
    fn new() -> Self {
        if fault() == "new" {
            panic!("the constructor exploded");
        }
        Fault { calls: AtomicU64::new(0) }
    }

    fn on_load(&self) -> Result<(), String> {
        match fault().as_str() {
            "on_load" => panic!("on_load exploded"),
            "on_load_error" => Err("the configuration is missing".to_string()),
            _ => Ok(()),
        }
    }

    fn on_unload(&self) {
        if fault() == "on_unload" {
            panic!("on_unload exploded");
        }
    }

    /// Panics with `message`.
    #[tau::export]
    pub fn boom(&self, message: String) -> u64 {
        panic!("{message}");
    }

    /// Panics inside a task.
    #[tau::export]
    pub async fn boom_async(&self) -> u64 {
        tau::task::yield_now().await;
        panic!("async boom");
    }

    /// Counts calls that worked.
    #[tau::export]
    pub fn ok(&self) -> u64 {
        self.calls.fetch_add(1, Ordering::Relaxed) + 1
    }
}
