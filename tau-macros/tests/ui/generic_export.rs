//! An export is one concrete entry point: no type parameters.

#[derive(Default)]
pub struct Echo;

#[tau::plugin]
impl Echo {
    #[tau::export]
    pub fn echo<T>(&self, value: T) -> T {
        value
    }
}

fn main() {}
