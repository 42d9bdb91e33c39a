//! Floods: an open-loop sender well above what the machine can start (Temporal's dev server
//! takes about 150 runs/s here) makes the api shed load with 503 and `Retry-After` at once
//! (`FERROCAT_WEBHOOK_MAX_INFLIGHT`) instead of queueing; its memory stays bounded, every
//! accepted post still becomes one completed run, and it takes webhooks again straight after.
//! Then hundreds of connections trickling their request heads into the edge (slowloris),
//! requests with oversized heads and bodies far over the limit streamed in cost a steady
//! stream beside them nothing, and the edge's memory stays bounded.

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

/// How many requests got each answer (a status, or the error sending failed with).
async fn tally(requests: Vec<tokio::task::JoinHandle<Result<u16, String>>>) -> std::collections::BTreeMap<String, u32> {
    let mut answers = std::collections::BTreeMap::new();
    for answer in futures::future::join_all(requests).await {
        *answers.entry(format!("{:?}", answer.unwrap())).or_default() += 1;
    }
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_is_shed_with_503_and_slow_clients_cost_others_nothing() {
    let _alone = crate::ONE_AT_A_TIME.lock().await;
    // No per-webhook rate limit: the shedding under test is the api's own, with a small limit
    // that the flood passes within a tenth of a second, yet above what the calm stream (20/s)
    // has in flight even when a busy machine makes each start take a second.
    let env = [("FERROCAT_WEBHOOK_RATE_LIMIT", "0".to_owned()), ("FERROCAT_WEBHOOK_MAX_INFLIGHT", "24".to_owned())];
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
    eprintln!("flood: {}; api RSS {} -> {} MB", books.summary(), before >> 20, after >> 20);
    assert!(books.refused.get(&503).is_some_and(|n| *n > 0), "nothing was shed: {:?}", books.refused);
    assert_eq!(books.refused.keys().copied().collect::<Vec<_>>(), [503], "only 503s: {:?}", books.refused);
    assert!(books.unanswered.is_empty(), "posts that got no answer: {:?}", books.unanswered);
    assert!(after < before + (64 << 20), "the api grew from {} to {} MB", before >> 20, after >> 20);
    let runs = settled_runs(&http, &stack, &workspace, &flood_wf, &books, Duration::from_secs(120)).await;
    let seqs = seqs_of(&http, &stack, &workspace, &runs).await;
    reconcile(&books, &runs, &seqs);

    // Beside a steady stream: 300 connections each sending a request head a few bytes at a
    // time, 40 heads of 100 KiB (the limit is 64 KiB), and 8 bodies of 64 MiB streamed with no
    // length given (the limit is 32 MiB), while 60 posts go through unharmed.
    let edge_pid = stack.pid("edge").expect("the edge's pid file");
    let edge_before = rss(edge_pid);
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
    let abusers = reqwest::Client::new();
    let answer = |request: reqwest::RequestBuilder| tokio::spawn(async move { request.send().await.map(|r| r.status().as_u16()).map_err(|e| e.to_string()) });
    let big_heads: Vec<_> = (0..40).map(|_| answer(abusers.post(&flood_hook).header("x-padding", "a".repeat(100 << 10)).json(&serde_json::json!({"seq": 0})))).collect();
    let big_bodies: Vec<_> = (0..8)
        .map(|_| {
            let chunks = futures::stream::iter((0..64).map(|_| Ok::<_, std::io::Error>(vec![b' '; 1 << 20])));
            answer(abusers.post(&flood_hook).header("content-type", "application/json").body(reqwest::Body::wrap_stream(chunks)))
        })
        .collect();
    eventually(Duration::from_secs(60), "60 posts beside the slow and oversized clients", || async { (calm.posted() >= 60).then_some(()) }).await;
    let calm_books = calm.stop().await;
    trickle.abort();
    let edge_after = rss(edge_pid);
    let (heads, bodies) = (tally(big_heads).await, tally(big_bodies).await);
    eprintln!("beside the abuse: {}; oversized heads {heads:?}, bodies {bodies:?}; edge RSS {} -> {} MB", calm_books.summary(), edge_before >> 20, edge_after >> 20);
    assert_eq!(calm_books.accepted.len() as u64, calm_books.posted, "the steady stream lost posts to the abusive clients: {calm_books:?}");
    assert_eq!(heads.get("Ok(431)"), Some(&40), "every oversized head is refused with 431: {heads:?}");
    // A body over the limit is refused with 413, or its sender finds the connection closed
    // before it could finish sending; it is never taken.
    assert!(bodies.keys().all(|answer| answer == "Ok(413)" || answer.starts_with("Err(")), "an oversized body was not refused: {bodies:?}");
    assert!(edge_after < edge_before + (64 << 20), "the edge grew from {} to {} MB", edge_before >> 20, edge_after >> 20);
    let runs = settled_runs(&http, &stack, &workspace, &calm_wf, &calm_books, Duration::from_secs(60)).await;
    let seqs = seqs_of(&http, &stack, &workspace, &runs).await;
    reconcile(&calm_books, &runs, &seqs);
}
