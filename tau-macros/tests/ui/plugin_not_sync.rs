//! A `Cell` makes the plugin type not `Sync`; calls share the instance.

use std::cell::Cell;

#[derive(Default)]
pub struct Counter {
    count: Cell<u64>,
}

#[tau::plugin]
impl Counter {
    #[tau::export]
    pub fn bump(&self) -> u64 {
        self.count.set(self.count.get() + 1);
        self.count.get()
    }
}

fn main() {}
