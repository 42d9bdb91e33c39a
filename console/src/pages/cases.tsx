// Cases: the workspace's incidents and investigations, filtered, sorted and paged by the api,
// with counts per status, saved views (kept in this browser) and changes to many at once.
import { useEffect, useMemo, useState, type FormEvent } from "react";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { client, unwrap } from "../api/client";
import { can, useMe } from "../api/session";
import {
  CASE_PRIORITIES,
  CASE_SEVERITIES,
  CASE_STATUSES,
  ORDER_BY,
  aggregateCases,
  caseKeys,
  choices,
  label,
  listTags,
  searchCases,
  type BatchResult,
  type CaseDetail,
  type CaseFilter,
  type CasePriority,
  type CaseSeverity,
  type CaseStatus,
} from "../api/types-cases";
import { Link } from "../router";
import { Dialog, Empty, ErrorNote, Field, Options, PageHeader, Spinner, SubmitButton, When } from "../components/ui";
import { ConfirmDialog } from "../components/forms";
import { CaseBadge, TagChip, useMembers } from "../components/case-parts";

/** Cases per page. */
const PAGE = 20;

/** The filters the bar shows: one value per list filter ("" = any). */
interface Filters {
  search: string;
  status: string;
  priority: string;
  severity: string;
  tag: string;
  assignee: string;
  order_by: string;
  sort: "asc" | "desc";
}

const NO_FILTERS: Filters = { search: "", status: "", priority: "", severity: "", tag: "", assignee: "", order_by: "updated_at", sort: "desc" };

interface SavedView {
  name: string;
  filters: Filters;
}

const viewsKey = (ws: string) => `ferrocat.caseViews.${ws}`;

function loadViews(ws: string): SavedView[] {
  try {
    const parsed: unknown = JSON.parse(window.localStorage.getItem(viewsKey(ws)) ?? "[]");
    return Array.isArray(parsed) ? (parsed as SavedView[]).filter((v) => v && typeof v.name === "string" && v.filters) : [];
  } catch {
    return [];
  }
}

function storeViews(ws: string, views: SavedView[]) {
  try {
    window.localStorage.setItem(viewsKey(ws), JSON.stringify(views));
  } catch {
    /* storage full or off: the views last for this visit */
  }
}

const list = (value: string) => (value ? [value] : undefined);

