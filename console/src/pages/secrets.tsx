// Secrets: a workspace's (this page) or the organisation's (the settings page, superusers).
// Values are write-only: the api never returns them, the form holds them only while it is open,
// and a save clears them; the list shows key names only.
import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { client, unwrap } from "../api/client";
import { can, useMe } from "../api/session";
import { SECRET_TYPES, type Secret } from "../api/types-admin";
import { DataTable, Dialog, EditDeleteButtons, Empty, ErrorNote, Field, Options, PageHeader, Spinner, SubmitButton, When } from "../components/ui";
import { ConfirmDialog, KeyValueRows, newPair, useConfirmed, type Pair } from "../components/forms";

/** Whose secrets: a workspace's, or the organisation's (no workspace). */
export type SecretScope = { kind: "workspace"; ws: string } | { kind: "organization" };

const keyOf = (scope: SecretScope) => (scope.kind === "workspace" ? ["secrets", scope.ws] : ["secrets", "organization"]);

interface SecretInput {
  name: string;
  type: string;
  description: string;
  environment: string;
  keys: { key: string; value: string }[];
}

interface SecretChanges {
  description?: string;
  keys?: { key: string; value: string }[];
}

function listSecrets(scope: SecretScope): Promise<Secret[]> {
  return scope.kind === "workspace"
    ? unwrap<Secret[]>(client.GET("/secrets", { params: { query: { workspace_id: scope.ws } } }))
    : unwrap<Secret[]>(client.GET("/organization/secrets", {}));
}

function createSecret(scope: SecretScope, body: SecretInput): Promise<Secret> {
  return scope.kind === "workspace"
    ? unwrap<Secret>(client.POST("/secrets", { params: { query: { workspace_id: scope.ws } }, body }))
    : unwrap<Secret>(client.POST("/organization/secrets", { body }));
}

function updateSecret(scope: SecretScope, id: string, body: SecretChanges): Promise<Secret> {
  return scope.kind === "workspace"
    ? unwrap<Secret>(client.POST("/secrets/{secret}", { params: { path: { secret: id }, query: { workspace_id: scope.ws } }, body }))
    : unwrap<Secret>(client.POST("/organization/secrets/{secret}", { params: { path: { secret: id } }, body }));
}

function deleteSecret(scope: SecretScope, id: string): Promise<unknown> {
  return scope.kind === "workspace"
    ? unwrap(client.DELETE("/secrets/{secret}", { params: { path: { secret: id }, query: { workspace_id: scope.ws } } }))
    : unwrap(client.DELETE("/organization/secrets/{secret}", { params: { path: { secret: id } } }));
}

/** The pairs as the api takes them; values go as typed (a PEM keeps its newlines). */
const pairsOut = (pairs: Pair[]) => pairs.map((p) => ({ key: p.key.trim(), value: p.value }));

/** A secret's list, create, update and delete, for whoever may (`canEdit`, `canDelete`). */
export function SecretsManager({ scope, canEdit, canDelete }: { scope: SecretScope; canEdit: boolean; canDelete: boolean }) {
  const queries = useQueryClient();
  const list = useQuery({ queryKey: keyOf(scope), queryFn: () => listSecrets(scope) });
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<Secret | null>(null);
  const refresh = () => queries.invalidateQueries({ queryKey: keyOf(scope) });
  const remove = useConfirmed((secret: Secret) => deleteSecret(scope, secret.id), refresh);
  const deleting = remove.target;
  const where = scope.kind === "workspace" ? "this workspace" : "the organisation";

  return (
    <div className="stack">
      {canEdit && (
        <div className="row">
          <button type="button" className="button button-primary" onClick={() => setCreating(true)}>
            New secret
          </button>
        </div>
      )}
      <ErrorNote error={list.error} />
      {list.isPending && <Spinner />}
      {list.data && list.data.length === 0 && (
        <Empty title="No secrets yet">
          <p>
            Secrets hold API keys and passwords your actions use as <code>{"${{ SECRETS.name.KEY }}"}</code>. Values are
            sealed when saved and never shown again, not even to admins.
          </p>
          {scope.kind === "organization" && (
            <p>Organisation secrets are shared by every workspace (model provider keys, mostly); a workspace's own secret of the same name wins.</p>
          )}
          {!canEdit && <p>Ask an editor of {where} to add one.</p>}
        </Empty>
      )}
      {list.data && list.data.length > 0 && (
        <DataTable columns={["Name", "Type", "Keys", "Environment", "Description", "Updated"]} actions={canEdit || canDelete}>
          {list.data.map((s) => (
            <tr key={s.id}>
              <td>
                <code>{s.name}</code>
              </td>
              <td>{s.type}</td>
              <td>
                {s.keys.map((k) => (
                  <code key={k} className="tag" title={`\${{ SECRETS.${s.name}.${k} }}`}>
                    {k}
                  </code>
                ))}
              </td>
              <td>{s.environment}</td>
              <td>{s.description || <span className="muted">—</span>}</td>
              <td>
                <When at={s.updated_at} />
              </td>
              {(canEdit || canDelete) && (
                <EditDeleteButtons
                  what="secret"
                  name={s.name}
                  editLabel="Update"
                  onEdit={canEdit ? () => setEditing(s) : undefined}
                  onDelete={canDelete ? remove.ask(s) : undefined}
                />
              )}
            </tr>
          ))}
        </DataTable>
      )}
      <Dialog title="New secret" open={creating} onClose={() => setCreating(false)} wide>
        <CreateSecretForm
          scope={scope}
          onDone={async () => {
            setCreating(false);
            await refresh();
          }}
        />
      </Dialog>
      <Dialog title={editing ? `Update secret ${editing.name}` : "Update secret"} open={!!editing} onClose={() => setEditing(null)} wide>
        {editing && (
          <UpdateSecretForm
            scope={scope}
            secret={editing}
            onDone={async () => {
              setEditing(null);
              await refresh();
            }}
          />
        )}
      </Dialog>
      <ConfirmDialog {...remove.dialog} title="Delete secret" confirmLabel="Delete secret">
        <p>
          Delete <code>{deleting?.name}</code> ({deleting?.environment})? Workflows that use <code>{`SECRETS.${deleting?.name ?? ""}`}</code> will
          fail until a secret of that name exists again. This cannot be undone.
        </p>
      </ConfirmDialog>
    </div>
  );
}

