//! The example plugin: a greeter with sync and async exports.
//!
//! ```sh
//! cargo run -p tau-cli -- call plugins/example-plugin greet world
//! echo 'slow_double 21' | cargo run -p tau-cli -- run plugins/example-plugin
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tau::sync::oneshot;

/// Instances made from this copy of the library (a `static`: every load
/// gets a fresh copy, so this is 1 in each).
static LOADS: AtomicU64 = AtomicU64::new(0);

/// Counts the greetings it gave.
#[derive(Default)]
pub struct Greeter {
    calls: AtomicU64,
}

#[tau::plugin]
impl Greeter {
    fn on_load(&self) {
        LOADS.fetch_add(1, Ordering::SeqCst);
    }

    /// Says hello to `name`.
    #[tau::export]
    pub fn greet(&self, name: String) -> String {
        self.calls.fetch_add(1, Ordering::Relaxed);
        format!("hello, {name}")
    }

    /// How many greetings so far.
    #[tau::export]
    pub fn greetings(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Adds two numbers.
    #[tau::export]
    pub fn add(&self, a: i64, b: i64) -> i64 {
        a + b
    }

    /// Divides `a` by `b`; dividing by zero is an error.
    #[tau::export]
    pub fn divide(&self, a: i64, b: i64) -> Result<i64, String> {
        a.checked_div(b).ok_or_else(|| format!("cannot divide {a} by {b}"))
    }

    /// Doubles `x` after sleeping 20 ms on the shared runtime.
    #[tau::export]
    pub async fn slow_double(&self, x: i64) -> i64 {
        tau::time::sleep(Duration::from_millis(20)).await;
        x * 2
    }

    /// Doubles x (async, without waiting).
    #[tau::export]
    pub async fn double(&self, x: i64) -> i64 {
        x * 2
    }

    /// How many instances this copy of the library has made (its statics are its own).
    #[tau::export]
    pub fn loads(&self) -> u64 {
        LOADS.load(Ordering::SeqCst)
    }

    /// Drives the shared runtime from the calling thread until `done` is
    /// sent (or dropped), through this plugin's own `Handle::block_on` (as a
    /// plugin's blocking code may). Gives up after `limit_ms`; says whether
    /// `done` came first.
    #[tau::export]
    pub fn drive_until(&self, done: oneshot::Receiver<()>, limit_ms: u64) -> bool {
        let limit = Duration::from_millis(limit_ms);
        tau::runtime::Handle::current().block_on(tau::time::timeout(limit, done)).is_ok()
    }

    /// Starts a task of this plugin that ticks every 10 ms, forever.
    #[tau::export]
    pub fn tick_forever(&self) -> String {
        tau::spawn(async {
            let mut ticks = tau::time::interval(Duration::from_millis(10));
            loop {
                ticks.tick().await;
            }
        });
        "ticking".to_string()
    }

    /// Allocation-heavy work, for the allocator benchmark: `n` keys and
    /// values made, kept in a map, then freed; returns their total length.
    #[tau::export]
    pub fn churn(&self, n: u64) -> u64 {
        churn(n)
    }

    /// Starts a task of this plugin that prints a line after `ms`.
    #[tau::export]
    pub fn wake_later(&self, ms: u64) -> String {
        tau::spawn(async move {
            tau::time::sleep(Duration::from_millis(ms)).await;
            println!("woke after {ms} ms");
        });
        "sleeping".to_string()
    }

    /// Sends `value` on `reply` after `delay_ms`, from a task of this plugin.
    #[tau::export]
    pub fn send_later(&self, reply: oneshot::Sender<i64>, value: i64, delay_ms: u64) {
        tau::spawn(async move {
            tau::time::sleep(Duration::from_millis(delay_ms)).await;
            // The receiver may be gone; then nobody wants the value.
            let _ = reply.send(value);
        });
    }
}

/// The body of `churn`; `tau-host`'s plugin benchmark has a copy.
pub fn churn(n: u64) -> u64 {
    let mut map = std::collections::BTreeMap::new();
    for i in 0..n {
        map.insert(format!("key-{i}"), vec![i; 4]);
    }
    map.iter().map(|(key, value)| (key.len() + value.len()) as u64).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greets_and_counts() {
        let greeter = Greeter::default();
        assert_eq!(greeter.greet("tau".into()), "hello, tau");
        assert_eq!(greeter.greetings(), 1);
    }

    #[tau::test]
    async fn doubles_slowly() {
        assert_eq!(Greeter::default().slow_double(21).await, 42);
    }
}
