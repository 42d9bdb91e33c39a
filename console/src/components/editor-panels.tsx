// The editor's side panels: run the workflow now, its webhook, its schedules, its case
// trigger, its versions.
import { useMemo, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, client, unwrap } from "../api/client";
import { can, useMe } from "../api/session";
import type { DefinitionModel, ExecutionDetail, ScheduleModel, VersionModel, WebhookModel, WorkflowModel } from "../api/types";
import { keys } from "../api/workflows";
import { CASE_EVENT_TYPES, caseKeys, type CaseTrigger } from "../api/types-cases";
import { Link } from "../router";
import { Badge, CopyButton, DataTable, ErrorNote, Field, JsonView, RowButtons, Spinner, When } from "./ui";
import { diffLines, parse, toYaml } from "../yaml";

const DONE = new Set(["COMPLETED", "FAILED", "CANCELED", "TERMINATED", "TIMED_OUT"]);

/** A run's detail, polled until it closes. */
export function useRun(ws: string, exec: string | undefined) {
  return useQuery({
    queryKey: keys.run(ws, exec ?? ""),
    queryFn: () =>
      unwrap<ExecutionDetail>(client.GET("/workflow-executions/{execution_id}", { params: { path: { execution_id: exec! }, query: { workspace_id: ws } } })),
    enabled: !!exec,
    refetchInterval: (query) => (query.state.data && DONE.has(query.state.data.status) ? false : 1000),
  });
}

