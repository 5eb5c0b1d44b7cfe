//! `#[tau::plugin]` and `#[tau::export]`: parse → validate → expand.

pub(crate) mod expand;
pub(crate) mod parse;
pub(crate) mod validate;

#[cfg(test)]
mod snapshot_tests;
