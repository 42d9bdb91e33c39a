// The action registry: every action a workflow can call, searchable, with its arguments (read
// from each action's JSON schema) and the secrets it needs. The chosen action is in the URL
// (`?action=core.http_request`), so a link to it can be shared.
import { useMemo, useState, type ReactNode } from "react";
import { useQuery } from "@tanstack/react-query";
import { client, unwrap } from "../api/client";
import type { JsonSchema, RegistryAction } from "../api/types-admin";
import { useMe } from "../api/session";
import { Link, navigate, useLocation } from "../router";
import { CopyButton, DataTable, Empty, ErrorNote, Field, JsonView, PageHeader, Spinner } from "../components/ui";
import { GitRegistries } from "./registry-repos";

export default function RegistryPage({ ws }: { ws: string }) {
  // Git registries are the organisation's: superusers only (the api answers 403 to others).
  const superuser = !!useMe().data?.is_superuser;
  const list = useQuery({
    queryKey: ["registry", "actions"],
    queryFn: () => unwrap<RegistryAction[]>(client.GET("/registry/actions")),
    staleTime: 5 * 60_000,
  });
  const [search, setSearch] = useState("");
  const selected = useLocation().query.get("action");
  const shown = useMemo(() => {
    const words = search.toLowerCase().split(/\s+/).filter(Boolean);
    const all = list.data ?? [];
    if (!words.length) return all;
    return all.filter((a) => {
      const text = `${a.name} ${a.title} ${a.description}`.toLowerCase();
      return words.every((w) => text.includes(w));
    });
  }, [list.data, search]);
  const namespaces = useMemo(() => {
    const groups = new Map<string, RegistryAction[]>();
    for (const a of shown) groups.set(a.namespace, [...(groups.get(a.namespace) ?? []), a]);
    return [...groups.entries()].sort(([x], [y]) => x.localeCompare(y));
  }, [shown]);
  const choose = (name: string) => navigate(`/workspaces/${ws}/registry?action=${encodeURIComponent(name)}`);
  const current = list.data?.find((a) => a.name === selected);

  return (
    <>
      <PageHeader title="Registry" description="Every action your workflows can call: what it does, the arguments it takes and the secrets it reads." />
      {superuser && <GitRegistries />}
      <ErrorNote error={list.error} />
      {list.isPending && <Spinner />}
      {list.data && (
        <div className="registry">
          <div className="registry-list stack">
            <Field label="Search actions" hint={`${shown.length} of ${list.data.length} actions`}>
              <input type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="e.g. http, slack, transform" />
            </Field>
            {shown.length === 0 && (
              <Empty title="No action matches">
                <p>Search looks in names, titles and descriptions. Try fewer words.</p>
              </Empty>
            )}
            <nav aria-label="Actions">
              {namespaces.map(([namespace, actions]) => (
                <section key={namespace} className="registry-group">
                  <h2 className="registry-namespace">{namespace || "(no namespace)"}</h2>
                  <ul>
                    {actions.map((a) => (
                      <li key={a.name}>
                        <Link
                          to={`/workspaces/${ws}/registry?action=${encodeURIComponent(a.name)}`}
                          aria-current={a.name === selected ? "true" : undefined}
                          className="registry-item"
                        >
                          <span className="mono">{a.name}</span>
                          <span className="muted small">{a.title}</span>
                        </Link>
                      </li>
                    ))}
                  </ul>
                </section>
              ))}
            </nav>
          </div>
          <div className="registry-detail">
            {selected ? (
              <ActionDetail name={selected} fromList={current} ws={ws} />
            ) : (
              <Empty title="Choose an action">
                <p>
                  Pick an action on the left to see its arguments and the secrets it needs. In a workflow, call it with{" "}
                  <code>action: its.name</code> and pass its arguments under <code>args</code>.
                </p>
                {list.data[0] && (
                  <p>
                    <button type="button" className="button" onClick={() => choose(list.data[0].name)}>
                      Show {list.data[0].name}
                    </button>
                  </p>
                )}
              </Empty>
            )}
          </div>
        </div>
      )}
    </>
  );
}

