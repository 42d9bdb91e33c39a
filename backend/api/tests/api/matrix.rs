//! The cross-workspace authorization matrix, generated from the OpenAPI document: every
//! documented operation, its path filled with real ids of workspace A's objects, is called as
//! anonymous, a viewer of A, an editor of A, an admin of another workspace B (session cookie) and
//! an API key of B, and each answer is checked against the table below. Workspace B's callers
//! never get a 2xx on A's objects and never see an id of A that they did not send.
//!
//! A documented route without a row fails the test (add its row), and so does a row whose route
//! is no longer documented.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{ECHO_WORKFLOW, TestApp, client, spawn_app};

/// The status a caller must get.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    /// 2xx.
    Ok,
    /// 401: no (valid) credential.
    Unauth,
    /// 403: authenticated, but the role (or the kind of caller) is not enough.
    Forbidden,
    /// 403 or 404: the object or its workspace is not the caller's (404 hides that it exists).
    Denied,
    /// A 4xx other than 401/403: the request itself is refused (bad body, unknown token).
    Invalid,
    /// 403 or another 4xx but 401: refused, whether for the kind of caller (an API key on a
    /// person-only route) or for the request itself.
    Refused,
}

impl Expect {
    fn holds(self, status: StatusCode) -> bool {
        let code = status.as_u16();
        match self {
            Expect::Ok => status.is_success(),
            Expect::Unauth => code == 401,
            Expect::Forbidden => code == 403,
            Expect::Denied => code == 403 || code == 404,
            Expect::Invalid => status.is_client_error() && code != 401 && code != 403,
            Expect::Refused => status.is_client_error() && code != 401,
        }
    }
}

use Expect::{Denied as D, Forbidden as F, Invalid as I, Ok as O, Refused as R, Unauth as U};

/// One operation: its expectations for [anonymous, viewer of A, editor of A, B (admin cookie and
/// API key, asking for A's objects in workspace A)] and the JSON body to send, if any.
struct Row {
    method: &'static str,
    path: &'static str,
    expect: [Expect; 4],
    body: fn(&Ids) -> Option<Value>,
}

const fn row(method: &'static str, path: &'static str, expect: [Expect; 4], body: fn(&Ids) -> Option<Value>) -> Row {
    Row { method, path, expect, body }
}

fn none(_: &Ids) -> Option<Value> {
    None
}

