import type { components } from "./schema";

// The shapes of the api's answers the workflow pages read: generated from the OpenAPI document
// where the api describes its answers with types (workflows, runs, webhooks), written here where it still
// answers with untyped JSON.

/** The api's answers as its OpenAPI document describes them. */
type Schemas = components["schemas"];

export type WorkflowModel = Schemas["WorkflowRead"];
export type WorkflowPage = Schemas["WorkflowPage"];

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

/** Generated, with the status narrowed to the values the api documents. */
export type RunSummary = Omit<Schemas["RunSummary"], "status"> & { status: RunStatus };

/** Generated; an action's error is `{message}`. */
export type ActionEvent = Omit<Schemas["ActionEvent"], "action_error"> & { action_error?: { message?: string } | null };

export type ExecutionDetail = Omit<Schemas["ExecutionDetail"], "status" | "events"> & { status: RunStatus; events: ActionEvent[] };

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

/** Generated: the webhook, with its URL and secret for editors. */
export type WebhookModel = Schemas["WebhookRead"];

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
