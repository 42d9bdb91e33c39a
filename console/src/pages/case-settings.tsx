// Case settings: the custom fields every case of the workspace carries (admins define them)
// and the tags cases can wear (editors create and edit them, admins delete them).
import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { client, unwrap } from "../api/client";
import { can, useMe } from "../api/session";
import { FIELD_TYPES, caseKeys, listFields, listTags, type CaseFieldDef, type CaseTag } from "../api/types-cases";
import { Link } from "../router";
import { DataTable, Dialog, EditDeleteButtons, ErrorNote, Field, Options, PageHeader, Spinner, SubmitButton } from "../components/ui";
import { ConfirmDialog, useConfirmed } from "../components/forms";
import { TagChip } from "../components/case-parts";

export default function CaseSettingsPage({ ws }: { ws: string }) {
  return (
    <>
      <div className="muted small">
        <Link to={`/workspaces/${ws}/cases`}>Cases</Link> / settings
      </div>
      <PageHeader title="Case settings" description="The custom fields every case carries, and the tags cases can wear." />
      <div className="stack settings">
        <FieldsSection ws={ws} />
        <TagsSection ws={ws} />
      </div>
    </>
  );
}

const show = (v: unknown) => (v === null || v === undefined ? "—" : typeof v === "string" ? v : JSON.stringify(v));

function FieldsSection({ ws }: { ws: string }) {
  const admin = can(useMe().data, ws, "admin");
  const queries = useQueryClient();
  const key = caseKeys.fields(ws);
  const fields = useQuery({ queryKey: key, queryFn: () => listFields(ws) });
  const refresh = () => Promise.all([queries.invalidateQueries({ queryKey: key }), queries.invalidateQueries({ queryKey: ["case", ws] })]);
  const [editing, setEditing] = useState<CaseFieldDef | "new" | null>(null);
  const remove = useConfirmed(
    (f: CaseFieldDef) => unwrap(client.DELETE("/case-fields/{field_id}", { params: { path: { field_id: f.id }, query: { workspace_id: ws } } })),
    refresh,
  );
  return (
    <section className="card stack" aria-labelledby="case-fields-title">
      <div className="row">
        <h2 id="case-fields-title" className="grow">
          Case fields
        </h2>
        {admin && (
          <button type="button" className="button button-primary" onClick={() => setEditing("new")}>
            New field
          </button>
        )}
      </div>
      <p className="muted">Extra values every case holds (a root cause, a ticket number). Only admins define them.</p>
      <ErrorNote error={fields.error} />
      {fields.isPending && <Spinner />}
      {fields.data && fields.data.length === 0 && <p className="muted">No custom fields yet.</p>}
      {fields.data && fields.data.length > 0 && (
        <div className="table-scroll">
          <DataTable label="Case fields" columns={["Name", "Shown as", "Type", "Options", "Default", "Required to close"]} actions={admin}>
            {fields.data.map((f) => (
              <tr key={f.id}>
                <td>
                  <code>{f.id}</code>
                </td>
                <td>
                  {f.display_name || f.id}
                  {f.description && <p className="small muted prewrap">{f.description}</p>}
                </td>
                <td className="mono">
                  {f.type}
                  {f.kind && <span className="muted"> ({f.kind})</span>}
                </td>
                <td>{f.options?.length ? f.options.join(", ") : <span className="muted">—</span>}</td>
                <td className="mono">{show(f.default)}</td>
                <td>{f.required_on_closure ? "Yes" : "No"}</td>
                {admin && <EditDeleteButtons what="field" name={f.id} onEdit={() => setEditing(f)} onDelete={remove.ask(f)} />}
              </tr>
            ))}
          </DataTable>
        </div>
      )}
      <Dialog title={editing === "new" ? "New field" : editing ? `Edit field ${editing.id}` : "Field"} open={!!editing} onClose={() => setEditing(null)} wide>
        {editing && (
          <FieldForm
            ws={ws}
            field={editing === "new" ? null : editing}
            onDone={async () => {
              setEditing(null);
              await refresh();
            }}
          />
        )}
      </Dialog>
      <ConfirmDialog {...remove.dialog} title="Delete field" confirmLabel="Delete field">
        <p>
          Delete the field <code>{remove.target?.id}</code> and its value on every case? This cannot be undone.
        </p>
      </ConfirmDialog>
    </section>
  );
}

