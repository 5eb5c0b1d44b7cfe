//! tokio::signal through the host-owned facility.

use tokio::signal::unix::{signal, SignalKind};

#[tokio::test]
async fn every_subscriber_of_a_signal_sees_one_delivery() {
    let mut first = signal(SignalKind::user_defined1()).unwrap();
    let mut second = signal(SignalKind::user_defined1()).unwrap();
    // SAFETY: raising a signal this process now handles.
    unsafe { libc::raise(libc::SIGUSR1) };
    assert_eq!(first.recv().await, Some(()));
    assert_eq!(second.recv().await, Some(()));
    // Nothing more arrived: the next receive waits.
    let more = tokio::time::timeout(std::time::Duration::from_millis(20), first.recv()).await;
    assert!(more.is_err(), "a second delivery appeared");
}

#[tokio::test]
async fn deliveries_between_receives_coalesce() {
    let mut hangups = signal(SignalKind::user_defined2()).unwrap();
    for _ in 0..3 {
        // SAFETY: as above.
        unsafe { libc::raise(libc::SIGUSR2) };
    }
    assert_eq!(hangups.recv().await, Some(()));
    let more = tokio::time::timeout(std::time::Duration::from_millis(20), hangups.recv()).await;
    assert!(more.is_err(), "three raises before one receive gave more than one delivery");
}

#[tokio::test]
async fn ctrl_c_completes_on_sigint() {
    let waiter = tokio::spawn(tokio::signal::ctrl_c());
    // Let it subscribe before raising, as a real Ctrl-C would come later.
    tokio::task::yield_now().await;
    // SAFETY: SIGINT is handled (subscribed) from here on.
    unsafe { libc::raise(libc::SIGINT) };
    waiter.await.unwrap().unwrap();
}

#[tokio::test]
async fn signals_that_cannot_be_handled_are_refused() {
    for raw in [libc::SIGKILL, libc::SIGSEGV, 0, 65] {
        let error = signal(SignalKind::from_raw(raw)).unwrap_err();
        assert_eq!(error.to_string(), format!("Refusing to register signal {raw}"));
    }
}

#[test]
#[should_panic(expected = "there is no signal driver running")]
fn a_signal_outside_of_any_runtime_panics_as_tokio() {
    let _ = signal(SignalKind::hangup());
}
