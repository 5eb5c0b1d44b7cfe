//! The consuming half of the stream test pair: async exports that read
//! boxed streams made by another plugin (`stream-test-producer`), on the
//! runtime they share.

use std::time::Duration;

use tau::stream::{BoxStream, StreamExt};

/// No state.
#[derive(Default)]
pub struct Consumer;

#[tau::plugin]
impl Consumer {
    /// Reads `tokens` to its end: how many items came, and their concatenation.
    #[tau::export]
    pub async fn concat(&self, mut tokens: BoxStream<'static, String>) -> (u32, String) {
        let mut count = 0;
        let mut text = String::new();
        while let Some(token) = tokens.next().await {
            count += 1;
            text.push_str(&token);
        }
        (count, text)
    }

    /// The sum of `numbers`, each doubled by an async step (a sleep of 0 to
    /// 2 ms), up to `n` steps at once, in order (`buffered`).
    #[tau::export]
    pub async fn sum_buffered(&self, numbers: BoxStream<'static, u64>, n: usize) -> u64 {
        numbers.map(double_later).buffered(n).fold(0, |sum, doubled| sum + doubled).await
    }

    /// `numbers` passed through an async step, up to `n` at once
    /// (`buffered`), where later numbers finish first: the order that comes out.
    #[tau::export]
    pub async fn collect_buffered(&self, numbers: BoxStream<'static, u64>, n: usize) -> Vec<u64> {
        numbers
            .map(|number| async move {
                tau::time::sleep(Duration::from_millis(3 - number % 4)).await;
                number
            })
            .buffered(n)
            .collect()
            .await
    }

    /// How many `numbers` there were and the sum of their doubles, each
    /// doubled by an async step, up to `n` at once, as they finish
    /// (`buffer_unordered`).
    #[tau::export]
    pub async fn sum_unordered(&self, numbers: BoxStream<'static, u64>, n: usize) -> (u32, u64) {
        numbers
            .map(double_later)
            .buffer_unordered(n)
            .fold((0, 0), |(count, sum), doubled| (count + 1, sum + doubled))
            .await
    }

    /// `f(x)`: `f` is the caller's code, run by this plugin.
    #[tau::export]
    pub fn apply(&self, f: Box<dyn Fn(u32) -> u32 + Send + Sync>, x: u32) -> u32 {
        f(x)
    }

    /// The sum of `values` up to their end, or the first error.
    #[tau::export]
    pub async fn sum_until_error(
        &self,
        mut values: BoxStream<'static, Result<i64, String>>,
    ) -> Result<i64, String> {
        let mut sum = 0;
        while let Some(value) = values.try_next().await? {
            sum += value;
        }
        Ok(sum)
    }
}

/// `number * 2`, after a sleep of `number % 3` ms on the consumer's timers.
async fn double_later(number: u64) -> u64 {
    tau::time::sleep(Duration::from_millis(number % 3)).await;
    number * 2
}
