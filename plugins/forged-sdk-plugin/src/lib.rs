//! A test fixture: a header whose tau-sdk has the host's version but other
//! sources (another checkout of tau-sdk 0.1.0). The host must refuse it
//! from the header's inline data, before any of its code runs.

include!("../../forged-common/forge.rs");

forged_plugin! {
    name: "forged-sdk-plugin",
    abi_version: tau::plugin::abi::PLUGIN_ABI_VERSION,
    rustc_version: tau::plugin::RUSTC_VERSION,
    sdk_source_hash: "0123456789abcdef",
}
