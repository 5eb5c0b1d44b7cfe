//! [`FromStream`]: what [`StreamExt::collect`](super::StreamExt::collect)
//! can build.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet, LinkedList, VecDeque};
use std::hash::{BuildHasher, Hash};
use std::sync::Arc;

/// A collection that [`StreamExt::collect`](super::StreamExt::collect) can
/// build from a stream's items, as tokio-stream's `FromStream`: the std
/// collections, `String` from anything that is `AsRef<str>`, boxed, `Rc`
/// and `Arc` slices, `()`, and `Result<C, E>` / `Option<C>`, which stop at
/// the first `Err` / `None` and return it.
///
/// ```
/// use tau::stream::{self, StreamExt};
/// tau::block_on(async {
///     let all: Result<Vec<i32>, String> = stream::iter([Ok(1), Ok(2)]).collect().await;
///     assert_eq!(all, Ok(vec![1, 2]));
///     let first_error: Result<Vec<i32>, &str> = stream::iter([Ok(1), Err("no"), Ok(3)]).collect().await;
///     assert_eq!(first_error, Err("no"));
/// });
/// ```
///
/// For another collection, implement this trait for it, or `fold` into it.
pub trait FromStream<T>: Sized {
    /// The collection while it is being built.
    type Partial;

    /// An empty collection for a stream with this `size_hint`.
    fn start(size_hint: (usize, Option<usize>)) -> Self::Partial;

    /// Adds `item`; `false` ends the collection (the rest is not read).
    fn add(partial: &mut Self::Partial, item: T) -> bool;

    /// The finished collection.
    fn finish(partial: Self::Partial) -> Self;
}

impl<T> FromStream<T> for Vec<T> {
    type Partial = Vec<T>;

    fn start((lower, _): (usize, Option<usize>)) -> Vec<T> {
        Vec::with_capacity(lower)
    }

    fn add(partial: &mut Vec<T>, item: T) -> bool {
        partial.push(item);
        true
    }

    fn finish(partial: Vec<T>) -> Vec<T> {
        partial
    }
}

/// `FromStream` through a `Vec`, for the slice containers.
macro_rules! from_vec {
    ($($collection:ty),*) => {$(
        impl<T> FromStream<T> for $collection {
            type Partial = Vec<T>;

            fn start(size_hint: (usize, Option<usize>)) -> Vec<T> {
                Vec::start(size_hint)
            }

            fn add(partial: &mut Vec<T>, item: T) -> bool {
                Vec::add(partial, item)
            }

            fn finish(partial: Vec<T>) -> Self {
                partial.into()
            }
        }
    )*};
}

from_vec!(Box<[T]>, std::rc::Rc<[T]>, Arc<[T]>, VecDeque<T>);

/// `FromStream` through `Default + Extend`, for the other std collections.
macro_rules! from_extend {
    ($([$($generics:tt)*] $collection:ty => $item:ty),* $(,)?) => {$(
        impl<$($generics)*> FromStream<$item> for $collection {
            type Partial = Self;

            fn start(_: (usize, Option<usize>)) -> Self {
                Self::default()
            }

            fn add(partial: &mut Self, item: $item) -> bool {
                partial.extend(Some(item));
                true
            }

            fn finish(partial: Self) -> Self {
                partial
            }
        }
    )*};
}

from_extend! {
    [T] LinkedList<T> => T,
    [T: Ord] BinaryHeap<T> => T,
    [T: Ord] BTreeSet<T> => T,
    [T: Eq + Hash, S: BuildHasher + Default] HashSet<T, S> => T,
    [K: Ord, V] BTreeMap<K, V> => (K, V),
    [K: Eq + Hash, V, S: BuildHasher + Default] HashMap<K, V, S> => (K, V),
}

impl<T: AsRef<str>> FromStream<T> for String {
    type Partial = String;

    fn start(_: (usize, Option<usize>)) -> String {
        String::new()
    }

    fn add(partial: &mut String, item: T) -> bool {
        partial.push_str(item.as_ref());
        true
    }

    fn finish(partial: String) -> String {
        partial
    }
}

impl<'a> FromStream<Cow<'a, str>> for Cow<'a, str> {
    type Partial = String;

    fn start(_: (usize, Option<usize>)) -> String {
        String::new()
    }

    fn add(partial: &mut String, item: Cow<'a, str>) -> bool {
        partial.push_str(&item);
        true
    }

    fn finish(partial: String) -> Self {
        Cow::Owned(partial)
    }
}

impl FromStream<()> for () {
    type Partial = ();

    fn start(_: (usize, Option<usize>)) {}

    fn add(_: &mut (), _: ()) -> bool {
        true
    }

    fn finish(_: ()) {}
}

impl<T, E, C: FromStream<T>> FromStream<Result<T, E>> for Result<C, E> {
    type Partial = Result<C::Partial, E>;

    fn start(size_hint: (usize, Option<usize>)) -> Self::Partial {
        Ok(C::start(size_hint))
    }

    fn add(partial: &mut Self::Partial, item: Result<T, E>) -> bool {
        match (partial.as_mut(), item) {
            (Ok(collection), Ok(item)) => C::add(collection, item),
            (_, Err(error)) => {
                *partial = Err(error);
                false
            }
            (Err(_), Ok(_)) => false,
        }
    }

    fn finish(partial: Self::Partial) -> Self {
        partial.map(C::finish)
    }
}

impl<T, C: FromStream<T>> FromStream<Option<T>> for Option<C> {
    type Partial = Option<C::Partial>;

    fn start(size_hint: (usize, Option<usize>)) -> Self::Partial {
        Some(C::start(size_hint))
    }

    fn add(partial: &mut Self::Partial, item: Option<T>) -> bool {
        match (partial.as_mut(), item) {
            (Some(collection), Some(item)) => C::add(collection, item),
            _ => {
                *partial = None;
                false
            }
        }
    }

    fn finish(partial: Self::Partial) -> Self {
        partial.map(C::finish)
    }
}
