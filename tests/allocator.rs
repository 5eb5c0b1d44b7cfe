//! End-to-end, issue 11 item 5: a host with its own global allocator. This
//! test binary's allocator tags every block it makes and aborts the process
//! when asked to free (or resize) memory it did not make. Plugins allocate
//! through the host's allocator (the runtime table carries it, the plugin's
//! generated `#[global_allocator]` forwards to it), so values cross both
//! ways: arguments freed in the plugin, results and streamed items freed in
//! the host, a plugin's boxed stream dropped by the host.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{host, library};
use tau::stream::{BoxStream, StreamExt};

/// Written before every block this allocator hands out.
const TAG: u64 = 0x7a75_5f74_6167_6765;

struct Tagging;

/// Blocks made and freed by the tagging allocator.
static MADE: AtomicUsize = AtomicUsize::new(0);
static FREED: AtomicUsize = AtomicUsize::new(0);

fn header(layout: Layout) -> usize {
    layout.align().max(16)
}

fn outer(layout: Layout) -> Layout {
    Layout::from_size_align(layout.size() + header(layout), header(layout)).expect("layout")
}

fn refuse(what: &str) -> ! {
    // No allocation here: this allocator is the one that would be used.
    let message = ["tagging allocator: ", what, ": not a block of mine\n"];
    for part in message {
        // SAFETY: writes `part`'s bytes to stderr.
        unsafe { libc::write(2, part.as_ptr().cast(), part.len()) };
    }
    std::process::abort()
}

// SAFETY: every block is a `System` block with a header in front; the
// header holds the tag, checked (and cleared) when the block is freed.
unsafe impl GlobalAlloc for Tagging {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: `outer` is a valid, non-zero layout.
        let base = unsafe { System.alloc(outer(layout)) };
        if base.is_null() {
            return base;
        }
        MADE.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the header is inside the block, 8-aligned (it is at least 16).
        unsafe {
            let user = base.add(header(layout));
            user.cast::<u64>().sub(1).write(TAG);
            user
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: a block of ours has its tag just before it; reading eight
        // bytes before anything else's start is what this test exists to catch.
        let tag = unsafe { ptr.cast::<u64>().sub(1) };
        if unsafe { tag.read() } != TAG {
            refuse("free");
        }
        FREED.fetch_add(1, Ordering::Relaxed);
        // SAFETY: ours: clear the tag (a double free is caught too) and free the whole block.
        unsafe {
            tag.write(0);
            System.dealloc(ptr.sub(header(layout)), outer(layout));
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as in `dealloc`.
        if unsafe { ptr.cast::<u64>().sub(1).read() } != TAG {
            refuse("realloc");
        }
        let new_layout = Layout::from_size_align(new_size, layout.align()).expect("layout");
        // SAFETY: a fresh block of ours, then a copy of the smaller size, then the old one freed.
        unsafe {
            let new = self.alloc(new_layout);
            if !new.is_null() {
                std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
            new
        }
    }
}

#[global_allocator]
static ALLOCATOR: Tagging = Tagging;

#[test]
fn values_cross_both_ways_under_the_hosts_own_allocator() {
    let mut host = host();
    let example = host.load(library("example-plugin")).unwrap();
    let producer_id = host.load(library("stream-test-plugin/producer")).unwrap();
    let consumer = host.load(library("stream-test-plugin/consumer")).unwrap();
    let plugin = host.plugin(example).unwrap();
    let made_before = MADE.load(Ordering::Relaxed);

    // The argument is made here and freed in the plugin; the result the reverse.
    let greeting: String = plugin.call("greet", ("a host with its own allocator".to_string(),)).unwrap();
    assert_eq!(greeting, "hello, a host with its own allocator");
    drop(greeting);
    assert_eq!(host.block_on(plugin.call_text("greet", &["text"]).unwrap()).unwrap(), "hello, text");
    let doubled = host.block_on(plugin.spawn_call::<i64, _>("slow_double", (8i64,)).unwrap());
    assert_eq!(doubled, Ok(16));
    assert_eq!(
        plugin.call::<Result<i64, String>, _>("divide", (1i64, 0i64)),
        Ok(Err("cannot divide 1 by 0".to_string()))
    );

    // A stream made in one plugin, its items made there and freed here, the
    // stream itself (a box of the plugin's) dropped here.
    let producer = host.plugin(producer_id).unwrap();
    let tokens: BoxStream<'static, String> = producer.call("tokens", (20u32,)).unwrap();
    let collected: Vec<String> = host.block_on(tokens.collect());
    assert_eq!(collected.len(), 20);
    assert_eq!(collected[19], "token-19");
    let mut half: BoxStream<'static, String> = producer.call("fed", (10u32,)).unwrap();
    assert_eq!(host.block_on(half.next()), Some("fed-0".to_string()));
    drop(half);

    // Into a second plugin and back: the consumer frees the producer's
    // stream and items, the host frees the consumer's result.
    let tokens: BoxStream<'static, String> = producer.call("tokens", (5u32,)).unwrap();
    let call = host.plugin(consumer).unwrap().spawn_call::<(u32, String), _>("concat", (tokens,)).unwrap();
    let (count, text) = host.block_on(call).unwrap();
    assert_eq!((count, text.as_str()), (5, "token-0token-1token-2token-3token-4"));

    assert!(
        MADE.load(Ordering::Relaxed) - made_before > 100,
        "the plugins' allocations went through this allocator"
    );
    drop(host);
    assert!(FREED.load(Ordering::Relaxed) > 0);
}
