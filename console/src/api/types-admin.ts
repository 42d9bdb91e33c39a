// Read models of the admin pages (secrets, variables, registry, models, members, settings), as
// the api's handlers build them with `json!` (their OpenAPI bodies are untyped `Value`s).

/** `GET /secrets`, `GET /organization/secrets`: names and key names, never values. */
export interface Secret {
  id: string;
  type: string;
  name: string;
  description: string;
  environment: string;
  keys: string[];
  tags: Record<string, unknown> | null;
  /** `ws_…`; null for an organisation secret. */
  workspace_id: string | null;
  created_at: string;
  updated_at: string;
}

/** The kinds of secret there are (`ferrocat_app::secrets::TYPES`). */
export const SECRET_TYPES = ["custom", "ssh_key", "mtls", "ca_cert", "github_app"] as const;

/** `GET /variables`: values are plain JSON, visible to every member. */
export interface Variable {
  id: string;
  name: string;
  description: string;
  environment: string;
  values: Record<string, unknown>;
  tags: Record<string, unknown> | null;
  workspace_id: string;
  created_at: string;
  updated_at: string;
}

/** A JSON schema, as much of it as the registry page reads. */
export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  format?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema | JsonSchema[];
  additionalProperties?: boolean | JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
  definitions?: Record<string, JsonSchema>;
  $defs?: Record<string, JsonSchema>;
  [key: string]: unknown;
}

/** `GET /registry/actions[/{name}]`: one action of the table (`Action::describe`). */
export interface RegistryAction {
  action: string;
  name: string;
  namespace: string;
  title: string;
  description: string;
  /** Secrets it reads whether or not its arguments name them. */
  secrets: string[];
  /** `ferrocat` for built-ins, else the registry it comes from (`git:https://…`, `dir:/srv/…`). */
  origin: string;
  /** `builtin`, or `template` for a YAML template action. */
  type?: string;
  /** Templates: the group the action is shown under. */
  display_group?: string | null;
  /** The JSON schema of its arguments. */
  args?: JsonSchema;
}

/** `GET /registry/repos`: a git registry (superusers only). */
export interface RegistryRepo {
  id: string;
  origin: string;
  git_ref?: string | null;
  ssh_key_secret?: string | null;
  current_version_id?: string | null;
  last_synced_at?: string | null;
  last_error?: string | null;
  created_at: string;
}

/** `GET /registry/repos/{id}/versions` (newest first), and what a sync returns. */
export interface RegistryVersion {
  id: string;
  repository_id?: string;
  version: number;
  commit_sha: string;
  /** The names of the actions it holds. */
  actions: string[];
  actions_count: number;
  created_at?: string;
}

export const PROVIDER_KINDS = ["openai", "anthropic", "azure", "gemini", "openai_compatible"] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

/** `GET /llm/providers`: `base_url` and `credential` only for superusers. */
export interface LlmProvider {
  name: string;
  kind: ProviderKind;
  base_url?: string;
  /** `secret:NAME` or `secret:NAME.KEY`, never a key. */
  credential?: string;
  passthrough: boolean;
  api_version?: string;
  api_key_header?: string;
}

/** `GET /llm/models`. */
export interface LlmModel {
  name: string;
  provider: string;
  upstream_model?: string;
  credential?: string;
  fallbacks?: string[];
  rpm?: number;
  max_tokens?: number;
}

export interface ModelUsage {
  model: string;
  requests: number;
  errors: number;
  input_tokens: number;
  output_tokens: number;
  p50_latency_ms: number | null;
  p99_latency_ms: number | null;
}

/** `GET /workspaces/{workspace_id}/llm/usage`. */
export interface LlmUsage {
  workspace_id: string;
  since: string;
  until: string;
  run_id: string | null;
  total: { requests: number; errors: number; input_tokens: number; output_tokens: number };
  models: ModelUsage[];
}

export const ROLES = ["viewer", "editor", "admin"] as const;
export type Role = (typeof ROLES)[number];

