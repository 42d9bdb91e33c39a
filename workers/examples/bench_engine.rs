//! Engine benchmark (issue 4): `ferrocat run`'s overhead per action, and through Temporal the
//! start-to-result time of a 1-action and a 10-action-chain workflow and the throughput of 200
//! concurrent runs, beside a bare Temporal SDK workflow with one activity measured in the same
//! run, alternated. Needs a Temporal server at FERROCAT_TEMPORAL_ADDRESS (deploy/bench-engine.sh
//! starts a dev server with a file database). Prints medians and ratios.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use temporalio_client::{WorkflowGetResultOptions, WorkflowStartOptions};
use temporalio_macros::{activities, workflow, workflow_methods};
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use temporalio_sdk::{ActivityOptions, Runtime, Worker, WorkerOptions, WorkflowContext, WorkflowResult};
use uuid::Uuid;

use ferrocat_shared::config::Env;
use ferrocat_dsl::Workflow;
use ferrocat_shared::temporal::{DslRunArgs, TemporalConfig};
use ferrocat_workers::workflow::DslWorkflow;
use ferrocat_workers::workflow::local::run_locally;

/// The anchor: the smallest useful Temporal workflow, one activity.
#[workflow]
#[derive(Default)]
pub struct BareWorkflow;

#[workflow_methods]
impl BareWorkflow {
    #[run(name = "BareWorkflow")]
    pub async fn run(ctx: &mut WorkflowContext<Self>, input: Value) -> WorkflowResult<Value> {
        let options = ActivityOptions::start_to_close_timeout(Duration::from_secs(10));
        Ok(ctx.execute_activity(BareActivities::echo, input, options).await?)
    }
}

pub struct BareActivities;

#[activities]
impl BareActivities {
    #[activity(name = "bare_echo")]
    pub async fn echo(_ctx: ActivityContext, input: Value) -> Result<Value, ActivityError> {
        Ok(input)
    }
}

fn chain(n: usize) -> Workflow {
    let mut actions = Vec::new();
    for i in 0..n {
        let depends = if i == 0 { json!([]) } else { json!([format!("a{}", i - 1)]) };
        actions.push(json!({"ref": format!("a{i}"), "action": "core.transform.reshape", "depends_on": depends,
                            "args": {"value": {"n": i, "alert": "${{ TRIGGER.alert }}"}}}));
    }
    serde_json::from_value(json!({"title": "bench", "description": "chain", "entrypoint": {}, "actions": actions,
        "returns": format!("${{{{ ACTIONS.a{}.result }}}}", n - 1)}))
    .unwrap()
}

