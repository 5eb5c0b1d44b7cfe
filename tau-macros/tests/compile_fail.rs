//! Compile-fail tests for `#[tau::plugin]` and `#[tau::export]`: each file in
//! `tests/ui` must fail to compile with exactly the committed `.stderr`.
//!
//! After a deliberate change to a message, regenerate the expectations with
//! `TRYBUILD=overwrite cargo test -p tau-macros --test compile_fail` and read
//! the diff: every message must say what is wrong, point at the offending
//! tokens and say what to write instead.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
