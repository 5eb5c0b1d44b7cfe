//! No `Default` and no `fn new() -> Self`: tau cannot build the plugin.

pub struct Greeter {
    greeting: String,
}

#[tau::plugin]
impl Greeter {
    #[tau::export]
    pub fn greet(&self, name: String) -> String {
        format!("{}, {name}", self.greeting)
    }
}

fn main() {}
