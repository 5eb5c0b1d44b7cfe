//! `#[tau::main]` and `#[tau::test]`: parse → validate → expand.

pub(crate) mod expand;
pub(crate) mod parse;
pub(crate) mod validate;
