//! A test fixture: a header that claims another compiler (rustc 1.93.0),
//! and a descriptor layout that is not the host's either: the host must
//! refuse it for the compiler, from the header's inline data, before the
//! layout check (which calls into the library) runs.

include!("../../forged-common/forge.rs");

forged_plugin! {
    name: "forged-rustc-plugin",
    abi_version: tau::plugin::abi::PLUGIN_ABI_VERSION,
    rustc_version: "rustc 1.93.0 (254b59607 2026-01-19)",
    layout: <u64 as tau::__private::abi_stable::StableAbi>::LAYOUT,
}
