//! An open-loop webhook sender and its books. Every tick posts `{"seq": n}` in a task of its own,
//! whatever the server is doing (a closed loop would slow down with the server and hide a
//! fault), and books the answer: accepted (200 with a run id), refused with a clear status (a
//! 4xx/5xx with a JSON `detail`, `Retry-After` on 429 and 503), or no answer at all (the
//! connection failed: the sender knows it was not taken). Anything else is unclear.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{Stack, commit_workflow, json_of};

/// A workflow that returns the seq it was sent (one pure action, on the worker).
pub const SEQ_WORKFLOW: &str = r#"
title: Reliability seq
description: returns the seq it was sent
entrypoint: {ref: back}
actions:
  - ref: back
    action: core.transform.reshape
    args: {value: {seq: "${{ TRIGGER.seq }}"}}
returns: ${{ ACTIONS.back.result }}
"#;

/// Commits `yaml` and creates its webhook (POST); the workflow's id and the webhook's URL.
pub async fn with_webhook(http: &reqwest::Client, stack: &Stack, workspace: &str, yaml: &str) -> (String, String) {
    let wf_id = commit_workflow(http, &stack.url, workspace, yaml.to_owned()).await;
    let url = format!("{}/api/workflows/{wf_id}/webhook?workspace_id={workspace}", stack.url);
    let (status, webhook) = json_of(http.post(url).json(&json!({"methods": ["POST"]})).send().await.unwrap()).await;
    assert_eq!(status, 200, "{webhook}");
    (wf_id, webhook["url"].as_str().unwrap().to_owned())
}

/// The per-webhook rate limit the streams' stacks run with: far above what a stream sends, so
/// that only the fault under test refuses anything (the limit stays on, so Redis is used).
pub const STREAM_RATE_LIMIT: &str = "1000000";

#[derive(Default, Debug)]
pub struct Books {
    pub posted: u64,
    /// seq -> the run id the api answered with.
    pub accepted: BTreeMap<u64, String>,
    /// Refusals with a clear status, by status.
    pub refused: BTreeMap<u16, u64>,
    /// seqs whose request got no answer (connection refused or reset, a timeout).
    pub unanswered: BTreeSet<u64>,
    /// Answers that were neither: (seq, what came back).
    pub unclear: Vec<(u64, String)>,
}

impl Books {
    /// One line of what happened to the posts, for the test's output.
    pub fn summary(&self) -> String {
        let unclear = if self.unclear.is_empty() { String::new() } else { format!(", unclear {:?}", self.unclear) };
        format!("{} posted, {} accepted, refused {:?}, {} unanswered{unclear}", self.posted, self.accepted.len(), self.refused, self.unanswered.len())
    }

    /// The books add up: every post is accounted for once, and nothing was unclear.
    pub fn check(&self) {
        let answered = self.accepted.len() as u64 + self.refused.values().sum::<u64>() + self.unanswered.len() as u64 + self.unclear.len() as u64;
        assert_eq!(answered, self.posted, "every post is booked once: {self:?}");
        assert!(self.unclear.is_empty(), "answers that were neither accepted nor clearly refused: {:?}", self.unclear);
    }
}

/// A stream of webhook posts at a fixed rate; [`Stream::stop`] ends it and waits for the
/// answers still in flight.
pub struct Stream {
    books: Arc<Mutex<Books>>,
    stop: tokio::sync::watch::Sender<bool>,
    ticker: tokio::task::JoinHandle<Vec<tokio::task::JoinHandle<()>>>,
}

impl Stream {
    pub fn start(hook: String, per_second: u32) -> Stream {
        let books = Arc::new(Mutex::new(Books::default()));
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
        let shared = books.clone();
        let ticker = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(per_second)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let mut posts = Vec::new();
            let mut seq = 0u64;
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stopped.changed() => break,
                }
                seq += 1;
                shared.lock().unwrap().posted += 1;
                let (http, hook, books) = (http.clone(), hook.clone(), shared.clone());
                posts.push(tokio::spawn(async move {
                    let answer = http.post(&hook).json(&json!({"seq": seq})).send().await;
                    let booked = book(answer).await;
                    let mut books = books.lock().unwrap();
                    match booked {
                        Booked::Accepted(exec_id) => {
                            books.accepted.insert(seq, exec_id);
                        }
                        Booked::Refused(status) => *books.refused.entry(status).or_default() += 1,
                        Booked::Unanswered => {
                            books.unanswered.insert(seq);
                        }
                        Booked::Unclear(what) => books.unclear.push((seq, what)),
                    }
                }));
            }
            posts
        });
        Stream { books, stop, ticker }
    }

    /// How many posts were accepted so far.
    pub fn accepted(&self) -> usize {
        self.books.lock().unwrap().accepted.len()
    }

    /// How many posts were sent so far.
    pub fn posted(&self) -> u64 {
        self.books.lock().unwrap().posted
    }

    /// Refusals so far with `status`.
    pub fn refused(&self, status: u16) -> u64 {
        self.books.lock().unwrap().refused.get(&status).copied().unwrap_or(0)
    }

    pub async fn stop(self) -> Books {
        let _ = self.stop.send(true);
        for post in self.ticker.await.unwrap() {
            post.await.unwrap();
        }
        Arc::try_unwrap(self.books).unwrap().into_inner().unwrap()
    }
}

enum Booked {
    Accepted(String),
    Refused(u16),
    Unanswered,
    Unclear(String),
}

