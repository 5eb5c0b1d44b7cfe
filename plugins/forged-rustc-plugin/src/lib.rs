//! A test fixture: a descriptor that claims another compiler (rustc 1.93.0).

include!("../../forged-common/forge.rs");

forged_plugin! {
    name: "forged-rustc-plugin",
    abi_version: tau::plugin::abi::PLUGIN_ABI_VERSION,
    rustc_version: "rustc 1.93.0 (254b59607 2026-01-19)",
}
