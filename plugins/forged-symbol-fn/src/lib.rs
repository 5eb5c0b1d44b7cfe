//! A test fixture: a library whose `TAU_PLUGIN` is a function, not a
//! header. Reading its bytes as a header would read machine code.

/// Not a header.
#[unsafe(no_mangle)]
pub extern "C" fn TAU_PLUGIN() -> u32 {
    7
}
