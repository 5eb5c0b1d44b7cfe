//! Exports take `&self`: calls may run concurrently.

#[derive(Default)]
pub struct Counter {
    count: u64,
}

#[tau::plugin]
impl Counter {
    #[tau::export]
    pub fn bump(&mut self) -> u64 {
        self.count += 1;
        self.count
    }
}

fn main() {}
