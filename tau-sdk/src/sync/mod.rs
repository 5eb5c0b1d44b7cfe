//! Synchronization primitives for tasks, with tokio's names and semantics.
//!
//! They do not depend on the runtime: a value can be sent from any thread, a
//! task or plain code, and received by a task on the runtime or by a
//! blocking thread.
//!
//! - [`oneshot`]: a channel that carries a single value from one sender to
//!   one receiver.
//!
//! ```
//! tau::block_on(async {
//!     let (tx, rx) = tau::sync::oneshot::channel();
//!     tau::spawn(async move { tx.send("hello").unwrap() });
//!     assert_eq!(rx.await.unwrap(), "hello");
//! });
//! ```

pub mod oneshot;
