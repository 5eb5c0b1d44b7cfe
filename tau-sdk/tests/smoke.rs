use std::time::Duration;

#[tau::test]
async fn spawn_sleep_join() {
    let handle = tau::spawn(async {
        tau::time::sleep(Duration::from_millis(10)).await;
        21 * 2
    });
    assert_eq!(handle.await.unwrap(), 42);
}

#[test]
fn free_block_on_uses_embedded_runtime() {
    assert_eq!(tau::block_on(async { tau::spawn(async { 7 }).await.unwrap() }), 7);
}
