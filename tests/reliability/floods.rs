//! Floods: an open-loop sender well above what the machine can start (Temporal's dev server
//! takes about 150 runs/s here) makes the api shed load with 503 and `Retry-After` at once
//! (`FERROCAT_WEBHOOK_MAX_INFLIGHT`) instead of queueing; its memory stays bounded, every
//! accepted post still becomes one completed run, and it takes webhooks again straight after.
//! Then hundreds of connections trickling their request heads into the edge (slowloris) cost a
//! steady stream beside them nothing.

use std::time::Duration;

use tokio::io::AsyncWriteExt as _;

use ferrocat_test_support::eventually;

use crate::books::{SEQ_WORKFLOW, Stream, reconcile, seqs_of, settled_runs, with_webhook};
use crate::common::{Stack, login};

/// The resident memory of process `pid`, in bytes.
fn rss(pid: i32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok()).unwrap();
    kb * 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_is_shed_with_503_and_slow_clients_cost_others_nothing() {
    let _alone = crate::ONE_AT_A_TIME.lock().await;
    // No per-webhook rate limit: the shedding under test is the api's own.
    let env = [("FERROCAT_WEBHOOK_RATE_LIMIT", "0".to_owned()), ("FERROCAT_WEBHOOK_MAX_INFLIGHT", "8".to_owned())];
    let stack = tokio::task::spawn_blocking(move || Stack::up_with(&env)).await.unwrap();
    let (http, workspace) = login(&stack.url).await;
    let (flood_wf, flood_hook) = with_webhook(&http, &stack, &workspace, SEQ_WORKFLOW).await;
    let (calm_wf, calm_hook) = with_webhook(&http, &stack, &workspace, SEQ_WORKFLOW).await;
    let api_pid = stack.pid("api").expect("the api's pid file");
    let before = rss(api_pid);

    // 450 posts at 400/s, whatever the answers.
    let flood = Stream::start(flood_hook.clone(), 400);
    eventually(Duration::from_secs(60), "450 posts sent", || async { (flood.posted() >= 450).then_some(()) }).await;
    let books = flood.stop().await;
    let after = rss(api_pid);
    eprintln!(
        "flood: {} posted, {} accepted, refused {:?}, {} unanswered; api RSS {} -> {} MB",
        books.posted,
        books.accepted.len(),
        books.refused,
        books.unanswered.len(),
        before >> 20,
        after >> 20
    );
    assert!(books.refused.get(&503).is_some_and(|n| *n > 0), "nothing was shed: {:?}", books.refused);
    assert_eq!(books.refused.keys().copied().collect::<Vec<_>>(), [503], "only 503s: {:?}", books.refused);
    assert!(books.unanswered.is_empty(), "posts that got no answer: {:?}", books.unanswered);
    assert!(after < before + (64 << 20), "the api grew from {} to {} MB", before >> 20, after >> 20);
    let runs = settled_runs(&http, &stack, &workspace, &flood_wf, Duration::from_secs(120)).await;
    let seqs = seqs_of(&http, &stack, &workspace, &runs).await;
    reconcile(&books, &runs, &seqs);

    // Slowloris beside a steady stream: 300 connections each sending a request head a few bytes
    // at a time, while 60 posts go through unharmed.
    let edge = stack.url.trim_start_matches("http://").to_owned();
    let mut slow = Vec::new();
    for _ in 0..300 {
        let mut conn = tokio::net::TcpStream::connect(&edge).await.unwrap();
        conn.write_all(b"POST /api/health HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        slow.push(conn);
    }
    let trickle = tokio::spawn(async move {
        for _ in 0..20 {
            for conn in slow.iter_mut() {
                let _ = conn.write_all(b"X-a: b\r\n").await;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    });
    let calm = Stream::start(calm_hook, 20);
    eventually(Duration::from_secs(60), "60 posts beside the slow clients", || async { (calm.posted() >= 60).then_some(()) }).await;
    let calm_books = calm.stop().await;
    trickle.abort();
    assert_eq!(calm_books.accepted.len() as u64, calm_books.posted, "the steady stream lost posts to the slow clients: {calm_books:?}");
    let runs = settled_runs(&http, &stack, &workspace, &calm_wf, Duration::from_secs(60)).await;
    let seqs = seqs_of(&http, &stack, &workspace, &runs).await;
    reconcile(&calm_books, &runs, &seqs);
}
