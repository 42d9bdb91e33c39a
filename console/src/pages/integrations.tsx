// Integrations: the OAuth providers of the api's catalog and this workspace's connection to
// each, per grant (a person's delegated token, or the app's own). Workflows read the token as
// SECRETS.<provider>_oauth.<TOKEN_KEY>; the client secret and the tokens never come back.
// After a provider's consent page the api sends the browser back here with
// `?provider_id=…&grant_type=…&status=connected`, which shows as a note until dismissed.
import { useMemo, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { client, unwrap } from "../api/client";
import type { components } from "../api/schema";
import { can, useMe } from "../api/session";
import type { AuthorizationStart, Integration, IntegrationTest, Provider, ProviderGrant } from "../api/types-admin";
import { navigate, useLocation } from "../router";
import { Badge, CopyButton, DataTable, Dialog, Empty, ErrorNote, Field, PageHeader, RowButtons, Spinner, SubmitButton, When } from "../components/ui";
import { ConfirmDialog, useConfirmed } from "../components/forms";

type ConfigureBody = components["schemas"]["Configure"];

/** One provider and one of its grants, with the workspace's integration for it if any. */
interface Target {
  provider: Provider;
  grant: ProviderGrant;
  integration?: Integration;
}

const GRANT_LABELS: Record<string, string> = {
  authorization_code: "Authorization code",
  client_credentials: "Client credentials",
};

/** `Authorization code`, `Client credentials`, else the grant's own name. */
const grantLabel = (grant: string) => GRANT_LABELS[grant] ?? grant;

const GRANT_HINTS: Record<string, string> = {
  authorization_code: "a person signs in and grants access",
  client_credentials: "the app's own token, no person involved",
};

const targetKey = (t: { provider: Provider; grant: ProviderGrant }) => `${t.provider.id}:${t.grant.grant_type}`;

/** The expression a workflow reads the token with. */
const tokenRef = (provider: Provider, grant: ProviderGrant) => `SECRETS.${provider.secret_name}.${grant.token_key}`;

/** The query of every call on one integration. */
const on = (ws: string, t: Target) => ({
  path: { provider_id: t.provider.id },
  query: { workspace_id: ws, grant_type: t.grant.grant_type },
});

export default function IntegrationsPage({ ws }: { ws: string }) {
  const me = useMe().data;
  const canEdit = can(me, ws, "editor");
  const canDelete = can(me, ws, "admin");
  const queries = useQueryClient();
  const providersKey = ["oauth", "providers", ws];
  const integrationsKey = ["oauth", "integrations", ws];
  const providers = useQuery({
    queryKey: providersKey,
    queryFn: () => unwrap<Provider[]>(client.GET("/providers", { params: { query: { workspace_id: ws } } })),
  });
  const integrations = useQuery({
    queryKey: integrationsKey,
    queryFn: () => unwrap<Integration[]>(client.GET("/integrations", { params: { query: { workspace_id: ws } } })),
  });
  const refresh = () => Promise.all([queries.invalidateQueries({ queryKey: providersKey }), queries.invalidateQueries({ queryKey: integrationsKey })]);

  const [search, setSearch] = useState("");
  const shown = useMemo(() => {
    const words = search.toLowerCase().split(/\s+/).filter(Boolean);
    const all = providers.data ?? [];
    if (!words.length) return all;
    return all.filter((p) => {
      const text = `${p.name} ${p.id}`.toLowerCase();
      return words.every((w) => text.includes(w));
    });
  }, [providers.data, search]);
  const integrationOf = (provider: Provider, grant: ProviderGrant) =>
    integrations.data?.find((i) => i.provider_id === provider.id && i.grant_type === grant.grant_type);

  // Back from the provider's consent page (or a client-credentials connect on this page).
  const { query } = useLocation();
  const returned = query.get("provider_id");
  const returnedGrant = query.get("grant_type") ?? "";
  const returnedStatus = query.get("status");
  const returnedProvider = providers.data?.find((p) => p.id === returned);
  const returnedName = returnedProvider?.name ?? returned ?? "";
  const returnedGrantInfo = returnedProvider?.grants.find((g) => g.grant_type === returnedGrant) ?? returnedProvider?.grants[0];
  const dismiss = () => navigate(`/workspaces/${ws}/integrations`, { replace: true });

  const [configuring, setConfiguring] = useState<Target | null>(null);
  const connect = useMutation({
    mutationFn: (t: Target) =>
      unwrap<AuthorizationStart | Integration>(client.POST("/integrations/{provider_id}/connect", { params: on(ws, t) })),
    onSuccess: async (result, t) => {
      if ("auth_url" in result && result.auth_url) {
        // To the provider's consent page; the api brings the browser back here.
        window.location.assign(result.auth_url);
        return;
      }
      await refresh();
      const params = new URLSearchParams({ provider_id: t.provider.id, grant_type: t.grant.grant_type, status: "connected" });
      navigate(`/workspaces/${ws}/integrations?${params}`, { replace: true });
    },
    // A refusal is stored as the integration's last error.
    onError: () => refresh(),
  });
  const [tests, setTests] = useState<Record<string, IntegrationTest | { error: unknown }>>({});
  const test = useMutation({
    mutationFn: (t: Target) => unwrap<IntegrationTest>(client.POST("/integrations/{provider_id}/test", { params: on(ws, t) })),
    onMutate: (t) => setTests(({ [targetKey(t)]: _old, ...rest }) => rest),
    onSuccess: (result, t) => setTests((all) => ({ ...all, [targetKey(t)]: result })),
    onError: (error, t) => setTests((all) => ({ ...all, [targetKey(t)]: { error } })),
    onSettled: () => refresh(),
  });
  const disconnect = useConfirmed(
    (t: Target) => unwrap(client.POST("/integrations/{provider_id}/disconnect", { params: on(ws, t) })),
    refresh,
  );
  const remove = useConfirmed((t: Target) => unwrap(client.DELETE("/integrations/{provider_id}", { params: on(ws, t) })), refresh);
  const disconnecting = disconnect.target;
  const deleting = remove.target;
  const busy = (m: { isPending: boolean; variables?: Target }, t: Target) => m.isPending && !!m.variables && targetKey(m.variables) === targetKey(t);

  return (
    <>
      <PageHeader
        title="Integrations"
        description={
          <>
            Connect OAuth providers so your workflows can call their APIs with a token ferrocat keeps fresh, read as{" "}
            <code>{"${{ SECRETS.<provider>_oauth.<TOKEN_KEY> }}"}</code>. Client secrets and tokens are write-only.
          </>
        }
      />
      {returned && returnedStatus === "connected" && (
        <div className="note note-ok row" role="status">
          <span className="grow">
            <strong>{returnedName} is connected</strong>
            {returnedGrant && <> ({grantLabel(returnedGrant).toLowerCase()})</>}.
            {returnedProvider && returnedGrantInfo && (
              <>
                {" "}
                Workflows can use its token as <code>{`\${{ ${tokenRef(returnedProvider, returnedGrantInfo)} }}`}</code>.
              </>
            )}
          </span>
          <button type="button" className="button button-small" onClick={dismiss}>
            Dismiss
          </button>
        </div>
      )}
      {returned && returnedStatus && returnedStatus !== "connected" && (
        <div className="note note-error row" role="alert">
          <span className="grow">
            <strong>{returnedName}</strong>: {returnedStatus.replace(/_/g, " ")}
          </span>
          <button type="button" className="button button-small" onClick={dismiss}>
            Dismiss
          </button>
        </div>
      )}
      <ErrorNote error={providers.error} />
      <ErrorNote error={integrations.error} title="The workspace's integrations" />
      <ErrorNote error={connect.error} title={`Could not connect ${connect.variables?.provider.name ?? ""}`.trim()} />
      {providers.isPending && <Spinner />}
      {providers.data && providers.data.length === 0 && (
        <Empty title="No OAuth providers">
          <p>The api's provider catalog is empty. An operator adds providers to it; they then show here for every workspace.</p>
        </Empty>
      )}
      {providers.data && providers.data.length > 0 && (
        <div className="stack">
          <Field label="Search providers" hint={`${shown.length} of ${providers.data.length} providers`}>
            <input type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="e.g. microsoft, google" />
          </Field>
          {!canEdit && <p className="muted">You can see the integrations' statuses. Ask an editor of this workspace to configure or connect a provider.</p>}
          {shown.length === 0 ? (
            <Empty title="No provider matches">
              <p>Search looks in providers' names and ids. Try fewer words.</p>
            </Empty>
          ) : (
            <div className="table-scroll integrations-table">
              <DataTable columns={["Provider", "Grant", "Status", "Token in workflows"]} actions={canEdit} label="OAuth providers">
                {shown.map((provider) =>
                  provider.grants.map((grant, index) => {
                    const integration = integrationOf(provider, grant);
                    const t: Target = { provider, grant, integration };
                    const status = integration?.status ?? grant.integration_status;
                    const configured = status !== "not_configured";
                    const connected = status === "connected" || status === "reauth_required";
                    const which = `${provider.name} ${grantLabel(grant.grant_type).toLowerCase()}`;
                    const tested = tests[targetKey(t)];
                    return (
                      <tr key={targetKey(t)}>
                        {index === 0 && (
                          <td rowSpan={provider.grants.length}>
                            <strong>{provider.name}</strong>
                            <div className="muted small">
                              <code>{provider.id}</code>
                            </div>
                            {provider.description && <div className="small">{provider.description}</div>}
                            {provider.api_docs_url && (
                              <div className="small">
                                <a href={provider.api_docs_url} target="_blank" rel="noreferrer">
                                  API docs<span className="visually-hidden"> of {provider.name}</span>
                                </a>
                              </div>
                            )}
                          </td>
                        )}
                        <td>
                          {grantLabel(grant.grant_type)}
                          {GRANT_HINTS[grant.grant_type] && <div className="muted small">{GRANT_HINTS[grant.grant_type]}</div>}
                        </td>
                        <td>
                          <Badge status={status} />
                          {integration && <IntegrationDetails integration={integration} />}
                          {tested && <TestResult result={tested} />}
                        </td>
                        <td>
                          <code className="token-ref" title={`\${{ ${tokenRef(provider, grant)} }}`}>
                            {tokenRef(provider, grant)}
                          </code>
                        </td>
                        {canEdit && (
                          <RowButtons
                            buttons={[
                              { label: "Configure", name: `Configure ${which}`, onClick: () => setConfiguring(t) },
                              configured && {
                                label: "Connect",
                                name: `Connect ${which}`,
                                onClick: () => connect.mutate(t),
                                disabled: busy(connect, t),
                              },
                              configured && { label: "Test", name: `Test ${which}`, onClick: () => test.mutate(t), disabled: busy(test, t) },
                              connected && { label: "Disconnect", name: `Disconnect ${which}`, onClick: disconnect.ask(t) },
                              configured && canDelete && { label: "Delete", name: `Delete ${which}`, onClick: remove.ask(t), danger: true },
                            ]}
                          />
                        )}
                      </tr>
                    );
                  }),
                )}
              </DataTable>
            </div>
          )}
        </div>
      )}
      <Dialog
        title={configuring ? `Configure ${configuring.provider.name} (${grantLabel(configuring.grant.grant_type).toLowerCase()})` : "Configure integration"}
        open={!!configuring}
        onClose={() => setConfiguring(null)}
        wide
      >
        {configuring && (
          <ConfigureForm
            ws={ws}
            target={configuring}
            onDone={async () => {
              setConfiguring(null);
              await refresh();
            }}
          />
        )}
      </Dialog>
      <ConfirmDialog {...disconnect.dialog} title="Disconnect integration" confirmLabel="Disconnect integration">
        <p>
          Disconnect {disconnecting?.provider.name} ({grantLabel(disconnecting?.grant.grant_type ?? "").toLowerCase()})? Its tokens are
          forgotten and workflows that use <code>{disconnecting ? tokenRef(disconnecting.provider, disconnecting.grant) : ""}</code> fail
          until it is connected again. The configuration stays.
        </p>
      </ConfirmDialog>
      <ConfirmDialog {...remove.dialog} title="Delete integration" confirmLabel="Delete integration">
        <p>
          Delete the {deleting?.provider.name} ({grantLabel(deleting?.grant.grant_type ?? "").toLowerCase()}) integration with its client
          secret and tokens? Workflows that use <code>{deleting ? tokenRef(deleting.provider, deleting.grant) : ""}</code> fail until it is
          configured and connected again. This cannot be undone.
        </p>
      </ConfirmDialog>
    </>
  );
}

/** What the api shows of a configured integration: client, scopes, token expiry, last error. */
function IntegrationDetails({ integration }: { integration: Integration }) {
  const scopes = integration.granted_scopes ?? integration.requested_scopes ?? [];
  return (
    <div className="small">
      <div className="muted">
        Client <code>{integration.client_id}</code>
      </div>
      {scopes.length > 0 && (
        <div className="muted">
          {integration.granted_scopes ? "Granted" : "Scopes"}:{" "}
          {scopes.map((s) => (
            <code key={s} className="tag">
              {s}
            </code>
          ))}
        </div>
      )}
      {integration.expires_at && (
        <div className="muted">
          {integration.is_expired ? "Token expired" : "Token expires"} <When at={integration.expires_at} />
        </div>
      )}
      {integration.last_error && (
        <p className="note note-error">
          <strong>Last error: </strong>
          {integration.last_error}
        </p>
      )}
    </div>
  );
}

function TestResult({ result }: { result: IntegrationTest | { error: unknown } }) {
  if ("error" in result) return <ErrorNote error={result.error} title="Test failed" />;
  return (
    <p className={result.success ? "note note-ok small" : "note note-error small"} role="status">
      <strong>{result.success ? "Test passed: " : "Test failed: "}</strong>
      {result.message}
    </p>
  );
}

/**
 * The client, scopes and endpoint parameters of one provider and grant. The client secret is
 * write-only: never filled from the api; left empty, an existing integration keeps its own.
 */
function ConfigureForm({ ws, target, onDone }: { ws: string; target: Target; onDone: () => Promise<void> }) {
  const { provider, grant, integration } = target;
  const [clientId, setClientId] = useState(integration?.client_id ?? "");
  const [secret, setSecret] = useState("");
  const [scopes, setScopes] = useState(() => (integration?.requested_scopes ?? grant.default_scopes ?? []).join(" "));
  const [params, setParams] = useState<Record<string, string>>(() => {
    const stored = integration?.params ?? {};
    return Object.fromEntries(Object.keys(provider.params ?? {}).map((name) => [name, typeof stored[name] === "string" ? (stored[name] as string) : ""]));
  });
  const save = useMutation({
    mutationFn: (body: ConfigureBody) => unwrap<Integration>(client.PUT("/integrations/{provider_id}", { params: on(ws, target), body })),
    // The variables hold the secret: drop the mutation from the cache once the form is gone.
    gcTime: 0,
    onSuccess: async () => {
      setSecret("");
      await onDone();
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const body: ConfigureBody = { client_id: clientId.trim(), scopes: scopes.split(/\s+/).filter(Boolean) };
    if (secret) body.client_secret = secret;
    const names = Object.keys(provider.params ?? {});
    if (names.length) {
      // The api replaces the stored values with these: an empty field falls back to the default.
      body.params = Object.fromEntries(names.map((n) => [n, params[n]?.trim() ?? ""]).filter(([, v]) => v));
    }
    save.mutate(body);
  };
  const redirectUri = integration?.redirect_uri ?? provider.redirect_uri;
  const defaults = grant.default_scopes ?? [];
  return (
    <form className="stack" onSubmit={submit}>
      <ErrorNote error={save.error} />
      <p className="muted">
        {provider.description || provider.name} · {grantLabel(grant.grant_type)}
        {GRANT_HINTS[grant.grant_type] && <> ({GRANT_HINTS[grant.grant_type]})</>}
        {provider.api_docs_url && (
          <>
            {" "}
            ·{" "}
            <a href={provider.api_docs_url} target="_blank" rel="noreferrer">
              API docs
            </a>
          </>
        )}
      </p>
      {grant.grant_type === "authorization_code" && redirectUri && (
        <div>
          <div className="row row-bottom">
            <div className="grow">
              <Field label="Redirect URI">
                <input value={redirectUri} readOnly data-copy={redirectUri} spellCheck={false} className="mono" />
              </Field>
            </div>
            <CopyButton text={redirectUri} label="Copy redirect URI" />
          </div>
          <p className="field-hint">Register this callback URL in the app you create at the provider.</p>
        </div>
      )}
      <div className="form-grid">
        <Field label="Client ID" hint="The application (client) id the provider gave your app">
          <input value={clientId} onChange={(e) => setClientId(e.target.value)} required autoFocus spellCheck={false} autoComplete="off" maxLength={512} />
        </Field>
        <Field
          label="Client secret"
          hint={integration ? "Leave empty to keep the stored secret." : "Write-only: it is sealed when saved and never shown again."}
        >
          <input
            type="password"
            value={secret}
            onChange={(e) => setSecret(e.target.value)}
            required={!integration}
            spellCheck={false}
            autoComplete="new-password"
            maxLength={4096}
          />
        </Field>
      </div>
      <Field
        label="Scopes"
        hint={
          <>
            Separated by spaces.{" "}
            {defaults.length > 0 ? (
              <>
                The provider's defaults: <code>{defaults.join(" ")}</code>
              </>
            ) : (
              "The provider has no default scopes for this grant."
            )}
          </>
        }
      >
        <input value={scopes} onChange={(e) => setScopes(e.target.value)} spellCheck={false} autoComplete="off" className="mono" />
      </Field>
      {Object.keys(provider.params ?? {}).length > 0 && (
        <fieldset className="kv">
          <legend className="field-label">Endpoint parameters</legend>
          <p className="field-hint">Values filled into the provider's endpoints; an empty one takes its default.</p>
          <div className="form-grid">
            {Object.entries(provider.params).map(([name, fallback]) => (
              <Field key={name} label={name} hint={fallback ? `Default: ${fallback}` : undefined}>
                <input
                  value={params[name] ?? ""}
                  onChange={(e) => setParams((all) => ({ ...all, [name]: e.target.value }))}
                  placeholder={fallback}
                  spellCheck={false}
                  autoComplete="off"
                />
              </Field>
            ))}
          </div>
        </fieldset>
      )}
      <div className="row form-actions">
        <SubmitButton pending={save.isPending} busy="Saving">
          Save configuration
        </SubmitButton>
      </div>
    </form>
  );
}