export function RunPanel({ ws, workflow, dirty }: { ws: string; workflow: WorkflowModel; dirty: boolean }) {
  const editor = can(useMe().data, ws, "editor");
  const [trigger, setTrigger] = useState("{}");
  const [exec, setExec] = useState<string>();
  const [inputError, setInputError] = useState("");
  const run = useRun(ws, exec);
  const start = useMutation({
    mutationFn: (inputs: unknown) =>
      unwrap<{ wf_exec_id: string }>(client.POST("/workflow-executions", { params: { query: { workspace_id: ws } }, body: { workflow_id: workflow.id, inputs } as never })),
    onSuccess: (answer) => setExec(answer.wf_exec_id),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    let inputs: unknown;
    try {
      inputs = trigger.trim() ? JSON.parse(trigger) : {};
    } catch (e) {
      setInputError(`The trigger is not JSON: ${(e as Error).message}`);
      return;
    }
    setInputError("");
    start.mutate(inputs);
  };
  if (workflow.version === null) return <p className="note">Commit the workflow first: runs use its latest committed version.</p>;
  return (
    <div className="stack">
      <form className="stack" onSubmit={submit}>
        <p className="muted small">
          Runs version {workflow.version}
          {dirty && " (your unsaved and uncommitted changes are not part of it)"}.
        </p>
        <Field label="Trigger (JSON)" hint="What the run sees as TRIGGER.">
          <textarea rows={6} value={trigger} onChange={(e) => setTrigger(e.target.value)} spellCheck={false} />
        </Field>
        {inputError && <p className="note note-error">{inputError}</p>}
        <ErrorNote error={start.error} />
        <div className="row">
          <button type="submit" className="button button-primary" disabled={!editor || start.isPending}>
            Run
          </button>
        </div>
      </form>
      {exec && (
        <div className="card stack" aria-live="polite">
          <div className="row">
            <strong>Run</strong>
            {run.data ? <Badge status={run.data.status} /> : <Spinner />}
            <Link to={`/workspaces/${ws}/runs/${exec}`}>Open the run</Link>
          </div>
          {run.data?.error && <p className="note note-error">{run.data.error}</p>}
          {run.data && DONE.has(run.data.status) && run.data.status === "COMPLETED" && <JsonView value={run.data.result} label="Result" />}
        </div>
      )}
    </div>
  );
}

export function WebhookPanel({ ws, workflow }: { ws: string; workflow: WorkflowModel }) {
  const queries = useQueryClient();
  const editor = can(useMe().data, ws, "editor");
  const path = { path: { workflow_id: workflow.id }, query: { workspace_id: ws } };
  const webhook = useQuery({
    queryKey: keys.webhook(ws, workflow.id),
    queryFn: async () => {
      try {
        return await unwrap<WebhookModel>(client.GET("/workflows/{workflow_id}/webhook", { params: path }));
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) return null;
        throw e;
      }
    },
  });
  const [newKey, setNewKey] = useState<string>();
  const refresh = (model?: WebhookModel) => {
    if (model) queries.setQueryData(keys.webhook(ws, workflow.id), model);
    else void queries.invalidateQueries({ queryKey: keys.webhook(ws, workflow.id) });
  };
  const update = useMutation({
    mutationFn: (body: Partial<Pick<WebhookModel, "status" | "methods">>) =>
      unwrap<WebhookModel>(client.POST("/workflows/{workflow_id}/webhook", { params: path, body: body as never })),
    onSuccess: refresh,
  });
  const createKey = useMutation({
    mutationFn: () => unwrap<{ api_key: string }>(client.POST("/workflows/{workflow_id}/webhook/api-key", { params: path })),
    onSuccess: (answer) => {
      setNewKey(answer.api_key);
      refresh();
    },
  });
  const revokeKey = useMutation({
    mutationFn: () => unwrap(client.POST("/workflows/{workflow_id}/webhook/api-key/revoke", { params: path })),
    onSuccess: () => refresh(),
  });
  const deleteKey = useMutation({
    mutationFn: () => unwrap(client.DELETE("/workflows/{workflow_id}/webhook/api-key", { params: path })),
    onSuccess: () => {
      setNewKey(undefined);
      refresh();
    },
  });
  if (webhook.isPending) return <Spinner />;
  if (webhook.error) return <ErrorNote error={webhook.error} />;
  const hook = webhook.data;
  if (!hook) {
    return (
      <div className="stack">
        <p>
          A webhook gives this workflow a URL: every request to it starts a run with the request's body as <code>TRIGGER</code>. Alert
          sources, SIEMs and scripts post to it without signing in.
        </p>
        <ErrorNote error={update.error} />
        {editor ? (
          <button type="button" className="button button-primary" onClick={() => update.mutate({})} disabled={update.isPending}>
            Create webhook
          </button>
        ) : (
          <p className="muted">An editor can create one.</p>
        )}
      </div>
    );
  }
  const key = newKey ?? "<your API key>";
  const curl = hook.url
    ? `curl -X POST '${hook.url}' -H 'content-type: application/json'${hook.api_key && !hook.api_key.revoked_at ? ` -H 'x-tracecat-api-key: ${key}'` : ""} -d '{"alert": "test"}'`
    : "";
  const online = hook.status === "online";
  return (
    <div className="stack">
      <div className="row">
        <Badge status={hook.status} />
        {editor && (
          <button type="button" className="button button-small" onClick={() => update.mutate({ status: online ? "offline" : "online" })} disabled={update.isPending}>
            {online ? "Turn offline" : "Turn online"}
          </button>
        )}
        {workflow.version === null && <span className="note">Commit the workflow: a webhook runs the latest committed version.</span>}
      </div>
      <ErrorNote error={update.error} />
      {hook.url ? (
        <Field label="URL" hint="It carries the webhook's secret: treat it like a password.">
          <div className="row">
            <code className="grow break" data-copy={hook.url} data-testid="webhook-url">
              {hook.url}
            </code>
            <CopyButton text={hook.url} />
          </div>
        </Field>
      ) : (
        <p className="muted">Only editors see the URL.</p>
      )}
      <fieldset className="fieldset">
        <legend>Methods</legend>
        {["POST", "GET"].map((m) => (
          <label key={m} className="row">
            <input
              type="checkbox"
              checked={hook.methods.includes(m)}
              disabled={!editor || update.isPending}
              onChange={(e) => update.mutate({ methods: e.target.checked ? [...hook.methods, m] : hook.methods.filter((x) => x !== m) })}
            />
            {m}
          </label>
        ))}
      </fieldset>
      <div className="stack">
        <strong>API key</strong>
        {hook.api_key ? (
          <p className="small">
            <code>{hook.api_key.preview}…</code> made <When at={hook.api_key.created_at} />
            {hook.api_key.revoked_at && (
              <>
                {" "}
                · revoked <When at={hook.api_key.revoked_at} /> (the webhook refuses every call until a new key is issued or this one is deleted)
              </>
            )}
          </p>
        ) : (
          <p className="muted small">None: the secret in the URL is enough. A key adds a header callers must send.</p>
        )}
        {newKey && (
          <div className="note note-ok">
            <p>This is the only time the key is shown. Copy it now.</p>
            <div className="row">
              <code className="grow break" data-copy={newKey}>
                {newKey}
              </code>
              <CopyButton text={newKey} />
            </div>
          </div>
        )}
        {editor && (
          <div className="row">
            <button type="button" className="button button-small" onClick={() => createKey.mutate()} disabled={createKey.isPending}>
              {hook.api_key ? "Issue a new key" : "Require an API key"}
            </button>
            {hook.api_key && !hook.api_key.revoked_at && (
              <button type="button" className="button button-small button-danger" onClick={() => revokeKey.mutate()}>
                Revoke key
              </button>
            )}
            {hook.api_key && (
              <button type="button" className="button button-small" onClick={() => deleteKey.mutate()}>
                Delete key
              </button>
            )}
          </div>
        )}
        <ErrorNote error={createKey.error ?? revokeKey.error ?? deleteKey.error} />
      </div>
      {curl && (
        <Field label="Try it">
          <div className="row">
            <code className="grow break" data-copy={curl}>
              {curl}
            </code>
            <CopyButton text={curl} />
          </div>
        </Field>
      )}
      <p className="small muted">
        Add <code>/wait</code> to the URL to get the run's result in the answer.
      </p>
    </div>
  );
}

