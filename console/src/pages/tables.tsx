// Tables: the workspace's typed lookup tables (allow lists, asset owners, known-bad IPs) that
// workflows read and write. This page lists them, creates one from a list of columns, and
// imports a CSV file as a new table after showing what the api inferred from it.
import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { can, useMe } from "../api/session";
import {
  COLUMN_NAME_PATTERN,
  COLUMN_NAME_TITLE,
  COLUMN_TYPES,
  createTable,
  deleteTable,
  hasOptions,
  listTables,
  splitOptions,
  tableKeys,
  type ColumnType,
  type NewColumn,
  type TableSummary,
} from "../api/types-tables";
import { Link, navigate } from "../router";
import { DataTable, Dialog, EditDeleteButtons, Empty, ErrorNote, Field, Options, PageHeader, Spinner, SubmitButton, When } from "../components/ui";
import { ConfirmDialog, useConfirmed } from "../components/forms";
import { NewTableImport } from "../components/table-import";

export default function TablesPage({ ws }: { ws: string }) {
  const canEdit = can(useMe().data, ws, "editor");
  const queries = useQueryClient();
  const tables = useQuery({ queryKey: tableKeys.list(ws), queryFn: () => listTables(ws) });
  const refresh = () => queries.invalidateQueries({ queryKey: tableKeys.list(ws) });
  const [creating, setCreating] = useState(false);
  const [importing, setImporting] = useState(false);
  const remove = useConfirmed((t: TableSummary) => deleteTable(ws, t.id), refresh);
  const open = (id: string) => navigate(`/workspaces/${ws}/tables/${encodeURIComponent(id)}`);
  const sorted = [...(tables.data ?? [])].sort((a, b) => a.name.localeCompare(b.name));

  return (
    <>
      <PageHeader title="Tables" description="Typed lookup tables that workflows read and write: allow lists, asset owners, indicators seen before.">
        {canEdit && (
          <>
            <button type="button" className="button" onClick={() => setImporting(true)}>
              Import CSV
            </button>
            <button type="button" className="button button-primary" onClick={() => setCreating(true)}>
              New table
            </button>
          </>
        )}
      </PageHeader>
      <ErrorNote error={tables.error} />
      {tables.isPending && <Spinner />}
      {tables.data && tables.data.length === 0 && (
        <Empty title="No tables yet">
          <p>A table holds rows of typed columns, with an optional unique key, for workflows to look up and update.</p>
          {canEdit ? <p>Create one with New table, or import a CSV file with Import CSV.</p> : <p>Ask an editor of this workspace to create one.</p>}
        </Empty>
      )}
      {sorted.length > 0 && (
        <div className="table-scroll">
          <DataTable label="Tables" columns={["Name", "Rows", "Created", "Updated"]} actions={canEdit}>
            {sorted.map((t) => (
              <tr key={t.id}>
                <td>
                  <Link to={`/workspaces/${ws}/tables/${encodeURIComponent(t.id)}`}>{t.name}</Link>
                </td>
                <td className="num">{t.row_estimate === null || t.row_estimate === undefined ? <span className="muted">—</span> : `≈ ${t.row_estimate}`}</td>
                <td>
                  <When at={t.created_at} />
                </td>
                <td>
                  <When at={t.updated_at} />
                </td>
                {canEdit && <EditDeleteButtons what="table" name={t.name} onDelete={remove.ask(t)} />}
              </tr>
            ))}
          </DataTable>
        </div>
      )}
      <Dialog title="New table" open={creating} onClose={() => setCreating(false)} wide>
        {creating && (
          <CreateTableForm
            ws={ws}
            onDone={async (id) => {
              setCreating(false);
              await refresh();
              open(id);
            }}
          />
        )}
      </Dialog>
      <Dialog title="Import CSV" open={importing} onClose={() => setImporting(false)} wide>
        {importing && (
          <NewTableImport
            ws={ws}
            onDone={async (answer) => {
              setImporting(false);
              await refresh();
              open(answer.table.id);
            }}
          />
        )}
      </Dialog>
      <ConfirmDialog {...remove.dialog} title="Delete table" confirmLabel="Delete table">
        <p>
          Delete the table <strong>{remove.target?.name}</strong> and all its rows? Workflows that use it will fail. This cannot be undone.
        </p>
      </ConfirmDialog>
    </>
  );
}

