//! tau overlay of upstream's src/future/block_on.rs.
//!
//! Upstream, without its own runtime, would park the thread: on the thread
//! that drives tau's runtime (inside a task or `block_on`) that is a
//! deadlock, since nothing else would run the future's wakers. Like tokio
//! inside a runtime, it panics instead, with tokio's message.

use std::future::Future;

#[track_caller]
pub(crate) fn block_on<F: Future>(f: F) -> F::Output {
    if tau::__private::is_driving() {
        panic!(
            "Cannot block the current thread from within a runtime. This \
            happens because a function attempted to block the current \
            thread while the thread is being used to drive asynchronous \
            tasks."
        );
    }
    let mut park = crate::runtime::park::CachedParkThread::new();
    park.block_on(f).unwrap()
}
