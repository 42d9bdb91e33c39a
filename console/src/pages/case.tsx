// One case: its summary and description, status, priority, severity, assignee, tags and custom
// fields in a side panel, and tabs for the comment threads, tasks, attached files, linked table
// rows and the activity timeline. Markdown from people and workflows is shown as plain text,
// never as HTML.
import { useId, useMemo, useState, type FormEvent, type ReactNode } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, client, raw, unwrap } from "../api/client";
import { can, useMe, type Me } from "../api/session";
import {
  CASE_PRIORITIES,
  CASE_SEVERITIES,
  CASE_STATUSES,
  TASK_STATUSES,
  caseKeys,
  choices,
  label,
  listTags,
  size,
  type AttachmentDownload,
  type CaseAttachment,
  type CaseComment,
  type CaseDetail,
  type CaseEvent,
  type CaseEvents,
  type CaseFieldValue,
  type CaseTask,
  type CommentThread,
  type TaskBody,
  type UpdateCase,
} from "../api/types-cases";
import { useWorkflows } from "../api/workflows";
import { Link, navigate } from "../router";
import { DataTable, Dialog, ErrorNote, Field, JsonView, Options, RowButtons, Spinner, SubmitButton, When } from "../components/ui";
import { ConfirmDialog, Tabs, useConfirmed } from "../components/forms";
import { CaseBadge, TagChip, useMembers } from "../components/case-parts";
import { CaseRows } from "../components/case-rows";

type Tab = "comments" | "tasks" | "attachments" | "rows" | "activity";

const TABS: [Tab, string][] = [
  ["comments", "Comments"],
  ["tasks", "Tasks"],
  ["attachments", "Attachments"],
  ["rows", "Rows"],
  ["activity", "Activity"],
];

export default function CasePage({ ws, id }: { ws: string; id: string }) {
  const detail = useQuery({
    queryKey: caseKeys.one(ws, id),
    queryFn: () => unwrap<CaseDetail>(client.GET("/cases/{case_id}", { params: { path: { case_id: id }, query: { workspace_id: ws } } })),
  });
  if (detail.error) {
    return (
      <div className="stack">
        <div className="muted small">
          <Link to={`/workspaces/${ws}/cases`}>Cases</Link> / {id}
        </div>
        <h1>Case {id}</h1>
        <ErrorNote error={detail.error} />
      </div>
    );
  }
  if (!detail.data) return <Spinner />;
  return <CaseView ws={ws} data={detail.data} />;
}

/** Every query of this workspace's cases and of this case is stale after a change. */
function useRefresh(ws: string) {
  const queries = useQueryClient();
  return () => Promise.all([queries.invalidateQueries({ queryKey: ["case", ws] }), queries.invalidateQueries({ queryKey: caseKeys.all(ws) })]);
}

/** A PATCH of the case; each control has its own, so its error shows next to it. */
function usePatch(ws: string, caseId: string) {
  const refresh = useRefresh(ws);
  return useMutation({
    mutationFn: (body: UpdateCase) => unwrap(client.PATCH("/cases/{case_id}", { params: { path: { case_id: caseId }, query: { workspace_id: ws } }, body })),
    onSuccess: refresh,
  });
}

/** Who did something: a member's email, or the workflow run that did it. */
function useWho(ws: string, me: Me | undefined, events: CaseEvents | undefined, c: CaseDetail) {
  const members = useMembers(ws, me);
  const emails = useMemo(() => {
    const map = new Map<string, string>();
    for (const m of members ?? []) map.set(m.user_id, m.email);
    for (const u of events?.users ?? []) map.set(u.id, u.email);
    if (c.assignee) map.set(c.assignee.id, c.assignee.email);
    if (me?.email) map.set(me.id, me.email);
    return map;
  }, [members, events, c.assignee, me]);
  const who = (userId: string | null, execId: string | null): ReactNode => {
    if (execId) {
      return (
        <Link to={`/workspaces/${ws}/runs/${execId}`} className="mono">
          workflow run {execId}
        </Link>
      );
    }
    if (userId) return <strong>{emails.get(userId) ?? `user ${userId.slice(0, 8)}`}</strong>;
    return <strong>the platform</strong>;
  };
  return { who, emails, members };
}

