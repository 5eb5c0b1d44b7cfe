//! `Rc` is not `Send`: calls may come from another thread.

use std::rc::Rc;

#[derive(Default)]
pub struct Greeter;

#[tau::plugin]
impl Greeter {
    #[tau::export]
    pub fn greet(&self, name: std::rc::Rc<String>) -> String {
        format!("hello, {name}")
    }

    #[tau::export]
    pub fn name(&self) -> Rc<String> {
        Rc::new("tau".to_string())
    }
}

fn main() {}
