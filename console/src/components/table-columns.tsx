// A table's columns, managed in one dialog: the list, a form to add or change one (name,
// type, may be empty, default, options, unique key), and deleting one after asking.
import { useState, type FormEvent } from "react";
import { useMutation } from "@tanstack/react-query";
import {
  COLUMN_NAME_PATTERN,
  COLUMN_NAME_TITLE,
  COLUMN_TYPES,
  addColumn,
  deleteColumn,
  hasOptions,
  splitOptions,
  updateColumn,
  type ColumnChange,
  type ColumnType,
  type TableColumn,
  type TableRead,
} from "../api/types-tables";
import { KeyIcon } from "./table-grid";
import { DataTable, EditDeleteButtons, ErrorNote, Field, Options, Spinner, SubmitButton } from "./ui";

type Mode = { kind: "list" } | { kind: "new" } | { kind: "edit"; column: TableColumn } | { kind: "delete"; column: TableColumn };

const show = (v: unknown) => (v === null || v === undefined ? "—" : typeof v === "string" ? v : JSON.stringify(v));

/** The body of the Columns dialog; `onChanged` refreshes the table and its rows. */
export function ColumnsPanel({ ws, table, canEdit, onChanged }: { ws: string; table: TableRead; canEdit: boolean; onChanged: () => Promise<unknown> }) {
  const [mode, setMode] = useState<Mode>({ kind: "list" });
  const [note, setNote] = useState("");
  const done = async (what: string) => {
    setMode({ kind: "list" });
    setNote(what);
    await onChanged();
  };
  const remove = useMutation({
    mutationFn: (c: TableColumn) => deleteColumn(ws, table.id, c.id),
    onSuccess: (_, c) => done(`Column ${c.name} deleted.`),
  });

  if (mode.kind === "new" || mode.kind === "edit") {
    const column = mode.kind === "edit" ? mode.column : null;
    return (
      <ColumnForm
        ws={ws}
        table={table}
        column={column}
        onCancel={() => setMode({ kind: "list" })}
        onDone={(c) => done(column ? `Column ${c.name} saved.` : `Column ${c.name} added.`)}
      />
    );
  }
  if (mode.kind === "delete") {
    return (
      <div className="stack">
        <p>
          Delete the column <code>{mode.column.name}</code> and its value in every row? Workflows that read it will fail. This cannot be undone.
        </p>
        <ErrorNote error={remove.error} />
        <div className="row form-actions">
          <button type="button" className="button" onClick={() => setMode({ kind: "list" })}>
            Cancel
          </button>
          <button type="button" className="button button-danger" onClick={() => remove.mutate(mode.column)} disabled={remove.isPending}>
            {remove.isPending ? <Spinner label="Deleting column" /> : "Delete column"}
          </button>
        </div>
      </div>
    );
  }
  return (
    <div className="stack">
      {note && (
        <p className="note note-ok" role="status">
          {note}
        </p>
      )}
      {table.columns.length === 0 ? (
        <p className="muted">No columns yet.</p>
      ) : (
        <div className="table-scroll">
          <DataTable label="Columns" columns={["Name", "Type", "May be empty", "Default", "Options"]} actions={canEdit}>
            {table.columns.map((c) => (
              <tr key={c.id}>
                <td className="nowrap">
                  <code>{c.name}</code> {c.is_index && <KeyIcon />}
                </td>
                <td className="mono">{c.type}</td>
                <td>{c.nullable ? "Yes" : "No"}</td>
                <td className="mono">{show(c.default)}</td>
                <td>{c.options?.length ? c.options.join(", ") : <span className="muted">—</span>}</td>
                {canEdit && (
                  <EditDeleteButtons
                    what="column"
                    name={c.name}
                    onEdit={() => {
                      setNote("");
                      setMode({ kind: "edit", column: c });
                    }}
                    onDelete={() => {
                      setNote("");
                      remove.reset();
                      setMode({ kind: "delete", column: c });
                    }}
                  />
                )}
              </tr>
            ))}
          </DataTable>
        </div>
      )}
      {canEdit && (
        <div className="row form-actions">
          <button
            type="button"
            className="button button-primary"
            onClick={() => {
              setNote("");
              setMode({ kind: "new" });
            }}
          >
            Add column
          </button>
        </div>
      )}
    </div>
  );
}