function CaseView({ ws, data: c }: { ws: string; data: CaseDetail }) {
  const me = useMe().data;
  const canEdit = can(me, ws, "editor");
  const refresh = useRefresh(ws);
  const [tab, setTab] = useState<Tab>("comments");
  const [editing, setEditing] = useState(false);
  const events = useQuery({
    queryKey: caseKeys.part(ws, c.id, "events"),
    queryFn: () => unwrap<CaseEvents>(client.GET("/cases/{case_id}/events", { params: { path: { case_id: c.id }, query: { workspace_id: ws } } })),
  });
  const { who, emails, members } = useWho(ws, me, events.data, c);
  const remove = useConfirmed(
    () => unwrap(client.DELETE("/cases/{case_id}", { params: { path: { case_id: c.id }, query: { workspace_id: ws } } })),
    async () => {
      await refresh();
      navigate(`/workspaces/${ws}/cases`);
    },
  );
  const status = usePatch(ws, c.id);
  // The fields a refused closure named (`errors[].loc = "fields.<name>"`), marked in the panel.
  const missing = useMemo(() => {
    const error = status.error;
    if (!(error instanceof ApiError)) return new Set<string>();
    return new Set(error.errors.map((e) => String(e.loc ?? "")).filter((loc) => loc.startsWith("fields.")).map((loc) => loc.slice("fields.".length)));
  }, [status.error]);

  return (
    <>
      <header className="page-header">
        <div>
          <div className="muted small">
            <Link to={`/workspaces/${ws}/cases`}>Cases</Link> / <span className="mono">{c.short_id}</span>
          </div>
          <h1>{c.summary}</h1>
          <div className="row small muted">
            <span className="mono case-id">{c.short_id}</span>
            <span>
              opened <When at={c.created_at} />
            </span>
            <span>
              updated <When at={c.updated_at} />
            </span>
          </div>
        </div>
        <div className="page-actions">
          {canEdit && (
            <button type="button" className="button" onClick={() => setEditing(true)}>
              Edit summary and description
            </button>
          )}
          {canEdit && (
            <button type="button" className="button button-danger" onClick={remove.ask(c)}>
              Delete case
            </button>
          )}
        </div>
      </header>
      <div className="case-layout">
        <div className="case-main stack">
          <section className="card" aria-labelledby="case-description">
            <h2 id="case-description">Description</h2>
            {c.description ? <p className="prewrap">{c.description}</p> : <p className="muted">No description.</p>}
          </section>
          <section aria-label="Case work">
            <Tabs label="Case work" tabs={TABS} current={tab} onChange={setTab}>
              {tab === "comments" && <Comments ws={ws} c={c} me={me} who={who} />}
              {tab === "tasks" && <Tasks ws={ws} c={c} emails={emails} />}
              {tab === "attachments" && <Attachments ws={ws} c={c} emails={emails} />}
              {tab === "rows" && <CaseRows ws={ws} c={c} />}
              {tab === "activity" && <Activity ws={ws} events={events} who={who} emails={emails} />}
            </Tabs>
          </section>
        </div>
        <div className="case-side stack">
          <section className="card stack" aria-labelledby="case-details">
            <h2 id="case-details">Details</h2>
            {canEdit ? (
              <>
                <div className="stack">
                  <Field label="Status">
                    <select
                      value={status.isPending && status.variables?.status ? status.variables.status : c.status}
                      onChange={(e) => status.mutate({ status: e.target.value as CaseDetail["status"] })}
                      aria-invalid={status.isError || undefined}
                    >
                      <Options of={choices(CASE_STATUSES)} />
                    </select>
                  </Field>
                  <ErrorNote error={status.error} title="Status not changed" />
                </div>
                <EnumControl ws={ws} c={c} field="priority" title="Priority" values={CASE_PRIORITIES} />
                <EnumControl ws={ws} c={c} field="severity" title="Severity" values={CASE_SEVERITIES} />
                <AssigneeControl ws={ws} c={c} me={me} members={members} />
              </>
            ) : (
              <dl className="case-facts">
                <div>
                  <dt>Status</dt>
                  <dd>
                    <CaseBadge value={c.status} />
                  </dd>
                </div>
                <div>
                  <dt>Priority</dt>
                  <dd>
                    <CaseBadge value={c.priority} />
                  </dd>
                </div>
                <div>
                  <dt>Severity</dt>
                  <dd>
                    <CaseBadge value={c.severity} />
                  </dd>
                </div>
                <div>
                  <dt>Assignee</dt>
                  <dd>{c.assignee?.email ?? <span className="muted">Unassigned</span>}</dd>
                </div>
              </dl>
            )}
          </section>
          <CaseTags ws={ws} c={c} canEdit={canEdit} />
          <CustomFields key={JSON.stringify(c.fields.map((f) => f.value))} ws={ws} c={c} canEdit={canEdit} missing={missing} />
          {c.payload !== null && c.payload !== undefined && (
            <section className="card" aria-labelledby="case-payload">
              <h2 id="case-payload">Payload</h2>
              <JsonView value={c.payload} label="Case payload" />
            </section>
          )}
        </div>
      </div>
      <Dialog title="Edit case" open={editing} onClose={() => setEditing(false)} wide>
        {editing && <EditCaseForm ws={ws} c={c} onDone={() => setEditing(false)} />}
      </Dialog>
      <ConfirmDialog {...remove.dialog} title="Delete case" confirmLabel="Delete case">
        <p>
          Delete <span className="mono">{c.short_id}</span> “{c.summary}” with its comments, tasks and files? This cannot be undone.
        </p>
      </ConfirmDialog>
    </>
  );
}

function EditCaseForm({ ws, c, onDone }: { ws: string; c: CaseDetail; onDone: () => void }) {
  const [summary, setSummary] = useState(c.summary);
  const [description, setDescription] = useState(c.description ?? "");
  const save = usePatch(ws, c.id);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate({ summary: summary.trim(), description }, { onSuccess: onDone });
  };
  return (
    <form className="stack" onSubmit={submit}>
      <ErrorNote error={save.error} />
      <Field label="Summary">
        <input value={summary} onChange={(e) => setSummary(e.target.value)} required autoFocus autoComplete="off" maxLength={255} />
      </Field>
      <Field label="Description" hint="Markdown, shown as plain text.">
        <textarea value={description} onChange={(e) => setDescription(e.target.value)} rows={10} />
      </Field>
      <div className="row form-actions">
        <SubmitButton pending={save.isPending} busy="Saving">
          Save changes
        </SubmitButton>
      </div>
    </form>
  );
}

function EnumControl({
  ws,
  c,
  field,
  title,
  values,
}: {
  ws: string;
  c: CaseDetail;
  field: "priority" | "severity";
  title: string;
  values: readonly string[];
}) {
  const patch = usePatch(ws, c.id);
  const pending = patch.isPending ? (patch.variables?.[field] as string | undefined) : undefined;
  return (
    <div className="stack">
      <Field label={title}>
        <select value={pending ?? c[field]} onChange={(e) => patch.mutate({ [field]: e.target.value } as UpdateCase)}>
          <Options of={choices(values)} />
        </select>
      </Field>
      <ErrorNote error={patch.error} title={`${title} not changed`} />
    </div>
  );
}