/** `GET /workspaces/{workspace_id}/memberships`. */
export interface Membership {
  user_id: string;
  email: string;
  workspace_id: string;
  role: string;
  created_at: string;
}

/** `GET /users` (superusers). */
export interface UserRow {
  id: string;
  email: string;
  is_superuser: boolean;
  is_active: boolean;
  email_verified: boolean;
  created_at: string;
  last_login_at: string | null;
}

/** `GET /workspaces/{workspace_id}/invitations`. */
export interface Invitation {
  id: string;
  workspace_id: string;
  email: string;
  role: string;
  status: "pending" | "accepted" | "revoked" | "expired";
  invited_by: string | null;
  created_at: string;
  expires_at: string;
  accepted_at: string | null;
  revoked_at: string | null;
}

/** `POST /workspaces/{workspace_id}/invitations`: the token is in this one response only. */
export interface CreatedInvitation extends Invitation {
  accept_url: string;
  token: string;
}

/** `GET /workspaces/{workspace_id}/service-accounts`. */
export interface ServiceAccount {
  id: string;
  workspace_id: string;
  name: string;
  description: string;
  role: string;
  disabled: boolean;
  disabled_at: string | null;
  created_by: string | null;
  created_at: string;
  updated_at: string;
}

/** `GET …/service-accounts/{account_id}/api-keys`. */
export interface ApiKey {
  id: string;
  service_account_id: string;
  name: string;
  /** A recognisable part of the key, never the key. */
  preview: string;
  created_by: string | null;
  created_at: string;
  last_used_at: string | null;
  revoked: boolean;
  revoked_at: string | null;
}

/** `POST …/api-keys`: the key is in this one response only. */
export interface CreatedApiKey extends ApiKey {
  key: string;
}

/** An OAuth integration's state (`ferrocat_app::integrations::status`, Tracecat's names). */
export type IntegrationStatus = "not_configured" | "configured" | "connected" | "reauth_required";

/** `authorization_code` (a person grants access) or `client_credentials` (the app's own token). */
export type GrantType = "authorization_code" | "client_credentials" | (string & {});

/** One grant a provider offers, with this workspace's integration status for it. */
export interface ProviderGrant {
  grant_type: GrantType;
  integration_status: IntegrationStatus;
  default_scopes: string[];
  /** The key of the token in the provider's secret: `SECRETS.<secret_name>.<token_key>`. */
  token_key: string;
}

/** `GET /providers`: the OAuth providers of the catalog (`provider_read`). */
export interface Provider {
  id: string;
  name: string;
  description: string;
  grant_types: GrantType[];
  grants: ProviderGrant[];
  /** `<id>_oauth`: the secret name workflows read the token from. */
  secret_name: string;
  default_authorization_endpoint: string | null;
  default_token_endpoint: string;
  /** Placeholders of the endpoints and their defaults, e.g. `{tenant: "common"}`. */
  params: Record<string, string>;
  pkce: boolean;
  api_docs_url: string | null;
  /** The callback URL to register at the provider (authorization code). */
  redirect_uri: string;
}

/** `GET /integrations`, `PUT /integrations/{provider_id}`: never the client secret or a token. */
export interface Integration {
  id: string;
  provider_id: string;
  grant_type: GrantType;
  client_id: string;
  requested_scopes: string[];
  granted_scopes: string[] | null;
  params: Record<string, unknown> | null;
  /** `provider_unavailable` when the provider has left the catalog since. */
  status: IntegrationStatus | "provider_unavailable";
  expires_at: string | null;
  is_expired: boolean;
  last_error: string | null;
  secret_name: string;
  token_key: string;
  /** Authorization code only. */
  redirect_uri: string | null;
  created_at: string;
  updated_at: string;
}

/** `POST /integrations/{provider_id}/connect` for the authorization-code grant. */
export interface AuthorizationStart {
  auth_url: string;
  provider_id: string;
}

/** `POST /integrations/{provider_id}/test`. */
export interface IntegrationTest {
  success: boolean;
  provider_id: string;
  message: string;
}
