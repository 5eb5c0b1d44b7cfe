//! The build cache tests' plugin. The tests copy it to temporary
//! directories and edit the copies: `answer` is the number the tests
//! rewrite, `extra` lives in a second file the tests delete.

mod extra;

/// No state.
#[derive(Default)]
pub struct CacheTest;

#[tau::plugin]
impl CacheTest {
    /// The number this build answers with.
    #[tau::export]
    pub fn answer(&self) -> i64 {
        1
    }

    /// A word from the second source file.
    #[tau::export]
    pub fn extra(&self) -> String {
        extra::word().to_string()
    }
}