/// Every documented operation. Bodies are valid, so a role check, not a body check, decides.
const TABLE: &[Row] = &[
    // Public.
    row("get", "/health", [O, O, O, O], none),
    row("get", "/info", [O, O, O, O], none),
    row("post", "/auth/login", [I, I, I, I], |_| Some(json!({}))),
    row("post", "/invitations/accept", [I, I, I, I], |_| Some(json!({"token": "not-a-token", "password": "long-enough-password-1"}))),
    // The webhook secret is the credential, whoever calls; the path holds a wrong one here.
    row("post", "/webhooks/{workflow_id}/{secret}", [U, U, U, U], |_| Some(json!({"alert": 1}))),
    row("post", "/webhooks/{workflow_id}/{secret}/wait", [U, U, U, U], |_| Some(json!({"alert": 1}))),
    // The caller.
    row("get", "/users/me", [U, O, O, O], none),
    row("get", "/users", [U, F, F, F], none),
    row("get", "/workspaces", [U, O, O, O], none),
    row("post", "/auth/logout", [O, O, O, O], none),
    // Workflows.
    row("get", "/workflows", [U, O, O, D], none),
    row("post", "/workflows", [U, F, O, D], |_| Some(json!({"title": "made by the matrix"}))),
    row("post", "/workflows/validate", [U, O, O, D], |_| Some(json!(ECHO_WORKFLOW))),
    row("get", "/workflows/{workflow_id}", [U, O, O, D], none),
    row("patch", "/workflows/{workflow_id}", [U, F, O, D], |_| Some(json!({"title": "renamed by the matrix"}))),
    row("delete", "/workflows/{workflow_id}", [U, F, F, D], none),
    row("post", "/workflows/{workflow_id}/validate", [U, O, O, D], none),
    row("put", "/workflows/{workflow_id}/draft", [U, F, O, D], |_| Some(serde_yaml::from_str(ECHO_WORKFLOW).expect("the echo workflow is YAML"))),
    row("post", "/workflows/{workflow_id}/commit", [U, F, O, D], none),
    row("get", "/workflows/{workflow_id}/definition", [U, O, O, D], none),
    row("get", "/workflows/{workflow_id}/definitions", [U, O, O, D], none),
    row("post", "/workflows/{workflow_id}/definitions/{version}/restore", [U, F, O, D], none),
    row("get", "/workflows/{workflow_id}/export", [U, O, O, D], none),
    // Webhooks. Issue 21: the viewer's GET becomes F when viewers stop reading the secret.
    row("get", "/workflows/{workflow_id}/webhook", [U, O, O, D], none),
    row("post", "/workflows/{workflow_id}/webhook", [U, F, O, D], |_| Some(json!({"methods": ["POST"]}))),
    row("post", "/workflows/{workflow_id}/webhook/api-key", [U, F, O, D], none),
    row("post", "/workflows/{workflow_id}/webhook/api-key/revoke", [U, F, O, D], none),
    row("delete", "/workflows/{workflow_id}/webhook/api-key", [U, F, O, D], none),
    row("post", "/workflows/{workflow_id}/webhook/rotate", [U, F, O, D], none),
    // Executions.
    row("get", "/workflow-executions", [U, O, O, D], none),
    row("post", "/workflow-executions", [U, F, O, D], |ids| Some(json!({"workflow_id": ids.workflow, "inputs": {"x": 1}}))),
    row("get", "/workflow-executions/{execution_id}", [U, O, O, D], none),
    row("post", "/workflow-executions/{execution_id}/cancel", [U, F, O, D], |_| Some(json!({"reason": "matrix"}))),
    row("post", "/workflow-executions/{execution_id}/terminate", [U, F, O, D], |_| Some(json!({"reason": "matrix"}))),
    // Schedules.
    row("get", "/schedules", [U, O, O, D], none),
    row("post", "/schedules", [U, F, O, D], |ids| Some(json!({"workflow_id": ids.workflow, "every": "PT1H", "status": "offline"}))),
    row("get", "/schedules/{schedule_id}", [U, O, O, D], none),
    row("patch", "/schedules/{schedule_id}", [U, F, O, D], |_| Some(json!({"every": "PT2H"}))),
    row("delete", "/schedules/{schedule_id}", [U, F, O, D], none),
    // Secrets and variables of the workspace.
    row("get", "/secrets", [U, O, O, D], none),
    row("post", "/secrets", [U, F, O, D], |_| Some(json!({"name": "made_by_the_matrix", "keys": [{"key": "K", "value": "v"}]}))),
    row("get", "/secrets/{secret}", [U, O, O, D], none),
    row("post", "/secrets/{secret}", [U, F, O, D], |_| Some(json!({"keys": [{"key": "K", "value": "changed"}]}))),
    row("delete", "/secrets/{secret}", [U, F, F, D], none),
    // Git registries are the organisation's: superusers only (none of these callers is one).
    row("get", "/registry/repos", [U, F, F, F], none),
    row("post", "/registry/repos", [U, F, F, F], |_| Some(json!({"origin": "https://git.example.com/org/registry.git"}))),
    row("get", "/registry/repos/{repository_id}", [U, F, F, F], none),
    row("delete", "/registry/repos/{repository_id}", [U, F, F, F], none),
    row("post", "/registry/repos/{repository_id}/sync", [U, F, F, F], |_| Some(json!({}))),
    row("get", "/registry/repos/{repository_id}/versions", [U, F, F, F], none),
    row("post", "/registry/repos/{repository_id}/versions/{version_id}/promote", [U, F, F, F], none),
    // OAuth integrations of the workspace (A's github integration); the callback needs a
    // signed-in person and a flow of theirs (none here: 400).
    row("get", "/providers", [U, O, O, D], none),
    row("get", "/providers/{provider_id}", [U, O, O, D], none),
    row("get", "/integrations", [U, O, O, D], none),
    row("get", "/integrations/callback", [U, I, I, R], none),
    row("get", "/integrations/{provider_id}", [U, O, O, D], none),
    row("put", "/integrations/{provider_id}", [U, F, O, D], |_| Some(json!({"client_id": "changed-client", "client_secret": "changed-secret"}))),
    row("delete", "/integrations/{provider_id}", [U, F, F, D], none),
    row("post", "/integrations/{provider_id}/connect", [U, F, O, D], none),
    row("post", "/integrations/{provider_id}/disconnect", [U, F, O, D], none),
    row("post", "/integrations/{provider_id}/test", [U, F, O, D], none),
    row("get", "/variables", [U, O, O, D], none),
    row("post", "/variables", [U, F, O, D], |_| Some(json!({"name": "made_by_the_matrix", "values": {"k": "v"}}))),
    row("get", "/variables/{variable}", [U, O, O, D], none),
    row("post", "/variables/{variable}", [U, F, O, D], |_| Some(json!({"values": {"k": "changed"}}))),
    row("delete", "/variables/{variable}", [U, F, O, D], none),
    // Cases of the workspace: viewers read, editors change, admins define fields and delete
    // tag definitions; only a comment's author (or an admin) edits or deletes it.
    row("get", "/cases", [U, O, O, D], none),
    row("post", "/cases", [U, F, O, D], |_| Some(json!({"summary": "made by the matrix"}))),
    row("get", "/cases/search", [U, O, O, D], none),
    row("get", "/cases/search/aggregate", [U, O, O, D], none),
    row("post", "/cases/batch-update", [U, F, O, D], |ids| Some(json!({"case_ids": [ids.case], "update": {"priority": "low"}}))),
    // A case that does not exist: the batch is refused whole, and deletes nothing the rows
    // below need.
    row("post", "/cases/batch-delete", [U, F, I, D], |_| Some(json!({"case_ids": ["CASE-9999"]}))),
    row("get", "/cases/{case_id}", [U, O, O, D], none),
    row("patch", "/cases/{case_id}", [U, F, O, D], |_| Some(json!({"priority": "high"}))),
    row("delete", "/cases/{case_id}", [U, F, O, D], none),
    row("get", "/cases/{case_id}/events", [U, O, O, D], none),
    row("get", "/cases/{case_id}/comments", [U, O, O, D], none),
    row("post", "/cases/{case_id}/comments", [U, F, O, D], |_| Some(json!({"content": "by the matrix"}))),
    row("get", "/cases/{case_id}/comments/threads", [U, O, O, D], none),
    row("patch", "/cases/{case_id}/comments/{comment_id}", [U, F, F, D], |_| Some(json!({"content": "changed by the matrix"}))),
    row("delete", "/cases/{case_id}/comments/{comment_id}", [U, F, F, D], none),
    row("get", "/cases/{case_id}/tasks", [U, O, O, D], none),
    row("post", "/cases/{case_id}/tasks", [U, F, O, D], |_| Some(json!({"title": "by the matrix"}))),
    row("patch", "/cases/{case_id}/tasks/{task_id}", [U, F, O, D], |_| Some(json!({"status": "blocked"}))),
    row("delete", "/cases/{case_id}/tasks/{task_id}", [U, F, O, D], none),
    row("get", "/cases/{case_id}/tags", [U, O, O, D], none),
    row("post", "/cases/{case_id}/tags", [U, F, O, D], |ids| Some(json!({"tag_id": ids.tag}))),
    row("delete", "/cases/{case_id}/tags/{tag_identifier}", [U, F, O, D], none),
    // Attachments: this app has no object store and the matrix sends JSON, not a form, so
    // uploads are refused as requests (after the workspace check), and no attachment exists.
    row("get", "/cases/{case_id}/rows", [U, O, O, D], none),
    row("post", "/cases/{case_id}/rows", [U, F, O, D], |ids| Some(json!({"table_id": ids.table, "row_id": ids.row}))),
    row("post", "/cases/{case_id}/rows/insert", [U, F, O, D], |ids| Some(json!({"table_id": ids.table, "row": {"data": {"ip": "192.0.2.5"}}}))),
    row("delete", "/cases/{case_id}/rows/{table_id}/{row_id}", [U, F, O, D], none),
    row("get", "/cases/{case_id}/attachments", [U, O, O, D], none),
    row("post", "/cases/{case_id}/attachments", [U, R, I, D], |_| Some(json!({"file": "not a form"}))),
    row("get", "/cases/{case_id}/attachments/{attachment_id}", [U, I, I, D], none),
    row("delete", "/cases/{case_id}/attachments/{attachment_id}", [U, F, I, D], none),
    row("get", "/case-fields", [U, O, O, D], none),
    row("post", "/case-fields", [U, F, F, D], |_| Some(json!({"name": "made_by_the_matrix", "type": "TEXT"}))),
    row("patch", "/case-fields/{field_id}", [U, F, F, D], |_| Some(json!({"description": "changed by the matrix"}))),
    row("delete", "/case-fields/{field_id}", [U, F, F, D], none),
    row("get", "/case-tags", [U, O, O, D], none),
    row("post", "/case-tags", [U, F, O, D], |_| Some(json!({"name": "made by the matrix"}))),
    row("get", "/case-tags/{tag_id}", [U, O, O, D], none),
    row("patch", "/case-tags/{tag_id}", [U, F, O, D], |_| Some(json!({"color": "#123456"}))),
    row("delete", "/case-tags/{tag_id}", [U, F, F, D], none),
    // Superusers only: an editor of A and B's admin (not superusers) are refused alike.
    row("get", "/settings/auth", [U, F, F, R], none),
    row("patch", "/settings/auth", [U, F, F, R], |_| Some(json!({"auth_default_role": "viewer"}))),
    // Single sign-on: no provider is configured here, so both answer 404 to everyone.
    row("get", "/auth/oidc/login", [I, I, I, I], none),
    row("get", "/auth/oidc/callback", [I, I, I, I], none),
    row("get", "/settings/saml", [U, F, F, R], none),
    row("patch", "/settings/saml", [U, F, F, R], |_| Some(json!({"saml_idp_name": "by the matrix"}))),
    // SAML is off until a superuser configures it: nobody starts a sign-in; an answer that is
    // not a form goes back to the sign-in page (which the api, without the console, has not:
    // 404); the service provider's metadata is public.
    row("get", "/auth/saml/login", [F, F, F, F], none),
    row("post", "/auth/saml/acs", [I, I, I, I], none),
    row("get", "/auth/saml/metadata", [O, O, O, O], none),
    row("get", "/tables", [U, O, O, D], none),
    row("post", "/tables", [U, F, O, D], |_| Some(json!({"name": "made_by_the_matrix", "columns": [{"name": "c", "type": "TEXT"}]}))),
    // Imports are multipart forms: a JSON body is refused before anything else is read.
    row("post", "/tables/import", [U, R, I, D], |_| Some(json!({"file": "not a form"}))),
    row("post", "/tables/import/preview", [U, R, I, D], |_| Some(json!({"file": "not a form"}))),
    row("get", "/tables/{table_id}", [U, O, O, D], none),
    row("patch", "/tables/{table_id}", [U, F, O, D], |_| Some(json!({"name": "a_table_renamed"}))),
    row("delete", "/tables/{table_id}", [U, F, O, D], none),
    row("post", "/tables/{table_id}/columns", [U, F, O, D], |_| Some(json!({"name": "by_the_matrix", "type": "INTEGER"}))),
    row("patch", "/tables/{table_id}/columns/{column_id}", [U, F, O, D], |_| Some(json!({"nullable": true}))),
    row("delete", "/tables/{table_id}/columns/{column_id}", [U, F, O, D], none),
    row("get", "/tables/{table_id}/rows", [U, O, O, D], none),
    row("post", "/tables/{table_id}/rows", [U, F, O, D], |_| Some(json!({"data": {"ip": "192.0.2.1"}}))),
    row("post", "/tables/{table_id}/rows/batch", [U, F, O, D], |_| Some(json!({"rows": [{"ip": "192.0.2.2"}]}))),
    row("post", "/tables/{table_id}/rows/batch-delete", [U, F, O, D], |_| Some(json!({"row_ids": ["00000000-0000-0000-0000-000000000000"]}))),
    row("post", "/tables/{table_id}/rows/batch-update", [U, F, O, D], |ids| Some(json!({"row_ids": [ids.row], "data": {"ip": "192.0.2.3"}}))),
    row("get", "/tables/{table_id}/rows/{row_id}", [U, O, O, D], none),
    row("patch", "/tables/{table_id}/rows/{row_id}", [U, F, O, D], |_| Some(json!({"data": {"ip": "192.0.2.4"}}))),
    row("delete", "/tables/{table_id}/rows/{row_id}", [U, F, O, D], none),
    row("post", "/tables/{table_id}/import", [U, R, I, D], |_| Some(json!({"file": "not a form"}))),
    row("get", "/tables/{table_id}/download", [U, O, O, D], none),
    row("get", "/workflows/{workflow_id}/case-trigger", [U, O, O, D], none),
    row("post", "/workflows/{workflow_id}/case-trigger", [U, F, O, D], |_| Some(json!({"status": "offline", "event_types": ["case_created"]}))),
    row("patch", "/workflows/{workflow_id}/case-trigger", [U, F, O, D], |_| Some(json!({"tag_filters": ["matrix"]}))),
    // Organisation: superusers only.
    row("get", "/organization/secrets", [U, F, F, F], none),
    row("post", "/organization/secrets", [U, F, F, F], |_| Some(json!({"name": "org_by_the_matrix", "keys": [{"key": "K", "value": "v"}]}))),
    row("get", "/organization/secrets/{secret}", [U, F, F, F], none),
    row("post", "/organization/secrets/{secret}", [U, F, F, F], |_| Some(json!({"keys": [{"key": "K", "value": "changed"}]}))),
    row("delete", "/organization/secrets/{secret}", [U, F, F, F], none),
    // The action registry: the same for everyone signed in.
    row("get", "/registry/actions", [U, O, O, O], none),
    row("get", "/registry/actions/{name}", [U, O, O, O], none),
    // The model catalog: read by anyone signed in, written by superusers.
    row("get", "/llm/providers", [U, O, O, O], none),
    row("get", "/llm/providers/{name}", [U, O, O, O], none),
    row("put", "/llm/providers/{name}", [U, F, F, F], |_| Some(json!({"kind": "openai_compatible", "base_url": "http://127.0.0.1:11434/v1"}))),
    row("delete", "/llm/providers/{name}", [U, F, F, F], none),
    row("get", "/llm/models", [U, O, O, O], none),
    row("get", "/llm/models/{name}", [U, O, O, O], none),
    row("put", "/llm/models/{name}", [U, F, F, F], |_| Some(json!({"provider": "matrix-provider"}))),
    row("delete", "/llm/models/{name}", [U, F, F, F], none),
    row("get", "/workspaces/{workspace_id}/llm/usage", [U, O, O, D], none),
    // Workspace administration: admins (signed in) only.
    row("get", "/workspaces/{workspace_id}/service-accounts", [U, F, F, D], none),
    row("post", "/workspaces/{workspace_id}/service-accounts", [U, F, F, D], |_| Some(json!({"name": "matrix-bot", "role": "viewer"}))),
    row("get", "/workspaces/{workspace_id}/service-accounts/{account_id}", [U, F, F, D], none),
    row("post", "/workspaces/{workspace_id}/service-accounts/{account_id}/disable", [U, F, F, D], none),
    row("post", "/workspaces/{workspace_id}/service-accounts/{account_id}/enable", [U, F, F, D], none),
    row("get", "/workspaces/{workspace_id}/service-accounts/{account_id}/api-keys", [U, F, F, D], none),
    row("post", "/workspaces/{workspace_id}/service-accounts/{account_id}/api-keys", [U, F, F, D], |_| Some(json!({"name": "matrix-key"}))),
    row("post", "/workspaces/{workspace_id}/service-accounts/{account_id}/api-keys/{key_id}/revoke", [U, F, F, D], none),
    row("get", "/workspaces/{workspace_id}/invitations", [U, F, F, D], none),
    row("post", "/workspaces/{workspace_id}/invitations", [U, F, F, D], |_| Some(json!({"email": "matrix@example.com", "role": "viewer"}))),
    row("delete", "/workspaces/{workspace_id}/invitations/{invitation_id}", [U, F, F, D], none),
    // Workspaces and their members: superusers change them, members read their workspace,
    // admins list its members.
    row("post", "/workspaces", [U, F, F, F], |_| Some(json!({"name": "made by the matrix"}))),
    row("get", "/workspaces/{workspace_id}", [U, O, O, D], none),
    row("patch", "/workspaces/{workspace_id}", [U, F, F, D], |_| Some(json!({"name": "renamed by the matrix"}))),
    row("delete", "/workspaces/{workspace_id}", [U, F, F, D], none),
    row("get", "/workspaces/{workspace_id}/memberships", [U, F, F, D], none),
    row("post", "/workspaces/{workspace_id}/memberships", [U, F, F, D], |ids| Some(json!({"user_id": ids.member, "role": "editor"}))),
    row("get", "/workspaces/{workspace_id}/memberships/{user_id}", [U, F, F, D], none),
    row("patch", "/workspaces/{workspace_id}/memberships/{user_id}", [U, F, F, D], |_| Some(json!({"role": "editor"}))),
    row("delete", "/workspaces/{workspace_id}/memberships/{user_id}", [U, F, F, D], none),
    // One's own password: the current one is wrong here, so no caller changes anything (B's
    // key is refused as a key, B's admin for the password).
    row("post", "/users/me/password", [U, I, I, R], |_| Some(json!({"current_password": "not-the-password", "new_password": "a perfectly long passphrase 42"}))),
];

