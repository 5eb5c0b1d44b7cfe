// tau: the event source is tau's reactor (`tau.rs`), with and without
// `use-dev-tty`; upstream's mio and poll sources are not compiled.
pub(crate) mod tau;

pub(crate) use self::tau::UnixInternalEventSource;
