//! Helpers shared by the test files.
#![allow(dead_code)]

use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::sync::Arc;

pub mod scripted;

/// Counts live and dropped detectors; a double drop shows as `dropped > created`.
#[derive(Clone, Default)]
pub struct DropCounter {
    inner: Arc<Counts>,
}

#[derive(Default)]
struct Counts {
    created: AtomicUsize,
    dropped: AtomicUsize,
    live: AtomicIsize,
    lowest_live: AtomicIsize,
}

impl DropCounter {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn detector(&self) -> Detector {
        self.inner.created.fetch_add(1, Ordering::SeqCst);
        self.inner.live.fetch_add(1, Ordering::SeqCst);
        Detector { counts: Arc::clone(&self.inner) }
    }

    pub fn created(&self) -> usize {
        self.inner.created.load(Ordering::SeqCst)
    }

    pub fn dropped(&self) -> usize {
        self.inner.dropped.load(Ordering::SeqCst)
    }

    pub fn live(&self) -> isize {
        self.inner.live.load(Ordering::SeqCst)
    }

    /// The lowest `live` ever seen after a drop: negative means a double drop.
    pub fn lowest_live(&self) -> isize {
        self.inner.lowest_live.load(Ordering::SeqCst)
    }
}

/// Counts its own drop in its `DropCounter`.
pub struct Detector {
    counts: Arc<Counts>,
}

impl Drop for Detector {
    fn drop(&mut self) {
        self.counts.dropped.fetch_add(1, Ordering::SeqCst);
        let live = self.counts.live.fetch_sub(1, Ordering::SeqCst) - 1;
        self.counts.lowest_live.fetch_min(live, Ordering::SeqCst);
    }
}

/// A future that stays pending forever while holding a detector.
pub async fn pending_with(detector: Detector) {
    let _held = detector;
    std::future::pending::<()>().await;
}

/// Yields to the runtime until `condition` holds (at most `limit` times).
pub async fn yield_until(limit: usize, mut condition: impl FnMut() -> bool) {
    for _ in 0..limit {
        if condition() {
            return;
        }
        tau::task::yield_now().await;
    }
    panic!("condition not reached after {limit} yields");
}
