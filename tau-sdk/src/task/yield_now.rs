use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Yields once to the runtime: the task is rescheduled behind the tasks that
/// are already ready to run.
///
/// ```
/// tau::block_on(async {
///     tau::task::yield_now().await;
/// });
/// ```
pub async fn yield_now() {
    YieldNow { yielded: false }.await
}

struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
