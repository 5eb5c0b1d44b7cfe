// Shared by the forged test fixtures (`include!`d): a hand-written header
// and descriptor whose fields the including crate chooses. The host must
// refuse it before running any of its code: `create` records that it ran
// in the file named by `TAU_FORGED_MARKER`.
macro_rules! forged_plugin {
    (name: $name:expr, abi_version: $abi_version:expr, rustc_version: $rustc_version:expr $(, sdk_source_hash: $hash:expr)? $(, layout: $layout:expr)? $(,)?) => {
        use std::ffi::c_void;

        use tau::__private::abi_stable::std_types::{RSlice, RStr, RString};
        use tau::plugin::abi::{FixedStr, PluginDescriptor, PluginHeader};

        unsafe extern "C" fn create(_table: *const c_void, _error: *mut RString) -> *mut c_void {
            if let Some(marker) = std::env::var_os("TAU_FORGED_MARKER") {
                let _ = std::fs::write(marker, "create ran");
            }
            std::ptr::null_mut()
        }

        unsafe extern "C" fn destroy(_instance: *mut c_void, _error: *mut RString) -> tau::plugin::abi::CallStatus {
            tau::plugin::abi::CALL_OK
        }

        static DESCRIPTOR: PluginDescriptor = PluginDescriptor {
            name: RStr::from_str($name),
            version: RStr::from_str("0.1.0"),
            type_name: RStr::from_str("Forged"),
            create,
            destroy,
            exports: RSlice::from_slice(&[]),
        };

        /// The forged header.
        #[unsafe(no_mangle)]
        pub static TAU_PLUGIN: PluginHeader = {
            #[allow(unused_mut)]
            let mut header = tau::__private::ffi::header(&DESCRIPTOR, &tau::__private::ALLOCATOR, true);
            header.abi_version = $abi_version;
            header.rustc_version = FixedStr::new($rustc_version);
            $(header.sdk_source_hash = FixedStr::new($hash);)?
            $(header.layout = $layout;)?
            header
        };
    };
}
