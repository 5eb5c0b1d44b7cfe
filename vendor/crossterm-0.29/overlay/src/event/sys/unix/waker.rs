// tau: one waker for tau's event source (`waker/tau.rs`), with and without
// `use-dev-tty`.
pub(crate) mod tau;

pub(crate) use self::tau::Waker;