function AssigneeControl({ ws, c, me, members }: { ws: string; c: CaseDetail; me: Me | undefined; members: { user_id: string; email: string }[] | undefined }) {
  const patch = usePatch(ws, c.id);
  if (members) {
    const value = patch.isPending && patch.variables && "assignee_id" in patch.variables ? (patch.variables.assignee_id ?? "") : (c.assignee_id ?? "");
    return (
      <div className="stack">
        <Field label="Assignee">
          <select value={value} onChange={(e) => patch.mutate({ assignee_id: e.target.value || null })}>
            <option value="">Unassigned</option>
            <Options of={members.map((m) => [m.user_id, m.email] as const)} />
            {c.assignee_id && !members.some((m) => m.user_id === c.assignee_id) && <option value={c.assignee_id}>{c.assignee?.email ?? c.assignee_id}</option>}
          </select>
        </Field>
        <ErrorNote error={patch.error} title="Assignee not changed" />
      </div>
    );
  }
  return (
    <div className="stack">
      <div>
        <span className="field-label">Assignee</span>
        <p className="case-assignee">{c.assignee?.email ?? <span className="muted">Unassigned</span>}</p>
      </div>
      <div className="row">
        {me && c.assignee_id !== me.id && (
          <button type="button" className="button button-small" onClick={() => patch.mutate({ assignee_id: me.id })} disabled={patch.isPending}>
            Assign to me
          </button>
        )}
        {c.assignee_id && (
          <button type="button" className="button button-small" onClick={() => patch.mutate({ assignee_id: null })} disabled={patch.isPending}>
            Unassign
          </button>
        )}
      </div>
      <ErrorNote error={patch.error} title="Assignee not changed" />
    </div>
  );
}

function CaseTags({ ws, c, canEdit }: { ws: string; c: CaseDetail; canEdit: boolean }) {
  const refresh = useRefresh(ws);
  const listId = useId();
  const all = useQuery({ queryKey: caseKeys.tags(ws), queryFn: () => listTags(ws), enabled: canEdit });
  const [text, setText] = useState("");
  const path = { case_id: c.id };
  const add = useMutation({
    mutationFn: (value: string) => {
      const wanted = value.trim().toLowerCase();
      const existing = (all.data ?? []).find((t) => t.name.toLowerCase() === wanted || t.ref.toLowerCase() === wanted);
      const body = existing ? { tag_id: existing.id } : { tag_id: value.trim(), create_if_missing: true };
      return unwrap(client.POST("/cases/{case_id}/tags", { params: { path, query: { workspace_id: ws } }, body }));
    },
    onSuccess: async () => {
      setText("");
      await refresh();
      await all.refetch();
    },
  });
  const remove = useMutation({
    mutationFn: (tag: string) =>
      unwrap(client.DELETE("/cases/{case_id}/tags/{tag_identifier}", { params: { path: { case_id: c.id, tag_identifier: tag }, query: { workspace_id: ws } } })),
    onSuccess: refresh,
  });
  const available = (all.data ?? []).filter((t) => !c.tags.some((mine) => mine.id === t.id));
  return (
    <section className="card stack" aria-labelledby="case-tags">
      <h2 id="case-tags">Tags</h2>
      {c.tags.length === 0 ? (
        <p className="muted">No tags.</p>
      ) : (
        <ul className="row tags plain-list">
          {c.tags.map((t) => (
            <li key={t.id}>
              <TagChip tag={t}>
                {canEdit && (
                  <button type="button" className="chip-remove" aria-label={`Remove tag ${t.name}`} onClick={() => remove.mutate(t.id)} disabled={remove.isPending}>
                    ×
                  </button>
                )}
              </TagChip>
            </li>
          ))}
        </ul>
      )}
      <ErrorNote error={remove.error} title="Tag not removed" />
      {canEdit && (
        <form
          className="row row-bottom"
          onSubmit={(e) => {
            e.preventDefault();
            if (text.trim()) add.mutate(text);
          }}
        >
          <Field label="Tag to add" hint="Pick one, or type a new name to create it.">
            <input value={text} onChange={(e) => setText(e.target.value)} list={listId} autoComplete="off" maxLength={100} />
          </Field>
          <datalist id={listId}>
            {available.map((t) => (
              <option key={t.id} value={t.name} />
            ))}
          </datalist>
          <button type="submit" className="button button-small" disabled={!text.trim() || add.isPending}>
            Add tag
          </button>
        </form>
      )}
      <ErrorNote error={add.error} title="Tag not added" />
    </section>
  );
}

// ---- Custom fields ----

type Draft = string | boolean | string[];

const pad = (n: number) => String(n).padStart(2, "0");