/** The form of a new secret. Its state lives only while the dialog is open. */
function CreateSecretForm({ scope, onDone }: { scope: SecretScope; onDone: () => Promise<void> }) {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [type, setType] = useState<string>("custom");
  const [environment, setEnvironment] = useState("default");
  const [pairs, setPairs] = useState<Pair[]>(() => [newPair()]);
  const create = useMutation({
    mutationFn: (body: SecretInput) => createSecret(scope, body),
    // The variables hold the values: drop the mutation from the cache once the form is gone.
    gcTime: 0,
    onSuccess: async () => {
      // Forget the values at once, whatever happens next.
      setPairs([newPair()]);
      setName("");
      setDescription("");
      await onDone();
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({ name: name.trim(), type, description, environment: environment.trim() || "default", keys: pairsOut(pairs) });
  };
  return (
    <form className="stack" onSubmit={submit}>
      <ErrorNote error={create.error} />
      <div className="form-grid">
        <Field label="Name" hint="Letters, digits and underscores; workflows write SECRETS.name.KEY">
          <input value={name} onChange={(e) => setName(e.target.value)} required autoFocus spellCheck={false} autoComplete="off" maxLength={100} />
        </Field>
        <Field label="Type">
          <select value={type} onChange={(e) => setType(e.target.value)}>
            <Options of={SECRET_TYPES} />
          </select>
        </Field>
        <Field label="Environment" hint="Runs read the default environment unless told otherwise">
          <input value={environment} onChange={(e) => setEnvironment(e.target.value)} required spellCheck={false} autoComplete="off" />
        </Field>
      </div>
      <Field label="Description">
        <input value={description} onChange={(e) => setDescription(e.target.value)} autoComplete="off" />
      </Field>
      <KeyValueRows
        legend="Keys and values"
        pairs={pairs}
        onChange={setPairs}
        secret
        multiline={type !== "custom"}
        keyHint="Values are write-only: once saved, nobody can read them here again."
      />
      <div className="row form-actions">
        <SubmitButton pending={create.isPending} busy="Saving">
          Create secret
        </SubmitButton>
      </div>
    </form>
  );
}

/** Changes a secret's description, and replaces its keys and values if asked to. */
function UpdateSecretForm({ scope, secret, onDone }: { scope: SecretScope; secret: Secret; onDone: () => Promise<void> }) {
  const [description, setDescription] = useState(secret.description);
  const [replace, setReplace] = useState(false);
  // Key names are known; values never come back, so they are typed anew.
  const [pairs, setPairs] = useState<Pair[]>(() => (secret.keys.length ? secret.keys.map((k) => newPair(k)) : [newPair()]));
  const update = useMutation({
    mutationFn: (body: SecretChanges) => updateSecret(scope, secret.id, body),
    gcTime: 0,
    onSuccess: async () => {
      setPairs(secret.keys.map((k) => newPair(k)));
      await onDone();
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    update.mutate(replace ? { description, keys: pairsOut(pairs) } : { description });
  };
  return (
    <form className="stack" onSubmit={submit}>
      <ErrorNote error={update.error} />
      <p className="muted">
        <code>{secret.name}</code> · {secret.type} · environment {secret.environment}
      </p>
      <Field label="Description">
        <input value={description} onChange={(e) => setDescription(e.target.value)} autoComplete="off" autoFocus />
      </Field>
      <label className="check">
        <input type="checkbox" checked={replace} onChange={(e) => setReplace(e.target.checked)} />
        <span>Replace the keys and values (all of them: keys left out are removed)</span>
      </label>
      {replace ? (
        <KeyValueRows
          legend="New keys and values"
          pairs={pairs}
          onChange={setPairs}
          secret
          multiline={secret.type !== "custom"}
          keyHint="The current values cannot be shown. Type every value again; they replace the stored ones."
        />
      ) : (
        <p className="muted">
          Current keys: {secret.keys.map((k) => <code key={k} className="tag">{k}</code>)} — their values stay as they are.
        </p>
      )}
      <div className="row form-actions">
        <SubmitButton pending={update.isPending} busy="Saving">
          Save changes
        </SubmitButton>
      </div>
    </form>
  );
}

export default function SecretsPage({ ws }: { ws: string }) {
  const me = useMe().data;
  return (
    <>
      <PageHeader
        title="Secrets"
        description={
          <>
            API keys and passwords for this workspace's actions, read in workflows as <code>{"${{ SECRETS.name.KEY }}"}</code>. Values are
            write-only.
          </>
        }
      />
      <SecretsManager scope={{ kind: "workspace", ws }} canEdit={can(me, ws, "editor")} canDelete={can(me, ws, "admin")} />
    </>
  );
}
