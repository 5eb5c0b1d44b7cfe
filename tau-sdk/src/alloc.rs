//! Allocating with the host's allocator.
//!
//! `#[tau::plugin]` makes [`ForwardingAllocator`] the plugin library's
//! `#[global_allocator]`. It sends every allocation to the allocator the
//! host installed in the plugin's [`AllocatorSlot`] (the header points the
//! host to it), so memory crosses the boundary freely: a `String` made in a
//! plugin and freed by the host, or the reverse, meets one allocator,
//! whatever `#[global_allocator]` the host chose.
//!
//! The host installs its allocator right after it has checked the header,
//! before it calls anything in the library. Until then (in the library's
//! static constructors, which `dlopen` runs, and when the crate runs on its
//! own, in its tests) allocations go to the system allocator; a block is
//! always freed by the allocator that made it, as long as no constructor
//! hands memory to code that runs after the install.

use std::alloc::{GlobalAlloc, Layout, System};

pub use tau_abi::plugin::AllocatorSlot;

/// This copy of the SDK's slot: the plugin's, when the SDK is linked into a plugin.
pub static ALLOCATOR: AllocatorSlot = AllocatorSlot::new();

/// The global allocator `#[tau::plugin]` installs: the host's, once
/// installed in [`ALLOCATOR`], else the system's.
pub struct ForwardingAllocator;

// SAFETY: every call goes, with its layout unchanged, to one allocator that
// upholds `GlobalAlloc` (the host's, whose table promises it, or `System`);
// the slot is set once, before the plugin's code runs, so a block is freed
// by the allocator that made it.
unsafe impl GlobalAlloc for ForwardingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match ALLOCATOR.installed() {
            // SAFETY: forwarded contract.
            Some(table) => unsafe { (table.alloc)(layout.size(), layout.align()) },
            // SAFETY: forwarded contract.
            None => unsafe { System.alloc(layout) },
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        match ALLOCATOR.installed() {
            // SAFETY: forwarded contract.
            Some(table) => unsafe { (table.alloc_zeroed)(layout.size(), layout.align()) },
            // SAFETY: forwarded contract.
            None => unsafe { System.alloc_zeroed(layout) },
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        match ALLOCATOR.installed() {
            // SAFETY: forwarded contract.
            Some(table) => unsafe { (table.dealloc)(ptr, layout.size(), layout.align()) },
            // SAFETY: forwarded contract.
            None => unsafe { System.dealloc(ptr, layout) },
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        match ALLOCATOR.installed() {
            // SAFETY: forwarded contract.
            Some(table) => unsafe { (table.realloc)(ptr, layout.size(), layout.align(), new_size) },
            // SAFETY: forwarded contract.
            None => unsafe { System.realloc(ptr, layout, new_size) },
        }
    }
}
