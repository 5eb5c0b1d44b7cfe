//! A library is one plugin: a second `#[tau::plugin]` impl in the crate.

#[derive(Default)]
pub struct Greeter;

#[tau::plugin]
impl Greeter {
    #[tau::export]
    pub fn greet(&self, name: String) -> String {
        format!("hello, {name}")
    }
}

#[derive(Default)]
pub struct Adder;

#[tau::plugin]
impl Adder {
    #[tau::export]
    pub fn add(&self, a: i64, b: i64) -> i64 {
        a + b
    }
}

fn main() {}
