//! The runtimes of this copy of tau-rt, by slot, so that a task waker (whose
//! data word names its runtime's slot) can reach its runtime from any thread.
//!
//! A slot is taken when a runtime is made and freed only by its `Drop`: a
//! runtime under construction has no strong reference yet, so "no strong
//! reference" cannot mean "free".

use std::sync::{Arc, RwLock, Weak};

use crate::runtime::Shared;

static REGISTRY: RwLock<Vec<Option<Weak<Shared>>>> = RwLock::new(Vec::new());

/// Claims a slot for a new runtime.
pub(crate) fn register(shared: Weak<Shared>) -> u16 {
    let mut registry = REGISTRY.write().unwrap_or_else(|poison| poison.into_inner());
    if let Some(slot) = registry.iter().position(Option::is_none) {
        registry[slot] = Some(shared);
        return slot as u16;
    }
    assert!(registry.len() < u16::MAX as usize, "more than 65535 live tau runtimes");
    registry.push(Some(shared));
    (registry.len() - 1) as u16
}

/// Frees a runtime's slot (from its `Drop`).
pub(crate) fn unregister(slot: u16) {
    let mut registry = REGISTRY.write().unwrap_or_else(|poison| poison.into_inner());
    registry[slot as usize] = None;
}

/// The live runtime in `slot`.
pub(crate) fn lookup(slot: u16) -> Option<Arc<Shared>> {
    let registry = REGISTRY.read().unwrap_or_else(|poison| poison.into_inner());
    registry.get(slot as usize).and_then(Option::as_ref).and_then(Weak::upgrade)
}
