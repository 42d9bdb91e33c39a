// Tables: the shapes of the api's lookup-table answers (untyped JSON in its OpenAPI document, so
// the calls go through `raw`), the calls the table pages share, and the conversions between a
// column's typed values and the text an input holds.
import { raw } from "./client";

export const COLUMN_TYPES = ["TEXT", "INTEGER", "NUMERIC", "DATE", "BOOLEAN", "TIMESTAMPTZ", "JSONB", "SELECT", "MULTI_SELECT"] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

/** Column names as the api takes them (see also {@link RESERVED_COLUMNS}). */
export const COLUMN_NAME_PATTERN = "[A-Za-z_][A-Za-z0-9_]*";
export const COLUMN_NAME_TITLE = "letters, digits and underscores, not starting with a digit or __tc_";
/** The columns every row has, which no user column may be named. */
export const RESERVED_COLUMNS = ["id", "created_at", "updated_at"] as const;

/** Whether a type takes a list of allowed values. */
export const hasOptions = (type: string) => type === "SELECT" || type === "MULTI_SELECT";

/** Splits a comma-separated options field. */
export const splitOptions = (text: string) =>
  text
    .split(",")
    .map((o) => o.trim())
    .filter(Boolean);

/** A column's type as a short hint for the grid's header. */
export const TYPE_HINT: Record<ColumnType, string> = {
  TEXT: "text",
  INTEGER: "integer",
  NUMERIC: "number",
  DATE: "date",
  BOOLEAN: "boolean",
  TIMESTAMPTZ: "timestamp",
  JSONB: "JSON",
  SELECT: "select",
  MULTI_SELECT: "multi-select",
};

export interface TableSummary {
  id: string;
  name: string;
  created_at: string;
  updated_at: string;
  row_estimate?: number | null;
}

export interface TableColumn {
  id: string;
  name: string;
  type: ColumnType;
  nullable: boolean;
  default: unknown;
  is_index: boolean;
  options: string[] | null;
}

export interface TableRead extends TableSummary {
  columns: TableColumn[];
}

/** A row: its id and times, then one value per column under the column's name. */
export interface Row {
  id: string;
  created_at: string;
  updated_at: string;
  [column: string]: unknown;
}

export interface RowPage {
  items: Row[];
  next_cursor: string | null;
  prev_cursor: string | null;
  has_more: boolean;
  has_previous: boolean;
}

export interface NewColumn {
  name: string;
  type: ColumnType;
  nullable?: boolean;
  default?: unknown;
  options?: string[];
  is_index?: boolean;
}

export type ColumnChange = Partial<NewColumn>;

export interface InferredColumn {
  csv_header: string;
  field_name: string;
  field_type: ColumnType;
}

export interface ImportPreview {
  columns: InferredColumn[];
  rows: Record<string, unknown>[];
  total_rows: number;
}

export interface ImportedTable {
  table: TableRead;
  rows_inserted: number;
  column_mapping: InferredColumn[];
}

export const EXPORT_FORMATS = [
  ["csv", "CSV"],
  ["json", "JSON"],
  ["ndjson", "NDJSON"],
  ["markdown", "Markdown"],
] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number][0];

/** The order of the rows, as the rows route takes it. */
export interface RowQuery {
  search_term?: string;
  order_by?: string;
  sort?: "asc" | "desc";
}

export const tableKeys = {
  list: (ws: string) => ["tables", ws] as const,
  one: (ws: string, id: string) => ["table", ws, id] as const,
  rows: (ws: string, id: string, query?: RowQuery) => (query ? (["table-rows", ws, id, query] as const) : (["table-rows", ws, id] as const)),
};

