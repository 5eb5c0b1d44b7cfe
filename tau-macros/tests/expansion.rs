//! Compiles and runs real expansions against a stand-in SDK, `crate::fake_tau`,
//! to check that `?`, `return`, `#[should_panic]` and friends work in the
//! generated code and that each macro calls its own runner.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The part of the SDK the expansion calls, with a minimal executor.
mod fake_tau {
    pub mod __private0_1_0 {
        use std::future::Future;
        use std::pin::pin;
        use std::task::{Context, Poll, Waker};

        use super::super::{MAIN_RUNS, TEST_RUNS};

        pub fn run_main<F: Future>(future: F) -> F::Output {
            MAIN_RUNS.with(|runs| runs.set(runs.get() + 1));
            block_on(future)
        }

        pub fn run_test<F: Future>(future: F) -> F::Output {
            TEST_RUNS.with(|runs| runs.set(runs.get() + 1));
            block_on(future)
        }

        fn block_on<F: Future>(future: F) -> F::Output {
            let mut future = pin!(future);
            let mut context = Context::from_waker(Waker::noop());
            loop {
                if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
                    return output;
                }
            }
        }
    }
}

thread_local! {
    static MAIN_RUNS: Cell<u32> = const { Cell::new(0) };
    static TEST_RUNS: Cell<u32> = const { Cell::new(0) };
}

/// Pending once, then ready: the body really is polled as a future.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            Poll::Pending
        }
    }
}

async fn parse_number(text: &str) -> Result<u32, std::num::ParseIntError> {
    YieldOnce(false).await;
    text.parse()
}

#[tau_macros::main(crate = "crate::fake_tau")]
async fn entry() -> Result<u32, Box<dyn std::error::Error>> {
    let number = parse_number("41").await?;
    Ok(number + 1)
}

#[tau_macros::main(crate = "crate::fake_tau")]
async fn entry_that_fails() -> Result<u32, Box<dyn std::error::Error>> {
    let number = parse_number("not a number").await?;
    Ok(number)
}

#[tau_macros::main(crate = "crate::fake_tau", flavor = "current_thread")]
async fn entry_that_returns_early() -> u32 {
    if std::hint::black_box(true) {
        return 1;
    }
    YieldOnce(false).await;
    2
}

#[test]
fn main_runs_its_body_through_run_main() {
    assert_eq!(entry().unwrap(), 42);
    assert_eq!(entry_that_fails().unwrap_err().to_string(), "invalid digit found in string");
    assert_eq!(entry_that_returns_early(), 1);
    assert_eq!(MAIN_RUNS.with(Cell::get), 3);
    assert_eq!(TEST_RUNS.with(Cell::get), 0);
}

#[tau_macros::test(crate = "crate::fake_tau")]
async fn test_runs_through_run_test() {
    parse_number("7").await.unwrap();
    assert_eq!(TEST_RUNS.with(Cell::get), 1);
    assert_eq!(MAIN_RUNS.with(Cell::get), 0);
}

#[tau_macros::test(crate = "crate::fake_tau")]
async fn test_may_return_result() -> Result<(), std::num::ParseIntError> {
    let number = parse_number("3").await?;
    if number == 3 {
        return Ok(());
    }
    unreachable!("parsed {number}");
}

/// Doc comments are kept.
#[tau_macros::test(crate = "crate::fake_tau")]
#[should_panic(expected = "boom")]
async fn test_keeps_should_panic() {
    YieldOnce(false).await;
    panic!("boom");
}

// `#[ignore]` being kept is checked on the expanded tokens by the unit tests in src/entry/expand.rs
// (an ignored test here would be reported as ignored, not run).

#[tau_macros::test(crate = "crate::fake_tau")]
#[cfg(any())]
async fn test_keeps_cfg() {
    compile_error!("configured out");
}
