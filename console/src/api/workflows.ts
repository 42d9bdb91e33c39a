// Queries and calls the workflow pages share.
import { useQuery } from "@tanstack/react-query";
import { client, raw, unwrap } from "./client";
import type { RunSummary, WorkflowModel, WorkflowPage } from "./types";

export const keys = {
  workflows: (ws: string) => ["workflows", ws] as const,
  workflow: (ws: string, wf: string) => ["workflow", ws, wf] as const,
  runs: (ws: string, filter: object) => ["runs", ws, filter] as const,
  run: (ws: string, exec: string) => ["run", ws, exec] as const,
  versions: (ws: string, wf: string) => ["versions", ws, wf] as const,
  webhook: (ws: string, wf: string) => ["webhook", ws, wf] as const,
  schedules: (ws: string, wf: string) => ["schedules", ws, wf] as const,
  registry: ["registry"] as const,
};

/** Every workflow of the workspace (the api pages by 200). */
export async function allWorkflows(ws: string): Promise<WorkflowModel[]> {
  const items: WorkflowModel[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await unwrap<WorkflowPage>(client.GET("/workflows", { params: { query: { workspace_id: ws, limit: 200, cursor } } }));
    items.push(...page.items);
    if (!page.has_more || !page.next_cursor) return items;
    cursor = page.next_cursor;
  }
}

export function useWorkflows(ws: string) {
  return useQuery({ queryKey: keys.workflows(ws), queryFn: () => allWorkflows(ws) });
}

export function useWorkflow(ws: string, wf: string) {
  return useQuery({
    queryKey: keys.workflow(ws, wf),
    queryFn: () => unwrap<WorkflowModel>(client.GET("/workflows/{workflow_id}", { params: { path: { workflow_id: wf }, query: { workspace_id: ws } } })),
  });
}

export interface RunFilter {
  workflow_id?: string;
  status?: string;
  trigger_type?: string;
  after?: string;
  /** The next page: runs started before this time. */
  before?: string;
  limit?: number;
}

export function listRuns(ws: string, filter: RunFilter): Promise<RunSummary[]> {
  return unwrap<RunSummary[]>(
    client.GET("/workflow-executions", {
      params: { query: { workspace_id: ws, limit: filter.limit ?? 100, workflow_id: filter.workflow_id, status: filter.status, trigger_type: filter.trigger_type, after: filter.after, before: filter.before } },
    }),
  );
}

/** Imports a YAML or JSON document (a workflow, or Tracecat's export) as a new workflow. */
export function importWorkflow(ws: string, text: string): Promise<WorkflowModel> {
  const json = text.trimStart().startsWith("{");
  return raw<WorkflowModel>(`/workflows?workspace_id=${encodeURIComponent(ws)}`, {
    method: "POST",
    headers: { "content-type": json ? "application/json" : "application/yaml" },
    body: text,
  });
}

export function exportUrl(ws: string, wf: string, options: { format: "yaml" | "json"; draft?: boolean; version?: number }): string {
  const q = new URLSearchParams({ workspace_id: ws, format: options.format });
  if (options.draft) q.set("draft", "true");
  if (options.version !== undefined) q.set("version", String(options.version));
  return `/api/workflows/${encodeURIComponent(wf)}/export?${q}`;
}
