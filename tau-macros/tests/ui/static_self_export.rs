//! Issue 25, item 4: a `'static` borrow of the instance would let a
//! blocking job read it after unload has freed it.

#[derive(Default)]
pub struct Names {
    name: String,
}

#[tau::plugin]
impl Names {
    #[tau::export]
    pub async fn name_later(&'static self) -> usize {
        tau::task::spawn_blocking(move || self.name.len()).await.unwrap_or(0)
    }
}

fn main() {}