/** An RFC 3339 time as a datetime-local input's value, in the browser's time zone. */
function toLocalInput(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function toDraft(f: CaseFieldValue): Draft {
  const v = f.value;
  switch (f.type) {
    case "BOOLEAN":
      return v === true;
    case "MULTI_SELECT":
      return Array.isArray(v) ? v.map(String) : [];
    case "JSONB":
      return v === null || v === undefined ? "" : JSON.stringify(v, null, 2);
    case "TIMESTAMPTZ":
      return typeof v === "string" ? toLocalInput(v) : "";
    case "DATE":
      return typeof v === "string" ? v.slice(0, 10) : "";
    default:
      return v === null || v === undefined ? "" : String(v);
  }
}

/** A draft as the api's value; empty is null. Throws on what the field cannot hold. */
function fromDraft(f: CaseFieldValue, d: Draft): unknown {
  const name = f.display_name || f.id;
  if (typeof d === "boolean") return d;
  if (Array.isArray(d)) return d.length ? d : null;
  const t = d.trim();
  if (!t) return null;
  switch (f.type) {
    case "INTEGER": {
      const n = Number(t);
      if (!Number.isInteger(n)) throw new Error(`${name} must be a whole number.`);
      return n;
    }
    case "NUMERIC": {
      const n = Number(t);
      if (!Number.isFinite(n)) throw new Error(`${name} must be a number.`);
      return n;
    }
    case "JSONB":
      try {
        return JSON.parse(t);
      } catch (e) {
        throw new Error(`${name} is not JSON: ${e instanceof Error ? e.message : String(e)}`);
      }
    case "TIMESTAMPTZ": {
      const date = new Date(t);
      if (Number.isNaN(date.getTime())) throw new Error(`${name} is not a date and time.`);
      return date.toISOString();
    }
    default:
      return f.type === "TEXT" ? d : t;
  }
}

function CustomFields({ ws, c, canEdit, missing }: { ws: string; c: CaseDetail; canEdit: boolean; missing: Set<string> }) {
  const initial = useMemo(() => Object.fromEntries(c.fields.map((f) => [f.id, toDraft(f)])), [c.fields]);
  const [drafts, setDrafts] = useState<Record<string, Draft>>(initial);
  const [localError, setLocalError] = useState<unknown>(null);
  const save = usePatch(ws, c.id);
  const changed = c.fields.filter((f) => JSON.stringify(drafts[f.id]) !== JSON.stringify(initial[f.id]));
  const set = (name: string, value: Draft) => setDrafts((d) => ({ ...d, [name]: value }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setLocalError(null);
    try {
      const fields = Object.fromEntries(changed.map((f) => [f.id, fromDraft(f, drafts[f.id])]));
      save.mutate({ fields });
    } catch (e) {
      save.reset();
      setLocalError(e);
    }
  };
  return (
    <section className="card stack" aria-labelledby="case-fields">
      <h2 id="case-fields">Custom fields</h2>
      {c.fields.length === 0 && <p className="muted">No custom fields. An admin defines them in Case settings.</p>}
      {c.fields.length > 0 && (
        <form className="stack" onSubmit={submit}>
          {c.fields.map((f) => (
            <FieldInput key={f.id} field={f} value={drafts[f.id]} onChange={(v) => set(f.id, v)} disabled={!canEdit} missing={missing.has(f.id)} />
          ))}
          <ErrorNote error={localError ?? save.error} title="Fields not saved" />
          {canEdit && (
            <div className="row form-actions">
              <SubmitButton pending={save.isPending} busy="Saving fields" disabled={changed.length === 0}>
                Save fields
              </SubmitButton>
            </div>
          )}
        </form>
      )}
    </section>
  );
}

function FieldInput({ field: f, value, onChange, disabled, missing }: { field: CaseFieldValue; value: Draft; onChange: (v: Draft) => void; disabled: boolean; missing: boolean }) {
  const name = f.display_name || f.id;
  const hint = (
    <>
      {f.description && <span className="prewrap">{f.description} </span>}
      {f.required_on_closure && <span className={missing ? "field-missing" : undefined}>{missing ? "Required to resolve or close: fill it in." : "Required to resolve or close."}</span>}
    </>
  );
  const title = f.required_on_closure ? `${name} (required to close)` : name;
  const text = typeof value === "string" ? value : "";
  const invalid = missing || undefined;
  switch (f.type) {
    case "BOOLEAN":
      return (
        <label className="check">
          <input type="checkbox" checked={value === true} onChange={(e) => onChange(e.target.checked)} disabled={disabled} aria-invalid={invalid} />
          <span>{title}</span>
        </label>
      );
    case "MULTI_SELECT": {
      const chosen = Array.isArray(value) ? value : [];
      return (
        <fieldset className={missing ? "kv kv-missing" : "kv"}>
          <legend className="field-label">{title}</legend>
          {(f.options ?? []).map((o) => (
            <label key={o} className="check">
              <input
                type="checkbox"
                checked={chosen.includes(o)}
                disabled={disabled}
                onChange={(e) => onChange(e.target.checked ? [...chosen, o] : chosen.filter((x) => x !== o))}
              />
              <span>{o}</span>
            </label>
          ))}
          <span className="field-hint">{hint}</span>
        </fieldset>
      );
    }
    case "SELECT":
      return (
        <Field label={title} hint={hint}>
          <select value={text} onChange={(e) => onChange(e.target.value)} disabled={disabled} aria-invalid={invalid}>
            <option value="">—</option>
            <Options of={f.options ?? []} />
            {text && !(f.options ?? []).includes(text) && <option value={text}>{text}</option>}
          </select>
        </Field>
      );
    case "JSONB":
      return (
        <Field label={title} hint={hint}>
          <textarea value={text} onChange={(e) => onChange(e.target.value)} rows={4} spellCheck={false} readOnly={disabled} aria-invalid={invalid} />
        </Field>
      );
    default: {
      const type =
        f.type === "INTEGER" || f.type === "NUMERIC" ? "number" : f.type === "DATE" ? "date" : f.type === "TIMESTAMPTZ" ? "datetime-local" : f.kind === "URL" ? "url" : "text";
      if (f.type === "TEXT" && f.kind === "LONG_TEXT") {
        return (
          <Field label={title} hint={hint}>
            <textarea className="prose" value={text} onChange={(e) => onChange(e.target.value)} rows={4} readOnly={disabled} aria-invalid={invalid} />
          </Field>
        );
      }
      return (
        <Field label={title} hint={hint}>
          <input
            type={type}
            step={f.type === "INTEGER" ? 1 : f.type === "NUMERIC" ? "any" : undefined}
            value={text}
            onChange={(e) => onChange(e.target.value)}
            readOnly={disabled}
            aria-invalid={invalid}
            autoComplete="off"
          />
        </Field>
      );
    }
  }
}

// ---- Comments ----

type Who = (userId: string | null, execId: string | null) => ReactNode;

function Comments({ ws, c, me, who }: { ws: string; c: CaseDetail; me: Me | undefined; who: Who }) {
  const canEdit = can(me, ws, "editor");
  const refresh = useRefresh(ws);
  const threads = useQuery({
    queryKey: caseKeys.part(ws, c.id, "threads"),
    queryFn: () =>
      unwrap<CommentThread[]>(client.GET("/cases/{case_id}/comments/threads", { params: { path: { case_id: c.id }, query: { workspace_id: ws } } })),
  });
  const [text, setText] = useState("");
  const post = useMutation({
    mutationFn: (body: { content: string; parent_id?: string }) =>
      unwrap(client.POST("/cases/{case_id}/comments", { params: { path: { case_id: c.id }, query: { workspace_id: ws } }, body })),
    onSuccess: refresh,
  });
  return (
    <div className="stack">
      <ErrorNote error={threads.error} />
      {threads.isPending && <Spinner />}
      {threads.data && threads.data.length === 0 && <p className="muted">No comments yet.</p>}
      {threads.data && threads.data.length > 0 && (
        <ol className="comments plain-list" aria-label="Comments">
          {threads.data.map((t) => (
            <li key={t.comment.id} className="comment-thread">
              <CommentView ws={ws} c={c} me={me} who={who} comment={t.comment} thread />
              {t.replies.length > 0 && (
                <ol className="comment-replies plain-list" aria-label="Replies">
                  {t.replies.map((r) => (
                    <li key={r.id}>
                      <CommentView ws={ws} c={c} me={me} who={who} comment={r} />
                    </li>
                  ))}
                </ol>
              )}
            </li>
          ))}
        </ol>
      )}
      {canEdit && (
        <form
          className="stack"
          onSubmit={(e) => {
            e.preventDefault();
            if (text.trim()) post.mutate({ content: text }, { onSuccess: () => setText("") });
          }}
        >
          <Field label="Comment" hint="Markdown, shown as plain text.">
            <textarea className="prose" value={text} onChange={(e) => setText(e.target.value)} rows={4} required />
          </Field>
          <ErrorNote error={post.error} title="Comment not added" />
          <div className="row form-actions">
            <SubmitButton pending={post.isPending} busy="Adding comment" disabled={!text.trim()}>
              Add comment
            </SubmitButton>
          </div>
        </form>
      )}
    </div>
  );
}

function CommentView({ ws, c, me, who, comment, thread }: { ws: string; c: CaseDetail; me: Me | undefined; who: Who; comment: CaseComment; thread?: boolean }) {
  const canEdit = can(me, ws, "editor");
  const admin = can(me, ws, "admin");
  const refresh = useRefresh(ws);
  const [mode, setMode] = useState<"view" | "edit" | "reply">("view");
  const [text, setText] = useState("");
  const params = { path: { case_id: c.id, comment_id: comment.id }, query: { workspace_id: ws } };
  const update = useMutation({
    mutationFn: (content: string) => unwrap(client.PATCH("/cases/{case_id}/comments/{comment_id}", { params, body: { content } })),
    onSuccess: async () => {
      setMode("view");
      await refresh();
    },
  });
  const reply = useMutation({
    mutationFn: (content: string) =>
      unwrap(client.POST("/cases/{case_id}/comments", { params: { path: { case_id: c.id }, query: { workspace_id: ws } }, body: { content, parent_id: comment.id } })),
    onSuccess: async () => {
      setMode("view");
      await refresh();
    },
  });
  const remove = useConfirmed(() => unwrap(client.DELETE("/cases/{case_id}/comments/{comment_id}", { params })), refresh);
  // Only its author or an admin changes a person's comment (the api refuses others anyway).
  const mine = !!me && comment.user_id === me.id;
  const mayChange = canEdit && !comment.is_deleted && (mine || admin);
  const when = comment.created_at;
  return (
    <article className="comment" aria-label={`Comment from ${comment.wf_exec_id ? "a workflow run" : "a member"}`}>
      <header className="row small">
        {who(comment.user_id, comment.wf_exec_id)}
        <span className="muted">
          <When at={when} />
          {comment.last_edited_at && !comment.is_deleted && " (edited)"}
        </span>
      </header>
      {comment.is_deleted ? (
        <p className="muted comment-body">This comment was deleted.</p>
      ) : mode === "edit" ? (
        <CommentForm label="Edit comment" rows={4} text={text} setText={setText} mutation={update} title="Comment not saved" submit="Save comment" busy="Saving comment" onCancel={() => setMode("view")} />
      ) : (
        <p className="prewrap comment-body">{comment.content}</p>
      )}
      {mode === "reply" && (
        <CommentForm label="Reply" rows={3} text={text} setText={setText} mutation={reply} title="Reply not added" submit="Post reply" busy="Replying" onCancel={() => setMode("view")} />
      )}
      {mode === "view" && (
        <div className="row">
          {thread && canEdit && !comment.is_deleted && (
            <button
              type="button"
              className="link-button small"
              onClick={() => {
                setText("");
                reply.reset();
                setMode("reply");
              }}
            >
              Reply
            </button>
          )}
          {mayChange && (
            <>
              <button
                type="button"
                className="link-button small"
                onClick={() => {
                  setText(comment.content);
                  update.reset();
                  setMode("edit");
                }}
              >
                Edit
              </button>
              <button type="button" className="link-button small" onClick={remove.ask(comment)}>
                Delete
              </button>
            </>
          )}
        </div>
      )}
      <ConfirmDialog {...remove.dialog} title="Delete comment" confirmLabel="Delete comment">
        <p>Delete this comment?{thread ? " Its replies stay; the comment shows as deleted." : ""}</p>
      </ConfirmDialog>
    </article>
  );
}

// ---- Tasks ----

function Tasks({ ws, c, emails }: { ws: string; c: CaseDetail; emails: Map<string, string> }) {
  const me = useMe().data;
  const canEdit = can(me, ws, "editor");
  const refresh = useRefresh(ws);
  const workflows = useWorkflows(ws);
  const titles = useMemo(() => new Map((workflows.data ?? []).map((w) => [w.id, w.title])), [workflows.data]);
  const tasks = useQuery({
    queryKey: caseKeys.part(ws, c.id, "tasks"),
    queryFn: () => unwrap<CaseTask[]>(client.GET("/cases/{case_id}/tasks", { params: { path: { case_id: c.id }, query: { workspace_id: ws } } })),
  });
  const update = useMutation({
    mutationFn: ({ task, body }: { task: string; body: TaskBody }) =>
      unwrap(client.PATCH("/cases/{case_id}/tasks/{task_id}", { params: { path: { case_id: c.id, task_id: task }, query: { workspace_id: ws } }, body })),
    onSettled: refresh,
  });
  const remove = useConfirmed(
    (t: CaseTask) => unwrap(client.DELETE("/cases/{case_id}/tasks/{task_id}", { params: { path: { case_id: c.id, task_id: t.id }, query: { workspace_id: ws } } })),
    refresh,
  );
  const [title, setTitle] = useState("");
  const [description, setDescription] = useState("");
  const [priority, setPriority] = useState("unknown");
  const [workflow, setWorkflow] = useState("");
  const create = useMutation({
    mutationFn: (body: TaskBody) => unwrap(client.POST("/cases/{case_id}/tasks", { params: { path: { case_id: c.id }, query: { workspace_id: ws } }, body })),
    onSuccess: async () => {
      setTitle("");
      setDescription("");
      setWorkflow("");
      await refresh();
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({
      title: title.trim(),
      description: description || null,
      priority: priority as TaskBody["priority"],
      status: "todo",
      workflow_id: workflow || null,
    });
  };
  return (
    <div className="stack">
      <ErrorNote error={tasks.error ?? update.error} />
      {tasks.isPending && <Spinner />}
      {tasks.data && tasks.data.length === 0 && <p className="muted">No tasks yet.</p>}
      {tasks.data && tasks.data.length > 0 && (
        <div className="table-scroll">
          <DataTable label="Tasks" columns={["Task", "Status", "Priority", "Assignee", "Workflow"]} actions={canEdit}>
            {tasks.data.map((t) => (
              <tr key={t.id}>
                <td>
                  <strong>{t.title}</strong>
                  {t.description && <p className="prewrap small muted task-description">{t.description}</p>}
                </td>
                <td>
                  {canEdit ? (
                    <label>
                      <span className="visually-hidden">Status of task {t.title}</span>
                      <select
                        value={update.isPending && update.variables?.task === t.id && update.variables.body.status ? update.variables.body.status : t.status}
                        onChange={(e) => update.mutate({ task: t.id, body: { status: e.target.value as TaskBody["status"] } })}
                      >
                        <Options of={choices(TASK_STATUSES)} />
                      </select>
                    </label>
                  ) : (
                    <CaseBadge value={t.status} />
                  )}
                </td>
                <td>
                  <CaseBadge value={t.priority} />
                </td>
                <td>{t.assignee_id ? (emails.get(t.assignee_id) ?? t.assignee_id) : <span className="muted">—</span>}</td>
                <td>
                  {t.workflow_id ? <Link to={`/workspaces/${ws}/workflows/${t.workflow_id}`}>{titles.get(t.workflow_id) ?? t.workflow_id}</Link> : <span className="muted">—</span>}
                </td>
                {canEdit && (
                  <RowButtons
                    buttons={[
                      !!me && t.assignee_id !== me.id && { label: "Assign to me", name: `Assign task ${t.title} to me`, onClick: () => update.mutate({ task: t.id, body: { assignee_id: me.id } }) },
                      { label: "Delete", name: `Delete task ${t.title}`, onClick: remove.ask(t), danger: true },
                    ]}
                  />
                )}
              </tr>
            ))}
          </DataTable>
        </div>
      )}
      {canEdit && (
        <form className="card stack" onSubmit={submit}>
          <h3>Add a task</h3>
          <div className="form-grid">
            <Field label="Task title">
              <input value={title} onChange={(e) => setTitle(e.target.value)} required autoComplete="off" maxLength={255} />
            </Field>
            <Field label="Task priority">
              <select value={priority} onChange={(e) => setPriority(e.target.value)}>
                <Options of={choices(CASE_PRIORITIES)} />
              </select>
            </Field>
            <Field label="Task workflow" hint="Optional: the workflow that does this task.">
              <select value={workflow} onChange={(e) => setWorkflow(e.target.value)}>
                <option value="">None</option>
                <Options of={(workflows.data ?? []).map((w) => [w.id, w.title] as const)} />
              </select>
            </Field>
          </div>
          <Field label="Task description">
            <textarea className="prose" value={description} onChange={(e) => setDescription(e.target.value)} rows={3} />
          </Field>
          <ErrorNote error={create.error} title="Task not added" />
          <div className="row form-actions">
            <SubmitButton pending={create.isPending} busy="Adding task" disabled={!title.trim()}>
              Add task
            </SubmitButton>
          </div>
        </form>
      )}
      <ConfirmDialog {...remove.dialog} title="Delete task" confirmLabel="Delete task">
        <p>Delete the task “{remove.target?.title}”?</p>
      </ConfirmDialog>
    </div>
  );
}

// ---- Attachments ----

function Attachments({ ws, c, emails }: { ws: string; c: CaseDetail; emails: Map<string, string> }) {
  const me = useMe().data;
  const canEdit = can(me, ws, "editor");
  const refresh = useRefresh(ws);
  // The upload is a multipart form, which goes through `raw`; the rest through the typed client.
  const uploadPath = `/cases/${encodeURIComponent(c.id)}/attachments?workspace_id=${encodeURIComponent(ws)}`;
  const list = useQuery({
    queryKey: caseKeys.part(ws, c.id, "attachments"),
    queryFn: () =>
      unwrap<CaseAttachment[]>(client.GET("/cases/{case_id}/attachments", { params: { path: { case_id: c.id }, query: { workspace_id: ws } } })),
  });
  const [file, setFile] = useState<File | null>(null);
  const [inputKey, setInputKey] = useState(0);
  const upload = useMutation({
    mutationFn: async (f: File) => {
      const form = new FormData();
      form.append("file", f, f.name);
      try {
        return await raw<CaseAttachment>(uploadPath, { method: "POST", body: form });
      } catch (e) {
        if (e instanceof ApiError && e.status === 413) throw new ApiError(413, `${f.name} is too large to attach (${size(f.size)}). ${e.detail}`, e.errors);
        throw e;
      }
    },
    onSuccess: async () => {
      setFile(null);
      setInputKey((k) => k + 1);
      await refresh();
    },
  });
  const download = useMutation({
    mutationFn: async (a: CaseAttachment) => {
      const answer = await unwrap<AttachmentDownload>(
        client.GET("/cases/{case_id}/attachments/{attachment_id}", { params: { path: { case_id: c.id, attachment_id: a.id }, query: { workspace_id: ws } } }),
      );
      // Only a web link is followed, never a `javascript:` one.
      const url = new URL(answer.download_url, window.location.href);
      if (url.protocol !== "https:" && url.protocol !== "http:") throw new Error(`the api's download link is not a web address (${url.protocol})`);
      return url.href;
    },
    onSuccess: (href) => {
      // A new tab; where pop-ups are blocked, the download starts from this one.
      const opened = window.open(href, "_blank");
      if (opened) opened.opener = null;
      else window.location.assign(href);
    },
  });
  const remove = useConfirmed(
    (a: CaseAttachment) =>
      unwrap(client.DELETE("/cases/{case_id}/attachments/{attachment_id}", { params: { path: { case_id: c.id, attachment_id: a.id }, query: { workspace_id: ws } } })),
    refresh,
  );
  return (
    <div className="stack">
      <ErrorNote error={list.error} />
      {list.isPending && <Spinner />}
      {list.data && list.data.length === 0 && <p className="muted">No files attached.</p>}
      {list.data && list.data.length > 0 && (
        <div className="table-scroll">
          <DataTable label="Attachments" columns={["File", "Type", "Size", "Added by", "Added"]} actions>
            {list.data.map((a) => (
              <tr key={a.id}>
                <td className="break">{a.file_name}</td>
                <td className="mono">{a.content_type}</td>
                <td className="num">{size(a.size)}</td>
                <td>{a.creator_id ? (emails.get(a.creator_id) ?? a.creator_id.slice(0, 8)) : <span className="muted">—</span>}</td>
                <td>
                  <When at={a.created_at} />
                </td>
                <RowButtons
                  buttons={[
                    { label: "Download", name: `Download ${a.file_name}`, onClick: () => download.mutate(a), disabled: download.isPending },
                    canEdit && { label: "Delete", name: `Delete ${a.file_name}`, onClick: remove.ask(a), danger: true },
                  ]}
                />
              </tr>
            ))}
          </DataTable>
        </div>
      )}
      <ErrorNote error={download.error} title="Not downloaded" />
      {canEdit && (
        <form
          className="row row-bottom"
          onSubmit={(e) => {
            e.preventDefault();
            if (file) upload.mutate(file);
          }}
        >
          <Field label="File to attach">
            <input key={inputKey} type="file" onChange={(e) => setFile(e.target.files?.[0] ?? null)} required />
          </Field>
          <SubmitButton pending={upload.isPending} busy="Uploading" disabled={!file}>
            Upload
          </SubmitButton>
        </form>
      )}
      <ErrorNote error={upload.error} title="Not attached" />
      <ConfirmDialog {...remove.dialog} title="Delete attachment" confirmLabel="Delete attachment">
        <p>Delete {remove.target?.file_name}? This cannot be undone.</p>
      </ConfirmDialog>
    </div>
  );
}

// ---- Activity ----

/** A value from an event as words. */
function shown(value: unknown, enumLike = false): string {
  if (value === null || value === undefined || value === "") return "none";
  if (typeof value === "string") return enumLike ? label(value) : value;
  return JSON.stringify(value);
}

const ENUM_FIELDS = new Set(["status", "priority", "severity"]);

/** One event as a sentence after the actor's name. */
function sentence(e: CaseEvent, emails: Map<string, string>): string {
  const d = (e.data ?? {}) as Record<string, unknown>;
  const person = (id: unknown) => (typeof id === "string" && id ? (emails.get(id) ?? `user ${id.slice(0, 8)}`) : "nobody");
  const fromTo = (enumLike: boolean) => `from ${shown(d.old, enumLike)} to ${shown(d.new, enumLike)}`;
  const task = typeof d.title === "string" ? `“${d.title}”` : "a task";
  switch (e.type) {
    case "case_created":
      return "created the case";
    case "case_updated": {
      const field = String(d.field ?? "the case");
      if (field === "summary") return `changed the summary to “${shown(d.new)}”`;
      if (field === "description") return "edited the description";
      return `changed ${label(field).toLowerCase()} ${fromTo(ENUM_FIELDS.has(field))}`;
    }
    case "case_closed":
      return `closed the case (status ${fromTo(true)})`;
    case "case_reopened":
      return `reopened the case (status ${fromTo(true)})`;
    case "status_changed":
      return `changed status ${fromTo(true)}`;
    case "priority_changed":
      return `changed priority ${fromTo(true)}`;
    case "severity_changed":
      return `changed severity ${fromTo(true)}`;
    case "fields_changed": {
      const changes = Array.isArray(d.changes) ? (d.changes as { field?: string; old?: unknown; new?: unknown }[]) : [];
      if (!changes.length) return "changed custom fields";
      return `changed ${changes.map((ch) => `${ch.field ?? "a field"} from ${shown(ch.old)} to ${shown(ch.new)}`).join("; ")}`;
    }
    case "assignee_changed":
      return d.new ? `assigned the case to ${person(d.new)}` : `unassigned the case (was ${person(d.old)})`;
    case "payload_changed":
      return "changed the payload";
    case "tag_added":
      return `added tag ${shown(d.tag_name ?? d.tag_ref)}`;
    case "tag_removed":
      return `removed tag ${shown(d.tag_name ?? d.tag_ref)}`;
    case "task_created":
      return `added task ${task}`;
    case "task_deleted":
      return `deleted task ${task}`;
    case "task_status_changed":
      return `moved task ${task} ${fromTo(true)}`;
    case "task_priority_changed":
      return `changed the priority of task ${task} ${fromTo(true)}`;
    case "task_assignee_changed":
      return d.new ? `assigned task ${task} to ${person(d.new)}` : `unassigned task ${task}`;
    case "task_workflow_changed":
      return `changed the workflow of task ${task} ${fromTo(false)}`;
    case "comment_created":
      return "commented";
    case "comment_updated":
      return "edited a comment";
    case "comment_deleted":
      return "deleted a comment";
    case "comment_reply_created":
      return "replied to a comment";
    case "comment_reply_updated":
      return "edited a reply";
    case "comment_reply_deleted":
      return "deleted a reply";
    case "attachment_created":
      return `attached ${shown(d.file_name)}${typeof d.size === "number" ? ` (${size(d.size)})` : ""}`;
    case "attachment_deleted":
      return `removed the attachment ${shown(d.file_name)}`;
    case "table_row_linked":
      return `linked a row of table ${shown(d.table_name)}`;
    case "table_row_unlinked":
      return `unlinked a row of table ${shown(d.table_name)}`;
    case "case_viewed":
      return "viewed the case";
    default:
      if (e.type.startsWith("task_")) return `${label(e.type).toLowerCase()} ${task}`;
      return label(e.type).toLowerCase();
  }
}

function Activity({ events, who, emails }: { ws: string; events: { data?: CaseEvents; error: unknown; isPending: boolean }; who: Who; emails: Map<string, string> }) {
  const [views, setViews] = useState(false);
  const list = useMemo(
    () =>
      [...(events.data?.events ?? [])]
        .filter((e) => views || e.type !== "case_viewed")
        .sort((a, b) => b.created_at.localeCompare(a.created_at)),
    [events.data, views],
  );
  return (
    <div className="stack">
      <ErrorNote error={events.error} />
      {events.isPending && <Spinner />}
      <label className="check small">
        <input type="checkbox" checked={views} onChange={(e) => setViews(e.target.checked)} />
        <span>Show views</span>
      </label>
      {events.data && list.length === 0 && <p className="muted">No activity yet.</p>}
      {list.length > 0 && (
        <ol className="activity plain-list" aria-label="Activity, newest first">
          {list.map((e) => (
            <li key={e.id} className="activity-item" data-type={e.type}>
              <span>
                {who(e.user_id, e.wf_exec_id)} {sentence(e, emails)}
              </span>
              <span className="muted small">
                <When at={e.created_at} />
              </span>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

/** The text form of an edit or a reply: one labelled textarea, its error, save and cancel. */
function CommentForm(props: {
  label: string;
  rows: number;
  text: string;
  setText: (text: string) => void;
  mutation: { mutate: (text: string) => void; isPending: boolean; error: unknown };
  title: string;
  submit: string;
  busy: string;
  onCancel: () => void;
}) {
  const { label, rows, text, setText, mutation, title, submit, busy, onCancel } = props;
  return (
    <form
      className="stack"
      onSubmit={(e) => {
        e.preventDefault();
        if (text.trim()) mutation.mutate(text);
      }}
    >
      <Field label={label}>
        <textarea className="prose" value={text} onChange={(e) => setText(e.target.value)} rows={rows} required autoFocus />
      </Field>
      <ErrorNote error={mutation.error} title={title} />
      <div className="row">
        <SubmitButton pending={mutation.isPending} busy={busy}>
          {submit}
        </SubmitButton>
        <button type="button" className="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
