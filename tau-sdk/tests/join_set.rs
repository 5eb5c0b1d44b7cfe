//! JoinSet follows tokio's documentation.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{pending_with, yield_until, DropCounter};
use tau::task::{self, JoinSet};

#[tau::test]
async fn join_next_returns_results_in_completion_order() {
    let mut set = JoinSet::new();
    let (go, slow_may_finish) = tau::sync::oneshot::channel();
    set.spawn(async {
        slow_may_finish.await.unwrap();
        "slow"
    });
    set.spawn(async { "fast" });
    assert_eq!(set.len(), 2);
    assert_eq!(set.join_next().await.unwrap().unwrap(), "fast");
    go.send(()).unwrap();
    assert_eq!(set.join_next().await.unwrap().unwrap(), "slow");
    assert!(set.join_next().await.is_none());
    assert!(set.is_empty());
}

#[tau::test]
async fn empty_set_join_next_is_none() {
    let mut set: JoinSet<()> = JoinSet::new();
    assert!(set.join_next().await.is_none());
    assert!(set.try_join_next().is_none());
}

#[tau::test]
async fn try_join_next_gets_every_finished_task_whatever_the_budget() {
    // `try_join_next` cannot yield, so, as tokio's, it spends no budget:
    // before, a loop over 1000 finished tasks got 127 and then None.
    let mut set = JoinSet::new();
    for value in 0..1000 {
        set.spawn(async move { value });
    }
    let last = set.spawn(async { 1000 });
    yield_until(100, || last.is_finished()).await;
    let mut joined = Vec::new();
    while let Some(result) = set.try_join_next() {
        joined.push(result.unwrap());
    }
    assert_eq!(joined.len(), 1001, "try_join_next stopped early");
    joined.sort_unstable();
    assert_eq!(joined, (0..=1000).collect::<Vec<_>>());
    assert!(set.is_empty());
}

#[tau::test]
async fn abort_all_gives_a_mix_of_completed_and_cancelled() {
    let drops = DropCounter::new();
    let mut set = JoinSet::new();
    let done = set.spawn(async { Some(1) });
    yield_until(100, || done.is_finished()).await;
    for _ in 0..3 {
        let detector = drops.detector();
        set.spawn(async move {
            pending_with(detector).await;
            None
        });
    }
    task::yield_now().await;
    set.abort_all();
    assert_eq!(set.len(), 4, "aborted tasks stay in the set until joined");
    let (mut values, mut cancelled) = (Vec::new(), 0);
    while let Some(result) = set.join_next().await {
        match result {
            Ok(value) => values.push(value),
            Err(error) => {
                assert!(error.is_cancelled());
                cancelled += 1;
            }
        }
    }
    assert_eq!(values, [Some(1)]);
    assert_eq!(cancelled, 3);
    assert_eq!(drops.dropped(), 3);
}

#[tau::test]
async fn shutdown_aborts_and_waits_for_all() {
    let drops = DropCounter::new();
    let mut set = JoinSet::new();
    for _ in 0..5 {
        set.spawn(pending_with(drops.detector()));
    }
    set.shutdown().await;
    assert!(set.is_empty());
    assert_eq!(drops.dropped(), 5);
}

#[tau::test]
async fn detach_all_lets_tasks_run_on() {
    let finished = Arc::new(Mutex::new(0));
    let mut set = JoinSet::new();
    let mut probes = Vec::new();
    for _ in 0..3 {
        let finished = Arc::clone(&finished);
        probes.push(set.spawn(async move {
            tau::time::sleep(Duration::from_millis(2)).await;
            *finished.lock().unwrap() += 1;
        }));
    }
    set.detach_all();
    assert!(set.is_empty());
    drop(set);
    yield_until(1_000_000, || probes.iter().all(|probe| probe.is_finished())).await;
    assert_eq!(*finished.lock().unwrap(), 3);
}

#[tau::test]
async fn dropping_the_set_aborts_its_tasks() {
    let drops = DropCounter::new();
    let mut set = JoinSet::new();
    let probes: Vec<_> = (0..4).map(|_| set.spawn(pending_with(drops.detector()))).collect();
    task::yield_now().await;
    drop(set);
    assert_eq!(drops.dropped(), 4);
    assert!(probes.iter().all(|probe| probe.is_finished()));
}

#[tau::test]
async fn join_next_with_id_reports_the_task_id_and_panics() {
    let mut set = JoinSet::new();
    let ok = set.spawn(async { 3 });
    let (id, value) = set.join_next_with_id().await.unwrap().unwrap();
    assert_eq!((id, value), (ok.id(), 3));
    let bad = set.spawn(async { panic!("in set") });
    let error = set.join_next_with_id().await.unwrap().unwrap_err();
    assert!(error.is_panic());
    assert_eq!(error.id(), bad.id());
}

#[tau::test]
async fn many_tasks_all_joined_once() {
    let mut set: JoinSet<u32> = (0..1000u32).map(|i| async move { i }).collect();
    let mut seen = vec![false; 1000];
    while let Some(result) = set.join_next().await {
        let i = result.unwrap() as usize;
        assert!(!seen[i], "task {i} joined twice");
        seen[i] = true;
    }
    assert!(seen.iter().all(|&s| s));
}

#[tau::test]
async fn join_all_collects_values() {
    let mut set = JoinSet::new();
    for i in 0..4 {
        set.spawn(async move { i * 2 });
    }
    let mut values = set.join_all().await;
    values.sort();
    assert_eq!(values, [0, 2, 4, 6]);
}

#[tau::test]
async fn spawn_blocking_in_a_set() {
    let mut set = JoinSet::new();
    set.spawn_blocking(|| 11);
    assert_eq!(set.join_next().await.unwrap().unwrap(), 11);
}
