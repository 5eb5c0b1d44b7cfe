//! A test fixture: a library whose `TAU_PLUGIN` is four bytes of data
//! that begin like tau's magic, too small for a header. Reading a header
//! there would read past the end of the symbol.

/// Too small for a header.
#[unsafe(no_mangle)]
pub static TAU_PLUGIN: [u8; 4] = *b"TAU-";