/** One action: from the list when it carries the schema, else fetched on its own. */
function ActionDetail({ name, fromList, ws }: { name: string; fromList?: RegistryAction; ws: string }) {
  const needsFetch = !fromList || fromList.args === undefined;
  const detail = useQuery({
    queryKey: ["registry", "action", name],
    queryFn: () => unwrap<RegistryAction>(client.GET("/registry/actions/{name}", { params: { path: { name } } })),
    enabled: needsFetch,
  });
  const action = needsFetch ? detail.data : fromList;
  if (needsFetch && detail.isPending) return <Spinner />;
  if (needsFetch && detail.error) return <ErrorNote error={detail.error} />;
  if (!action) return null;
  const schema = action.args ?? {};
  const rows = argumentRows(schema);
  const example = exampleYaml(action, rows);
  return (
    <article className="card stack" aria-labelledby="action-title">
      <header>
        <h2 id="action-title" className="mono">
          {action.name}
        </h2>
        <p>
          <strong>{action.title}</strong>
        </p>
        <p>{action.description}</p>
        <p className="muted small">
          Namespace <code>{action.namespace || "—"}</code> · from <code>{action.origin}</code>
          {action.type && (
            <>
              {" "}
              · <span className="tag">{action.type}</span>
            </>
          )}
          {action.display_group && (
            <>
              {" "}
              · group <strong>{action.display_group}</strong>
            </>
          )}
        </p>
      </header>
      <section>
        <h3>Secrets</h3>
        {action.secrets.length === 0 ? (
          <p className="muted">It reads no secret of its own (arguments may still name one with SECRETS.name.KEY).</p>
        ) : (
          <>
            <p>
              It reads these secrets, which must exist in the workspace (or the organisation):{" "}
              {action.secrets.map((s) => (
                <code key={s} className="tag">
                  {s}
                </code>
              ))}
            </p>
            <p className="small">
              <Link to={`/workspaces/${ws}/secrets`}>Manage secrets</Link>
            </p>
          </>
        )}
      </section>
      <section>
        <h3>Arguments</h3>
        <SchemaNote schema={schema} rows={rows} />
        {rows.length > 0 && (
          <div className="table-scroll">
            <DataTable columns={["Name", "Type", "Required", "Description", "Default"]}>
              {rows.map((r) => (
                <tr key={r.name}>
                  <th scope="row" className="mono schema-name">
                    {r.name}
                  </th>
                  <td className="mono">{r.type}</td>
                  <td>
                    {r.required ? (
                      r.within ? (
                        <>
                          required in <code>{r.within}</code>
                        </>
                      ) : (
                        <strong>required</strong>
                      )
                    ) : (
                      <span className="muted">optional</span>
                    )}
                  </td>
                  <td>{r.description || <span className="muted">—</span>}</td>
                  <td className="mono">{r.default === undefined ? <span className="muted">—</span> : JSON.stringify(r.default)}</td>
                </tr>
              ))}
            </DataTable>
          </div>
        )}
      </section>
      <section>
        <div className="row">
          <h3 className="grow">In a workflow</h3>
          <CopyButton text={example} label="Copy example" />
        </div>
        <pre className="json" data-copy={example} tabIndex={0} aria-label={`Example step calling ${action.name}`}>
          {example}
        </pre>
      </section>
      <details>
        <summary>Raw argument schema</summary>
        <JsonView value={schema} label={`JSON schema of ${action.name}`} />
      </details>
    </article>
  );
}

function SchemaNote({ schema, rows }: { schema: JsonSchema; rows: ArgRow[] }): ReactNode {
  if (rows.length > 0) return null;
  if (schema.anyOf || schema.oneOf) return <p className="muted">Its arguments take one of several shapes: see the raw schema below.</p>;
  if (schema.additionalProperties === false) return <p className="muted">It takes no arguments.</p>;
  return <p className="muted">No documented arguments: it takes any object (see the description).</p>;
}

export interface ArgRow {
  name: string;
  type: string;
  /** Required where it is: at the top, or inside its parent once the parent is given. */
  required: boolean;
  /** The optional parent it is required in, if any. */
  within?: string;
  description?: string;
  default?: unknown;
}

