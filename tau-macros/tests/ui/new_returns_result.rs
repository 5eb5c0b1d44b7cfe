//! `fn new` builds the plugin: it returns `Self`, not a `Result`.

pub struct Greeter;

#[tau::plugin]
impl Greeter {
    pub fn new() -> Result<Self, String> {
        Ok(Greeter)
    }

    #[tau::export]
    pub fn greet(&self, name: String) -> String {
        name
    }
}

fn main() {}
