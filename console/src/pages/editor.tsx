// The workflow editor: YAML on the left with the api's validation inline, the graph of its
// actions drawn live on the right, and the panels to run it, give it a webhook or a schedule,
// and compare or restore its versions.
import { useCallback, useDeferredValue, useEffect, useMemo, useRef, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { Diagnostic } from "@codemirror/lint";
import { client, raw, unwrap, ApiError, messageOf } from "../api/client";
import { can, useMe } from "../api/session";
import type { CommitAnswer, RegistryAction, Validation, WorkflowModel } from "../api/types";
import { exportUrl, keys, useWorkflow } from "../api/workflows";
import { Link } from "../router";
import { Badge, DataTable, ErrorNote, Spinner } from "../components/ui";
import { WorkflowGraph } from "../components/graph";
import { YamlEditor, type YamlEditorHandle } from "../components/yaml-editor";
import { CaseTriggerPanel, RunPanel, SchedulesPanel, VersionsPanel, WebhookPanel } from "../components/editor-panels";
import { actionAt, locate, locateAction, parse, toYaml } from "../yaml";

type Tab = "graph" | "run" | "webhook" | "schedules" | "case-trigger" | "versions";

const TABS: [Tab, string][] = [
  ["graph", "Graph"],
  ["run", "Run"],
  ["webhook", "Webhook"],
  ["schedules", "Schedules"],
  ["case-trigger", "Case trigger"],
  ["versions", "Versions"],
];

interface Problem {
  loc: string;
  msg: string;
  from: number;
  to: number;
  line: number;
}

export default function EditorPage({ ws, wf }: { ws: string; wf: string }) {
  const workflow = useWorkflow(ws, wf);
  if (workflow.error) return <ErrorNote error={workflow.error} />;
  if (!workflow.data) return <Spinner />;
  // A new editor per workflow: its text starts from that workflow's draft.
  return <Editor key={wf} ws={ws} workflow={workflow.data} />;
}

function draftText(w: WorkflowModel): string {
  return w.definition_yaml ?? toYaml(w.definition);
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function Editor({ ws, workflow }: { ws: string; workflow: WorkflowModel }) {
  const wf = workflow.id;
  const me = useMe().data;
  const editorRole = can(me, ws, "editor");
  const queries = useQueryClient();
  const editor = useRef<YamlEditorHandle>(null);
  const [saved, setSaved] = useState(() => draftText(workflow));
  const [text, setText] = useState(saved);
  const [tab, setTab] = useState<Tab>("graph");
  const [selected, setSelected] = useState<string>();
  const [note, setNote] = useState<string>("");
  const dirty = text !== saved;

  // Typing stays ahead of the work it causes: parsing, finding problems and drawing the graph
  // follow the text as React finds time (a deferred value), never blocking a keystroke.
  const deferred = useDeferredValue(text);
  // The last text that parsed: the graph keeps showing it while a line is half-typed.
  const parsed = useMemo(() => parse(deferred), [deferred]);
  const [definition, setDefinition] = useState<unknown>(() => parsed.value);
  useEffect(() => {
    if (parsed.value !== undefined) setDefinition(parsed.value);
  }, [parsed.value]);

  // Validation as the api does it, a moment after typing stops.
  const [debounced, setDebounced] = useState(text);
  useEffect(() => {
    const timer = window.setTimeout(() => setDebounced(text), 350);
    return () => window.clearTimeout(timer);
  }, [text]);
  const debouncedParses = useMemo(() => debounced.trim().length > 0 && parse(debounced).errors.length === 0, [debounced]);
  const validation = useQuery({
    queryKey: ["validate", ws, debounced],
    queryFn: () =>
      raw<Validation>(`/workflows/validate?workspace_id=${encodeURIComponent(ws)}`, {
        method: "POST",
        headers: { "content-type": "application/yaml" },
        body: debounced,
      }),
    enabled: debouncedParses,
    placeholderData: (previous) => previous,
    staleTime: Infinity,
  });
  const [commitErrors, setCommitErrors] = useState<{ loc: string; msg: string }[]>([]);

  const problems: Problem[] = useMemo(() => {
    if (parsed.errors.length) return parsed.errors.map((e) => ({ loc: "YAML", msg: e.message, from: e.from, to: e.to, line: lineOf(deferred, e.from) }));
    if (debounced !== deferred) return [];
    const found = [...(validation.data?.errors ?? []), ...commitErrors];
    const seen = new Set<string>();
    return found
      .filter((e) => !seen.has(e.loc + e.msg) && seen.add(e.loc + e.msg))
      .map((e) => {
        const at = locate(deferred, e.loc, parsed.doc) ?? { from: 0, to: 0 };
        // A YAML library error names its line: point at it.
        const lineMatch = /line (\d+)/.exec(e.msg);
        return { loc: e.loc, msg: e.msg, from: at.from, to: at.to, line: lineMatch && e.loc === "definition" ? Number(lineMatch[1]) : lineOf(deferred, at.from) };
      });
  }, [parsed, validation.data, commitErrors, deferred, debounced]);
  const diagnostics: Diagnostic[] = useMemo(() => problems.map((p) => ({ from: p.from, to: p.to, severity: "error", message: `${p.loc}: ${p.msg}` })), [problems]);
  // Keyed by its contents, so an unchanged set does not redraw the graph.
  const invalidKey = problems.map((p) => /^actions\.([^.]+)/.exec(p.loc)?.[1] ?? "").filter(Boolean).sort().join(" ");
  const invalidRefs = useMemo(() => new Set(invalidKey.split(" ").filter(Boolean)), [invalidKey]);
  // The action under the cursor is selected in the graph.
  const [cursor, setCursor] = useState<number>();
  useEffect(() => {
    if (cursor !== undefined) setSelected(actionAt(parsed.doc, cursor));
  }, [cursor, parsed.doc]);

  const save = useMutation({
    mutationFn: (body: string) =>
      raw<WorkflowModel>(`/workflows/${encodeURIComponent(wf)}/draft?workspace_id=${encodeURIComponent(ws)}`, {
        method: "PUT",
        headers: { "content-type": "application/yaml" },
        body,
      }),
    onSuccess: (updated, body) => {
      setSaved(body);
      queries.setQueryData(keys.workflow(ws, wf), updated);
      void queries.invalidateQueries({ queryKey: keys.workflows(ws) });
    },
  });
  const commit = useMutation({
    mutationFn: async () => {
      setCommitErrors([]);
      if (text !== saved) await save.mutateAsync(text);
      return unwrap<CommitAnswer>(client.POST("/workflows/{workflow_id}/commit", { params: { path: { workflow_id: wf }, query: { workspace_id: ws } } }));
    },
    onSuccess: (answer) => {
      const warnings = answer.metadata.warnings.length ? ` ${answer.metadata.warnings.join(" ")}` : "";
      setNote(`Committed version ${answer.metadata.version}.${warnings}`);
      void queries.invalidateQueries({ queryKey: keys.workflow(ws, wf) });
      void queries.invalidateQueries({ queryKey: keys.versions(ws, wf) });
      void queries.invalidateQueries({ queryKey: keys.workflows(ws) });
    },
    onError: (error) => {
      setNote("");
      if (error instanceof ApiError) setCommitErrors(error.errors.map((e) => ({ loc: String(e.loc ?? "definition"), msg: e.msg ?? error.detail })));
    },
  });
  const current = useWorkflow(ws, wf).data ?? workflow;

  const onSave = useCallback(() => {
    if (editorRole) save.mutate(text);
  }, [editorRole, save, text]);
  // Leaving with unsaved changes asks first.
  useEffect(() => {
    if (!dirty) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [dirty]);

  // Stable across keystrokes (it reads the text through a ref), so the graph need not redraw.
  const textRef = useRef(text);
  textRef.current = text;
  const jumpTo = useCallback((ref: string) => {
    setSelected(ref);
    const at = locateAction(textRef.current, ref);
    if (at) editor.current?.select(at.from, at.from);
  }, []);
  const restored = (model: WorkflowModel, version: number) => {
    const restoredText = draftText(model);
    setSaved(restoredText);
    setText(restoredText);
    editor.current?.replaceAll(restoredText);
    queries.setQueryData(keys.workflow(ws, wf), model);
    setNote(`Version ${version} is the draft again: commit to run it.`);
  };

  return (
    <>
      <header className="page-header">
        <div>
          <div className="muted small">
            <Link to={`/workspaces/${ws}/workflows`}>Workflows</Link> / {wf}
          </div>
          <h1>{current.title}</h1>
          <div className="row">
            <Badge status={current.version === null ? "draft" : "committed"} />
            <span className="muted">{current.version === null ? "never committed" : `version ${current.version}`}</span>
            {dirty && <span className="tag">unsaved changes</span>}
            <Link to={`/workspaces/${ws}/runs?workflow_id=${wf}`}>Runs</Link>
          </div>
          <Tags ws={ws} workflow={current} editable={editorRole} />
        </div>
        <div className="page-actions">
          <a className="button" href={exportUrl(ws, wf, { format: "yaml", draft: true })} download>
            Export
          </a>
          {editorRole && (
            <>
              <button type="button" className="button" onClick={onSave} disabled={!dirty || save.isPending} title="Ctrl+S">
                {save.isPending ? <Spinner label="Saving" /> : "Save draft"}
              </button>
              <button type="button" className="button button-primary" onClick={() => commit.mutate()} disabled={commit.isPending || parsed.errors.length > 0}>
                {commit.isPending ? <Spinner label="Committing" /> : "Commit"}
              </button>
            </>
          )}
        </div>
      </header>
      {note && (
        <p className="note note-ok" role="status">
          {note}
        </p>
      )}
      <ErrorNote error={save.error} title="Not saved" />
      <ErrorNote error={commit.error} title="Not committed" />
      <div className="split">
        <section aria-label="Definition" className="stack">
          <YamlEditor
            ref={editor}
            initial={text}
            diagnostics={diagnostics}
            readOnly={!editorRole}
            onChange={setText}
            onCursor={setCursor}
            onSave={onSave}
            label="Workflow YAML"
          />
          <Problems problems={problems} pending={validation.isFetching || debounced !== text || deferred !== text} onJump={(p) => editor.current?.select(p.from, p.to)} />
        </section>
        <section aria-label="Panels">
          <div className="tabs" role="tablist" aria-label="Panels">
            {TABS.map(([id, label]) => (
              <button key={id} type="button" role="tab" id={`tab-${id}`} aria-selected={tab === id} aria-controls={`panel-${id}`} onClick={() => setTab(id)}>
                {label}
              </button>
            ))}
          </div>
          <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
            {tab === "graph" && (
              <>
                <WorkflowGraph definition={definition} selected={selected} invalid={invalidRefs} onSelect={jumpTo} label="Graph of the draft's actions" />
                {selected && <ActionHelp definition={definition} selected={selected} />}
              </>
            )}
            {tab === "run" && <RunPanel ws={ws} workflow={current} dirty={dirty} />}
            {tab === "webhook" && <WebhookPanel ws={ws} workflow={current} />}
            {tab === "schedules" && <SchedulesPanel ws={ws} workflow={current} />}
            {tab === "case-trigger" && <CaseTriggerPanel ws={ws} workflow={current} />}
            {tab === "versions" && <VersionsPanel ws={ws} workflow={current} draft={text} onRestored={restored} dirty={dirty} />}
          </div>
        </section>
      </div>
    </>
  );
}

/** The workflow's tags, and (for editors) a field to change them. */
function Tags({ ws, workflow, editable }: { ws: string; workflow: WorkflowModel; editable: boolean }) {
  const queries = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [value, setValue] = useState("");
  const save = useMutation({
    mutationFn: (tags: string[]) =>
      unwrap<WorkflowModel>(client.PATCH("/workflows/{workflow_id}", { params: { path: { workflow_id: workflow.id }, query: { workspace_id: ws } }, body: { tags } as never })),
    onSuccess: (updated) => {
      queries.setQueryData(keys.workflow(ws, workflow.id), updated);
      void queries.invalidateQueries({ queryKey: keys.workflows(ws) });
      setEditing(false);
    },
  });
  if (editing) {
    return (
      <form
        className="row tags-form"
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate(value.split(",").map((t) => t.trim()).filter(Boolean));
        }}
      >
        <label className="field grow">
          <span className="field-label">Tags, separated by commas</span>
          <input value={value} onChange={(e) => setValue(e.target.value)} autoFocus placeholder="phishing, tier-1" />
        </label>
        <button type="submit" className="button button-small button-primary" disabled={save.isPending}>
          Save tags
        </button>
        <button type="button" className="button button-small" onClick={() => setEditing(false)}>
          Cancel
        </button>
        <ErrorNote error={save.error} />
      </form>
    );
  }
  return (
    <div className="row tags" aria-label="Tags">
      {workflow.tags.map((t) => (
        <span key={t} className="tag">
          {t}
        </span>
      ))}
      {editable && (
        <button
          type="button"
          className="link-button small"
          onClick={() => {
            setValue(workflow.tags.join(", "));
            save.reset();
            setEditing(true);
          }}
        >
          {workflow.tags.length ? "Edit tags" : "Add tags"}
        </button>
      )}
    </div>
  );
}

function Problems({ problems, pending, onJump }: { problems: Problem[]; pending: boolean; onJump: (p: Problem) => void }) {
  if (problems.length === 0) {
    return (
      <p className="muted small" role="status" aria-live="polite">
        {pending ? "Checking…" : "No problems found."}
      </p>
    );
  }
  return (
    <div className="note note-error problems" role="region" aria-label="Problems" aria-live="polite">
      <strong>
        {problems.length} problem{problems.length > 1 ? "s" : ""}
      </strong>
      <ul>
        {problems.map((p, i) => (
          <li key={i}>
            <button type="button" className="link-button" onClick={() => onJump(p)}>
              line {p.line}
            </button>{" "}
            <code>{p.loc}</code> {p.msg}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** The selected action's arguments as the registry describes them. */
function ActionHelp({ definition, selected }: { definition: unknown; selected: string }) {
  const actions = (definition as { actions?: { ref?: string; action?: string }[] } | undefined)?.actions ?? [];
  const name = actions.find((a) => a?.ref === selected)?.action;
  const action = useQuery({
    queryKey: ["registry", name],
    queryFn: () => unwrap<RegistryAction>(client.GET("/registry/actions/{name}", { params: { path: { name: name! } } })),
    enabled: !!name,
    staleTime: Infinity,
  });
  if (!name) return null;
  if (action.error) return <p className="note">{messageOf(action.error)}</p>;
  if (!action.data) return <Spinner />;
  const props = action.data.args?.properties ?? {};
  const required = new Set(action.data.args?.required ?? []);
  return (
    <div className="card action-help">
      <h3>
        <code>{selected}</code>: {action.data.title ?? action.data.name}
      </h3>
      <p className="muted">{action.data.description}</p>
      {Object.keys(props).length > 0 && (
        <DataTable label={`Arguments of ${name}`} columns={["Argument", "Type", "Description"]}>
          {Object.entries(props).map(([arg, schema]) => (
            <tr key={arg}>
              <td>
                <code>{arg}</code>
                {required.has(arg) && <span className="muted"> (required)</span>}
              </td>
              <td>{Array.isArray(schema.type) ? schema.type.join(" | ") : (schema.type ?? "any")}</td>
              <td>{schema.description}</td>
            </tr>
          ))}
        </DataTable>
      )}
      {Array.isArray(action.data.secrets) && action.data.secrets.length > 0 && (
        <p className="small">
          Secrets: <code>{JSON.stringify(action.data.secrets)}</code>
        </p>
      )}
    </div>
  );
}
