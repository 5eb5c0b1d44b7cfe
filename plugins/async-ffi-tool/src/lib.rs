//! The call benchmark's tool behind `async-ffi`: the design where each
//! library exports `extern "C"` functions returning an `FfiFuture`, and the
//! host polls it on its own executor. Strings cross as a `ToolText`
//! (pointer, length, capacity) that the host frees through `tool_free`.

use async_ffi::{FfiFuture, FutureExt};

#[path = "../../../tau-host/benches/common/tool.rs"]
mod tool;

/// A string handed across the C ABI; freed by [`tool_free`].
#[repr(C)]
pub struct ToolText {
    pub ptr: *mut u8,
    pub len: usize,
    pub cap: usize,
}

// SAFETY: the text is an owned buffer, moved with the value.
unsafe impl Send for ToolText {}

impl ToolText {
    fn new(text: String) -> ToolText {
        let mut text = std::mem::ManuallyDrop::new(text.into_bytes());
        ToolText { ptr: text.as_mut_ptr(), len: text.len(), cap: text.capacity() }
    }
}

/// One tool call: `len` bytes of JSON at `request` in, JSON out.
///
/// # Safety
/// `request` points to `len` bytes of UTF-8 that stay valid until the call
/// returns (the future does not keep them).
#[no_mangle]
pub unsafe extern "C" fn tool_call(request: *const u8, len: usize) -> FfiFuture<ToolText> {
    // SAFETY: the caller's contract above.
    let request =
        unsafe { std::str::from_utf8_unchecked(std::slice::from_raw_parts(request, len)) }.to_owned();
    async move { ToolText::new(tool::tool(&request)) }.into_ffi()
}

/// Frees a [`ToolText`] this library made.
///
/// # Safety
/// `text` came from a `tool_call` of this library and is freed once.
#[no_mangle]
pub unsafe extern "C" fn tool_free(text: ToolText) {
    // SAFETY: the parts of a `Vec<u8>` this library leaked in `ToolText::new`.
    drop(unsafe { Vec::from_raw_parts(text.ptr, text.len, text.cap) });
}
