//! Issue 25, item 6: a closure tau cannot guard (a panic in it would abort
//! the host) is refused when an export returns it.

use std::sync::Arc;

#[derive(Default)]
pub struct Later;

#[tau::plugin]
impl Later {
    #[tau::export]
    pub fn callback(&self) -> Arc<dyn Fn() -> u32 + Send + Sync> {
        Arc::new(|| 1)
    }
}

fn main() {}
