//! Every combinator of `tau::stream::StreamExt` against
//! `tokio_stream::StreamExt` and `futures::StreamExt` as oracles: random
//! items behind random `Pending` interleavings must give identical outputs.
//! tau's streams are also checked for lost wake-ups and for `size_hint`
//! bounds at every poll (see `common::scripted`).

mod common;

use std::future::ready;
use std::pin::pin;

use common::scripted::{delayed, delayed_by_value, drive, drive_checked, resolve, script, Script};
use proptest::prelude::*;
use tau::stream::{self, Stream, StreamExt};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn map(s in script(20), k in -3i32..3) {
        let ours = drive_checked(s.stream().map(|x| x * k));
        prop_assert_eq!(&ours, &drive(tokio_stream::StreamExt::map(s.stream(), |x| x * k)));
        prop_assert_eq!(&ours, &drive(futures::StreamExt::map(s.stream(), |x| x * k)));
    }

    #[test]
    fn map_while(s in script(20), limit in -50i32..50) {
        let f = move |x: i32| (x < limit).then_some(x * 2);
        let ours = drive_checked(s.stream().map_while(f));
        prop_assert_eq!(&ours, &drive(tokio_stream::StreamExt::map_while(s.stream(), f)));
    }

    #[test]
    fn filter(s in script(20), m in 1i32..5, r in 0i32..5) {
        let keep = move |x: &i32| x.rem_euclid(m) == r % m;
        let ours = drive_checked(s.stream().filter(keep));
        prop_assert_eq!(&ours, &drive(tokio_stream::StreamExt::filter(s.stream(), keep)));
        prop_assert_eq!(&ours, &drive(futures::StreamExt::filter(s.stream(), move |x| ready(keep(x)))));
    }

    #[test]
    fn filter_map(s in script(20), m in 1i32..5) {
        let f = move |x: i32| (x % m == 0).then(|| x / m);
        let ours = drive_checked(s.stream().filter_map(f));
        prop_assert_eq!(&ours, &drive(tokio_stream::StreamExt::filter_map(s.stream(), f)));
        prop_assert_eq!(&ours, &drive(futures::StreamExt::filter_map(s.stream(), move |x| ready(f(x)))));
    }

    #[test]
    fn take_while(s in script(20), limit in -50i32..50) {
        let keep = move |x: &i32| *x < limit;
        let ours = drive_checked(s.stream().take_while(keep));
        prop_assert_eq!(&ours, &drive(tokio_stream::StreamExt::take_while(s.stream(), keep)));
        prop_assert_eq!(&ours, &drive(futures::StreamExt::take_while(s.stream(), move |x| ready(keep(x)))));
    }

    #[test]
    fn skip_while(s in script(20), limit in -50i32..50) {
        let skip = move |x: &i32| *x < limit;
        let ours = drive_checked(s.stream().skip_while(skip));
        prop_assert_eq!(&ours, &drive(tokio_stream::StreamExt::skip_while(s.stream(), skip)));
        prop_assert_eq!(&ours, &drive(futures::StreamExt::skip_while(s.stream(), move |x| ready(skip(x)))));
    }

    #[test]
    fn then(s in script(20)) {
        let ours = drive_checked(s.stream().then(delayed_by_value));
        prop_assert_eq!(&ours, &drive(tokio_stream::StreamExt::then(s.stream(), delayed_by_value)));
        prop_assert_eq!(&ours, &drive(futures::StreamExt::then(s.stream(), delayed_by_value)));
    }

    #[test]
    fn merge(a in script(12), b in script(12)) {
        let ours = drive_checked(a.stream().merge(b.stream()));
        prop_assert_eq!(&ours, &drive(tokio_stream::StreamExt::merge(a.stream(), b.stream())));
    }

    #[test]
    fn take(s in script(20), n in 0usize..25) {
        let ours = drive_checked(s.stream().take(n));
        prop_assert_eq!(&ours, &drive(tokio_stream::StreamExt::take(s.stream(), n)));
        prop_assert_eq!(&ours, &drive(futures::StreamExt::take(s.stream(), n)));
    }

    #[test]
    fn skip(s in script(20), n in 0usize..25) {
        let ours = drive_checked(s.stream().skip(n));
        prop_assert_eq!(&ours, &drive(tokio_stream::StreamExt::skip(s.stream(), n)));
        prop_assert_eq!(&ours, &drive(futures::StreamExt::skip(s.stream(), n)));
    }

    #[test]
    fn chain(a in script(12), b in script(12)) {
        let ours = drive_checked(a.stream().chain(b.stream()));
        prop_assert_eq!(&ours, &drive(tokio_stream::StreamExt::chain(a.stream(), b.stream())));
        prop_assert_eq!(&ours, &drive(futures::StreamExt::chain(a.stream(), b.stream())));
    }

    #[test]
    fn zip(a in script(12), b in script(12)) {
        let ours = drive_checked(a.stream().zip(b.stream()));
        prop_assert_eq!(&ours, &drive(futures::StreamExt::zip(a.stream(), b.stream())));
    }

    #[test]
    fn enumerate(s in script(20)) {
        let ours = drive_checked(s.stream().enumerate());
        prop_assert_eq!(&ours, &drive(futures::StreamExt::enumerate(s.stream())));
    }

    #[test]
    fn inspect(s in script(20)) {
        let (mut seen_ours, mut seen_theirs) = (Vec::new(), Vec::new());
        let ours = drive_checked(s.stream().inspect(|x| seen_ours.push(*x)));
        let theirs = drive(futures::StreamExt::inspect(s.stream(), |x| seen_theirs.push(*x)));
        prop_assert_eq!(&ours, &theirs);
        prop_assert_eq!(&seen_ours, &seen_theirs);
        prop_assert_eq!(&seen_ours, &ours);
    }

    #[test]
    fn flat_map(s in script(10)) {
        let ours = drive_checked(s.stream().flat_map(inner_script));
        prop_assert_eq!(&ours, &drive(futures::StreamExt::flat_map(s.stream(), inner_script)));
    }

    #[test]
    fn flatten(s in script(10)) {
        let ours = drive_checked(s.stream().map(inner_script).flatten());
        let theirs = drive(futures::StreamExt::flatten(futures::StreamExt::map(s.stream(), inner_script)));
        prop_assert_eq!(&ours, &theirs);
    }

    #[test]
    fn fuse(s in script(20)) {
        let mut fused = s.stream().fuse();
        let ours = drive_checked(&mut fused);
        prop_assert_eq!(&ours, &drive(tokio_stream::StreamExt::fuse(s.stream())));
        prop_assert_eq!(&ours, &drive(futures::StreamExt::fuse(s.stream())));
        // After the end: `None` again; the inner stream is gone.
        prop_assert!(fused.is_done());
        prop_assert_eq!(resolve(fused.next()), None);
    }

    #[test]
    fn chunks(s in script(20), capacity in 1usize..6) {
        let ours = drive_checked(s.stream().chunks(capacity));
        prop_assert_eq!(&ours, &drive(futures::StreamExt::chunks(s.stream(), capacity)));
    }

    #[test]
    fn peekable(s in script(20), ops in prop::collection::vec(0u8..4, 0..30), limit in -50i32..50) {
        let mut ours = pin!(s.stream().peekable());
        let mut theirs = pin!(futures::StreamExt::peekable(s.stream()));
        for op in ops {
            match op {
                0 => prop_assert_eq!(resolve(ours.as_mut().peek()).copied(), resolve(theirs.as_mut().peek()).copied()),
                1 => prop_assert_eq!(resolve(ours.next()), resolve(futures::StreamExt::next(&mut theirs))),
                2 => prop_assert_eq!(
                    resolve(ours.as_mut().next_if(|x| *x < limit)),
                    resolve(theirs.as_mut().next_if(|x| *x < limit))
                ),
                _ => {
                    let mut ours_peek = resolve(ours.as_mut().peek_mut());
                    let mut theirs_peek = resolve(theirs.as_mut().peek_mut());
                    if let (Some(a), Some(b)) = (ours_peek.as_deref_mut(), theirs_peek.as_deref_mut()) {
                        *a += 100;
                        *b += 100;
                    }
                    prop_assert_eq!(ours_peek, theirs_peek);
                }
            }
            prop_assert_eq!(Stream::size_hint(&*ours), Stream::size_hint(&*theirs));
        }
        prop_assert_eq!(drive_checked(ours), drive(theirs));
    }

    #[test]
    fn next(s in script(20)) {
        let (mut ours, mut theirs) = (s.stream(), s.stream());
        loop {
            let item = resolve(ours.next());
            prop_assert_eq!(item, resolve(tokio_stream::StreamExt::next(&mut theirs)));
            if item.is_none() {
                break;
            }
        }
    }

    #[test]
    fn try_next(s in script(20)) {
        let results = |s: &Script| s.stream().map(|x| if x > 40 { Err(x) } else { Ok(x) });
        let (mut ours, mut theirs) = (results(&s), results(&s));
        loop {
            let item = resolve(ours.try_next());
            prop_assert_eq!(item, resolve(tokio_stream::StreamExt::try_next(&mut theirs)));
            if matches!(item, Ok(None)) {
                break;
            }
        }
    }

    #[test]
    fn collect_count_and_for_each(s in script(20)) {
        let ours: Vec<i32> = resolve(s.stream().collect());
        prop_assert_eq!(&ours, &resolve(tokio_stream::StreamExt::collect::<Vec<i32>>(s.stream())));
        prop_assert_eq!(&ours, &resolve(futures::StreamExt::collect::<Vec<i32>>(s.stream())));
        prop_assert_eq!(resolve(s.stream().count()), resolve(futures::StreamExt::count(s.stream())));
        let mut seen = Vec::new();
        resolve(s.stream().for_each(|x| seen.push(x)));
        prop_assert_eq!(&seen, &ours);
    }

    #[test]
    fn fold(s in script(20)) {
        let f = |acc: i64, x: i32| acc * 3 + i64::from(x);
        let ours = resolve(s.stream().fold(7, f));
        prop_assert_eq!(ours, resolve(tokio_stream::StreamExt::fold(s.stream(), 7, f)));
        prop_assert_eq!(ours, resolve(futures::StreamExt::fold(s.stream(), 7, move |acc, x| ready(f(acc, x)))));
    }

    #[test]
    fn any_and_all_stop_where_tokio_stream_stops(s in script(20), limit in -50i32..50) {
        let (mut ours, mut theirs) = (s.stream(), s.stream());
        prop_assert_eq!(resolve(ours.any(|x| x > limit)), resolve(tokio_stream::StreamExt::any(&mut theirs, |x| x > limit)));
        prop_assert_eq!(drive(&mut ours), drive(&mut theirs)); // the same items are left unread
        let (mut ours, mut theirs) = (s.stream(), s.stream());
        prop_assert_eq!(resolve(ours.all(|x| x > limit)), resolve(tokio_stream::StreamExt::all(&mut theirs, |x| x > limit)));
        prop_assert_eq!(drive(&mut ours), drive(&mut theirs));
        let futures_any = resolve(futures::StreamExt::any(s.stream(), move |x| ready(x > limit)));
        prop_assert_eq!(resolve(s.stream().any(|x| x > limit)), futures_any);
    }

    #[test]
    fn buffered(s in script(20), n in 1usize..6) {
        let ours = drive_checked(s.stream().map(delayed_by_value).buffered(n));
        let theirs = drive(futures::StreamExt::buffered(futures::StreamExt::map(s.stream(), delayed_by_value), n));
        prop_assert_eq!(&ours, &theirs);
        prop_assert_eq!(ours, s.items());
    }

    #[test]
    fn buffer_unordered(s in script(20), n in 1usize..6) {
        let mut ours = drive_checked(s.stream().map(delayed_by_value).buffer_unordered(n));
        let mut theirs =
            drive(futures::StreamExt::buffer_unordered(futures::StreamExt::map(s.stream(), delayed_by_value), n));
        ours.sort();
        theirs.sort();
        prop_assert_eq!(&ours, &theirs);
    }

    #[test]
    fn constructors(items in prop::collection::vec(-50i32..50, 0..20), stalls in 0u8..3, n in 0usize..5) {
        prop_assert_eq!(drive_checked(stream::iter(items.clone())), drive(futures::stream::iter(items.clone())));
        let once = drive_checked(stream::once(delayed(n, stalls)));
        prop_assert_eq!(&once, &drive(futures::stream::once(delayed(n, stalls))));
        prop_assert_eq!(drive_checked(stream::repeat(n).take(n)), drive(futures::StreamExt::take(futures::stream::repeat(n), n)));
        let step = move |i: usize| delayed((i < n).then(|| (i * 10, i + 1)), stalls);
        prop_assert_eq!(drive_checked(stream::unfold(0, step)), drive(futures::stream::unfold(0, step)));
        let mut left = items.clone().into_iter();
        prop_assert_eq!(drive_checked(stream::poll_fn(move |_| std::task::Poll::Ready(left.next()))), items);
        prop_assert_eq!(drive_checked(stream::empty::<i32>()), Vec::<i32>::new());
    }
}

/// An inner stream for `flat_map` and `flatten`: 0..3 items derived from `x`.
fn inner_script(x: i32) -> common::scripted::Scripted {
    let len = x.unsigned_abs() % 3;
    Script {
        steps: (0..len as i32).map(|i| ((x.unsigned_abs() + i as u32) as u8 % 3, x * 10 + i)).collect(),
        stalls_before_end: (x.unsigned_abs() % 2) as u8,
    }
    .stream()
}