export function SchedulesPanel({ ws, workflow }: { ws: string; workflow: WorkflowModel }) {
  const queries = useQueryClient();
  const editor = can(useMe().data, ws, "editor");
  const schedules = useQuery({
    queryKey: keys.schedules(ws, workflow.id),
    queryFn: () => unwrap<ScheduleModel[]>(client.GET("/schedules", { params: { query: { workspace_id: ws, workflow_id: workflow.id } } })),
  });
  const refresh = () => queries.invalidateQueries({ queryKey: keys.schedules(ws, workflow.id) });
  const create = useMutation({
    mutationFn: (body: Record<string, unknown>) => unwrap(client.POST("/schedules", { params: { query: { workspace_id: ws } }, body: body as never })),
    onSuccess: refresh,
  });
  const update = useMutation({
    mutationFn: ({ id, status }: { id: string; status: string }) =>
      unwrap(client.PATCH("/schedules/{schedule_id}", { params: { path: { schedule_id: id }, query: { workspace_id: ws } }, body: { status } as never })),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: (id: string) => unwrap(client.DELETE("/schedules/{schedule_id}", { params: { path: { schedule_id: id }, query: { workspace_id: ws } } })),
    onSuccess: refresh,
  });
  const [kind, setKind] = useState<"every" | "cron">("every");
  const [formError, setFormError] = useState("");
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    let inputs: unknown = {};
    try {
      const text = String(data.get("inputs") ?? "").trim();
      inputs = text ? JSON.parse(text) : {};
    } catch (e) {
      setFormError(`Inputs are not JSON: ${(e as Error).message}`);
      return;
    }
    setFormError("");
    const value = String(data.get("value"));
    create.mutate({ workflow_id: workflow.id, inputs, ...(kind === "every" ? { every: value } : { cron: value }) });
  };
  return (
    <div className="stack">
      {schedules.isPending && <Spinner />}
      <ErrorNote error={schedules.error ?? update.error ?? remove.error} />
      {schedules.data && schedules.data.length === 0 && <p className="muted">No schedules. A schedule runs the latest committed version at fixed times.</p>}
      {schedules.data && schedules.data.length > 0 && (
        <DataTable label="Schedules" columns={["When", "Status"]} actions>
          {schedules.data.map((s) => (
            <tr key={s.id}>
              <td>
                <code>{s.cron ?? `every ${s.every}`}</code>
                {s.offset && <span className="muted"> offset {s.offset}</span>}
              </td>
              <td>
                <Badge status={s.status} />
              </td>
              <RowButtons
                buttons={[
                  editor && { label: s.status === "online" ? "Pause" : "Resume", onClick: () => update.mutate({ id: s.id, status: s.status === "online" ? "offline" : "online" }) },
                  editor && { label: "Delete", onClick: () => remove.mutate(s.id), danger: true },
                ]}
              />
            </tr>
          ))}
        </DataTable>
      )}
      {editor && (
        <form className="card stack" onSubmit={submit}>
          <h3>Add a schedule</h3>
          <div className="row">
            <label className="row">
              <input type="radio" name="kind" checked={kind === "every"} onChange={() => setKind("every")} /> Every
            </label>
            <label className="row">
              <input type="radio" name="kind" checked={kind === "cron"} onChange={() => setKind("cron")} /> Cron
            </label>
          </div>
          <Field label={kind === "every" ? "Interval (ISO 8601, e.g. PT1H)" : "Cron expression (e.g. 0 * * * *)"}>
            <input name="value" required key={kind} placeholder={kind === "every" ? "PT1H" : "0 * * * *"} />
          </Field>
          <Field label="Inputs (JSON)">
            <textarea name="inputs" rows={3} defaultValue="{}" />
          </Field>
          {formError && <p className="note note-error">{formError}</p>}
          <ErrorNote error={create.error} />
          <div>
            <button type="submit" className="button button-primary" disabled={create.isPending || workflow.version === null}>
              Add schedule
            </button>
            {workflow.version === null && <span className="muted small"> Commit the workflow first.</span>}
          </div>
        </form>
      )}
    </div>
  );
}