/// Workspace A's objects, by the id a path takes.
struct Ids {
    workspace: String,
    workflow: String,
    version: String,
    webhook_secret: String,
    execution: String,
    schedule: String,
    /// Secrets and variables are read by name and changed by id.
    secret: String,
    secret_id: String,
    variable: String,
    variable_id: String,
    org_secret: String,
    org_secret_id: String,
    account: String,
    key: String,
    invitation: String,
    provider: String,
    model: String,
    /// A member of A (a viewer), whose membership the member routes name.
    member: String,
    /// A case of A with a comment (its admin's), a task and a tag (by ref), and a custom field.
    case: String,
    comment: String,
    task: String,
    tag: String,
    field: String,
    /// A lookup table of A with a column (`note`) and a row.
    table: String,
    column: String,
    row: String,
}

impl Ids {
    /// `path` with its parameters filled (the same name means different things under different
    /// prefixes, and for reads and writes), with workspace `workspace` where a path names one.
    fn fill(&self, method: &str, path: &str, workspace: &str) -> String {
        let read = method == "get";
        let mut out = Vec::new();
        for segment in path.split('/') {
            let value = match segment {
                "{workspace_id}" => workspace,
                "{workflow_id}" => &self.workflow,
                "{version}" => &self.version,
                "{execution_id}" => &self.execution,
                "{schedule_id}" => &self.schedule,
                "{variable}" if read => &self.variable,
                "{variable}" => &self.variable_id,
                "{account_id}" => &self.account,
                "{key_id}" => &self.key,
                "{invitation_id}" => &self.invitation,
                "{user_id}" => &self.member,
                "{case_id}" => &self.case,
                "{comment_id}" => &self.comment,
                "{task_id}" => &self.task,
                "{tag_id}" | "{tag_identifier}" => &self.tag,
                "{field_id}" => &self.field,
                "{table_id}" => &self.table,
                "{column_id}" => &self.column,
                "{row_id}" => &self.row,
                "{attachment_id}" => "00000000-0000-0000-0000-000000000000",
                "{provider_id}" => "github",
                // No repository needs to exist: the superuser check comes first.
                "{repository_id}" | "{version_id}" => "00000000-0000-0000-0000-000000000000",
                // A wrong webhook secret: the matrix is about sessions and keys, not the URL's secret.
                "{secret}" if path.starts_with("/webhooks/") => "0000000000000000000000000000000000000000000000000000000000000000",
                "{secret}" if path.starts_with("/organization/") && read => &self.org_secret,
                "{secret}" if path.starts_with("/organization/") => &self.org_secret_id,
                "{secret}" if read => &self.secret,
                "{secret}" => &self.secret_id,
                "{name}" if path.starts_with("/registry/") => "core.transform.reshape",
                "{name}" if path.starts_with("/llm/providers/") => &self.provider,
                "{name}" if path.starts_with("/llm/models/") => &self.model,
                other if other.starts_with('{') => panic!("no value for {other} in {path}: add one to Ids::fill"),
                other => other,
            };
            out.push(value.to_owned());
        }
        out.join("/")
    }

