// One run: its graph coloured by each action's status, a timeline, and for every action its
// input, result, error, attempts and timings; cancel, terminate, or run again with the same
// trigger. Results kept in object storage come as download links.
import { useMemo, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { client, unwrap } from "../api/client";
import { can, useMe } from "../api/session";
import type { ActionEvent, DefinitionModel, ExecutionDetail } from "../api/types";
import { isDownload } from "../api/types";
import { keys } from "../api/workflows";
import { Link, navigate } from "../router";
import { Badge, ErrorNote, JsonView, PageHeader, Spinner, When, duration } from "../components/ui";
import { WorkflowGraph } from "../components/graph";
import { useRun } from "../components/editor-panels";

/** The status an action's node shows: failed wins, then running, then completed. */
function nodeStatuses(events: ActionEvent[]): Map<string, string> {
  const rank: Record<string, number> = { FAILED: 4, TIMED_OUT: 4, STARTED: 3, SCHEDULED: 2, COMPLETED: 1 };
  const out = new Map<string, string>();
  for (const e of events) {
    const now = out.get(e.action_ref);
    if (!now || (rank[e.status] ?? 0) > (rank[now] ?? 0)) out.set(e.action_ref, e.status);
  }
  return out;
}

export default function RunPage({ ws, exec }: { ws: string; exec: string }) {
  const run = useRun(ws, exec);
  if (run.error) return <ErrorNote error={run.error} />;
  if (!run.data) return <Spinner />;
  return <Run ws={ws} exec={exec} run={run.data} />;
}

function Run({ ws, exec, run }: { ws: string; exec: string; run: ExecutionDetail }) {
  const queries = useQueryClient();
  const editor = can(useMe().data, ws, "editor");
  const definition = useQuery({
    queryKey: ["definition", ws, run.workflow_id, String(run.version)],
    queryFn: () =>
      unwrap<DefinitionModel>(
        client.GET("/workflows/{workflow_id}/definition", { params: { path: { workflow_id: run.workflow_id! }, query: { workspace_id: ws, version: run.version! } } }),
      ),
    enabled: !!run.workflow_id && run.version !== null,
    staleTime: Infinity,
  });
  const statuses = useMemo(() => nodeStatuses(run.events), [run.events]);
  const [selected, setSelected] = useState<string>();
  const control = useMutation({
    mutationFn: (action: "cancel" | "terminate") =>
      unwrap(client.POST(`/workflow-executions/{execution_id}/${action}` as "/workflow-executions/{execution_id}/cancel", { params: { path: { execution_id: exec }, query: { workspace_id: ws } }, body: {} })),
    onSuccess: () => queries.invalidateQueries({ queryKey: keys.run(ws, exec) }),
  });
  const rerun = useMutation({
    mutationFn: () =>
      unwrap<{ wf_exec_id: string }>(
        client.POST("/workflow-executions", { params: { query: { workspace_id: ws } }, body: { workflow_id: run.workflow_id!, inputs: run.trigger ?? {} } as never }),
      ),
    onSuccess: (answer) => navigate(`/workspaces/${ws}/runs/${answer.wf_exec_id}`),
  });
  const running = run.status === "RUNNING";
  const shown = selected ? run.events.filter((e) => e.action_ref === selected) : run.events;
  return (
    <>
      <PageHeader
        title={definition.data ? String((definition.data.content as { title?: unknown }).title ?? "Run") : "Run"}
        description={
          <>
            <span className="mono">{run.id}</span> · <When at={run.start_time} /> · {duration(run.start_time, run.close_time)}
            {run.trigger_type && <> · {run.trigger_type}</>}
            {run.version !== null && <> · version {run.version}</>}
          </>
        }
      >
        <Badge status={run.status} />
        {run.workflow_id && (
          <Link className="button" to={`/workspaces/${ws}/workflows/${run.workflow_id}`}>
            Workflow
          </Link>
        )}
        {editor && running && (
          <>
            <button type="button" className="button" onClick={() => control.mutate("cancel")} disabled={control.isPending}>
              Cancel
            </button>
            <button type="button" className="button button-danger" onClick={() => control.mutate("terminate")} disabled={control.isPending}>
              Terminate
            </button>
          </>
        )}
        {editor && !running && run.workflow_id && (
          <button type="button" className="button button-primary" onClick={() => rerun.mutate()} disabled={rerun.isPending}>
            Run again
          </button>
        )}
      </PageHeader>
      <ErrorNote error={control.error ?? rerun.error} />
      {run.error && (
        <div className="note note-error" role="alert">
          <strong>The run failed: </strong>
          {run.error}
        </div>
      )}
      <div className="split">
        <section aria-label="Graph">
          {definition.data ? (
            <WorkflowGraph definition={definition.data.content} statuses={statuses} selected={selected} onSelect={(r) => setSelected(r === selected ? undefined : r)} label="Graph of the run" />
          ) : (
            <ErrorNote error={definition.error} />
          )}
          <h2 className="section-title">Timeline</h2>
          <Timeline run={run} />
        </section>
        <section aria-label="Actions" className="stack">
          <div className="row">
            <h2 className="grow">Actions {selected && <code>{selected}</code>}</h2>
            {selected && (
              <button type="button" className="button button-small" onClick={() => setSelected(undefined)}>
                Show all
              </button>
            )}
          </div>
          <details className="card">
            <summary>Trigger</summary>
            <JsonView value={run.trigger} label="Trigger" />
          </details>
          {run.status === "COMPLETED" && (
            <details className="card" open>
              <summary>Result</summary>
              <Value value={run.result} label="Run result" />
            </details>
          )}
          {shown.length === 0 && <p className="muted">No action has run yet.</p>}
          <ActionList events={shown} />
        </section>
      </div>
    </>
  );
}

/** Long lists show their first rows; the rest on demand. */
const FIRST = 100;

function ActionList({ events }: { events: ActionEvent[] }) {
  const [all, setAll] = useState(false);
  const list = all ? events : events.slice(0, FIRST);
  return (
    <>
      {list.map((e) => (
        <ActionCard key={e.event_id} event={e} />
      ))}
      {!all && events.length > FIRST && (
        <button type="button" className="button" onClick={() => setAll(true)}>
          Show all {events.length} actions
        </button>
      )}
    </>
  );
}

function ActionCard({ event: e }: { event: ActionEvent }) {
  return (
    <details className="card action-card" data-ref={e.action_ref}>
      <summary>
        <Badge status={e.status} /> <code>{e.action_ref}</code> <span className="muted">{e.action_name}</span>
        <span className="muted small">
          {" "}
          · {duration(e.start_time, e.close_time)}
          {e.attempt > 1 && ` · attempt ${e.attempt}`}
        </span>
      </summary>
      <div className="stack">
        {e.action_error && (
          <div className="note note-error">
            <strong>Error: </strong>
            {e.action_error.message ?? JSON.stringify(e.action_error)}
          </div>
        )}
        {e.steps.length > 0 && <TemplateSteps event={e} />}
        <h3>Input</h3>
        <JsonView value={e.action_input} label={`Input of ${e.action_ref}`} />
        {e.action_result !== null && e.action_result !== undefined && (
          <>
            <h3>Result</h3>
            <Value value={e.action_result} label={`Result of ${e.action_ref}`} />
          </>
        )}
        <p className="small muted">
          Started <When at={e.start_time} />, attempt {e.attempt}, event {e.event_id}.
        </p>
      </div>
    </details>
  );
}

/** The steps a template action ran (nested templates' indented), in the order they ended. */
function TemplateSteps({ event: e }: { event: ActionEvent }) {
  return (
    <>
      <h3>Template steps</h3>
      <table className="table steps">
        <caption className="visually-hidden">Steps of {e.action_name}</caption>
        <thead>
          <tr>
            <th scope="col">Step</th>
            <th scope="col">Action</th>
            <th scope="col">Status</th>
            <th scope="col">Took</th>
          </tr>
        </thead>
        <tbody>
          {e.steps.map((step, i) => (
            <tr key={i} data-step={step.ref}>
              <td style={{ paddingLeft: `${(step.depth - 1) * 1.25 + 0.5}rem` }}>
                <code>{step.ref}</code>
                {step.depth > 1 && <span className="muted small"> in {step.template}</span>}
              </td>
              <td>
                <code>{step.action}</code>
              </td>
              <td>
                <Badge status={step.status.toUpperCase()} />
                {step.error && <div className="small">{step.error}</div>}
              </td>
              <td>{duration(step.start_time ?? null, step.close_time ?? null)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** A result, or its download link when it was too large to show. */
function Value({ value, label }: { value: unknown; label: string }) {
  if (isDownload(value)) {
    const size = value.size_bytes ? ` (${Math.round(value.size_bytes / 1024)} KiB)` : "";
    return (
      <p>
        Too large to show here{size}:{" "}
        <a href={value.url} download>
          download it
        </a>{" "}
        (the link works for {Math.round((value.expires_in ?? 300) / 60)} minutes).
      </p>
    );
  }
  return <JsonView value={value} label={label} />;
}

function Timeline({ run }: { run: ExecutionDetail }) {
  const start = run.start_time ? new Date(run.start_time).getTime() : 0;
  const end = run.close_time ? new Date(run.close_time).getTime() : Date.now();
  const span = Math.max(end - start, 1);
  const [all, setAll] = useState(false);
  const events = all ? run.events : run.events.slice(0, FIRST);
  if (run.events.length === 0) return <p className="muted">Nothing yet.</p>;
  return (
    <div className="timeline" role="list" aria-label="Timeline">
      {events.map((e) => {
        const from = e.start_time ? new Date(e.start_time).getTime() - start : 0;
        const to = e.close_time ? new Date(e.close_time).getTime() - start : end - start;
        return (
          <div key={e.event_id} className="timeline-row" role="listitem">
            <code className="ellipsis" title={e.action_ref}>
              {e.action_ref}
            </code>
            <svg className="timeline-track" viewBox="0 0 1000 12" preserveAspectRatio="none" aria-hidden="true">
              <rect className={`timeline-bar status-${e.status.toLowerCase()}`} x={(from / span) * 1000} width={Math.max(((to - from) / span) * 1000, 3)} height={12} rx={2} />
            </svg>
            <span className="muted">{duration(e.start_time, e.close_time)}</span>
          </div>
        );
      })}
      {!all && run.events.length > FIRST && (
        <button type="button" className="button button-small" onClick={() => setAll(true)}>
          Show all {run.events.length}
        </button>
      )}
    </div>
  );
}