const q = (ws: string, extra: Record<string, string | undefined> = {}) => {
  const params = new URLSearchParams({ workspace_id: ws });
  for (const [k, v] of Object.entries(extra)) if (v !== undefined && v !== "") params.set(k, v);
  return params.toString();
};
const enc = encodeURIComponent;
const json = (method: string, body: unknown): RequestInit => ({ method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

export const listTables = (ws: string) => raw<TableSummary[]>(`/tables?${q(ws)}`, { method: "GET" });
export const getTable = (ws: string, id: string) => raw<TableRead>(`/tables/${enc(id)}?${q(ws)}`, { method: "GET" });
export const createTable = (ws: string, body: { name: string; columns: NewColumn[] }) => raw<TableRead>(`/tables?${q(ws)}`, json("POST", body));
export const renameTable = (ws: string, id: string, name: string) => raw<TableRead>(`/tables/${enc(id)}?${q(ws)}`, json("PATCH", { name }));
export const deleteTable = (ws: string, id: string) => raw<void>(`/tables/${enc(id)}?${q(ws)}`, { method: "DELETE" });

export const addColumn = (ws: string, table: string, body: NewColumn) => raw<TableColumn>(`/tables/${enc(table)}/columns?${q(ws)}`, json("POST", body));
export const updateColumn = (ws: string, table: string, column: string, body: ColumnChange) =>
  raw<TableColumn>(`/tables/${enc(table)}/columns/${enc(column)}?${q(ws)}`, json("PATCH", body));
export const deleteColumn = (ws: string, table: string, column: string) => raw<void>(`/tables/${enc(table)}/columns/${enc(column)}?${q(ws)}`, { method: "DELETE" });

export function listRows(ws: string, table: string, query: RowQuery, page: { cursor?: string; limit: number }): Promise<RowPage> {
  const params = q(ws, {
    limit: String(page.limit),
    cursor: page.cursor,
    order_by: query.order_by,
    sort: query.order_by ? query.sort : undefined,
    search_term: query.search_term?.trim(),
  });
  return raw<RowPage>(`/tables/${enc(table)}/rows?${params}`, { method: "GET" });
}
export const insertRow = (ws: string, table: string, data: Record<string, unknown>, upsert = false) =>
  raw<Row>(`/tables/${enc(table)}/rows?${q(ws)}`, json("POST", { data, upsert }));
export const updateRow = (ws: string, table: string, row: string, data: Record<string, unknown>) =>
  raw<Row>(`/tables/${enc(table)}/rows/${enc(row)}?${q(ws)}`, json("PATCH", { data }));
export const deleteRows = (ws: string, table: string, rowIds: string[]) =>
  raw<{ rows_deleted: number }>(`/tables/${enc(table)}/rows/batch-delete?${q(ws)}`, json("POST", { row_ids: rowIds }));

/** The most rows one batch-delete call takes. */
export const BATCH_LIMIT = 1000;

function csvForm(file: File, extra: Record<string, string> = {}): FormData {
  const form = new FormData();
  form.append("file", file, file.name);
  for (const [k, v] of Object.entries(extra)) form.append(k, v);
  return form;
}
export const previewImport = (ws: string, file: File) => raw<ImportPreview>(`/tables/import/preview?${q(ws)}`, { method: "POST", body: csvForm(file) });
export const importTable = (ws: string, file: File, tableName?: string) =>
  raw<ImportedTable>(`/tables/import?${q(ws)}`, { method: "POST", body: csvForm(file, tableName ? { table_name: tableName } : {}) });
/** Imports into an existing table; `mapping` is CSV header → column name (unmapped headers are skipped). */
export const importInto = (ws: string, table: string, file: File, mapping: Record<string, string>) =>
  raw<{ rows_inserted: number }>(`/tables/${enc(table)}/import?${q(ws)}`, { method: "POST", body: csvForm(file, { column_mapping: JSON.stringify(mapping) }) });

/** A plain link for the browser to download: the session cookie authenticates GETs. */
export const downloadUrl = (ws: string, table: string, format: ExportFormat) => `/api/tables/${enc(table)}/download?${q(ws, { format })}`;

// ---- Values and the text inputs hold ----

/** What an input holds while a value is edited: text, a checkbox, or the checked options. */
export type Draft = string | boolean | string[];

const pad = (n: number) => String(n).padStart(2, "0");

/** An RFC 3339 time as a `datetime-local` input's text (local time, to the second). */
function toLocalInput(value: string): string {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return "";
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A value as the draft its editor starts from. */
export function toDraft(type: ColumnType, value: unknown): Draft {
  switch (type) {
    case "BOOLEAN":
      return value === true;
    case "MULTI_SELECT":
      return Array.isArray(value) ? value.map(String) : [];
    case "JSONB":
      return value === null || value === undefined ? "" : JSON.stringify(value, null, 2);
    case "TIMESTAMPTZ":
      return typeof value === "string" ? toLocalInput(value) : "";
    default:
      return value === null || value === undefined ? "" : String(value);
  }
}

/** A draft as the value the api takes, or what is wrong with it. Empty is null, except text. */
export function fromDraft(column: Pick<TableColumn, "name" | "type" | "nullable">, draft: Draft): { value: unknown } | { error: string } {
  const { type } = column;
  if (type === "BOOLEAN") return { value: draft === true };
  if (type === "MULTI_SELECT") return { value: Array.isArray(draft) ? draft : [] };
  const text = typeof draft === "string" ? draft : "";
  if (type === "TEXT") return { value: text };
  if (!text.trim()) return column.nullable ? { value: null } : { error: `${column.name} may not be empty` };
  switch (type) {
    // Beyond 2^53 (or past a double's digits) a JS number loses precision: large values go
    // as their text, which the api reads as the column's type.
    case "INTEGER": {
      const t = text.trim();
      if (!/^[-+]?\d+$/.test(t)) return { error: `${column.name}: “${text}” is not a whole number` };
      const n = Number(t);
      return { value: Number.isSafeInteger(n) ? n : t };
    }
    case "NUMERIC": {
      const t = text.trim();
      const n = Number(t);
      if (!Number.isFinite(n)) return { error: `${column.name}: “${text}” is not a number` };
      return { value: String(n) === t ? n : t };
    }
    case "DATE":
      return /^\d{4}-\d{2}-\d{2}$/.test(text) ? { value: text } : { error: `${column.name}: “${text}” is not a date (YYYY-MM-DD)` };
    case "TIMESTAMPTZ": {
      const d = new Date(text);
      return Number.isNaN(d.getTime()) ? { error: `${column.name}: “${text}” is not a date and time` } : { value: d.toISOString() };
    }
    case "JSONB":
      try {
        return { value: JSON.parse(text) };
      } catch (e) {
        return { error: `${column.name} is not valid JSON: ${e instanceof Error ? e.message : String(e)}` };
      }
    default:
      return { value: text };
  }
}

/** A value as one line of text for a grid cell. */
export function showValue(type: ColumnType, value: unknown): string {
  if (value === null || value === undefined) return "";
  switch (type) {
    case "MULTI_SELECT":
      return Array.isArray(value) ? value.join(", ") : JSON.stringify(value);
    case "JSONB":
      return JSON.stringify(value);
    case "TIMESTAMPTZ": {
      const d = new Date(String(value));
      return Number.isNaN(d.getTime()) ? String(value) : d.toLocaleString();
    }
    default:
      return typeof value === "object" ? JSON.stringify(value) : String(value);
  }
}

/** Whether two values are the same (a save that changes nothing is skipped). */
export const sameValue = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