/** One column of the create form, while it is written. */
interface ColumnRow {
  key: number;
  name: string;
  type: ColumnType;
  nullable: boolean;
  options: string;
}

let nextKey = 1;
const newColumn = (): ColumnRow => ({ key: nextKey++, name: "", type: "TEXT", nullable: true, options: "" });

function CreateTableForm({ ws, onDone }: { ws: string; onDone: (id: string) => Promise<void> }) {
  const [name, setName] = useState("");
  const [columns, setColumns] = useState<ColumnRow[]>(() => [newColumn()]);
  const [localError, setLocalError] = useState<unknown>(null);
  const save = useMutation({
    mutationFn: (body: { name: string; columns: NewColumn[] }) => createTable(ws, body),
    onSuccess: (table) => onDone(table.id),
  });
  const set = (key: number, change: Partial<ColumnRow>) => setColumns((cs) => cs.map((c) => (c.key === key ? { ...c, ...change } : c)));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setLocalError(null);
    const names = columns.map((c) => c.name.trim());
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice) {
      save.reset();
      setLocalError(new Error(`Two columns are named ${twice}.`));
      return;
    }
    save.mutate({
      name: name.trim(),
      columns: columns.map((c) => ({
        name: c.name.trim(),
        type: c.type,
        nullable: c.nullable,
        ...(hasOptions(c.type) ? { options: splitOptions(c.options) } : {}),
      })),
    });
  };
  return (
    <form className="stack" onSubmit={submit}>
      <ErrorNote error={localError ?? save.error} />
      <Field label="Table name" hint="Letters, digits and underscores; workflows refer to the table by it.">
        <input value={name} onChange={(e) => setName(e.target.value)} required autoFocus autoComplete="off" spellCheck={false} maxLength={100} />
      </Field>
      <fieldset className="kv">
        <legend className="field-label">Columns</legend>
        <p className="field-hint">Every row also has an id and its created and updated times. Set a unique key later under Columns.</p>
        {columns.map((c, i) => (
          <div className="kv-row" key={c.key}>
            <label className="field">
              <span className="field-label">
                Column name<span className="visually-hidden"> {i + 1}</span>
              </span>
              <input
                value={c.name}
                onChange={(e) => set(c.key, { name: e.target.value })}
                required
                autoComplete="off"
                spellCheck={false}
                maxLength={100}
                pattern={COLUMN_NAME_PATTERN}
                title={COLUMN_NAME_TITLE}
              />
            </label>
            <label className="field">
              <span className="field-label">
                Type<span className="visually-hidden"> of column {i + 1}</span>
              </span>
              <select value={c.type} onChange={(e) => set(c.key, { type: e.target.value as ColumnType })}>
                <Options of={COLUMN_TYPES} />
              </select>
            </label>
            {hasOptions(c.type) && (
              <label className="field grow">
                <span className="field-label">
                  Options<span className="visually-hidden"> of column {i + 1}</span>
                </span>
                <input value={c.options} onChange={(e) => set(c.key, { options: e.target.value })} required autoComplete="off" placeholder="low, medium, high" />
              </label>
            )}
            <label className="kv-check">
              <input type="checkbox" checked={c.nullable} onChange={(e) => set(c.key, { nullable: e.target.checked })} />
              <span>
                May be empty<span className="visually-hidden"> (column {i + 1})</span>
              </span>
            </label>
            <button
              type="button"
              className="button button-small kv-remove"
              onClick={() => setColumns((cs) => cs.filter((x) => x.key !== c.key))}
              disabled={columns.length <= 1}
              aria-label={`Remove column ${c.name || i + 1}`}
            >
              Remove
            </button>
          </div>
        ))}
        <div>
          <button type="button" className="button button-small" onClick={() => setColumns((cs) => [...cs, newColumn()])}>
            Add column
          </button>
        </div>
      </fieldset>
      <div className="row form-actions">
        <SubmitButton pending={save.isPending} busy="Creating">
          Create table
        </SubmitButton>
      </div>
    </form>
  );
}
