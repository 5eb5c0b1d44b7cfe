//! A borrowed parameter cannot cross the plugin boundary.

#[derive(Default)]
pub struct Greeter;

#[tau::plugin]
impl Greeter {
    #[tau::export]
    pub fn greet(&self, name: &str) -> String {
        format!("hello, {name}")
    }
}

fn main() {}
