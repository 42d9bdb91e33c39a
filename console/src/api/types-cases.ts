// Cases: the shapes of the api's case answers (untyped JSON in its OpenAPI document), the
// enums with the words the console shows for them, and the calls the case pages share.
import { client, raw, unwrap } from "./client";
import type { Row } from "./types-tables";

export const CASE_STATUSES = ["unknown", "new", "in_progress", "on_hold", "resolved", "closed", "other"] as const;
export const CASE_PRIORITIES = ["unknown", "low", "medium", "high", "critical", "other"] as const;
export const CASE_SEVERITIES = ["unknown", "informational", "low", "medium", "high", "critical", "fatal", "other"] as const;
export const TASK_STATUSES = ["todo", "in_progress", "completed", "blocked"] as const;
export const FIELD_TYPES = ["TEXT", "INTEGER", "NUMERIC", "BOOLEAN", "DATE", "TIMESTAMPTZ", "JSONB", "SELECT", "MULTI_SELECT"] as const;
export const ORDER_BY = [
  ["updated_at", "Updated"],
  ["created_at", "Created"],
  ["priority", "Priority"],
  ["severity", "Severity"],
  ["status", "Status"],
  ["tasks", "Tasks"],
] as const;

export type CaseStatus = (typeof CASE_STATUSES)[number];
export type CasePriority = (typeof CASE_PRIORITIES)[number];
export type CaseSeverity = (typeof CASE_SEVERITIES)[number];
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** An enum value as words: `in_progress` → "In progress". */
export function label(value: string | null | undefined): string {
  if (!value) return "—";
  const words = value.replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** `[value, words]` pairs for <Options>. */
export const choices = (values: readonly string[]) => values.map((v) => [v, label(v)] as const);

export interface UserRef {
  id: string;
  email: string;
}

export interface CaseTag {
  id: string;
  ref: string;
  name: string;
  color: string | null;
}

export interface CaseMinimal {
  id: string;
  short_id: string;
  case_number: number;
  created_at: string;
  updated_at: string;
  summary: string;
  status: CaseStatus;
  priority: CasePriority;
  severity: CaseSeverity;
  assignee_id: string | null;
  assignee: UserRef | null;
  tags: CaseTag[];
  field_values: Record<string, unknown>;
  num_tasks_completed: number;
  num_tasks_total: number;
  payload?: unknown;
}

export interface CasePage {
  items: CaseMinimal[];
  next_cursor: string | null;
  prev_cursor: string | null;
  has_more: boolean;
  has_previous: boolean;
}

export interface CaseAggregate {
  total: number;
  status_groups: Partial<Record<CaseStatus, number>>;
}

export interface CaseFieldValue {
  id: string;
  display_name: string | null;
  type: string;
  description: string | null;
  nullable: boolean;
  default: unknown;
  options: string[] | null;
  kind: string | null;
  required_on_closure: boolean;
  value: unknown;
}

export interface CaseDetail extends CaseMinimal {
  description: string | null;
  payload: unknown;
  fields: CaseFieldValue[];
}

export interface CaseEvent {
  id: string;
  case_id: string;
  type: string;
  data: Record<string, unknown> | null;
  user_id: string | null;
  wf_exec_id: string | null;
  created_at: string;
}

export interface CaseEvents {
  events: CaseEvent[];
  users: UserRef[];
}

export interface CaseComment {
  id: string;
  case_id: string;
  parent_id: string | null;
  content: string;
  user_id: string | null;
  wf_exec_id: string | null;
  created_at: string;
  updated_at: string;
  last_edited_at: string | null;
  deleted_at: string | null;
  is_deleted: boolean;
}

export interface CommentThread {
  comment: CaseComment;
  replies: CaseComment[];
  reply_count: number;
  last_activity_at: string;
}

export interface CaseTask {
  id: string;
  case_id: string;
  title: string;
  description: string | null;
  priority: CasePriority;
  status: TaskStatus;
  assignee_id: string | null;
  workflow_id: string | null;
  default_trigger_values: Record<string, unknown> | null;
  created_at: string;
  updated_at: string;
}

/** A custom field's definition (`GET /case-fields`). */
export interface CaseFieldDef {
  id: string;
  name?: string;
  type: string;
  display_name: string | null;
  description: string | null;
  nullable: boolean;
  default: unknown;
  options: string[] | null;
  kind: string | null;
  required_on_closure: boolean;
  reserved?: boolean;
}

export interface CaseAttachment {
  id: string;
  case_id: string;
  file_name: string;
  content_type: string;
  size: number;
  sha256: string;
  created_at: string;
  creator_id: string | null;
}

export interface AttachmentDownload {
  download_url: string;
  file_name: string;
  content_type: string;
}

export interface BatchResult {
  results: { case_id: string; success: boolean; error: string | null }[];
  succeeded: number;
  failed: number;
}

export interface CaseTrigger {
  workflow_id: string;
  status: "online" | "offline";
  event_types: string[];
  tag_filters: string[];
  disabled_reason: string | null;
  updated_at: string;
}

/** The event types a case trigger can listen to. */
export const CASE_EVENT_TYPES = [
  "case_created",
  "case_updated",
  "case_closed",
  "case_reopened",
  "status_changed",
  "priority_changed",
  "severity_changed",
  "fields_changed",
  "assignee_changed",
  "payload_changed",
  "tag_added",
  "tag_removed",
  "task_created",
  "task_deleted",
  "task_status_changed",
  "task_priority_changed",
  "task_workflow_changed",
  "task_assignee_changed",
  "comment_created",
  "comment_updated",
  "comment_deleted",
  "comment_reply_created",
  "comment_reply_updated",
  "comment_reply_deleted",
  "attachment_created",
  "attachment_deleted",
  "table_row_linked",
  "table_row_unlinked",
] as const;

/** The filters of the cases list, as the search route takes them. */
export interface CaseFilter {
  search_term?: string;
  status?: string[];
  priority?: string[];
  severity?: string[];
  tags?: string[];
  assignee_id?: string[];
  order_by?: string;
  sort?: "asc" | "desc";
}

export const caseKeys = {
  all: (ws: string) => ["cases", ws] as const,
  list: (ws: string, filter: object, cursor: object) => ["cases", ws, "list", filter, cursor] as const,
  aggregate: (ws: string, filter: object) => ["cases", ws, "aggregate", filter] as const,
  one: (ws: string, id: string) => ["case", ws, id] as const,
  part: (ws: string, id: string, part: string) => ["case", ws, id, part] as const,
  tags: (ws: string) => ["case-tags", ws] as const,
  fields: (ws: string) => ["case-fields", ws] as const,
  trigger: (ws: string, wf: string) => ["case-trigger", ws, wf] as const,
};

/** The filters as a query string, lists as repeated keys (`status=new&status=closed`). */
function query(ws: string, filter: CaseFilter, extra: Record<string, string | undefined> = {}): string {
  const q = new URLSearchParams({ workspace_id: ws });
  if (filter.search_term?.trim()) q.set("search_term", filter.search_term.trim());
  for (const key of ["status", "priority", "severity", "tags", "assignee_id"] as const) {
    for (const value of filter[key] ?? []) if (value) q.append(key, value);
  }
  for (const [k, v] of Object.entries(extra)) if (v !== undefined && v !== "") q.set(k, v);
  return q.toString();
}

export function searchCases(ws: string, filter: CaseFilter, page: { cursor?: string; reverse?: boolean; limit: number }): Promise<CasePage> {
  const q = query(ws, filter, {
    order_by: filter.order_by,
    sort: filter.sort,
    limit: String(page.limit),
    cursor: page.cursor,
    reverse: page.reverse ? "true" : undefined,
  });
  return raw<CasePage>(`/cases/search?${q}`, { method: "GET" });
}

export function aggregateCases(ws: string, filter: CaseFilter): Promise<CaseAggregate> {
  return raw<CaseAggregate>(`/cases/search/aggregate?${query(ws, filter)}`, { method: "GET" });
}

export function listTags(ws: string): Promise<CaseTag[]> {
  return unwrap<CaseTag[]>(client.GET("/case-tags", { params: { query: { workspace_id: ws } } }));
}

export function listFields(ws: string): Promise<CaseFieldDef[]> {
  return unwrap<CaseFieldDef[]>(client.GET("/case-fields", { params: { query: { workspace_id: ws } } }));
}

// ---- Rows of lookup tables linked to a case ----

/** Most rows one case may link (the api refuses more with a 422). */
export const MAX_CASE_ROWS = 50;

/** A row of a lookup table linked to a case; `row_data` is null once the row is deleted. */
export interface CaseRowLink {
  id: string;
  case_id: string;
  table_id: string;
  table_name: string;
  row_id: string;
  row_data: Row | null;
  is_row_available: boolean;
  created_at: string;
}

const rowsPath = (ws: string, caseId: string, tail = "") =>
  `/cases/${encodeURIComponent(caseId)}/rows${tail}?${new URLSearchParams({ workspace_id: ws })}`;
const post = (body: unknown): RequestInit => ({ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

export const listCaseRows = (ws: string, caseId: string) => raw<CaseRowLink[]>(rowsPath(ws, caseId), { method: "GET" });
/** Links a row; `table` is the table's id or name. Linking it again returns the same link. */
export const linkCaseRow = (ws: string, caseId: string, table: string, rowId: string) =>
  raw<CaseRowLink>(rowsPath(ws, caseId), post({ table_id: table, row_id: rowId }));
/** Inserts a row into the table (or updates the one with the same key, with `upsert`), then links it. */
export const insertCaseRow = (ws: string, caseId: string, table: string, data: Record<string, unknown>, upsert = false) =>
  raw<CaseRowLink>(rowsPath(ws, caseId, "/insert"), post({ table_id: table, row: { data, upsert } }));
export const unlinkCaseRow = (ws: string, caseId: string, table: string, rowId: string) =>
  raw<void>(rowsPath(ws, caseId, `/${encodeURIComponent(table)}/${encodeURIComponent(rowId)}`), { method: "DELETE" });

/** Bytes as words: 1536 → "1.5 KB". */
export function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** The bodies of the case routes, as the api's OpenAPI document types them. */
export type UpdateCase = import("./schema").components["schemas"]["UpdateCase"];
export type TaskBody = import("./schema").components["schemas"]["TaskBody"];
