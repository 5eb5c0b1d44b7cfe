//! A test fixture: the plugin of `../plugin_1_0`, built against
//! `shared-types` 1.1.

include!("../../plugin_1_0/src/body.rs");
