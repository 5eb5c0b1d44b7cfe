//! A second source file, for the test that deletes one.

pub fn word() -> &'static str {
    "extra"
}
