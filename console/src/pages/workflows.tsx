// Workflows: every workflow of the workspace with its state and last run; create, import,
// export, duplicate and delete.
import { useMemo, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { client, unwrap } from "../api/client";
import { can, useMe } from "../api/session";
import type { RunSummary, WorkflowModel } from "../api/types";
import { exportUrl, importWorkflow, keys, listRuns, useWorkflows } from "../api/workflows";
import { Link, navigate } from "../router";
import { Badge, DataTable, Dialog, Empty, ErrorNote, Field, PageHeader, Spinner, When } from "../components/ui";
import { ConfirmDialog, useConfirmed } from "../components/forms";

const EXAMPLE = `title: Hello webhook
description: Reshape the alert, then call an HTTP API
entrypoint: {ref: shape}
actions:
  - ref: shape
    action: core.transform.reshape
    args:
      value:
        alert: \${{ TRIGGER.alert }}
        loud: \${{ TRIGGER.severity > 2 }}
returns:
  alert: \${{ ACTIONS.shape.result.alert }}
`;

export function WorkflowsPage({ ws }: { ws: string }) {
  const me = useMe().data;
  const queries = useQueryClient();
  const workflows = useWorkflows(ws);
  const runs = useQuery({ queryKey: keys.runs(ws, { latest: true }), queryFn: () => listRuns(ws, { limit: 500 }) });
  const [search, setSearch] = useState("");
  const [status, setStatus] = useState("");
  const [dialog, setDialog] = useState<"" | "create" | "import">("");
  const remove = useConfirmed(
    (w: WorkflowModel) => unwrap(client.DELETE("/workflows/{workflow_id}", { params: { path: { workflow_id: w.id }, query: { workspace_id: ws } } })),
    () => queries.invalidateQueries({ queryKey: keys.workflows(ws) }),
  );
  const editor = can(me, ws, "editor");

  const lastRun = useMemo(() => {
    const by = new Map<string, RunSummary>();
    for (const run of runs.data ?? []) if (!by.has(run.workflow_id)) by.set(run.workflow_id, run);
    return by;
  }, [runs.data]);
  const [tag, setTag] = useState("");
  const tags = useMemo(() => [...new Set((workflows.data ?? []).flatMap((w) => w.tags))].sort(), [workflows.data]);
  const shown = useMemo(() => {
    const needle = search.trim().toLowerCase();
    return (workflows.data ?? []).filter(
      (w) =>
        (!status || (status === "draft") === (w.version === null)) &&
        (!tag || w.tags.includes(tag)) &&
        (!needle || [w.title, w.description, w.alias ?? "", w.id, ...w.tags].some((t) => t.toLowerCase().includes(needle))),
    );
  }, [workflows.data, search, status, tag]);

  return (
    <>
      <PageHeader title="Workflows" description="Automations written in YAML, run durably on every trigger.">
        {editor && (
          <>
            <button type="button" className="button" onClick={() => setDialog("import")}>
              Import
            </button>
            <button type="button" className="button button-primary" onClick={() => setDialog("create")}>
              New workflow
            </button>
          </>
        )}
      </PageHeader>
      <ErrorNote error={workflows.error} />
      {workflows.isPending && <Spinner />}
      {workflows.data && workflows.data.length === 0 && (
        <Empty title="No workflows yet">
          <p>
            A workflow is a list of actions in YAML: call an API, reshape an alert, ask a model. Start from a blank one, or import a
            YAML file (Tracecat's exports work too). Once committed, give it a webhook and every alert you post to it becomes a run.
          </p>
          {editor && (
            <div className="row center-row">
              <button type="button" className="button button-primary" onClick={() => setDialog("import")}>
                Import the example
              </button>
            </div>
          )}
        </Empty>
      )}
      {workflows.data && workflows.data.length > 0 && (
        <>
          <div className="row toolbar">
            <label className="field grow">
              <span className="visually-hidden">Search workflows</span>
              <input type="search" placeholder="Search by title, description, tag, alias or id" value={search} onChange={(e) => setSearch(e.target.value)} />
            </label>
            <label className="field">
              <span className="visually-hidden">Status</span>
              <select value={status} onChange={(e) => setStatus(e.target.value)}>
                <option value="">Any status</option>
                <option value="committed">Committed</option>
                <option value="draft">Never committed</option>
              </select>
            </label>
            {tags.length > 0 && (
              <label className="field">
                <span className="visually-hidden">Tag</span>
                <select value={tag} onChange={(e) => setTag(e.target.value)}>
                  <option value="">Any tag</option>
                  {tags.map((t) => (
                    <option key={t} value={t}>
                      {t}
                    </option>
                  ))}
                </select>
              </label>
            )}
          </div>
          <DataTable label="Workflows" columns={["Title", "Status", "Version", "Last run", "Updated"]} actions>
            {shown.map((w) => {
              const run = lastRun.get(w.id);
              return (
                <tr key={w.id}>
                  <td>
                    <Link to={`/workspaces/${ws}/workflows/${w.id}`}>{w.title}</Link>
                    {w.alias && <span className="tag mono">{w.alias}</span>}
                    <div className="muted small">{w.description}</div>
                    {w.tags.length > 0 && (
                      <div className="row tags" aria-label="Tags">
                        {w.tags.map((t) => (
                          <button key={t} type="button" className="tag tag-button" onClick={() => setTag(t)} title={`Only workflows tagged ${t}`}>
                            {t}
                          </button>
                        ))}
                      </div>
                    )}
                  </td>
                  <td>
                    <Badge status={w.version === null ? "draft" : "committed"} />
                  </td>
                  <td>{w.version ?? "—"}</td>
                  <td>
                    {run ? (
                      <Link to={`/workspaces/${ws}/runs/${run.id}`}>
                        <Badge status={run.status} /> <When at={run.start_time} />
                      </Link>
                    ) : (
                      <span className="muted">never</span>
                    )}
                  </td>
                  <td>
                    <When at={w.updated_at} />
                  </td>
                  <td>
                    <RowActions ws={ws} workflow={w} editor={editor} onDelete={remove.ask(w)} />
                  </td>
                </tr>
              );
            })}
          </DataTable>
          {shown.length === 0 && <p className="muted">No workflow matches.</p>}
        </>
      )}
      <CreateDialog ws={ws} open={dialog === "create"} onClose={() => setDialog("")} />
      <ImportDialog ws={ws} open={dialog === "import"} onClose={() => setDialog("")} example={workflows.data?.length === 0 ? EXAMPLE : ""} />
      <ConfirmDialog {...remove.dialog} title="Delete workflow" confirmLabel="Delete">
        <p>
          Delete <strong>{remove.target?.title}</strong> with all its versions, its webhook and its schedules? Runs already in history stay.
        </p>
      </ConfirmDialog>
    </>
  );
}

function RowActions({ ws, workflow, editor, onDelete }: { ws: string; workflow: WorkflowModel; editor: boolean; onDelete: () => void }) {
  const queries = useQueryClient();
  const duplicate = useMutation({
    mutationFn: async () => {
      const definition = { ...workflow.definition, title: `${workflow.title} (copy)` };
      return unwrap<WorkflowModel>(client.POST("/workflows", { params: { query: { workspace_id: ws } }, body: definition as never }));
    },
    onSuccess: (copy) => {
      void queries.invalidateQueries({ queryKey: keys.workflows(ws) });
      navigate(`/workspaces/${ws}/workflows/${copy.id}`);
    },
  });
  return (
    <div className="row">
      <a className="button button-small" href={exportUrl(ws, workflow.id, { format: "yaml", draft: true })} download>
        Export<span className="visually-hidden"> {workflow.title}</span>
      </a>
      {editor && (
        <button type="button" className="button button-small" onClick={() => duplicate.mutate()} disabled={duplicate.isPending}>
          Duplicate<span className="visually-hidden"> {workflow.title}</span>
        </button>
      )}
      {editor && (
        <button type="button" className="button button-small button-danger" onClick={onDelete}>
          Delete<span className="visually-hidden"> {workflow.title}</span>
        </button>
      )}
      <ErrorNote error={duplicate.error} />
    </div>
  );
}

function CreateDialog({ ws, open, onClose }: { ws: string; open: boolean; onClose: () => void }) {
  const queries = useQueryClient();
  const create = useMutation({
    mutationFn: (form: { title: string; description: string }) =>
      unwrap<WorkflowModel>(client.POST("/workflows", { params: { query: { workspace_id: ws } }, body: form as never })),
    onSuccess: (created) => {
      void queries.invalidateQueries({ queryKey: keys.workflows(ws) });
      onClose();
      navigate(`/workspaces/${ws}/workflows/${created.id}`);
    },
  });
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    create.mutate({ title: String(data.get("title")), description: String(data.get("description") ?? "") });
  };
  return (
    <Dialog title="New workflow" open={open} onClose={onClose}>
      <form className="stack" onSubmit={submit}>
        <ErrorNote error={create.error} />
        <Field label="Title">
          <input name="title" required autoFocus />
        </Field>
        <Field label="Description">
          <input name="description" />
        </Field>
        <div className="row">
          <button type="submit" className="button button-primary" disabled={create.isPending}>
            Create
          </button>
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function ImportDialog({ ws, open, onClose, example }: { ws: string; open: boolean; onClose: () => void; example: string }) {
  const queries = useQueryClient();
  const [text, setText] = useState("");
  const imported = useMutation({
    mutationFn: (document: string) => importWorkflow(ws, document),
    onSuccess: (created) => {
      void queries.invalidateQueries({ queryKey: keys.workflows(ws) });
      setText("");
      onClose();
      navigate(`/workspaces/${ws}/workflows/${created.id}`);
    },
  });
  const pick = async (file: File | undefined) => {
    if (file) setText(await file.text());
  };
  return (
    <Dialog title="Import a workflow" open={open} onClose={onClose} wide>
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          imported.mutate(text);
        }}
      >
        <p className="muted">A workflow in YAML or JSON, or a file exported from ferrocat or Tracecat.</p>
        <ErrorNote error={imported.error} />
        <Field label="File">
          <input type="file" accept=".yml,.yaml,.json,application/json,application/yaml" onChange={(e) => pick(e.target.files?.[0])} />
        </Field>
        <Field label="Or paste it here">
          <textarea name="document" rows={16} value={text} onChange={(e) => setText(e.target.value)} placeholder={example || "title: ...\nactions: ..."} />
        </Field>
        <div className="row">
          <button type="submit" className="button button-primary" disabled={!text.trim() || imported.isPending}>
            Import
          </button>
          {example && !text && (
            <button type="button" className="button" onClick={() => setText(example)}>
              Use the example
            </button>
          )}
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}
