//! Issue 25, item 6: a stream next to a type tau cannot look into would
//! cross unguarded (a panic in it would abort the host): refused.

use tau::stream::{self, BoxStream, StreamExt};

pub struct Refused(pub String);

#[derive(Default)]
pub struct Numbers;

#[tau::plugin]
impl Numbers {
    #[tau::export]
    pub fn numbers(&self) -> Result<BoxStream<'static, u32>, Refused> {
        Ok(stream::iter(0..3).boxed())
    }
}

fn main() {}