/** A committed version's content; `which` is a version number, or "draft" / "" for none. */
function useDefinition(ws: string, wf: string, which: string) {
  return useQuery({
    queryKey: ["definition", ws, wf, which],
    queryFn: () =>
      unwrap<DefinitionModel>(client.GET("/workflows/{workflow_id}/definition", { params: { path: { workflow_id: wf }, query: { workspace_id: ws, version: Number(which) } } })),
    enabled: which !== "" && which !== "draft",
    staleTime: Infinity,
  });
}

export function VersionsPanel({
  ws,
  workflow,
  draft,
  dirty,
  onRestored,
}: {
  ws: string;
  workflow: WorkflowModel;
  draft: string;
  dirty: boolean;
  onRestored: (model: WorkflowModel, version: number) => void;
}) {
  const editor = can(useMe().data, ws, "editor");
  const versions = useQuery({
    queryKey: keys.versions(ws, workflow.id),
    queryFn: () => unwrap<VersionModel[]>(client.GET("/workflows/{workflow_id}/definitions", { params: { path: { workflow_id: workflow.id }, query: { workspace_id: ws } } })),
  });
  const [left, setLeft] = useState<string>("");
  const [right, setRight] = useState<string>("draft");
  const leftDoc = useDefinition(ws, workflow.id, left);
  const rightDoc = useDefinition(ws, workflow.id, right);
  // Both sides written the same way, so the diff shows what changed, not how it was typed.
  const draftYaml = useMemo(() => {
    const value = parse(draft).value;
    return value && typeof value === "object" ? toYaml(value as Record<string, unknown>) : draft;
  }, [draft]);
  const textOf = (which: string, doc: DefinitionModel | undefined) => (which === "draft" ? draftYaml : doc ? toYaml(doc.content) : undefined);
  const a = textOf(left, leftDoc.data);
  const b = textOf(right, rightDoc.data);
  const diff = useMemo(() => (a !== undefined && b !== undefined ? diffLines(a, b) : []), [a, b]);
  const restore = useMutation({
    mutationFn: (version: number) =>
      unwrap<WorkflowModel>(
        client.POST("/workflows/{workflow_id}/definitions/{version}/restore", { params: { path: { workflow_id: workflow.id, version: String(version) }, query: { workspace_id: ws } } }),
      ),
    onSuccess: onRestored,
  });
  if (versions.isPending) return <Spinner />;
  if (versions.error) return <ErrorNote error={versions.error} />;
  if (versions.data.length === 0) return <p className="muted">No versions yet: each commit makes one, and runs use the latest.</p>;
  const options = (
    <>
      <option value="draft">Draft (the editor)</option>
      {versions.data.map((v) => (
        <option key={v.version} value={String(v.version)}>
          Version {v.version}
        </option>
      ))}
    </>
  );
  return (
    <div className="stack">
      <DataTable label="Versions" columns={["Version", "Committed"]} actions>
        {versions.data.map((v) => (
          <tr key={v.version}>
            <td>
              {v.version}
              {v.version === workflow.version && <span className="tag">latest</span>}
            </td>
            <td>
              <When at={v.created_at} />
            </td>
            <td className="row">
              <button type="button" className="button button-small" onClick={() => setLeft(String(v.version))}>
                Compare<span className="visually-hidden"> version {v.version}</span>
              </button>
              {editor && (
                <button
                  type="button"
                  className="button button-small"
                  disabled={restore.isPending}
                  onClick={() => {
                    if (!dirty || window.confirm("Restoring replaces your unsaved changes. Go on?")) restore.mutate(v.version);
                  }}
                >
                  Restore<span className="visually-hidden"> version {v.version}</span>
                </button>
              )}
            </td>
          </tr>
        ))}
      </DataTable>
      <ErrorNote error={restore.error} />
      <div className="row">
        <label className="field">
          <span className="field-label">Compare</span>
          <select value={left} onChange={(e) => setLeft(e.target.value)}>
            <option value="">Pick a version</option>
            {options}
          </select>
        </label>
        <label className="field">
          <span className="field-label">with</span>
          <select value={right} onChange={(e) => setRight(e.target.value)}>
            {options}
          </select>
        </label>
      </div>
      {diff.length > 0 && (
        <div className="diff" role="region" aria-label="Differences" tabIndex={0}>
          {diff.every((d) => d.kind === "same") && <div>No differences.</div>}
          {diff.map((d, i) => (
            <div key={i} className={d.kind}>
              {d.kind === "add" ? "+ " : d.kind === "del" ? "- " : "  "}
              {d.text}
            </div>
          ))}
        </div>
      )}
    </div>
  );
}

