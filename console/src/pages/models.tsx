// AI models: the model gateway's catalog (providers and the models callers name), which
// superusers edit, and this workspace's token usage per model. A provider's key is never stored
// in the catalog: the catalog holds a `secret:NAME.KEY` reference, and a key typed here is
// sealed into an organisation secret and referenced, never shown again.
import { useId, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, client, unwrap } from "../api/client";
import { useMe } from "../api/session";
import { PROVIDER_KINDS, type LlmModel, type LlmProvider, type LlmUsage, type ModelUsage, type ProviderKind, type Secret } from "../api/types-admin";
import { Link } from "../router";
import { DataTable, Dialog, EditDeleteButtons, Empty, ErrorNote, Field, Options, PageHeader, Spinner, SubmitButton } from "../components/ui";
import { ConfirmDialog, Tabs, optionalInt, optionalText, useConfirmed } from "../components/forms";

type Tab = "providers" | "models" | "usage";

/**
 * The api lets every member of a workspace read its usage (`Role::Viewer` on
 * `/workspaces/{workspace_id}/llm/usage`); set this to show the tab to superusers only.
 */
const USAGE_FOR_SUPERUSERS_ONLY = false;

const providersKey = ["llm", "providers"];
const modelsKey = ["llm", "models"];

export default function ModelsPage({ ws }: { ws: string }) {
  const me = useMe().data;
  const admin = !!me?.is_superuser;
  const [tab, setTab] = useState<Tab>("models");
  const showUsage = admin || !USAGE_FOR_SUPERUSERS_ONLY;
  const tabs: [Tab, string][] = [
    ["models", "Models"],
    ["providers", "Providers"],
  ];
  if (showUsage) tabs.push(["usage", "Usage"]);
  return (
    <>
      <PageHeader
        title="AI models"
        description="The models AI actions can call through the model gateway, the providers that serve them, and this workspace's usage."
      />
      <Tabs<Tab>
        label="AI models"
        tabs={tabs}
        current={tab}
        onChange={setTab}
      >
        {tab === "providers" && <Providers admin={admin} ws={ws} />}
        {tab === "models" && <Models admin={admin} />}
        {tab === "usage" && showUsage && <Usage ws={ws} />}
      </Tabs>
    </>
  );
}

// ---------------------------------------------------------------------------------------------
// Providers

function Providers({ admin, ws }: { admin: boolean; ws: string }) {
  const queries = useQueryClient();
  const list = useQuery({ queryKey: providersKey, queryFn: () => unwrap<LlmProvider[]>(client.GET("/llm/providers")) });
  const [editing, setEditing] = useState<LlmProvider | "new" | null>(null);
  const remove = useConfirmed(
    (p: LlmProvider) => unwrap(client.DELETE("/llm/providers/{name}", { params: { path: { name: p.name } } })),
    () => queries.invalidateQueries({ queryKey: providersKey }),
  );
  const deleting = remove.target;
  return (
    <div className="stack">
      {admin ? (
        <div className="row">
          <button type="button" className="button button-primary" onClick={() => setEditing("new")}>
            Add provider
          </button>
        </div>
      ) : (
        <p className="muted">Only an organisation admin (superuser) can change providers.</p>
      )}
      <ErrorNote error={list.error} />
      {list.isPending && <Spinner />}
      {list.data && list.data.length === 0 && (
        <Empty title="No providers yet">
          <p>
            A provider is an API that serves models: OpenAI, Anthropic, Azure OpenAI, Gemini, or any OpenAI-compatible server (vLLM,
            Ollama, LiteLLM). Add one, then add the models AI actions may call through it.
          </p>
        </Empty>
      )}
      {list.data && list.data.length > 0 && (
        <DataTable columns={["Name", "Kind", admin && "Base URL", admin && "Credential", "Passthrough"]} actions={admin}>
          {list.data.map((p) => (
            <tr key={p.name}>
              <td>
                <code>{p.name}</code>
              </td>
              <td>{p.kind}</td>
              {admin && <td className="mono">{p.base_url ?? <span className="muted">vendor default</span>}</td>}
              {admin && <td className="mono">{p.credential ?? <span className="muted">—</span>}</td>}
              <td>{p.passthrough ? "yes" : "no"}</td>
              {admin && <EditDeleteButtons what="provider" name={p.name} onEdit={() => setEditing(p)} onDelete={remove.ask(p)} />}
            </tr>
          ))}
        </DataTable>
      )}
      <Dialog title={editing === "new" ? "Add provider" : editing ? `Edit provider ${editing.name}` : "Provider"} open={!!editing} onClose={() => setEditing(null)} wide>
        {editing && (
          <ProviderForm
            provider={editing === "new" ? null : editing}
            ws={ws}
            onDone={async () => {
              setEditing(null);
              await queries.invalidateQueries({ queryKey: providersKey });
            }}
          />
        )}
      </Dialog>
      <ConfirmDialog {...remove.dialog} title="Delete provider" confirmLabel="Delete provider">
        <p>
          Delete <code>{deleting?.name}</code>? The api refuses while models still use it: delete or move those first. The secret its
          credential names is kept.
        </p>
      </ConfirmDialog>
    </div>
  );
}