function ColumnForm({
  ws,
  table,
  column,
  onCancel,
  onDone,
}: {
  ws: string;
  table: TableRead;
  column: TableColumn | null;
  onCancel: () => void;
  onDone: (c: TableColumn) => Promise<void>;
}) {
  const [name, setName] = useState(column?.name ?? "");
  const [type, setType] = useState<ColumnType>(column?.type ?? "TEXT");
  const [nullable, setNullable] = useState(column?.nullable ?? true);
  const [isIndex, setIsIndex] = useState(column?.is_index ?? false);
  const [options, setOptions] = useState((column?.options ?? []).join(", "));
  const [defaultText, setDefaultText] = useState(column?.default === null || column?.default === undefined ? "" : JSON.stringify(column.default));
  const [localError, setLocalError] = useState<unknown>(null);
  const otherKey = table.columns.find((c) => c.is_index && c.id !== column?.id);
  const save = useMutation({
    mutationFn: (body: ColumnChange) => (column ? updateColumn(ws, table.id, column.id, body) : addColumn(ws, table.id, { name: name.trim(), type, ...body })),
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
    const list = hasOptions(type) ? splitOptions(options) : undefined;
    const wanted: ColumnChange = { name: name.trim(), type, nullable, default: def, is_index: isIndex, ...(list ? { options: list } : {}) };
    if (!column) {
      const { name: _n, type: _t, ...rest } = wanted;
      save.mutate(rest);
      return;
    }
    // A change sends only what changed, so renaming never re-types a column by accident.
    const before: ColumnChange = { name: column.name, type: column.type, nullable: column.nullable, default: column.default ?? null, is_index: column.is_index, options: column.options ?? undefined };
    const change = Object.fromEntries(
      Object.entries(wanted).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(before[k as keyof ColumnChange])),
    ) as ColumnChange;
    if (Object.keys(change).length === 0) {
      onCancel();
      return;
    }
    save.mutate(change);
  };
  return (
    <form className="stack" onSubmit={submit}>
      <h3>{column ? `Edit column ${column.name}` : "New column"}</h3>
      <ErrorNote error={localError ?? save.error} />
      <div className="form-grid">
        <Field label="Column name" hint="Letters, digits and underscores.">
          <input
            value={name}
            onChange={(e) => setName(e.target.value)}
            required
            autoFocus
            autoComplete="off"
            spellCheck={false}
            maxLength={100}
            pattern={COLUMN_NAME_PATTERN}
            title={COLUMN_NAME_TITLE}
          />
        </Field>
        <Field label="Type" hint={column ? "Changing it converts every row's value; rows that do not convert stop the change." : undefined}>
          <select value={type} onChange={(e) => setType(e.target.value as ColumnType)}>
            <Options of={COLUMN_TYPES} />
          </select>
        </Field>
      </div>
      {hasOptions(type) && (
        <Field label="Options" hint="Separated by commas.">
          <input value={options} onChange={(e) => setOptions(e.target.value)} required autoComplete="off" placeholder="low, medium, high" />
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
          <input type="checkbox" checked={isIndex} onChange={(e) => setIsIndex(e.target.checked)} disabled={!!otherKey && !isIndex} aria-describedby="column-key-hint" />
          <span>Unique key</span>
        </label>
      </div>
      <p id="column-key-hint" className="field-hint">
        {otherKey
          ? `${otherKey.name} is the table's unique key; only one column can be. Unset it there first.`
          : "A unique key makes every row's value in this column different, and lets imports and inserts update the row with the same key (upsert)."}
      </p>
      <div className="row form-actions">
        <button type="button" className="button" onClick={onCancel}>
          Back to columns
        </button>
        <SubmitButton pending={save.isPending} busy="Saving">
          {column ? "Save column" : "Add column"}
        </SubmitButton>
      </div>
    </form>
  );
}
