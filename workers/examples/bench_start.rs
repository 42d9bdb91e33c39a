//! The floor under webhook latency (issue 20): what Temporal's dev server itself gives for the
//! one RPC a webhook waits on, StartWorkflowExecution, from a bare client with C starts in
//! flight (no api, no edge, no database). Two rounds, alternated and repeated: starts on a
//! queue no worker polls (the server's accept path alone), and starts that the DSL worker and
//! executor also run to completion (what `ferrocat up` does while webhooks arrive). Prints
//! p50/p99 of a start and starts/s, medians over the repeats. Needs a Temporal server at
//! FERROCAT_TEMPORAL_ADDRESS; deploy/bench-engine.sh starts a dev server as `up` runs it:
//!
//!   EXAMPLE=bench_start N=2000 C=16 REPEATS=3 deploy/bench-engine.sh

use std::time::{Duration, Instant};

use serde_json::json;
use temporalio_client::WorkflowStartOptions;
use temporalio_sdk::{Runtime, Worker, WorkerOptions};
use uuid::Uuid;

use ferrocat_shared::config::Env;
use ferrocat_shared::temporal::{DslRunArgs, TemporalConfig};
use ferrocat_workers::executor::Executor;
use ferrocat_workers::workflow::DslWorkflow;

fn var(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Starts `n` runs of `args` on `queue`, `c` at a time; each start's latency, and the wall time.
async fn round(client: &temporalio_client::Client, queue: &str, args: &DslRunArgs, n: usize, c: usize) -> (Vec<Duration>, Duration) {
    let started = Instant::now();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let senders = (0..c).map(|_| async {
        let mut times = Vec::new();
        while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < n {
            let mut options = WorkflowStartOptions::new(queue.to_owned(), format!("wf_bench/exec_{}", Uuid::new_v4().simple())).build();
            options.task_timeout = Some(Duration::from_secs(10));
            let t = Instant::now();
            client.start_workflow(DslWorkflow::run, args.clone(), options).await.expect("start");
            times.push(t.elapsed());
        }
        times
    });
    let mut times: Vec<Duration> = futures::future::join_all(senders).await.into_iter().flatten().collect();
    times.sort();
    (times, started.elapsed())
}

/// One kind of round: each repeat's p50 and p99 (ms) and starts/s.
struct Row {
    name: &'static str,
    p50: Vec<f64>,
    p99: Vec<f64>,
    rate: Vec<f64>,
}

impl Row {
    fn new(name: &'static str) -> Row {
        Row { name, p50: Vec::new(), p99: Vec::new(), rate: Vec::new() }
    }
}

fn quantile(sorted: &[Duration], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1000.0
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (n, c, repeats) = (var("N", 2000), var("C", 16), var("REPEATS", 3));
    let env = Env::from_process();
    let client = TemporalConfig::from_env(&env)?.connect().await?;
    let suffix = Uuid::new_v4().simple().to_string();
    let (idle_queue, dsl_queue, exec_queue) = (format!("bench-idle-{suffix}"), format!("bench-dsl-{suffix}"), format!("bench-exec-{suffix}"));
    // The webhook benchmark's workflow: one reshape of the alert (a local activity).
    let dsl = serde_json::from_value(json!({"title": "bench", "description": "one reshape", "entrypoint": {"ref": "shape"},
        "actions": [{"ref": "shape", "action": "core.transform.reshape", "args": {"value": {"alert": "${{ TRIGGER.alert }}"}}}],
        "returns": "${{ ACTIONS.shape.result }}"}))?;
    let args = DslRunArgs { wf_id: "wf_bench".into(), workspace_id: Uuid::nil(), version: 1, dsl, trigger: json!({"alert": "A-1"}),
        trigger_type: "webhook".into(), executor_queue: exec_queue.clone(), vars: Default::default() };
    let runtime = Runtime::from_current_tokio(Default::default())?;
    let mut dsl_worker = Worker::new(&runtime, client.clone(), WorkerOptions::new(dsl_queue.clone()).register_workflow::<DslWorkflow>()?.register_activities(Executor::build(&env)?).build())?;
    let mut exec_worker = Worker::new(&runtime, client.clone(), WorkerOptions::new(exec_queue).register_activities(Executor::build(&env)?).build())?;
    let stops = [dsl_worker.shutdown_handle(), exec_worker.shutdown_handle()];
    let workers = async {
        let (a, b) = tokio::join!(dsl_worker.run(), exec_worker.run());
        a.and(b)
    };
    let bench = async {
        let mut table = [Row::new("start only (no worker)"), Row::new("start, runs processed")];
        round(&client, &dsl_queue, &args, 100, c).await; // warm-up
        for _ in 0..repeats {
            for (i, queue) in [&idle_queue, &dsl_queue].into_iter().enumerate() {
                let (times, wall) = round(&client, queue, &args, n, c).await;
                table[i].p50.push(quantile(&times, 0.5));
                table[i].p99.push(quantile(&times, 0.99));
                table[i].rate.push(n as f64 / wall.as_secs_f64());
            }
        }
        println!("StartWorkflowExecution from a bare client: {n} starts, {c} in flight, medians of {repeats} alternated rounds");
        println!("{:<26} {:>10} {:>10} {:>10}", "", "p50 ms", "p99 ms", "starts/s");
        for row in table {
            println!("{:<26} {:>10.1} {:>10.1} {:>10.0}", row.name, median(row.p50), median(row.p99), median(row.rate));
        }
        for stop in &stops {
            stop();
        }
        anyhow::Ok(())
    };
    let (ran, benched) = tokio::join!(workers, bench);
    benched?;
    ran?;
    Ok(())
}
