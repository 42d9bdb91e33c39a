// Runs: of one workflow (?workflow_id=) or the whole workspace, filtered by status, trigger
// and time, refreshed while any is still running.
import { useMemo } from "react";
import { useInfiniteQuery } from "@tanstack/react-query";
import { keys, listRuns, useWorkflows } from "../api/workflows";
import { Link, navigate, useLocation } from "../router";
import { Badge, DataTable, Empty, ErrorNote, Field, Options, PageHeader, Spinner, When, duration } from "../components/ui";

/** Runs per page. */
const PAGE = 100;

const STATUSES = ["RUNNING", "COMPLETED", "FAILED", "CANCELED", "TERMINATED", "TIMED_OUT"];
const TRIGGERS = ["manual", "webhook", "schedule", "subflow", "mcp"];
const WINDOWS: [string, string, number][] = [
  ["", "Any time", 0],
  ["1h", "Last hour", 3600],
  ["24h", "Last 24 hours", 86400],
  ["7d", "Last 7 days", 7 * 86400],
];

export function RunsPage({ ws }: { ws: string }) {
  const { query } = useLocation();
  const filter = {
    workflow_id: query.get("workflow_id") ?? undefined,
    status: query.get("status") ?? undefined,
    trigger_type: query.get("trigger") ?? undefined,
    window: query.get("since") ?? "",
  };
  const seconds = WINDOWS.find(([id]) => id === filter.window)?.[2] ?? 0;
  const workflows = useWorkflows(ws);
  const titles = useMemo(() => new Map((workflows.data ?? []).map((w) => [w.id, w.title])), [workflows.data]);
  // Pages of PAGE runs, newest first; "Load older runs" asks for the runs before the last one.
  const runs = useInfiniteQuery({
    queryKey: keys.runs(ws, filter),
    queryFn: ({ pageParam }) =>
      listRuns(ws, {
        workflow_id: filter.workflow_id,
        status: filter.status,
        trigger_type: filter.trigger_type,
        after: seconds ? new Date(Date.now() - seconds * 1000).toISOString() : undefined,
        before: pageParam,
        limit: PAGE,
      }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => (last.length === PAGE ? (last[last.length - 1].start_time ?? undefined) : undefined),
    refetchInterval: (q) => (q.state.data?.pages.some((page) => page.some((r) => r.status === "RUNNING")) ? 2000 : 10_000),
  });
  const list = useMemo(() => runs.data?.pages.flat(), [runs.data]);
  const set = (key: string, value: string) => {
    const next = new URLSearchParams(query);
    if (value) next.set(key, value);
    else next.delete(key);
    navigate(`/workspaces/${ws}/runs${next.toString() ? `?${next}` : ""}`, { replace: true });
  };
  const title = filter.workflow_id ? `Runs of ${titles.get(filter.workflow_id) ?? filter.workflow_id}` : "Runs";
  return (
    <>
      <PageHeader title={title} description="Every run of the workspace's workflows, newest first, live." />
      <div className="row toolbar">
        <Field label="Workflow">
          <select value={filter.workflow_id ?? ""} onChange={(e) => set("workflow_id", e.target.value)}>
            <option value="">All workflows</option>
            <Options of={(workflows.data ?? []).map((w) => [w.id, w.title] as const)} />
          </select>
        </Field>
        <Field label="Status">
          <select value={filter.status ?? ""} onChange={(e) => set("status", e.target.value)}>
            <option value="">Any status</option>
            <Options of={STATUSES.map((s) => [s, s.toLowerCase().replace("_", " ")] as const)} />
          </select>
        </Field>
        <Field label="Trigger">
          <select value={filter.trigger_type ?? ""} onChange={(e) => set("trigger", e.target.value)}>
            <option value="">Any trigger</option>
            <Options of={TRIGGERS} />
          </select>
        </Field>
        <Field label="Started">
          <select value={filter.window} onChange={(e) => set("since", e.target.value)}>
            <Options of={WINDOWS} />
          </select>
        </Field>
      </div>
      <ErrorNote error={runs.error} />
      {runs.isPending && <Spinner />}
      {list && list.length === 0 && (
        <Empty title="No runs">
          <p>Runs appear here when a workflow starts: from its webhook, a schedule, the Run panel of the editor, the API or an IDE over MCP.</p>
        </Empty>
      )}
      {list && list.length > 0 && (
        <DataTable label="Runs" columns={["Status", "Workflow", "Trigger", "Started", "Duration", "Run"]}>
          {list.map((r) => (
            <tr key={r.id + r.run_id}>
              <td>
                <Badge status={r.status} />
              </td>
              <td>
                <Link to={`/workspaces/${ws}/workflows/${r.workflow_id}`}>{titles.get(r.workflow_id) ?? r.workflow_id}</Link>
              </td>
              <td>{r.trigger_type ?? <span className="muted">—</span>}</td>
              <td>
                <When at={r.start_time} />
              </td>
              <td>{duration(r.start_time, r.close_time)}</td>
              <td>
                <Link to={`/workspaces/${ws}/runs/${r.id}`} className="mono">
                  {r.id.split("/")[1] ?? r.id}
                </Link>
              </td>
            </tr>
          ))}
        </DataTable>
      )}
      {runs.hasNextPage && (
        <p>
          <button type="button" className="button" onClick={() => runs.fetchNextPage()} disabled={runs.isFetchingNextPage}>
            {runs.isFetchingNextPage ? <Spinner label="Loading older runs" /> : "Load older runs"}
          </button>
        </p>
      )}
    </>
  );
}
