//! An async export runs as a task that may move between threads, so its
//! future must be `Send`: no `Rc` held across an `.await`.

use std::rc::Rc;
use std::time::Duration;

#[derive(Default)]
pub struct Slow;

#[tau::plugin]
impl Slow {
    #[tau::export]
    pub async fn later(&self) -> u64 {
        let count = Rc::new(1);
        tau::time::sleep(Duration::from_millis(1)).await;
        *count
    }
}

fn main() {}
