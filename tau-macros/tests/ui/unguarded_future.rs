//! Issue 25, item 6: a future or a closure an export returns cannot be
//! guarded (a panic in it would abort the host, and leaves no value): refused.

use std::future::Future;
use std::pin::Pin;

#[derive(Default)]
pub struct Later;

#[tau::plugin]
impl Later {
    #[tau::export]
    pub fn later(&self) -> Pin<Box<dyn Future<Output = u32> + Send>> {
        Box::pin(async { 1 })
    }

    #[tau::export]
    pub fn callback(&self) -> Box<dyn Fn() -> u32 + Send + Sync> {
        Box::new(|| 1)
    }
}

fn main() {}