export default function CasesPage({ ws }: { ws: string }) {
  const me = useMe().data;
  const canEdit = can(me, ws, "editor");
  const queries = useQueryClient();
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [page, setPage] = useState<{ cursor?: string; reverse?: boolean }>({});
  const [creating, setCreating] = useState(false);
  // The search text goes to the api a moment after typing stops.
  const [search, setSearch] = useState("");
  useEffect(() => {
    const timer = window.setTimeout(() => setFilters((f) => (f.search === search ? f : { ...f, search })), 300);
    return () => window.clearTimeout(timer);
  }, [search]);
  // Any change of filters starts again from the first page.
  useEffect(() => setPage({}), [filters]);

  const filter: CaseFilter = useMemo(
    () => ({
      search_term: filters.search || undefined,
      status: list(filters.status),
      priority: list(filters.priority),
      severity: list(filters.severity),
      tags: list(filters.tag),
      assignee_id: list(filters.assignee),
      order_by: filters.order_by,
      sort: filters.sort,
    }),
    [filters],
  );
  const filtered = !!(filters.search || filters.status || filters.priority || filters.severity || filters.tag || filters.assignee);
  const cases = useQuery({
    queryKey: caseKeys.list(ws, filter, page),
    queryFn: () => searchCases(ws, filter, { ...page, limit: PAGE }),
    placeholderData: keepPreviousData,
  });
  const { order_by: _o, sort: _s, ...countFilter } = filter;
  const counts = useQuery({ queryKey: caseKeys.aggregate(ws, countFilter), queryFn: () => aggregateCases(ws, countFilter) });
  const tags = useQuery({ queryKey: caseKeys.tags(ws), queryFn: () => listTags(ws) });
  const members = useMembers(ws, me);
  const refresh = () => queries.invalidateQueries({ queryKey: caseKeys.all(ws) });

  // Saved views.
  const [views, setViews] = useState<SavedView[]>(() => loadViews(ws));
  const [view, setView] = useState("");
  const [naming, setNaming] = useState(false);
  const apply = (name: string) => {
    setView(name);
    const found = views.find((v) => v.name === name);
    if (found) {
      const next = { ...NO_FILTERS, ...found.filters };
      setSearch(next.search);
      setFilters(next);
    }
  };
  const saveView = (name: string) => {
    const next = [...views.filter((v) => v.name !== name), { name, filters }].sort((a, b) => a.name.localeCompare(b.name));
    setViews(next);
    storeViews(ws, next);
    setView(name);
    setNaming(false);
  };
  const deleteView = () => {
    const next = views.filter((v) => v.name !== view);
    setViews(next);
    storeViews(ws, next);
    setView("");
  };
  const set = (key: keyof Filters) => (value: string) => {
    setView("");
    setFilters((f) => ({ ...f, [key]: value }));
  };

  // Selection and changes to many cases.
  const [selected, setSelected] = useState<Set<string>>(new Set());
  useEffect(() => setSelected(new Set()), [cases.data]);
  const [batchStatus, setBatchStatus] = useState("");
  const [batchNote, setBatchNote] = useState("");
  const [confirmDelete, setConfirmDelete] = useState(false);
  const summarise = (what: string, answer: BatchResult) => {
    const failures = answer.results.filter((r) => !r.success).map((r) => `${r.case_id}: ${r.error ?? "failed"}`);
    setBatchNote(`${what}: ${answer.succeeded} succeeded${answer.failed ? `, ${answer.failed} failed (${failures.join("; ")})` : ""}.`);
  };
  const batchUpdate = useMutation({
    mutationFn: (status: string) =>
      unwrap<BatchResult>(client.POST("/cases/batch-update", { params: { query: { workspace_id: ws } }, body: { case_ids: [...selected], update: { status: status as CaseStatus } } })),
    onSuccess: async (answer) => {
      summarise("Status set", answer);
      await refresh();
    },
  });
  const batchDelete = useMutation({
    mutationFn: () => unwrap<BatchResult>(client.POST("/cases/batch-delete", { params: { query: { workspace_id: ws } }, body: { case_ids: [...selected] } })),
    onSuccess: async (answer) => {
      setConfirmDelete(false);
      summarise("Deleted", answer);
      await refresh();
    },
  });

  const items = cases.data?.items;
  const allSelected = !!items && items.length > 0 && items.every((c) => selected.has(c.id));
  const toggle = (id: string, on: boolean) =>
    setSelected((s) => {
      const next = new Set(s);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });
  const assigneeChoices: [string, string][] = [
    ["", "Anyone"],
    ["unassigned", "Unassigned"],
    ...(me ? [[me.id, `Me (${me.email ?? me.name ?? me.id})`] as [string, string]] : []),
    ...(members ?? []).filter((m) => m.user_id !== me?.id).map((m) => [m.user_id, m.email] as [string, string]),
  ];

  return (
    <>
      <PageHeader title="Cases" description="Incidents and investigations: who works on them, what was found, what is left to do.">
        <Link className="button" to={`/workspaces/${ws}/cases/settings`}>
          Case settings
        </Link>
        {canEdit && (
          <button type="button" className="button button-primary" onClick={() => setCreating(true)}>
            New case
          </button>
        )}
      </PageHeader>
      <form className="row row-bottom toolbar" role="search" aria-label="Filter cases" onSubmit={(e) => e.preventDefault()}>
        <Field label="Search">
          <input type="search" value={search} onChange={(e) => { setView(""); setSearch(e.target.value); }} placeholder="Summary or description" />
        </Field>
        <Field label="Status">
          <select value={filters.status} onChange={(e) => set("status")(e.target.value)}>
            <option value="">Any status</option>
            <Options of={choices(CASE_STATUSES)} />
          </select>
        </Field>
        <Field label="Priority">
          <select value={filters.priority} onChange={(e) => set("priority")(e.target.value)}>
            <option value="">Any priority</option>
            <Options of={choices(CASE_PRIORITIES)} />
          </select>
        </Field>
        <Field label="Severity">
          <select value={filters.severity} onChange={(e) => set("severity")(e.target.value)}>
            <option value="">Any severity</option>
            <Options of={choices(CASE_SEVERITIES)} />
          </select>
        </Field>
        <Field label="Tag">
          <select value={filters.tag} onChange={(e) => set("tag")(e.target.value)}>
            <option value="">Any tag</option>
            <Options of={(tags.data ?? []).map((t) => [t.ref, t.name] as const)} />
          </select>
        </Field>
        <Field label="Assignee">
          <select value={filters.assignee} onChange={(e) => set("assignee")(e.target.value)}>
            <Options of={assigneeChoices} />
            {filters.assignee && !assigneeChoices.some(([id]) => id === filters.assignee) && <option value={filters.assignee}>{filters.assignee}</option>}
          </select>
        </Field>
        <Field label="Sort by">
          <select value={filters.order_by} onChange={(e) => set("order_by")(e.target.value)}>
            <Options of={ORDER_BY} />
          </select>
        </Field>
        <Field label="Order">
          <select value={filters.sort} onChange={(e) => set("sort")(e.target.value)}>
            <option value="desc">Descending</option>
            <option value="asc">Ascending</option>
          </select>
        </Field>
      </form>
      <div className="row row-bottom toolbar">
        <Field label="Saved view">
          <select value={view} onChange={(e) => apply(e.target.value)}>
            <option value="">{views.length ? "Choose a view" : "No saved views"}</option>
            <Options of={views.map((v) => v.name)} />
          </select>
        </Field>
        <button type="button" className="button" onClick={() => setNaming(true)}>
          Save view
        </button>
        <button type="button" className="button" onClick={deleteView} disabled={!view}>
          Delete view
        </button>
        {filtered && (
          <button
            type="button"
            className="button"
            onClick={() => {
              setView("");
              setSearch("");
              setFilters((f) => ({ ...NO_FILTERS, order_by: f.order_by, sort: f.sort }));
            }}
          >
            Clear filters
          </button>
        )}
      </div>
      {counts.data && (
        <ul className="row chips" aria-label="Cases by status">
          <li className="chip">
            Total <strong>{counts.data.total}</strong>
          </li>
          {CASE_STATUSES.filter((s) => counts.data.status_groups[s]).map((s) => (
            <li key={s} className="chip">
              {label(s)} <strong>{counts.data.status_groups[s]}</strong>
            </li>
          ))}
        </ul>
      )}
      <ErrorNote error={cases.error ?? counts.error} />
      {batchNote && (
        <p className="note note-ok" role="status">
          {batchNote}
        </p>
      )}
      {canEdit && selected.size > 0 && (
        <div className="row row-bottom toolbar batch-bar" role="region" aria-label="Selected cases">
          <span>{selected.size} selected</span>
          <Field label="Set status">
            <select value={batchStatus} onChange={(e) => setBatchStatus(e.target.value)}>
              <option value="">Choose a status</option>
              <Options of={choices(CASE_STATUSES)} />
            </select>
          </Field>
          <button type="button" className="button" disabled={!batchStatus || batchUpdate.isPending} onClick={() => batchUpdate.mutate(batchStatus)}>
            {batchUpdate.isPending ? <Spinner label="Setting status" /> : "Apply status"}
          </button>
          <button
            type="button"
            className="button button-danger"
            onClick={() => {
              batchDelete.reset();
              setConfirmDelete(true);
            }}
          >
            Delete selected
          </button>
          <ErrorNote error={batchUpdate.error} />
        </div>
      )}
      {cases.isPending && <Spinner />}
      {items && items.length === 0 && !page.cursor && !filtered && (
        <Empty title="No cases yet">
          <p>A case gathers what is known about an incident: its status, severity, who works on it, tasks, comments and files.</p>
          {canEdit ? <p>Create one with New case, or let a workflow open them.</p> : <p>Ask an editor of this workspace to create one.</p>}
        </Empty>
      )}
      {items && items.length === 0 && (page.cursor || filtered) && (
        <Empty title="No cases match">
          <p>No case matches these filters.</p>
        </Empty>
      )}
      {items && items.length > 0 && (
        <div className="table-scroll">
          <table className="table cases-table" aria-label="Cases">
            <thead>
              <tr>
                {canEdit && (
                  <th scope="col">
                    <label className="check">
                      <input type="checkbox" checked={allSelected} onChange={(e) => setSelected(e.target.checked ? new Set(items.map((c) => c.id)) : new Set())} />
                      <span className="visually-hidden">Select all cases on this page</span>
                    </label>
                  </th>
                )}
                {["Case", "Summary", "Status", "Priority", "Severity", "Assignee", "Tags", "Tasks", "Updated"].map((c) => (
                  <th key={c} scope="col">
                    {c}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {items.map((c) => (
                <tr key={c.id}>
                  {canEdit && (
                    <td>
                      <label className="check">
                        <input type="checkbox" checked={selected.has(c.id)} onChange={(e) => toggle(c.id, e.target.checked)} />
                        <span className="visually-hidden">Select {c.short_id}</span>
                      </label>
                    </td>
                  )}
                  <td className="mono nowrap">{c.short_id}</td>
                  <td>
                    <Link to={`/workspaces/${ws}/cases/${c.short_id}`}>{c.summary}</Link>
                  </td>
                  <td>
                    <CaseBadge value={c.status} />
                  </td>
                  <td>
                    <CaseBadge value={c.priority} />
                  </td>
                  <td>
                    <CaseBadge value={c.severity} />
                  </td>
                  <td>{c.assignee?.email ?? <span className="muted">Unassigned</span>}</td>
                  <td>
                    {c.tags.length ? (
                      <span className="row tags">
                        {c.tags.map((t) => (
                          <TagChip key={t.id} tag={t} />
                        ))}
                      </span>
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
                  <td className="num">
                    {c.num_tasks_total ? (
                      <span aria-label={`${c.num_tasks_completed} of ${c.num_tasks_total} tasks done`}>
                        {c.num_tasks_completed}/{c.num_tasks_total}
                      </span>
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
                  <td>
                    <When at={c.updated_at} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {cases.data && (cases.data.has_previous || cases.data.has_more) && (
        <nav className="row pager" aria-label="Pages of cases">
          <button
            type="button"
            className="button"
            disabled={!cases.data.has_previous || !cases.data.prev_cursor || cases.isFetching}
            onClick={() => setPage({ cursor: cases.data.prev_cursor ?? undefined, reverse: true })}
          >
            Previous
          </button>
          <button
            type="button"
            className="button"
            disabled={!cases.data.has_more || !cases.data.next_cursor || cases.isFetching}
            onClick={() => setPage({ cursor: cases.data.next_cursor ?? undefined })}
          >
            Next
          </button>
        </nav>
      )}
      <Dialog title="New case" open={creating} onClose={() => setCreating(false)} wide>
        {creating && (
          <NewCaseForm
            ws={ws}
            onDone={async () => {
              setCreating(false);
              await refresh();
            }}
          />
        )}
      </Dialog>
      <Dialog title="Save view" open={naming} onClose={() => setNaming(false)}>
        {naming && <ViewNameForm initial={view} taken={views.map((v) => v.name)} onSave={saveView} />}
      </Dialog>
      <ConfirmDialog
        open={confirmDelete}
        title="Delete cases"
        confirmLabel={`Delete ${selected.size} case${selected.size === 1 ? "" : "s"}`}
        onConfirm={() => batchDelete.mutate()}
        onClose={() => setConfirmDelete(false)}
        pending={batchDelete.isPending}
        error={batchDelete.error}
      >
        <p>Delete the {selected.size} selected cases, with their comments, tasks and files? This cannot be undone.</p>
      </ConfirmDialog>
    </>
  );
}

function ViewNameForm({ initial, taken, onSave }: { initial: string; taken: string[]; onSave: (name: string) => void }) {
  const [name, setName] = useState(initial);
  const trimmed = name.trim();
  return (
    <form
      className="stack"
      onSubmit={(e) => {
        e.preventDefault();
        if (trimmed) onSave(trimmed);
      }}
    >
      <Field label="View name" hint={taken.includes(trimmed) ? "A view with this name is replaced." : "The current filters and sort, kept in this browser."}>
        <input value={name} onChange={(e) => setName(e.target.value)} required autoFocus autoComplete="off" maxLength={80} />
      </Field>
      <div className="row form-actions">
        <button type="submit" className="button button-primary" disabled={!trimmed}>
          Save view
        </button>
      </div>
    </form>
  );
}

function NewCaseForm({ ws, onDone }: { ws: string; onDone: () => Promise<void> }) {
  const [summary, setSummary] = useState("");
  const [description, setDescription] = useState("");
  const [status, setStatus] = useState("new");
  const [priority, setPriority] = useState("unknown");
  const [severity, setSeverity] = useState("unknown");
  const create = useMutation({
    mutationFn: () =>
      unwrap<CaseDetail>(
        client.POST("/cases", {
          params: { query: { workspace_id: ws } },
          body: {
            summary: summary.trim(),
            description: description || undefined,
            status: status as CaseStatus,
            priority: priority as CasePriority,
            severity: severity as CaseSeverity,
          },
        }),
      ),
    onSuccess: onDone,
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  return (
    <form className="stack" onSubmit={submit}>
      <ErrorNote error={create.error} />
      <Field label="Summary">
        <input value={summary} onChange={(e) => setSummary(e.target.value)} required autoFocus autoComplete="off" maxLength={255} />
      </Field>
      <Field label="Description" hint="Markdown, shown as plain text.">
        <textarea value={description} onChange={(e) => setDescription(e.target.value)} rows={6} />
      </Field>
      <div className="form-grid">
        <Field label="Status">
          <select value={status} onChange={(e) => setStatus(e.target.value)}>
            <Options of={choices(CASE_STATUSES)} />
          </select>
        </Field>
        <Field label="Priority">
          <select value={priority} onChange={(e) => setPriority(e.target.value)}>
            <Options of={choices(CASE_PRIORITIES)} />
          </select>
        </Field>
        <Field label="Severity">
          <select value={severity} onChange={(e) => setSeverity(e.target.value)}>
            <Options of={choices(CASE_SEVERITIES)} />
          </select>
        </Field>
      </div>
      <div className="row form-actions">
        <SubmitButton pending={create.isPending} busy="Creating">
          Create case
        </SubmitButton>
      </div>
    </form>
  );
}