    /// The strings that identify A's objects, for the leak check.
    fn ids_of_a(&self) -> Vec<&str> {
        let exec_suffix = self.execution.rsplit(':').next().unwrap();
        vec![
            &self.workspace, &self.workflow, &self.webhook_secret, exec_suffix, &self.schedule, &self.secret, &self.secret_id,
            &self.variable, &self.variable_id, &self.account, &self.key, &self.invitation, &self.member, &self.case, &self.comment,
            &self.task, &self.table, &self.column, &self.row,
        ]
    }
}

async fn json_ok(response: reqwest::Response, what: &str) -> Value {
    let status = response.status();
    let body = response.text().await.unwrap();
    assert!(status.is_success(), "{what}: {status} {body}");
    serde_json::from_str(&body).unwrap_or(Value::Null)
}

/// Workspace A's objects, made by its admin (the bootstrapped superuser).
async fn objects_of_a(app: &TestApp, admin: &Client) -> Ids {
    let workspace = ferrocat_shared::ids::workspace_id(app.workspace_id);
    let at = |path: &str| app.at(&format!("{path}{}workspace_id={workspace}", if path.contains('?') { "&" } else { "?" }));
    let workflow = app.committed_workflow(admin, ECHO_WORKFLOW).await;
    let hook = json_ok(admin.post(at(&format!("/workflows/{workflow}/webhook"))).json(&json!({})).send().await.unwrap(), "webhook").await;
    let webhook_secret = hook["url"].as_str().and_then(|u| u.rsplit('/').next()).unwrap().to_owned();
    json_ok(admin.post(at(&format!("/workflows/{workflow}/webhook/api-key"))).send().await.unwrap(), "webhook key").await;
    let started =
        json_ok(admin.post(at("/workflow-executions")).json(&json!({"workflow_id": workflow})).send().await.unwrap(), "execution").await;
    // The colon form: one path segment.
    let execution = started["wf_exec_id"].as_str().unwrap().replacen('/', ":", 1);
    let schedule = json_ok(
        admin.post(at("/schedules")).json(&json!({"workflow_id": workflow, "every": "PT1H", "status": "offline"})).send().await.unwrap(),
        "schedule",
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let id_of = |value: Value| value["id"].as_str().map(str::to_owned).unwrap_or_else(|| panic!("no id in {value}"));
    let secret = "a_only_secret_3f9c".to_owned();
    let secret_id = id_of(
        json_ok(admin.post(at("/secrets")).json(&json!({"name": secret, "keys": [{"key": "K", "value": "a-value"}]})).send().await.unwrap(), "secret")
            .await,
    );
    let variable = "a_only_variable_3f9c".to_owned();
    let variable_id =
        id_of(json_ok(admin.post(at("/variables")).json(&json!({"name": variable, "values": {"k": "v"}})).send().await.unwrap(), "variable").await);
    // An OAuth integration of A (authorization code, the routes' default grant).
    json_ok(
        admin.put(at("/integrations/github")).json(&json!({"client_id": "a-client", "client_secret": "a-client-secret"})).send().await.unwrap(),
        "integration",
    )
    .await;
    let org_secret = "org_only_secret_3f9c".to_owned();
    let org_secret_id = id_of(
        json_ok(
            admin.post(app.at("/organization/secrets")).json(&json!({"name": org_secret, "keys": [{"key": "K", "value": "v"}]})).send().await.unwrap(),
            "organisation secret",
        )
        .await,
    );
    let account = json_ok(
        admin.post(app.at(&format!("/workspaces/{workspace}/service-accounts"))).json(&json!({"name": "a-bot", "role": "viewer"})).send().await.unwrap(),
        "service account",
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let key = json_ok(
        admin
            .post(app.at(&format!("/workspaces/{workspace}/service-accounts/{account}/api-keys")))
            .json(&json!({"name": "a-key"}))
            .send()
            .await
            .unwrap(),
        "api key",
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let invitation = json_ok(
        admin.post(app.at(&format!("/workspaces/{workspace}/invitations"))).json(&json!({"email": "invited@a.example", "role": "viewer"})).send().await.unwrap(),
        "invitation",
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let provider = "matrix-provider".to_owned();
    json_ok(
        admin.put(app.at(&format!("/llm/providers/{provider}"))).json(&json!({"kind": "openai_compatible", "base_url": "http://127.0.0.1:11434/v1"})).send().await.unwrap(),
        "provider",
    )
    .await;
    let model = "matrix-model".to_owned();
    json_ok(admin.put(app.at(&format!("/llm/models/{model}"))).json(&json!({"provider": provider})).send().await.unwrap(), "model").await;
    let member = app.create_user("member@a.example", "a perfectly long passphrase 17", app.workspace_id, "viewer").await.to_string();
    let (tag, field) = ("a-only-tag-3f9c".to_owned(), "a_only_field_3f9c".to_owned());
    json_ok(admin.post(at("/case-tags")).json(&json!({"name": tag})).send().await.unwrap(), "case tag").await;
    json_ok(admin.post(at("/case-fields")).json(&json!({"name": field, "type": "TEXT"})).send().await.unwrap(), "case field").await;
    let case = id_of(json_ok(admin.post(at("/cases")).json(&json!({"summary": "A's case", "tags": [tag]})).send().await.unwrap(), "case").await);
    let comment =
        id_of(json_ok(admin.post(at(&format!("/cases/{case}/comments"))).json(&json!({"content": "A's comment"})).send().await.unwrap(), "comment").await);
    let task = id_of(json_ok(admin.post(at(&format!("/cases/{case}/tasks"))).json(&json!({"title": "A's task"})).send().await.unwrap(), "task").await);
    let table = json_ok(
        admin.post(at("/tables")).json(&json!({"name": "a_table", "columns": [{"name": "ip", "type": "TEXT"}, {"name": "note", "type": "TEXT"}]})).send().await.unwrap(),
        "table",
    )
    .await;
    let column = table["columns"][1]["id"].as_str().unwrap().to_owned();
    let table = id_of(table);
    let row = id_of(json_ok(admin.post(at(&format!("/tables/{table}/rows"))).json(&json!({"data": {"ip": "192.0.2.9"}})).send().await.unwrap(), "row").await);
    Ids {
        workspace,
        workflow,
        version: "1".into(),
        webhook_secret,
        execution,
        schedule,
        secret,
        secret_id,
        variable,
        variable_id,
        org_secret,
        org_secret_id,
        account,
        key,
        invitation,
        provider,
        model,
        member,
        case,
        comment,
        task,
        tag,
        field,
        table,
        column,
        row,
    }
}

/// How a caller authenticates.
enum Caller {
    Anonymous,
    Session(Client),
    Key(String),
}

impl Caller {
    fn request(&self, method: Method, url: String) -> reqwest::RequestBuilder {
        match self {
            Caller::Anonymous => client().request(method, url),
            Caller::Session(client) => client.request(method, url),
            Caller::Key(key) => client().request(method, url).bearer_auth(key),
        }
    }
}

/// The query string of a call: `workspace_id` (which every workspace-scoped route reads when its
/// path names none), and the parameters a route requires.
fn query(ids: &Ids, method: &str, path: &str, workspace: &str) -> String {
    let mut query = Vec::new();
    if !path.contains("{workspace_id}") {
        query.push(format!("workspace_id={workspace}"));
    }
    if (method, path) == ("get", "/workflow-executions") {
        query.push(format!("workflow_id={}", ids.workflow));
    }
    if query.is_empty() { String::new() } else { format!("?{}", query.join("&")) }
}

/// Operations in an order where no call takes away what a later one needs: reads and writes
/// first, then deletions, the deepest path first; logout last of all.
fn order(rows: &mut [&Row]) {
    rows.sort_by_key(|r| {
        let phase = match (r.method, r.path) {
            (_, "/auth/logout") => 2,
            ("delete", _) => 1,
            _ => 0,
        };
        (phase, std::cmp::Reverse(if phase == 1 { r.path.len() } else { 0 }), r.path, r.method)
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_caller_of_another_workspace_reaches_workspace_a() {
    let app = spawn_app().await;
    let admin = app.admin().await;

    // The document and the table name the same operations.
    let doc: Value = client().get(app.at("/openapi.json")).send().await.unwrap().json().await.unwrap();
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                documented.insert((method.clone(), path.clone()));
            }
        }
    }
    let rows: BTreeMap<(String, String), &Row> = TABLE.iter().map(|r| ((r.method.to_owned(), r.path.to_owned()), r)).collect();
    assert_eq!(rows.len(), TABLE.len(), "a route has two rows in the matrix");
    let missing: Vec<String> = documented.iter().filter(|k| !rows.contains_key(*k)).map(|(m, p)| format!("{} {p}", m.to_uppercase())).collect();
    assert!(missing.is_empty(), "routes without a row in the authorization matrix (add one to TABLE in tests/api/matrix.rs): {missing:?}");
    let stale: Vec<String> = rows.keys().filter(|k| !documented.contains(*k)).map(|(m, p)| format!("{} {p}", m.to_uppercase())).collect();
    assert!(stale.is_empty(), "matrix rows for routes the document does not have: {stale:?}");

    // Workspace A, its people and objects; workspace B, its admin and an admin API key.
    let ids = objects_of_a(&app, &admin).await;
    let viewer = app.user("viewer@a.example", app.workspace_id, "viewer").await;
    let editor = app.user("editor@a.example", app.workspace_id, "editor").await;
    let b_uuid = app.create_workspace("Workspace B").await;
    let ws_b = ferrocat_shared::ids::workspace_id(b_uuid);
    let b_admin = app.user("admin@b.example", b_uuid, "admin").await;
    let b_account = json_ok(
        b_admin.post(app.at(&format!("/workspaces/{ws_b}/service-accounts"))).json(&json!({"name": "b-bot", "role": "admin"})).send().await.unwrap(),
        "B's service account",
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let b_key = json_ok(
        b_admin
            .post(app.at(&format!("/workspaces/{ws_b}/service-accounts/{b_account}/api-keys")))
            .json(&json!({"name": "b-key"}))
            .send()
            .await
            .unwrap(),
        "B's key",
    )
    .await["key"]
        .as_str()
        .unwrap()
        .to_owned();

    let callers: [(&str, Caller, usize); 5] = [
        ("anonymous", Caller::Anonymous, 0),
        ("B's admin", Caller::Session(b_admin), 3),
        ("B's API key", Caller::Key(b_key), 3),
        ("A's viewer", Caller::Session(viewer), 1),
        ("A's editor", Caller::Session(editor), 2),
    ];
    let a_ids = ids.ids_of_a();
    let mut ordered: Vec<&Row> = TABLE.iter().collect();
    order(&mut ordered);
    let mut failures = Vec::new();
    let mut leaks = Vec::new();
    let mut calls = 0;
    for row in ordered {
        let method = Method::from_bytes(row.method.to_uppercase().as_bytes()).unwrap();
        let body = (row.body)(&ids);
        for (who, caller, column) in &callers {
            let is_b = *column == 3;
            // A's callers and anonymous ask in workspace A; B's ask in A, then in B with A's ids.
            let mut attempts = vec![ids.workspace.clone()];
            if is_b {
                attempts.push(ws_b.clone());
            }
            for (attempt, workspace) in attempts.into_iter().enumerate() {
                let path = ids.fill(row.method, row.path, &workspace);
                let url = app.at(&format!("{path}{}", query(&ids, row.method, row.path, &workspace)));
                let mut request = caller.request(method.clone(), url.clone());
                if let Some(body) = &body {
                    request = request.json(body);
                }
                let response = request.send().await.unwrap();
                calls += 1;
                let status = response.status();
                let text = response.text().await.unwrap();
                if status.is_server_error() {
                    failures.push(format!("{who}: {} {path} in {workspace}: {status} {text}", row.method.to_uppercase()));
                }
                if attempt == 0 && !row.expect[*column].holds(status) {
                    failures.push(format!(
                        "{who}: {} {path}: expected {:?}, got {status}: {text}",
                        row.method.to_uppercase(),
                        row.expect[*column]
                    ));
                }
                if !is_b {
                    continue;
                }
                // B's leaks: a 2xx on a request naming one of A's objects, or an id of A in the
                // answer that B did not send itself.
                let sent = format!("{url} {}", body.as_ref().map(Value::to_string).unwrap_or_default());
                let names_a = a_ids.iter().any(|id| sent.contains(id));
                // Where B may succeed (its own user, the registry, the catalog), only the answer counts.
                if status.is_success() && names_a && row.expect[3] != O {
                    leaks.push(format!("{who}: {} {path} in {workspace} answered {status}: {text}", row.method.to_uppercase()));
                }
                if let Some(id) = a_ids.iter().find(|id| text.contains(**id) && !sent.contains(**id)) {
                    leaks.push(format!("{who}: {} {path} in {workspace} shows A's {id}: {text}", row.method.to_uppercase()));
                }
            }
        }
    }
    assert!(leaks.is_empty(), "{} leaks to workspace B:\n{}", leaks.len(), leaks.join("\n"));
    assert!(failures.is_empty(), "{} of {calls} calls broke the matrix:\n{}", failures.len(), failures.join("\n"));
    assert!(calls >= TABLE.len() * 7, "every row was called by every caller ({calls} calls)");
}