/// A scatter over `n` items, one reshape per item, gathered back.
fn fan_out(n: usize) -> Workflow {
    serde_json::from_value(json!({"title": "bench", "description": "scatter", "entrypoint": {}, "actions": [
        {"ref": "s", "action": "core.transform.scatter", "args": {"collection": format!("${{{{ FN.range(0, {n}) }}}}")}},
        {"ref": "r", "action": "core.transform.reshape", "depends_on": ["s"], "args": {"value": "${{ ACTIONS.s.result * 2 }}"}},
        {"ref": "g", "action": "core.transform.gather", "depends_on": ["r"], "args": {"items": "${{ ACTIONS.r.result }}"}},
    ], "returns": "${{ FN.length(ACTIONS.g.result) }}"}))
    .unwrap()
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    xs[xs.len() / 2]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // 1. Local overhead per action: a 200-action chain against a 1-action one.
    let trigger = json!({"alert": "A-1"});
    let (mut one, mut many) = (Vec::new(), Vec::new());
    for _ in 0..15 {
        let t = Instant::now();
        run_locally(chain(1), trigger.clone(), Default::default()).await.map_err(|f| anyhow::anyhow!(f.message))?;
        one.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        run_locally(chain(200), trigger.clone(), Default::default()).await.map_err(|f| anyhow::anyhow!(f.message))?;
        many.push(t.elapsed().as_secs_f64());
    }
    let per_action = (median(many) - median(one.clone())) / 199.0;
    println!("local: ferrocat run overhead per reshape action: {:.1} µs (1-action run {:.2} ms; goal under 100 µs)", per_action * 1e6, median(one) * 1e3);
    let mut scatter = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let finished = run_locally(fan_out(10_000), Value::Null, Default::default()).await.map_err(|f| anyhow::anyhow!(f.message))?;
        anyhow::ensure!(finished.value == json!(10_000), "the scatter lost items: {}", finished.value);
        scatter.push(t.elapsed().as_secs_f64());
    }
    println!("local: 10,000-item scatter/gather: {:.0} ms median (goal under 1,000 ms)", median(scatter) * 1e3);

    // 2. Through Temporal, workers in this process on private queues.
    let env = Env::from_process();
    let temporal = TemporalConfig::from_env(&env)?;
    let suffix = Uuid::new_v4().simple().to_string();
    let (dsl_queue, exec_queue, bare_queue) = (format!("bench-dsl-{suffix}"), format!("bench-exec-{suffix}"), format!("bench-bare-{suffix}"));
    let runtime = Runtime::from_current_tokio(Default::default())?;
    let client = temporal.connect().await?;
    let mut dsl_worker = Worker::new(&runtime, client.clone(), WorkerOptions::new(dsl_queue.clone()).register_workflow::<DslWorkflow>()?.register_activities(ferrocat_workers::executor::Executor::build(&env)?).build())?;
    let mut exec_worker = Worker::new(
        &runtime,
        client.clone(),
        WorkerOptions::new(exec_queue.clone()).register_activities(ferrocat_workers::executor::Executor::build(&env)?).build(),
    )?;
    let mut bare_worker = Worker::new(
        &runtime,
        client.clone(),
        WorkerOptions::new(bare_queue.clone()).register_workflow::<BareWorkflow>()?.register_activities(BareActivities).build(),
    )?;
    let stops = [dsl_worker.shutdown_handle(), exec_worker.shutdown_handle(), bare_worker.shutdown_handle()];
    let workers = async {
        let (a, b, c) = tokio::join!(dsl_worker.run(), exec_worker.run(), bare_worker.run());
        a.and(b).and(c)
    };
    let bench = async {
        let dsl_run = |n: usize| {
            let client = client.clone();
            let (dsl_queue, exec_queue) = (dsl_queue.clone(), exec_queue.clone());
            async move {
                let args = DslRunArgs { wf_id: "wf_bench".into(), workspace_id: Uuid::nil(), version: 1, dsl: chain(n),
                    trigger: json!({"alert": "A-1"}), trigger_type: "manual".into(), executor_queue: exec_queue, vars: Default::default() };
                let t = Instant::now();
                let handle = client.start_workflow(DslWorkflow::run, args, WorkflowStartOptions::new(dsl_queue, format!("wf_bench/exec_{}", Uuid::new_v4().simple())).build()).await?;
                handle.get_result(WorkflowGetResultOptions::default()).await?;
                anyhow::Ok(t.elapsed().as_secs_f64())
            }
        };
        let bare_run = || {
            let client = client.clone();
            let bare_queue = bare_queue.clone();
            async move {
                let t = Instant::now();
                let handle = client.start_workflow(BareWorkflow::run, json!({"alert": "A-1"}), WorkflowStartOptions::new(bare_queue, format!("bare-{}", Uuid::new_v4())).build()).await?;
                handle.get_result(WorkflowGetResultOptions::default()).await?;
                anyhow::Ok(t.elapsed().as_secs_f64())
            }
        };
        // Warm up, then alternate.
        for _ in 0..3 { dsl_run(1).await?; bare_run().await?; }
        let (mut bare, mut one, mut ten) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..20 {
            bare.push(bare_run().await?);
            one.push(dsl_run(1).await?);
            ten.push(dsl_run(10).await?);
        }
        let (b, o, t) = (median(bare), median(one), median(ten));
        println!("temporal: start->result median: bare SDK 1-activity {:.1} ms | ferrocat 1-action {:.1} ms ({:.2}x bare) | 10-action chain {:.1} ms ({:.2}x bare)", b * 1e3, o * 1e3, o / b, t * 1e3, t / b);
        println!("temporal: against Tracecat's engine measured here (1-action 249 ms, 10-chain 1,148 ms): 1-action {:.2}x, 10-chain {:.2}x its time (goals: under 100 ms and 150 ms)", o / 0.249, t / 1.148);
        for (name, which) in [("bare SDK 1-activity", 0), ("ferrocat 1-action", 1), ("ferrocat 10-action chain", 10)] {
            let t0 = Instant::now();
            let runs: Vec<_> = (0..200).map(|_| {
                let fut: std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<f64>> + Send>> =
                    if which == 0 { Box::pin(bare_run()) } else { Box::pin(dsl_run(which)) };
                tokio::spawn(fut)
            }).collect();
            for r in runs { r.await??; }
            let rate = 200.0 / t0.elapsed().as_secs_f64();
            let anchor = match which { 0 => String::new(), 1 => format!(" ({:.1}x Tracecat's 14-17/s; goal 2x)", rate / 15.5), _ => format!(" ({:.1}x Tracecat's 3.7-4.3/s; goal 5x)", rate / 4.0) };
            println!("temporal: 200 concurrent {name}: {rate:.1} workflows/s{anchor}");
        }
        for stop in &stops { stop(); }
        anyhow::Ok(())
    };
    let (worker_result, bench_result) = tokio::join!(workers, bench);
    bench_result?;
    worker_result?;
    Ok(())
}
