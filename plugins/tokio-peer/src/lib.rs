//! Feeds a `tokio::sync::mpsc` channel that another plugin (tokio-plugin)
//! made: the channel's ends cross plugins as ordinary Rust values, because
//! both plugins compile the same tokio (the shim over one pinned upstream)
//! in one build environment.

use std::any::Any;
use std::time::Duration;

use tokio::sync::mpsc;

#[derive(Default)]
pub struct TokioPeer;

#[tau::plugin]
impl TokioPeer {
    /// Takes `(Sender<u64>, Receiver<u64>)` (boxed), spawns a task here that
    /// sends `0..count` through the sender with a short sleep between, and
    /// gives the receiver back (boxed). `None` if the box held anything else.
    #[tau::export]
    pub fn feed(&self, channel: Box<dyn Any + Send>, count: u64) -> Option<Box<dyn Any + Send>> {
        let (tx, rx) = *channel.downcast::<(mpsc::Sender<u64>, mpsc::Receiver<u64>)>().ok()?;
        tokio::spawn(async move {
            for n in 0..count {
                tx.send(n).await.unwrap();
                if n % 10 == 0 {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
        });
        Some(Box::new(rx))
    }
}
