//! `#[tau::export]` on a method of an impl that is not `#[tau::plugin]`.

#[derive(Default)]
pub struct Greeter;

impl Greeter {
    #[tau::export]
    pub fn greet(&self, name: String) -> String {
        format!("hello, {name}")
    }
}

fn main() {}