/** `#/definitions/X` or `#/$defs/X` within the action's own schema. */
function resolve(schema: JsonSchema, root: JsonSchema, depth = 0): JsonSchema {
  if (!schema.$ref || depth > 8) return schema;
  const path = schema.$ref.replace(/^#\//, "").split("/").map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  let node: unknown = root;
  for (const part of path) node = node && typeof node === "object" ? (node as Record<string, unknown>)[part] : undefined;
  if (!node || typeof node !== "object") return schema;
  // Keywords beside the $ref (a description, a default) win over the target's.
  const { $ref: _ref, ...beside } = schema;
  void _ref;
  return { ...resolve(node as JsonSchema, root, depth + 1), ...beside };
}

/** A short type: `string`, `integer | null`, `array<string>`, `"GET" | "POST"`, `Header`. */
export function typeOf(input: JsonSchema, root: JsonSchema, depth = 0): string {
  if (depth > 5) return "…";
  const refName = input.$ref?.split("/").pop();
  const s = resolve(input, root);
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
  const union = s.anyOf ?? s.oneOf;
  if (union) return [...new Set(union.map((u) => typeOf(u, root, depth + 1)))].join(" | ");
  if (s.allOf?.length === 1) return typeOf(s.allOf[0], root, depth + 1);
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  if (!types.length) return refName ?? (s.properties ? "object" : "any");
  return types
    .map((t) => {
      if (t === "array") {
        const items = Array.isArray(s.items) ? s.items[0] : s.items;
        return items ? `array<${typeOf(items, root, depth + 1)}>` : "array";
      }
      if (t === "object" && refName) return refName;
      if (t === "object" && s.additionalProperties && typeof s.additionalProperties === "object")
        return `map<string, ${typeOf(s.additionalProperties, root, depth + 1)}>`;
      if (t === "string" && s.format) return `string (${s.format})`;
      return t;
    })
    .join(" | ");
}

/** The object behind a property, if it is one with properties of its own. */
function objectOf(s: JsonSchema, root: JsonSchema): JsonSchema | null {
  const r = resolve(s, root);
  if (r.properties) return r;
  const union = (r.anyOf ?? r.oneOf ?? r.allOf ?? []).map((u) => resolve(u, root)).filter((u) => u.properties);
  return union.length === 1 ? union[0] : null;
}

/** The schema's properties as rows; nested objects' properties follow as `parent.child`. */
export function argumentRows(root: JsonSchema): ArgRow[] {
  const rows: ArgRow[] = [];
  const walk = (schema: JsonSchema, prefix: string, parentRequired: boolean, depth: number) => {
    const object = objectOf(schema, root);
    if (!object?.properties) return;
    const required = new Set(object.required ?? []);
    for (const [name, prop] of Object.entries(object.properties)) {
      const r = resolve(prop, root);
      const full = prefix ? `${prefix}.${name}` : name;
      rows.push({
        name: full,
        type: typeOf(prop, root),
        required: required.has(name),
        within: parentRequired ? undefined : prefix,
        description: r.description ?? r.title,
        default: r.default,
      });
      if (depth < 2) walk(prop, full, parentRequired && required.has(name), depth + 1);
    }
  };
  walk(root, "", true, 0);
  return rows;
}

/** A YAML step calling the action with its required top-level arguments. */
function exampleYaml(action: RegistryAction, rows: ArgRow[]): string {
  const ref = (action.name.split(".").pop() ?? "step").replace(/[^a-z0-9_]/g, "_");
  const required = rows.filter((r) => r.required && !r.within && !r.name.includes("."));
  const lines = [`- ref: ${ref}`, `  action: ${action.name}`];
  if (required.length) {
    lines.push("  args:");
    for (const r of required) lines.push(`    ${r.name}: ${r.default !== undefined ? JSON.stringify(r.default) : placeholder(r.type)}`);
  }
  return lines.join("\n");
}

function placeholder(type: string): string {
  if (type.startsWith("array")) return "[]";
  if (type.startsWith("integer") || type.startsWith("number")) return "0";
  if (type.startsWith("boolean")) return "false";
  if (type.startsWith("object") || type.startsWith("map")) return "{}";
  return '""';
}