function FieldForm({ ws, field, onDone }: { ws: string; field: CaseFieldDef | null; onDone: () => Promise<void> }) {
  const [name, setName] = useState(field?.id ?? "");
  const [type, setType] = useState(field?.type ?? "TEXT");
  const [displayName, setDisplayName] = useState(field?.display_name ?? "");
  const [description, setDescription] = useState(field?.description ?? "");
  const [options, setOptions] = useState((field?.options ?? []).join(", "));
  const [kind, setKind] = useState(field?.kind ?? "");
  const [nullable, setNullable] = useState(field?.nullable ?? true);
  const [required, setRequired] = useState(field?.required_on_closure ?? false);
  const [defaultText, setDefaultText] = useState(field?.default === null || field?.default === undefined ? "" : JSON.stringify(field.default));
  const [localError, setLocalError] = useState<unknown>(null);
  const choice = type === "SELECT" || type === "MULTI_SELECT";
  const save = useMutation({
    mutationFn: (body: Record<string, unknown>) =>
      field
        ? unwrap(client.PATCH("/case-fields/{field_id}", { params: { path: { field_id: field.id }, query: { workspace_id: ws } }, body: body as never }))
        : unwrap(client.POST("/case-fields", { params: { query: { workspace_id: ws } }, body: body as never })),
    onSuccess: onDone,
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setLocalError(null);
    let def: unknown = null;
    if (defaultText.trim()) {
      try {
        def = JSON.parse(defaultText);
      } catch (e) {
        save.reset();
        setLocalError(new Error(`The default is not JSON (write text in quotes: "none"): ${e instanceof Error ? e.message : String(e)}`));
        return;
      }
    }
    const list = choice ? options.split(",").map((o) => o.trim()).filter(Boolean) : null;
    const common = {
      display_name: displayName.trim() || null,
      description: description,
      nullable,
      default: def,
      options: list,
      required_on_closure: required,
    };
    save.mutate(field ? common : { ...common, name: name.trim(), type, kind: kind || null });
  };
  return (
    <form className="stack" onSubmit={submit}>
      <ErrorNote error={localError ?? save.error} />
      <div className="form-grid">
        <Field label="Name" hint="Letters, digits and underscores; workflows and filters use it.">
          <input
            value={name}
            onChange={(e) => setName(e.target.value)}
            required
            autoFocus={!field}
            readOnly={!!field}
            spellCheck={false}
            autoComplete="off"
            pattern="[A-Za-z_][A-Za-z0-9_]*"
            title="letters, digits and underscores, not starting with a digit"
          />
        </Field>
        <Field label="Type">
          <select value={type} onChange={(e) => setType(e.target.value)} disabled={!!field}>
            <Options of={FIELD_TYPES} />
          </select>
        </Field>
        <Field label="Display name">
          <input value={displayName} onChange={(e) => setDisplayName(e.target.value)} autoComplete="off" />
        </Field>
        {type === "TEXT" && (
          <Field label="Kind" hint="How the console shows it.">
            <select value={kind} onChange={(e) => setKind(e.target.value)} disabled={!!field}>
              <option value="">Short text</option>
              <option value="LONG_TEXT">Long text</option>
              <option value="URL">URL</option>
            </select>
          </Field>
        )}
      </div>
      <Field label="Field description">
        <input value={description} onChange={(e) => setDescription(e.target.value)} autoComplete="off" />
      </Field>
      {choice && (
        <Field label="Options" hint="Separated by commas.">
          <input value={options} onChange={(e) => setOptions(e.target.value)} required autoComplete="off" />
        </Field>
      )}
      <Field label="Default (JSON)" hint={'Empty for none; text in quotes, e.g. "unknown".'}>
        <input className="mono" value={defaultText} onChange={(e) => setDefaultText(e.target.value)} autoComplete="off" spellCheck={false} />
      </Field>
      <div className="row">
        <label className="check">
          <input type="checkbox" checked={nullable} onChange={(e) => setNullable(e.target.checked)} />
          <span>May be empty</span>
        </label>
        <label className="check">
          <input type="checkbox" checked={required} onChange={(e) => setRequired(e.target.checked)} />
          <span>Required to resolve or close a case</span>
        </label>
      </div>
      <div className="row form-actions">
        <SubmitButton pending={save.isPending} busy="Saving">
          {field ? "Save field" : "Create field"}
        </SubmitButton>
      </div>
    </form>
  );
}

function TagsSection({ ws }: { ws: string }) {
  const me = useMe().data;
  const editor = can(me, ws, "editor");
  const admin = can(me, ws, "admin");
  const queries = useQueryClient();
  const key = caseKeys.tags(ws);
  const tags = useQuery({ queryKey: key, queryFn: () => listTags(ws) });
  const refresh = () => Promise.all([queries.invalidateQueries({ queryKey: key }), queries.invalidateQueries({ queryKey: ["case", ws] }), queries.invalidateQueries({ queryKey: caseKeys.all(ws) })]);
  const [editing, setEditing] = useState<CaseTag | "new" | null>(null);
  const remove = useConfirmed(
    (t: CaseTag) => unwrap(client.DELETE("/case-tags/{tag_id}", { params: { path: { tag_id: t.id }, query: { workspace_id: ws } } })),
    refresh,
  );
  return (
    <section className="card stack" aria-labelledby="case-tags-title">
      <div className="row">
        <h2 id="case-tags-title" className="grow">
          Case tags
        </h2>
        {editor && (
          <button type="button" className="button button-primary" onClick={() => setEditing("new")}>
            New tag
          </button>
        )}
      </div>
      <p className="muted">Labels for grouping and filtering cases; case triggers of workflows can listen to tagged cases only.</p>
      <ErrorNote error={tags.error} />
      {tags.isPending && <Spinner />}
      {tags.data && tags.data.length === 0 && <p className="muted">No tags yet.</p>}
      {tags.data && tags.data.length > 0 && (
        <DataTable label="Case tags" columns={["Tag", "Ref", "Colour"]} actions={editor}>
          {tags.data.map((t) => (
            <tr key={t.id}>
              <td>
                <TagChip tag={t} />
              </td>
              <td>
                <code>{t.ref}</code>
              </td>
              <td className="mono">{t.color ?? "—"}</td>
              {editor && <EditDeleteButtons what="tag" name={t.name} onEdit={() => setEditing(t)} onDelete={admin ? remove.ask(t) : undefined} />}
            </tr>
          ))}
        </DataTable>
      )}
      <Dialog title={editing === "new" ? "New tag" : editing ? `Edit tag ${editing.name}` : "Tag"} open={!!editing} onClose={() => setEditing(null)}>
        {editing && (
          <TagForm
            ws={ws}
            tag={editing === "new" ? null : editing}
            onDone={async () => {
              setEditing(null);
              await refresh();
            }}
          />
        )}
      </Dialog>
      <ConfirmDialog {...remove.dialog} title="Delete tag" confirmLabel="Delete tag">
        <p>Delete the tag {remove.target?.name}? It comes off every case that has it.</p>
      </ConfirmDialog>
    </section>
  );
}

function TagForm({ ws, tag, onDone }: { ws: string; tag: CaseTag | null; onDone: () => Promise<void> }) {
  const [name, setName] = useState(tag?.name ?? "");
  const [color, setColor] = useState(tag?.color ?? "#b93a0b");
  const save = useMutation({
    mutationFn: () =>
      tag
        ? unwrap(client.PATCH("/case-tags/{tag_id}", { params: { path: { tag_id: tag.id }, query: { workspace_id: ws } }, body: { name: name.trim(), color } }))
        : unwrap(client.POST("/case-tags", { params: { query: { workspace_id: ws } }, body: { name: name.trim(), color } })),
    onSuccess: onDone,
  });
  return (
    <form
      className="stack"
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate();
      }}
    >
      <ErrorNote error={save.error} />
      <Field label="Tag name">
        <input value={name} onChange={(e) => setName(e.target.value)} required autoFocus autoComplete="off" maxLength={100} />
      </Field>
      <Field label="Colour">
        <input type="color" value={color} onChange={(e) => setColor(e.target.value)} />
      </Field>
      <div className="row form-actions">
        <SubmitButton pending={save.isPending} busy="Saving">
          {tag ? "Save tag" : "Create tag"}
        </SubmitButton>
      </div>
    </form>
  );
}
