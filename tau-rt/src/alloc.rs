//! The allocator of the program this copy of tau-rt is linked into, as C-ABI
//! functions, so that plugins allocate with the host's allocator.
//!
//! In a host these functions reach the host's `#[global_allocator]` (through
//! `std::alloc`); the runtime table carries them, and a plugin's generated
//! global allocator forwards every allocation to them. A `String` made in a
//! plugin can then be freed by the host, or the reverse, whatever allocator
//! the host chose.

use std::alloc::Layout;

use crate::abi::AllocatorTable;

/// This program's global allocator as an [`AllocatorTable`].
pub static GLOBAL_ALLOCATOR: AllocatorTable = AllocatorTable { alloc, alloc_zeroed, dealloc, realloc };

// SAFETY (all four): the caller upholds `GlobalAlloc`'s contract for the
// size and alignment it passes (a valid layout, the same one for a block's
// whole life), as the `AllocatorTable` documentation requires.

unsafe extern "C" fn alloc(size: usize, align: usize) -> *mut u8 {
    // SAFETY: see above.
    unsafe { std::alloc::alloc(Layout::from_size_align_unchecked(size, align)) }
}

unsafe extern "C" fn alloc_zeroed(size: usize, align: usize) -> *mut u8 {
    // SAFETY: see above.
    unsafe { std::alloc::alloc_zeroed(Layout::from_size_align_unchecked(size, align)) }
}

unsafe extern "C" fn dealloc(ptr: *mut u8, size: usize, align: usize) {
    // SAFETY: see above.
    unsafe { std::alloc::dealloc(ptr, Layout::from_size_align_unchecked(size, align)) }
}

unsafe extern "C" fn realloc(ptr: *mut u8, size: usize, align: usize, new_size: usize) -> *mut u8 {
    // SAFETY: see above.
    unsafe { std::alloc::realloc(ptr, Layout::from_size_align_unchecked(size, align), new_size) }
}
