// CSV import for tables: the api reads the file and infers a column per header, the console
// shows that and the first rows, then imports either as a new table or into an existing one
// (each CSV header mapped to one of its columns).
import { useMemo, useState, type FormEvent } from "react";
import { useMutation } from "@tanstack/react-query";
import {
  importInto,
  importTable,
  previewImport,
  showValue,
  type ImportPreview,
  type ImportedTable,
  type TableRead,
} from "../api/types-tables";
import { DataTable, ErrorNote, Field, Options, Spinner, SubmitButton } from "./ui";

/** The inferred columns and the first rows of a previewed CSV file. */
export function PreviewView({ preview }: { preview: ImportPreview }) {
  const typeOf = new Map(preview.columns.map((c) => [c.field_name, c.field_type]));
  return (
    <div className="stack">
      <p className="muted" role="status">
        {preview.total_rows} row{preview.total_rows === 1 ? "" : "s"} in the file, {preview.columns.length} column{preview.columns.length === 1 ? "" : "s"}.
      </p>
      <h3>Inferred columns</h3>
      <div className="table-scroll">
        <DataTable label="Inferred columns" columns={["CSV header", "Field name", "Type"]}>
          {preview.columns.map((c) => (
            <tr key={c.csv_header}>
              <td>{c.csv_header}</td>
              <td>
                <code>{c.field_name}</code>
              </td>
              <td className="mono">{c.field_type}</td>
            </tr>
          ))}
        </DataTable>
      </div>
      {preview.rows.length > 0 && (
        <>
          <h3>First {preview.rows.length} rows</h3>
          <div className="table-scroll table-preview" tabIndex={0} role="region" aria-label="First rows of the file">
            <DataTable label="First rows" columns={preview.columns.map((c) => c.field_name)}>
              {preview.rows.map((r, i) => (
                <tr key={i}>
                  {preview.columns.map((c) => (
                    <td key={c.field_name} className="mono nowrap">
                      {showValue(typeOf.get(c.field_name) ?? "TEXT", r[c.field_name])}
                    </td>
                  ))}
                </tr>
              ))}
            </DataTable>
          </div>
        </>
      )}
    </div>
  );
}

/** A CSV file input that asks the api for a preview as soon as a file is chosen. */
function useCsvPreview(ws: string) {
  const [file, setFile] = useState<File | null>(null);
  const preview = useMutation({ mutationFn: (f: File) => previewImport(ws, f) });
  const choose = (f: File | null) => {
    setFile(f);
    preview.reset();
    if (f) preview.mutate(f);
  };
  const input = (
    <Field label="CSV file" hint="The first line names the columns.">
      <input type="file" accept=".csv,text/csv" required onChange={(e) => choose(e.target.files?.[0] ?? null)} />
    </Field>
  );
  return { file, preview, input };
}

/** Imports a CSV file as a new table; `onDone` gets the table the api created. */
export function NewTableImport({ ws, onDone }: { ws: string; onDone: (answer: ImportedTable) => void }) {
  const { file, preview, input } = useCsvPreview(ws);
  const [name, setName] = useState("");
  const run = useMutation({ mutationFn: (f: File) => importTable(ws, f, name.trim() || undefined), onSuccess: onDone });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (file) run.mutate(file);
  };
  return (
    <form className="stack" onSubmit={submit}>
      {input}
      {preview.isPending && <Spinner label="Reading the file" />}
      <ErrorNote error={preview.error} title="The file cannot be read" />
      {preview.data && <PreviewView preview={preview.data} />}
      <Field label="Table name" hint="Optional: without one the api names the table after the file.">
        <input value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" spellCheck={false} maxLength={100} />
      </Field>
      <ErrorNote error={run.error} title="Not imported" />
      <div className="row form-actions">
        <SubmitButton pending={run.isPending} busy="Importing" disabled={!file || !preview.data}>
          Import
        </SubmitButton>
      </div>
    </form>
  );
}

const SKIP = "";

/** Imports a CSV file into an existing table, each CSV header mapped to a column (or skipped). */
export function ImportIntoTable({ ws, table, onDone }: { ws: string; table: TableRead; onDone: (inserted: number) => void }) {
  const { file, preview, input } = useCsvPreview(ws);
  // Choices the user made; headers not chosen yet default to the column of the same name.
  const [chosen, setChosen] = useState<Record<string, string>>({});
  const columnNames = useMemo(() => table.columns.map((c) => c.name), [table.columns]);
  const mapping = useMemo(() => {
    const out: Record<string, string> = {};
    for (const c of preview.data?.columns ?? []) {
      const guess =
        columnNames.find((n) => n === c.csv_header) ??
        columnNames.find((n) => n.toLowerCase() === c.csv_header.trim().toLowerCase()) ??
        columnNames.find((n) => n === c.field_name) ??
        SKIP;
      out[c.csv_header] = c.csv_header in chosen ? chosen[c.csv_header] : guess;
    }
    return out;
  }, [preview.data, chosen, columnNames]);
  const mapped = Object.fromEntries(Object.entries(mapping).filter(([, column]) => column !== SKIP));
  const used = Object.values(mapped);
  const duplicate = used.find((c, i) => used.indexOf(c) !== i);
  const run = useMutation({ mutationFn: (f: File) => importInto(ws, table.id, f, mapped), onSuccess: (answer) => onDone(answer.rows_inserted) });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (file && !duplicate && used.length > 0) run.mutate(file);
  };
  return (
    <form className="stack" onSubmit={submit}>
      {input}
      {preview.isPending && <Spinner label="Reading the file" />}
      <ErrorNote error={preview.error} title="The file cannot be read" />
      {preview.data && (
        <>
          <fieldset className="kv">
            <legend className="field-label">Column mapping</legend>
            <p className="field-hint">Each CSV header goes into the column chosen for it; skipped headers are not imported.</p>
            <div className="form-grid">
              {preview.data.columns.map((c) => (
                <Field key={c.csv_header} label={`Column for ${c.csv_header}`}>
                  <select value={mapping[c.csv_header] ?? SKIP} onChange={(e) => setChosen((m) => ({ ...m, [c.csv_header]: e.target.value }))}>
                    <option value={SKIP}>Skip this header</option>
                    <Options of={columnNames} />
                  </select>
                </Field>
              ))}
            </div>
          </fieldset>
          {duplicate && <ErrorNote error={new Error(`Two headers go into the column ${duplicate}: choose one.`)} />}
          {used.length === 0 && <ErrorNote error={new Error("No header is mapped to a column.")} />}
          <PreviewView preview={preview.data} />
        </>
      )}
      <ErrorNote error={run.error} title="Not imported" />
      <div className="row form-actions">
        <SubmitButton pending={run.isPending} busy="Importing" disabled={!file || !preview.data || !!duplicate || used.length === 0}>
          Import rows
        </SubmitButton>
      </div>
    </form>
  );
}
