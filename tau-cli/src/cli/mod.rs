//! The `tau` command's parts.

pub(crate) mod cache;
pub(crate) mod scaffold;
pub(crate) mod session;
pub(crate) mod words;