/**
 * The workflow's case trigger: it runs on events of the workspace's cases (a case opened, its
 * status changed, a comment added), optionally only for cases with given tags. When the
 * platform switched a broken trigger off, it says why.
 */
export function CaseTriggerPanel({ ws, workflow }: { ws: string; workflow: WorkflowModel }) {
  const editor = can(useMe().data, ws, "editor");
  const trigger = useQuery({
    queryKey: caseKeys.trigger(ws, workflow.id),
    queryFn: async () => {
      try {
        return await unwrap<CaseTrigger>(client.GET("/workflows/{workflow_id}/case-trigger", { params: { path: { workflow_id: workflow.id }, query: { workspace_id: ws } } }));
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) return null;
        throw e;
      }
    },
  });
  if (trigger.isPending) return <Spinner />;
  if (trigger.error) return <ErrorNote error={trigger.error} />;
  return <CaseTriggerForm key={trigger.data?.updated_at ?? "none"} ws={ws} workflow={workflow} trigger={trigger.data} editor={editor} />;
}

function CaseTriggerForm({ ws, workflow, trigger, editor }: { ws: string; workflow: WorkflowModel; trigger: CaseTrigger | null; editor: boolean }) {
  const queries = useQueryClient();
  const [online, setOnline] = useState(trigger?.status === "online");
  const [events, setEvents] = useState<string[]>(trigger?.event_types ?? ["case_created"]);
  const [tagText, setTagText] = useState((trigger?.tag_filters ?? []).join(", "));
  const [saved, setSaved] = useState(false);
  const save = useMutation({
    mutationFn: () => {
      const params = { path: { workflow_id: workflow.id }, query: { workspace_id: ws } };
      const body = {
        status: online ? "online" : "offline",
        event_types: events,
        tag_filters: tagText.split(",").map((t) => t.trim()).filter(Boolean),
      };
      return trigger
        ? unwrap<CaseTrigger>(client.PATCH("/workflows/{workflow_id}/case-trigger", { params, body }))
        : unwrap<CaseTrigger>(client.POST("/workflows/{workflow_id}/case-trigger", { params, body }));
    },
    onSuccess: (answer) => {
      setSaved(true);
      queries.setQueryData(caseKeys.trigger(ws, workflow.id), answer);
    },
  });
  const known: readonly string[] = CASE_EVENT_TYPES;
  const all = [...known, ...events.filter((e) => !known.includes(e))];
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    save.mutate();
  };
  return (
    <form className="stack" onSubmit={submit}>
      <p>
        A case trigger runs this workflow when something happens to a case of the workspace; the run sees the case and the event as{" "}
        <code>TRIGGER</code>.
      </p>
      {trigger?.disabled_reason && <ErrorNote error={new Error(trigger.disabled_reason)} title="The platform switched this trigger off" />}
      <div className="row">
        <Badge status={trigger?.status ?? "offline"} />
        <span className="muted small">{trigger ? <>changed <When at={trigger.updated_at} /></> : "not set up yet"}</span>
      </div>
      {workflow.version === null && <p className="note">Commit the workflow: a case trigger runs the latest committed version.</p>}
      <label className="check">
        <input type="checkbox" checked={online} onChange={(e) => setOnline(e.target.checked)} disabled={!editor} />
        <span>Online (run on case events)</span>
      </label>
      <fieldset className="kv">
        <legend className="field-label">Event types</legend>
        <div className="trigger-events">
          {all.map((type) => (
            <label key={type} className="check small">
              <input
                type="checkbox"
                checked={events.includes(type)}
                disabled={!editor}
                onChange={(e) => setEvents(e.target.checked ? [...events, type] : events.filter((x) => x !== type))}
              />
              <span className="mono">{type}</span>
            </label>
          ))}
        </div>
      </fieldset>
      <Field label="Tag filters" hint="Tag refs separated by commas; a case must carry one of them. Empty: every case.">
        <input value={tagText} onChange={(e) => setTagText(e.target.value)} readOnly={!editor} autoComplete="off" spellCheck={false} placeholder="phishing, tier-1" />
      </Field>
      <ErrorNote error={save.error} title="Not saved" />
      {saved && !save.isPending && (
        <p className="note note-ok" role="status">
          Case trigger saved.
        </p>
      )}
      {editor ? (
        <div>
          <button type="submit" className="button button-primary" disabled={save.isPending || events.length === 0}>
            {save.isPending ? <Spinner label="Saving" /> : "Save case trigger"}
          </button>
        </div>
      ) : (
        <p className="muted">An editor can change it.</p>
      )}
    </form>
  );
}