async fn book(answer: reqwest::Result<reqwest::Response>) -> Booked {
    let Ok(response) = answer else { return Booked::Unanswered };
    let status = response.status().as_u16();
    let retry_after = response.headers().contains_key(reqwest::header::RETRY_AFTER);
    let Ok(text) = response.text().await else { return Booked::Unanswered };
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    match status {
        200 => match body["wf_exec_id"].as_str() {
            Some(id) => Booked::Accepted(id.to_owned()),
            None => Booked::Unclear(format!("200 without a run id: {text}")),
        },
        429 | 503 if !retry_after => Booked::Unclear(format!("{status} without Retry-After: {text}")),
        // The edge's own answers (502, 504 while the api restarts) are JSON with a detail too.
        400..=599 if body["detail"].as_str().is_some_and(|d| !d.is_empty()) => Booked::Refused(status),
        _ => Booked::Unclear(format!("{status}: {text}")),
    }
}

/// Starts `workflow_id` once through the api; its run id.
pub async fn start_run(http: &reqwest::Client, stack: &Stack, workspace: &str, workflow_id: &str) -> String {
    let url = format!("{}/api/workflow-executions?workspace_id={workspace}", stack.url);
    let (status, run) = json_of(http.post(url).json(&json!({"workflow_id": workflow_id, "inputs": {}})).send().await.unwrap()).await;
    assert!(status == 200 || status == 201, "{run}");
    run["wf_exec_id"].as_str().unwrap_or_else(|| panic!("{run}")).to_owned()
}

/// Waits (at most `within`) for run `exec_id` to finish; its execution.
pub async fn finished(http: &reqwest::Client, stack: &Stack, workspace: &str, exec_id: &str, within: Duration) -> Value {
    let url = format!("{}/api/workflow-executions/{exec_id}?workspace_id={workspace}", stack.url);
    ferrocat_test_support::eventually(within, &format!("run {exec_id} to finish"), || async {
        let (status, execution) = json_of(http.get(&url).send().await.unwrap()).await;
        (status == 200 && execution["status"] != "RUNNING").then_some(execution)
    })
    .await
}

/// Every run of `wf_id` now (exec id -> status), finished or not.
pub async fn runs_now(http: &reqwest::Client, stack: &Stack, workspace: &str, wf_id: &str) -> BTreeMap<String, String> {
    let url = format!("{}/api/workflow-executions?workflow_id={wf_id}&workspace_id={workspace}&limit=500", stack.url);
    let (status, runs) = json_of(http.get(url).send().await.unwrap()).await;
    assert_eq!(status, 200, "{runs}");
    runs.as_array().unwrap().iter().map(|r| (r["id"].as_str().unwrap().to_owned(), r["status"].as_str().unwrap().to_owned())).collect()
}

/// Waits until every run of `wf_id` has finished and every run the books say was accepted is
/// listed (the listing is Temporal's visibility, which may lag a run's start by a moment), at
/// most `within`, and returns them (exec id -> status).
pub async fn settled_runs(http: &reqwest::Client, stack: &Stack, workspace: &str, wf_id: &str, books: &Books, within: Duration) -> BTreeMap<String, String> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let runs = runs_now(http, stack, workspace, wf_id).await;
        let running = runs.values().filter(|s| *s == "RUNNING").count();
        let unlisted = books.accepted.values().filter(|id| !runs.contains_key(*id)).count();
        if running == 0 && unlisted == 0 {
            return runs;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "after {within:?}: {running} of {} runs still running, {unlisted} accepted runs not listed",
            runs.len()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The seq each run was started with (from its result, `{"seq": n}`), fetched 16 at a time.
pub async fn seqs_of(http: &reqwest::Client, stack: &Stack, workspace: &str, runs: &BTreeMap<String, String>) -> BTreeMap<String, u64> {
    let api = format!("{}/api", stack.url);
    let mut seqs = BTreeMap::new();
    let ids: Vec<&String> = runs.keys().collect();
    for chunk in ids.chunks(16) {
        let fetched = futures::future::join_all(chunk.iter().map(|id| {
            let url = format!("{api}/workflow-executions/{id}?workspace_id={workspace}");
            async move { (id.to_string(), json_of(http.get(url).send().await.unwrap()).await) }
        }))
        .await;
        for (id, (status, execution)) in fetched {
            assert_eq!(status, 200, "{execution}");
            let seq = execution["result"]["seq"].as_u64().unwrap_or_else(|| panic!("run {id} has no seq in its result: {execution}"));
            seqs.insert(id, seq);
        }
    }
    seqs
}

/// The books against the runs: every accepted post is one run that completed with its own
/// seq; no post has two runs; and the only runs beyond the accepted ones belong to posts that
/// got no answer or a 5xx (the api took them, then died before it could say so).
pub fn reconcile(books: &Books, runs: &BTreeMap<String, String>, seqs: &BTreeMap<String, u64>) {
    books.check();
    for (id, status) in runs {
        assert_eq!(status, "COMPLETED", "run {id}");
    }
    let mut runs_of: BTreeMap<u64, Vec<&String>> = BTreeMap::new();
    for (id, seq) in seqs {
        runs_of.entry(*seq).or_default().push(id);
    }
    let twice: Vec<_> = runs_of.iter().filter(|(_, ids)| ids.len() > 1).collect();
    assert!(twice.is_empty(), "posts with more than one run: {twice:?}");
    for (seq, exec_id) in &books.accepted {
        assert_eq!(runs_of.get(seq).map(|ids| ids[0]), Some(exec_id), "post {seq} was accepted as {exec_id}");
    }
    let extra: Vec<u64> = runs_of.keys().filter(|seq| !books.accepted.contains_key(seq)).copied().collect();
    let unanswered_or_5xx = books.unanswered.len() as u64 + books.refused.range(500..).map(|(_, n)| n).sum::<u64>();
    assert!(
        extra.len() as u64 <= unanswered_or_5xx,
        "runs nobody was told about for posts {extra:?}, but only {unanswered_or_5xx} posts went unanswered or failed"
    );
}
