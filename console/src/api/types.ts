// The shapes of the api's answers the workflow pages read (the OpenAPI document types their
// paths and parameters; these are what the handlers build).

export interface WorkflowModel {
  id: string;
  workspace_id: string;
  title: string;
  description: string;
  status: "online" | "offline" | string;
  version: number | null;
  alias: string | null;
  /** Labels that group workflows. */
  tags: string[];
  created_at: string;
  updated_at: string;
  /** The draft, as JSON. */
  definition: Record<string, unknown>;
  /** The YAML the draft was saved from in the editor, comments included, when it was. */
  definition_yaml: string | null;
}

export interface WorkflowPage {
  items: WorkflowModel[];
  next_cursor: string | null;
  has_more: boolean;
}

export interface Validation {
  valid: boolean;
  errors: { loc: string; msg: string }[];
}

export interface VersionModel {
  id: string;
  workflow_id: string;
  version: number;
  created_at: string;
}

export interface DefinitionModel extends VersionModel {
  content: Record<string, unknown>;
}

export interface CommitAnswer {
  workflow_id: string;
  status: string;
  message: string;
  metadata: { version: number; schedules_updated: number; warnings: string[] };
}

export type RunStatus = "RUNNING" | "COMPLETED" | "FAILED" | "CANCELED" | "TERMINATED" | "TIMED_OUT" | "CONTINUED_AS_NEW";

export interface RunSummary {
  id: string;
  run_id: string;
  workflow_id: string;
  status: RunStatus;
  trigger_type: string | null;
  start_time: string | null;
  close_time: string | null;
}

export interface ActionEvent {
  event_id: number;
  event_type: string;
  status: "SCHEDULED" | "STARTED" | "COMPLETED" | "FAILED" | "TIMED_OUT" | string;
  action_ref: string;
  action_name: string;
  action_input: unknown;
  action_result: unknown;
  action_error: { message?: string } | null;
  attempt: number;
  start_time: string | null;
  close_time: string | null;
}

export interface ExecutionDetail {
  id: string;
  run_id: string;
  status: RunStatus;
  start_time: string | null;
  close_time: string | null;
  history_length: number;
  workflow_id: string | null;
  version: number | null;
  trigger_type: string | null;
  trigger: unknown;
  result: unknown;
  error: string | null;
  events: ActionEvent[];
}

/** A stored result too large for the answer: a short-lived link instead. */
export interface StoredDownload {
  kind: "download";
  url: string;
  size_bytes?: number;
  expires_in?: number;
  [key: string]: unknown;
}

export function isDownload(value: unknown): value is StoredDownload {
  return !!value && typeof value === "object" && (value as { kind?: unknown }).kind === "download" && typeof (value as { url?: unknown }).url === "string";
}

export interface WebhookModel {
  id: string;
  workflow_id: string;
  status: "online" | "offline" | string;
  methods: string[];
  allowlisted_cidrs: string[];
  include_headers: boolean;
  api_key: { preview: string; created_at: string; revoked_at: string | null } | null;
  url?: string;
  secret?: string;
}

export interface ScheduleModel {
  id: string;
  workflow_id: string;
  status: "online" | "offline" | string;
  cron: string | null;
  every: string | null;
  offset: string | null;
  start_at: string | null;
  end_at: string | null;
  inputs: unknown;
  timeout: number | null;
  created_at: string;
  updated_at: string;
}

export interface ArgSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  [key: string]: unknown;
}

export interface RegistryAction {
  action: string;
  name: string;
  namespace: string;
  title?: string;
  description?: string;
  origin?: string;
  secrets?: unknown[];
  args?: { properties?: Record<string, ArgSchema>; required?: string[]; [key: string]: unknown };
}
