//! A test fixture: a descriptor that claims a descriptor ABI version (999)
//! that no host speaks.

include!("../../forged-common/forge.rs");

forged_plugin! {
    name: "forged-abi-plugin",
    abi_version: 999,
    rustc_version: tau::plugin::RUSTC_VERSION,
}
