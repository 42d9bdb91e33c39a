// Variables: named maps of plain (non-secret) values, read in workflows as VARS.name.key.
import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { client, unwrap } from "../api/client";
import { can, useMe } from "../api/session";
import type { Variable } from "../api/types-admin";
import { DataTable, Dialog, EditDeleteButtons, Empty, ErrorNote, Field, PageHeader, Spinner, SubmitButton, When } from "../components/ui";
import { ConfirmDialog, KeyValueRows, newPair, useConfirmed, type Pair } from "../components/forms";

interface VariableInput {
  name: string;
  description: string;
  environment: string;
  values: Record<string, unknown>;
}

/** The rows as a `{key: value}` map; a row marked JSON must parse. */
function valuesOf(pairs: Pair[]): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const p of pairs) {
    const key = p.key.trim();
    if (p.json) {
      try {
        values[key] = JSON.parse(p.value);
      } catch (e) {
        throw new Error(`The value of ${key || "a key"} is not JSON: ${e instanceof Error ? e.message : String(e)}`);
      }
    } else {
      values[key] = p.value;
    }
  }
  return values;
}

/** A stored variable as rows: strings as text, anything else as JSON. */
const pairsOf = (values: Record<string, unknown>): Pair[] => {
  const pairs = Object.entries(values ?? {}).map(([k, v]) => (typeof v === "string" ? newPair(k, v) : newPair(k, JSON.stringify(v), true)));
  return pairs.length ? pairs : [newPair()];
};

const show = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));

export default function VariablesPage({ ws }: { ws: string }) {
  const me = useMe().data;
  const canEdit = can(me, ws, "editor");
  const queries = useQueryClient();
  const key = ["variables", ws];
  const list = useQuery({
    queryKey: key,
    queryFn: () => unwrap<Variable[]>(client.GET("/variables", { params: { query: { workspace_id: ws } } })),
  });
  const [editing, setEditing] = useState<Variable | "new" | null>(null);
  const refresh = () => queries.invalidateQueries({ queryKey: key });
  const remove = useConfirmed(
    (v: Variable) => unwrap(client.DELETE("/variables/{variable}", { params: { path: { variable: v.id }, query: { workspace_id: ws } } })),
    refresh,
  );
  const deleting = remove.target;

  return (
    <>
      <PageHeader
        title="Variables"
        description={
          <>
            Plain settings your workflows read as <code>{"${{ VARS.name.key }}"}</code>: hosts, channel ids, thresholds. Every member
            can read them; keep keys and passwords in Secrets.
          </>
        }
      >
        {canEdit && (
          <button type="button" className="button button-primary" onClick={() => setEditing("new")}>
            New variable
          </button>
        )}
      </PageHeader>
      <ErrorNote error={list.error} />
      {list.isPending && <Spinner />}
      {list.data && list.data.length === 0 && (
        <Empty title="No variables yet">
          <p>
            A variable is a named set of values, e.g. <code>jira</code> with <code>url</code> and <code>project</code>, that workflows
            read as <code>{"${{ VARS.jira.url }}"}</code>, so one change reaches every workflow.
          </p>
          {!canEdit && <p>Ask an editor of this workspace to add one.</p>}
        </Empty>
      )}
      {list.data && list.data.length > 0 && (
        <DataTable columns={["Name", "Values", "Environment", "Description", "Updated"]} actions={canEdit}>
          {list.data.map((v) => (
            <tr key={v.id}>
              <td>
                <code>{v.name}</code>
              </td>
              <td>
                <dl className="kv-list">
                  {Object.entries(v.values ?? {}).map(([k, value]) => (
                    <div key={k}>
                      <dt>
                        <code title={`\${{ VARS.${v.name}.${k} }}`}>{k}</code>
                      </dt>
                      <dd className="mono">{show(value)}</dd>
                    </div>
                  ))}
                </dl>
              </td>
              <td>{v.environment}</td>
              <td>{v.description || <span className="muted">—</span>}</td>
              <td>
                <When at={v.updated_at} />
              </td>
              {canEdit && <EditDeleteButtons what="variable" name={v.name} onEdit={() => setEditing(v)} onDelete={remove.ask(v)} />}
            </tr>
          ))}
        </DataTable>
      )}
      <Dialog
        title={editing === "new" ? "New variable" : editing ? `Edit variable ${editing.name}` : "Variable"}
        open={!!editing}
        onClose={() => setEditing(null)}
        wide
      >
        {editing && (
          <VariableForm
            ws={ws}
            variable={editing === "new" ? null : editing}
            onDone={async () => {
              setEditing(null);
              await refresh();
            }}
          />
        )}
      </Dialog>
      <ConfirmDialog {...remove.dialog} title="Delete variable" confirmLabel="Delete variable">
        <p>
          Delete <code>{deleting?.name}</code> ({deleting?.environment})? Workflows that read <code>{`VARS.${deleting?.name ?? ""}`}</code> will
          fail until it exists again.
        </p>
      </ConfirmDialog>
    </>
  );
}

function VariableForm({ ws, variable, onDone }: { ws: string; variable: Variable | null; onDone: () => Promise<void> }) {
  const [name, setName] = useState(variable?.name ?? "");
  const [description, setDescription] = useState(variable?.description ?? "");
  const [environment, setEnvironment] = useState(variable?.environment ?? "default");
  const [pairs, setPairs] = useState<Pair[]>(() => (variable ? pairsOf(variable.values) : [newPair()]));
  const save = useMutation({
    mutationFn: (body: VariableInput) =>
      variable
        ? unwrap<Variable>(
            client.POST("/variables/{variable}", {
              params: { path: { variable: variable.id }, query: { workspace_id: ws } },
              body: { name: body.name, description: body.description, environment: body.environment, values: body.values },
            }),
          )
        : unwrap<Variable>(client.POST("/variables", { params: { query: { workspace_id: ws } }, body })),
    onSuccess: onDone,
  });
  const [localError, setLocalError] = useState<unknown>(null);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setLocalError(null);
    try {
      save.mutate({ name: name.trim(), description, environment: environment.trim() || "default", values: valuesOf(pairs) });
    } catch (e) {
      save.reset();
      setLocalError(e);
    }
  };
  return (
    <form className="stack" onSubmit={submit}>
      <ErrorNote error={localError ?? save.error} />
      <div className="form-grid">
        <Field label="Name" hint="Letters, digits and underscores; workflows write VARS.name.key">
          <input value={name} onChange={(e) => setName(e.target.value)} required autoFocus spellCheck={false} autoComplete="off" maxLength={100} />
        </Field>
        <Field label="Environment">
          <input value={environment} onChange={(e) => setEnvironment(e.target.value)} required spellCheck={false} autoComplete="off" />
        </Field>
      </div>
      <Field label="Description">
        <input value={description} onChange={(e) => setDescription(e.target.value)} autoComplete="off" />
      </Field>
      <KeyValueRows
        legend="Values"
        pairs={pairs}
        onChange={setPairs}
        jsonToggle
        keyHint="Tick JSON to store a number, true/false, a list or an object instead of text."
      />
      <div className="row form-actions">
        <SubmitButton pending={save.isPending} busy="Saving">
          {variable ? "Save changes" : "Create variable"}
        </SubmitButton>
      </div>
    </form>
  );
}
