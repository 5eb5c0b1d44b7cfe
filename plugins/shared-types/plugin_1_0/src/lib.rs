//! A test fixture: a plugin whose export takes a type of `shared-types`,
//! built against 1.0 (this crate) or 1.1 (`../plugin_1_1`, same source).

include!("body.rs");