/** The organisation secret a key typed in the provider form goes to. */
const secretNameFor = (provider: string) => `llm_${provider.replace(/[^A-Za-z0-9_]/g, "_")}`.slice(0, 100);

/** Creates or replaces the organisation secret `name` with one key `API_KEY`. */
async function storeKey(name: string, value: string): Promise<void> {
  const keys = [{ key: "API_KEY", value }];
  let existing: Secret | null = null;
  try {
    existing = await unwrap<Secret>(client.GET("/organization/secrets/{secret}", { params: { path: { secret: name } } }));
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 404)) throw e;
  }
  if (existing) {
    await unwrap(client.POST("/organization/secrets/{secret}", { params: { path: { secret: existing.id } }, body: { keys } }));
  } else {
    await unwrap(
      client.POST("/organization/secrets", {
        body: { name, type: "custom", description: `API key of model provider ${name.slice(4)}`, environment: "default", keys },
      }),
    );
  }
}

function ProviderForm({ provider, ws, onDone }: { provider: LlmProvider | null; ws: string; onDone: () => Promise<void> }) {
  const [name, setName] = useState(provider?.name ?? "");
  const [kind, setKind] = useState<ProviderKind>(provider?.kind ?? "openai");
  const [baseUrl, setBaseUrl] = useState(provider?.base_url ?? "");
  const [credential, setCredential] = useState(provider?.credential ?? "");
  const [apiKey, setApiKey] = useState("");
  const [passthrough, setPassthrough] = useState(provider?.passthrough ?? false);
  const [apiVersion, setApiVersion] = useState(provider?.api_version ?? "");
  const [keyHeader, setKeyHeader] = useState(provider?.api_key_header ?? "");
  const save = useMutation({
    mutationFn: async () => {
      const providerName = name.trim();
      let cred = optionalText(credential);
      if (apiKey) {
        const secret = secretNameFor(providerName);
        await storeKey(secret, apiKey);
        cred = `secret:${secret}.API_KEY`;
      }
      const body = {
        kind,
        base_url: optionalText(baseUrl),
        credential: passthrough ? undefined : cred,
        passthrough,
        api_version: kind === "azure" ? optionalText(apiVersion) : undefined,
        api_key_header: kind === "openai_compatible" ? optionalText(keyHeader) : undefined,
      };
      return unwrap<LlmProvider>(client.PUT("/llm/providers/{name}", { params: { path: { name: providerName } }, body }));
    },
    gcTime: 0,
    onSuccess: async () => {
      setApiKey("");
      await onDone();
    },
    onError: () => setApiKey(""),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  const needsUrl = kind === "azure" || kind === "openai_compatible";
  return (
    <form className="stack" onSubmit={submit}>
      <ErrorNote error={save.error} />
      <div className="form-grid">
        <Field label="Name" hint="What models name as their provider: letters, digits and . _ : @ -">
          <input value={name} onChange={(e) => setName(e.target.value)} required disabled={!!provider} autoFocus={!provider} spellCheck={false} maxLength={128} />
        </Field>
        <Field label="Kind">
          <select value={kind} onChange={(e) => setKind(e.target.value as ProviderKind)}>
            <Options of={PROVIDER_KINDS} />
          </select>
        </Field>
      </div>
      <Field label={needsUrl ? "Base URL" : "Base URL (optional)"} hint={needsUrl ? "Required for this kind" : "Empty: the vendor's public API"}>
        <input type="url" value={baseUrl} onChange={(e) => setBaseUrl(e.target.value)} required={needsUrl} spellCheck={false} placeholder="https://…" />
      </Field>
      {kind === "azure" && (
        <Field label="API version" hint="Azure's api-version query parameter, e.g. 2024-10-21">
          <input value={apiVersion} onChange={(e) => setApiVersion(e.target.value)} required spellCheck={false} />
        </Field>
      )}
      {kind === "openai_compatible" && (
        <Field label="API key header (optional)" hint="Empty: Authorization: Bearer <key>">
          <input value={keyHeader} onChange={(e) => setKeyHeader(e.target.value)} spellCheck={false} placeholder="x-api-key" />
        </Field>
      )}
      <label className="check">
        <input type="checkbox" checked={passthrough} onChange={(e) => setPassthrough(e.target.checked)} />
        <span>Passthrough: forward each caller's own credential headers instead of a stored key</span>
      </label>
      {!passthrough && (
        <fieldset className="kv">
          <legend className="field-label">Credential</legend>
          <Field
            label="API key"
            hint={
              <>
                Write-only. Saved as the organisation secret <code>{secretNameFor(name.trim() || "name")}</code> (key <code>API_KEY</code>) and
                referenced below; leave empty to keep the current credential.
              </>
            }
          >
            <input type="password" value={apiKey} onChange={(e) => setApiKey(e.target.value)} autoComplete="new-password" spellCheck={false} />
          </Field>
          <Field
            label="Or a secret reference"
            hint={
              <>
                <code>secret:NAME</code> or <code>secret:NAME.KEY</code>: the calling workspace's secret, else the organisation's. See{" "}
                <Link to={`/workspaces/${ws}/settings`}>organisation secrets</Link>.
              </>
            }
          >
            <input value={apiKey ? `secret:${secretNameFor(name.trim())}.API_KEY` : credential} onChange={(e) => setCredential(e.target.value)} disabled={!!apiKey} spellCheck={false} placeholder="secret:openai.API_KEY" />
          </Field>
        </fieldset>
      )}
      <div className="row form-actions">
        <SubmitButton pending={save.isPending} busy="Saving">
          {provider ? "Save provider" : "Add provider"}
        </SubmitButton>
      </div>
    </form>
  );
}

// ---------------------------------------------------------------------------------------------
// Models

function Models({ admin }: { admin: boolean }) {
  const queries = useQueryClient();
  const list = useQuery({ queryKey: modelsKey, queryFn: () => unwrap<LlmModel[]>(client.GET("/llm/models")) });
  const providers = useQuery({ queryKey: providersKey, queryFn: () => unwrap<LlmProvider[]>(client.GET("/llm/providers")) });
  const [editing, setEditing] = useState<LlmModel | "new" | null>(null);
  const remove = useConfirmed(
    (m: LlmModel) => unwrap(client.DELETE("/llm/models/{name}", { params: { path: { name: m.name } } })),
    () => queries.invalidateQueries({ queryKey: modelsKey }),
  );
  const deleting = remove.target;
  const noProviders = providers.data?.length === 0;
  return (
    <div className="stack">
      {admin ? (
        <div className="row">
          <button type="button" className="button button-primary" onClick={() => setEditing("new")} disabled={noProviders}>
            Add model
          </button>
          {noProviders && <span className="muted">Add a provider first.</span>}
        </div>
      ) : (
        <p className="muted">Only an organisation admin (superuser) can change models.</p>
      )}
      <ErrorNote error={list.error} />
      {list.isPending && <Spinner />}
      {list.data && list.data.length === 0 && (
        <Empty title="No models yet">
          <p>
            A model is the name AI actions put in <code>model</code> (e.g. <code>gpt-4o</code> or <code>claude-sonnet</code>), served by
            one of the providers, with optional fallbacks tried on rate limits and outages.
          </p>
        </Empty>
      )}
      {list.data && list.data.length > 0 && (
        <DataTable columns={["Name", "Provider", "Upstream model", "Fallbacks", "Requests per minute", "Max tokens"]} actions={admin}>
          {list.data.map((m) => (
            <tr key={m.name}>
              <td>
                <code>{m.name}</code>
                {m.credential && <div className="muted small mono">{m.credential}</div>}
              </td>
              <td>{m.provider}</td>
              <td className="mono">{m.upstream_model ?? <span className="muted">same</span>}</td>
              <td>{m.fallbacks?.length ? m.fallbacks.map((f) => <code key={f} className="tag">{f}</code>) : <span className="muted">—</span>}</td>
              <td>{m.rpm ?? <span className="muted">no limit</span>}</td>
              <td>{m.max_tokens ?? <span className="muted">—</span>}</td>
              {admin && <EditDeleteButtons what="model" name={m.name} onEdit={() => setEditing(m)} onDelete={remove.ask(m)} />}
            </tr>
          ))}
        </DataTable>
      )}
      <Dialog title={editing === "new" ? "Add model" : editing ? `Edit model ${editing.name}` : "Model"} open={!!editing} onClose={() => setEditing(null)} wide>
        {editing && (
          <ModelForm
            model={editing === "new" ? null : editing}
            providers={providers.data ?? []}
            models={list.data ?? []}
            onDone={async () => {
              setEditing(null);
              await queries.invalidateQueries({ queryKey: modelsKey });
            }}
          />
        )}
      </Dialog>
      <ConfirmDialog {...remove.dialog} title="Delete model" confirmLabel="Delete model">
        <p>
          Delete <code>{deleting?.name}</code>? Actions that name it will fail. The api refuses while another model falls back to it.
        </p>
      </ConfirmDialog>
    </div>
  );
}

function ModelForm({ model, providers, models, onDone }: { model: LlmModel | null; providers: LlmProvider[]; models: LlmModel[]; onDone: () => Promise<void> }) {
  const [name, setName] = useState(model?.name ?? "");
  const [provider, setProvider] = useState(model?.provider ?? providers[0]?.name ?? "");
  const [upstream, setUpstream] = useState(model?.upstream_model ?? "");
  const [credential, setCredential] = useState(model?.credential ?? "");
  const [fallbacks, setFallbacks] = useState<string[]>(model?.fallbacks ?? []);
  const [rpm, setRpm] = useState(model?.rpm?.toString() ?? "");
  const [maxTokens, setMaxTokens] = useState(model?.max_tokens?.toString() ?? "");
  const fallbackId = useId();
  const save = useMutation({
    mutationFn: () =>
      unwrap<LlmModel>(
        client.PUT("/llm/models/{name}", {
          params: { path: { name: name.trim() } },
          body: {
            provider,
            upstream_model: optionalText(upstream),
            credential: optionalText(credential),
            fallbacks,
            rpm: optionalInt(rpm),
            max_tokens: optionalInt(maxTokens),
          },
        }),
      ),
    onSuccess: onDone,
  });
  const others = models.filter((m) => m.name !== (model?.name ?? name.trim()));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  return (
    <form className="stack" onSubmit={submit}>
      <ErrorNote error={save.error} />
      <div className="form-grid">
        <Field label="Name" hint="What AI actions write in model">
          <input value={name} onChange={(e) => setName(e.target.value)} required disabled={!!model} autoFocus={!model} spellCheck={false} maxLength={128} />
        </Field>
        <Field label="Provider">
          <select value={provider} onChange={(e) => setProvider(e.target.value)} required>
            <Options of={providers.map((p) => [p.name, `${p.name} (${p.kind})`] as const)} />
          </select>
        </Field>
        <Field label="Upstream model (optional)" hint="The name sent to the provider (Azure: the deployment); empty: the name above">
          <input value={upstream} onChange={(e) => setUpstream(e.target.value)} spellCheck={false} />
        </Field>
        <Field label="Requests per minute (optional)" hint="Per workspace">
          <input type="number" min={1} value={rpm} onChange={(e) => setRpm(e.target.value)} />
        </Field>
        <Field label="Max tokens (optional)" hint="Cap on a request's max_tokens">
          <input type="number" min={1} value={maxTokens} onChange={(e) => setMaxTokens(e.target.value)} />
        </Field>
        <Field label="Credential override (optional)" hint="secret:NAME or secret:NAME.KEY; empty: the provider's">
          <input value={credential} onChange={(e) => setCredential(e.target.value)} spellCheck={false} />
        </Field>
      </div>
      <fieldset className="kv" aria-describedby={fallbackId}>
        <legend className="field-label">Fallbacks</legend>
        <p className="field-hint" id={fallbackId}>
          Other models tried, in the order ticked, on rate limits, server errors and timeouts.
        </p>
        {others.length === 0 && <p className="muted small">No other model to fall back to yet.</p>}
        <div className="row">
          {others.map((m) => (
            <label key={m.name} className="check">
              <input
                type="checkbox"
                checked={fallbacks.includes(m.name)}
                onChange={(e) => setFallbacks(e.target.checked ? [...fallbacks, m.name] : fallbacks.filter((f) => f !== m.name))}
              />
              <span>
                {m.name}
                {fallbacks.includes(m.name) && <span className="muted"> (#{fallbacks.indexOf(m.name) + 1})</span>}
              </span>
            </label>
          ))}
        </div>
      </fieldset>
      <div className="row form-actions">
        <SubmitButton pending={save.isPending} busy="Saving" disabled={!provider}>
          {model ? "Save model" : "Add model"}
        </SubmitButton>
      </div>
    </form>
  );
}

// ---------------------------------------------------------------------------------------------
// Usage

const PERIODS: [string, string, number][] = [
  ["1d", "Last 24 hours", 1],
  ["7d", "Last 7 days", 7],
  ["30d", "Last 30 days", 30],
];

const fmt = (n: number) => n.toLocaleString();
const ms = (n: number | null) => (n === null ? "—" : `${Math.round(n).toLocaleString()} ms`);

function Usage({ ws }: { ws: string }) {
  const [period, setPeriod] = useState("30d");
  const days = PERIODS.find(([id]) => id === period)?.[2] ?? 30;
  const usage = useQuery({
    queryKey: ["llm", "usage", ws, period],
    queryFn: () =>
      unwrap<LlmUsage>(
        client.GET("/workspaces/{workspace_id}/llm/usage", {
          params: { path: { workspace_id: ws }, query: { since: new Date(Date.now() - days * 86_400_000).toISOString() } },
        }),
      ),
  });
  const data = usage.data;
  return (
    <div className="stack">
      <div className="row">
        <Field label="Period">
          <select value={period} onChange={(e) => setPeriod(e.target.value)}>
            <Options of={PERIODS} />
          </select>
        </Field>
      </div>
      <ErrorNote error={usage.error} />
      {usage.isPending && <Spinner />}
      {data && data.models.length === 0 && (
        <Empty title="No model calls in this period">
          <p>Usage appears here once this workspace's AI actions call models through the gateway: requests, errors, tokens and latency per model.</p>
        </Empty>
      )}
      {data && data.models.length > 0 && (
        <>
          <dl className="stats">
            <div>
              <dt>Requests</dt>
              <dd>{fmt(data.total.requests)}</dd>
            </div>
            <div>
              <dt>Errors</dt>
              <dd>{fmt(data.total.errors)}</dd>
            </div>
            <div>
              <dt>Input tokens</dt>
              <dd>{fmt(data.total.input_tokens)}</dd>
            </div>
            <div>
              <dt>Output tokens</dt>
              <dd>{fmt(data.total.output_tokens)}</dd>
            </div>
          </dl>
          <TokenChart models={data.models} />
          <DataTable caption="Usage per model" columns={["Model", "Requests", "Errors", "Input tokens", "Output tokens", "Latency p50", "Latency p99"]}>
            {data.models.map((m) => (
              <tr key={m.model}>
                <th scope="row">
                  <code>{m.model}</code>
                </th>
                <td className="num">{fmt(m.requests)}</td>
                <td className="num">{fmt(m.errors)}</td>
                <td className="num">{fmt(m.input_tokens)}</td>
                <td className="num">{fmt(m.output_tokens)}</td>
                <td className="num">{ms(m.p50_latency_ms)}</td>
                <td className="num">{ms(m.p99_latency_ms)}</td>
              </tr>
            ))}
          </DataTable>
        </>
      )}
    </div>
  );
}

/** Tokens per model as horizontal stacked bars (input, then output), drawn by hand in SVG. */
function TokenChart({ models }: { models: ModelUsage[] }) {
  const id = useId();
  const width = 720;
  const labelWidth = 180;
  const valueWidth = 90;
  const row = 26;
  const bar = 16;
  const top = 24;
  const height = top + models.length * row + 6;
  const max = Math.max(1, ...models.map((m) => m.input_tokens + m.output_tokens));
  const span = width - labelWidth - valueWidth;
  const scale = (n: number) => (n / max) * span;
  const clip = (s: string) => (s.length > 26 ? `${s.slice(0, 25)}…` : s);
  return (
    <figure className="chart-figure">
      <svg className="chart chart-usage" viewBox={`0 0 ${width} ${height}`} role="img" aria-labelledby={`${id}-title ${id}-desc`}>
        <title id={`${id}-title`}>Tokens per model</title>
        <desc id={`${id}-desc`}>
          {models.map((m) => `${m.model}: ${fmt(m.input_tokens)} input and ${fmt(m.output_tokens)} output tokens`).join("; ")}
        </desc>
        <g aria-hidden="true">
          <rect className="bar-input" x={labelWidth} y={4} width={10} height={10} />
          <text x={labelWidth + 14} y={13}>
            input
          </text>
          <rect className="bar-output" x={labelWidth + 64} y={4} width={10} height={10} />
          <text x={labelWidth + 78} y={13}>
            output
          </text>
          {models.map((m, i) => {
            const y = top + i * row;
            const wIn = scale(m.input_tokens);
            const wOut = scale(m.output_tokens);
            return (
              <g key={m.model}>
                <text x={labelWidth - 8} y={y + bar - 4} textAnchor="end">
                  {clip(m.model)}
                </text>
                <rect className="bar-input" x={labelWidth} y={y} width={Math.max(wIn, m.input_tokens ? 1 : 0)} height={bar} />
                <rect className="bar-output" x={labelWidth + wIn} y={y} width={Math.max(wOut, m.output_tokens ? 1 : 0)} height={bar} />
                <text x={labelWidth + wIn + wOut + 6} y={y + bar - 4}>
                  {fmt(m.input_tokens + m.output_tokens)}
                </text>
              </g>
            );
          })}
        </g>
      </svg>
      <figcaption className="muted small">Tokens per model in the period; the table below has the same numbers.</figcaption>
    </figure>
  );
}
