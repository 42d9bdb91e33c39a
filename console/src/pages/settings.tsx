// Settings: connecting AI assistants over MCP, my password, and (superusers) the organisation's
// sign-in rules, its SAML single sign-on and its secrets, which every workspace may use (model
// provider keys, mostly).
import { useState, type FormEvent, type ReactNode } from "react";
import { useMutation } from "@tanstack/react-query";
import { client, unwrap } from "../api/client";
import { useMe } from "../api/session";
import { AuthRulesSection } from "../components/auth-rules";
import { SamlSection } from "../components/saml-settings";
import { CopyButton, ErrorNote, Field, PageHeader, SubmitButton } from "../components/ui";
import { SecretsManager } from "./secrets";

export default function SettingsPage({ ws }: { ws: string }) {
  const me = useMe().data;
  void ws;
  return (
    <>
      <PageHeader title="Settings" description="Connect your AI assistant, change your password and, for organisation admins, the sign-in rules, SAML single sign-on and the secrets every workspace shares." />
      <div className="stack settings">
        <Mcp />
        {me?.type !== "service_account" && <ChangePassword email={me?.email} />}
        {me?.is_superuser && <AuthRulesSection />}
        {me?.is_superuser && <SamlSection />}
        {me?.is_superuser && (
          <section className="card stack" aria-labelledby="org-secrets-title">
            <h2 id="org-secrets-title">Organisation secrets</h2>
            <p className="muted">
              Shared by every workspace, typically the keys of model providers. A workspace's own secret of the same name wins. Only
              organisation admins see these; values are write-only.
            </p>
            <SecretsManager scope={{ kind: "organization" }} canEdit canDelete />
          </section>
        )}
      </div>
    </>
  );
}

function Snippet({ title, where, text }: { title: string; where: ReactNode; text: string }) {
  return (
    <div className="stack snippet">
      <div className="row">
        <h3 className="grow">{title}</h3>
        <CopyButton text={text} label={`Copy ${title} setup`} />
      </div>
      <p className="muted small">{where}</p>
      <pre className="json" data-copy={text} tabIndex={0} aria-label={`${title} setup`}>
        {text}
      </pre>
    </div>
  );
}

function Mcp() {
  const url = `${window.location.origin}/mcp`;
  const vscode = JSON.stringify({ servers: { ferrocat: { type: "http", url } } }, null, 2);
  const cursor = JSON.stringify({ mcpServers: { ferrocat: { url } } }, null, 2);
  return (
    <section className="card stack" aria-labelledby="mcp-title">
      <h2 id="mcp-title">Connect an AI assistant (MCP)</h2>
      <p>
        ferrocat speaks the Model Context Protocol at{" "}
        <code className="mono" data-copy={url}>
          {url}
        </code>{" "}
        <CopyButton text={url} label="Copy MCP URL" />. Your assistant can then read the action registry, write and validate workflows and
        start runs, with your role in each workspace. The first time it connects, it opens a browser window to sign in to ferrocat and
        approve access; changing your password withdraws every approval.
      </p>
      <Snippet title="Claude Code" where="Run in a terminal:" text={`claude mcp add --transport http ferrocat ${url}`} />
      <Snippet
        title="VS Code"
        where={
          <>
            Save as <code>.vscode/mcp.json</code> in your project (or merge into it), then start the server from the MCP view:
          </>
        }
        text={vscode}
      />
      <Snippet
        title="Cursor"
        where={
          <>
            Save as <code>~/.cursor/mcp.json</code> (or <code>.cursor/mcp.json</code> in a project), merging with any servers already there:
          </>
        }
        text={cursor}
      />
    </section>
  );
}

function ChangePassword({ email }: { email?: string }) {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [again, setAgain] = useState("");
  const [mismatch, setMismatch] = useState(false);
  const change = useMutation({
    gcTime: 0,
    mutationFn: () => unwrap(client.POST("/users/me/password", { body: { current_password: current, new_password: next } })),
    onSuccess: () => {
      setCurrent("");
      setNext("");
      setAgain("");
    },
    onError: () => setCurrent(""),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (next !== again) {
      setMismatch(true);
      return;
    }
    setMismatch(false);
    change.mutate();
  };
  return (
    <section className="card" aria-labelledby="password-title">
      <form className="stack narrow" onSubmit={submit}>
        <h2 id="password-title">Change my password</h2>
        <p className="muted small">Your other sessions are signed out and every MCP approval is withdrawn; this one stays signed in.</p>
        {/* For password managers: the account the new password belongs to. */}
        <input type="email" name="username" autoComplete="username" value={email ?? ""} readOnly hidden />
        <ErrorNote error={mismatch ? new Error("The new passwords differ.") : change.error} />
        {change.isSuccess && (
          <p className="note note-ok" role="status">
            Password changed. Other sessions are signed out.
          </p>
        )}
        <Field label="Current password">
          <input type="password" value={current} onChange={(e) => setCurrent(e.target.value)} autoComplete="current-password" required />
        </Field>
        <Field label="New password">
          <input type="password" value={next} onChange={(e) => setNext(e.target.value)} autoComplete="new-password" required />
        </Field>
        <Field label="New password, again">
          <input type="password" value={again} onChange={(e) => setAgain(e.target.value)} autoComplete="new-password" required />
        </Field>
        <div className="row">
          <SubmitButton pending={change.isPending} busy="Changing">
            Change password
          </SubmitButton>
        </div>
      </form>
    </section>
  );
}
