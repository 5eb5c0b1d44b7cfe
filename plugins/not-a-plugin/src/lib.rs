//! A shared library that is not a tau plugin: it has no `TAU_PLUGIN`.

/// Something to export.
#[unsafe(no_mangle)]
pub extern "C" fn not_a_plugin_add(a: i32, b: i32) -> i32 {
    a + b
}
