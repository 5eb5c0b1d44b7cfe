//! Arithmetic on `Stream::size_hint` bounds, shared by the combinators.

/// The hint of two streams whose items are all yielded (chain, merge).
pub(crate) fn add(a: (usize, Option<usize>), b: (usize, Option<usize>)) -> (usize, Option<usize>) {
    let upper = match (a.1, b.1) {
        (Some(x), Some(y)) => x.checked_add(y),
        _ => None,
    };
    (a.0.saturating_add(b.0), upper)
}

/// The hint of a stream with `extra` items held back in front of it.
pub(crate) fn plus(hint: (usize, Option<usize>), extra: usize) -> (usize, Option<usize>) {
    add(hint, (extra, Some(extra)))
}

/// The hint of a stream that may drop any of its items (filter).
pub(crate) fn at_most(hint: (usize, Option<usize>)) -> (usize, Option<usize>) {
    (0, hint.1)
}

/// The hint of a stream known to be finished.
pub(crate) const DONE: (usize, Option<usize>) = (0, Some(0));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_saturates_the_lower_bound_and_loses_an_overflowing_upper_bound() {
        assert_eq!(add((1, Some(2)), (3, Some(4))), (4, Some(6)));
        assert_eq!(add((usize::MAX, Some(usize::MAX)), (1, Some(1))), (usize::MAX, None));
        assert_eq!(add((1, None), (1, Some(1))), (2, None));
        assert_eq!(plus((0, Some(0)), 1), (1, Some(1)));
        assert_eq!(at_most((5, Some(9))), (0, Some(9)));
    }
}
