// The inputs for one table value, fitting its column's type: text, number, date, checkbox,
// date and time, JSON, a select of the options, checkboxes for several options. The grid's
// cell editor and the add-row form (the table page's and the case page's) use them.
import { useId, useState, type FormEvent, type KeyboardEvent } from "react";
import { useMutation } from "@tanstack/react-query";
import { TYPE_HINT, fromDraft, toDraft, type Draft, type TableColumn, type TableRead } from "../api/types-tables";
import { ErrorNote, Options, SubmitButton } from "./ui";

export type ValueColumn = Pick<TableColumn, "name" | "type" | "nullable" | "options">;

/**
 * The control(s) for one value. `label` names it for screen readers when no visible <label>
 * wraps it (in the grid); a multi-select is a group of checkboxes named by `label`.
 */
export function ValueInput({
  column,
  draft,
  onChange,
  label,
  autoFocus,
  onKeyDown,
  invalid,
  describedBy,
}: {
  column: ValueColumn;
  draft: Draft;
  onChange: (draft: Draft) => void;
  label?: string;
  autoFocus?: boolean;
  onKeyDown?: (event: KeyboardEvent<HTMLElement>) => void;
  invalid?: boolean;
  describedBy?: string;
}) {
  const text = typeof draft === "string" ? draft : "";
  const common = {
    "aria-label": label,
    "aria-invalid": invalid || undefined,
    "aria-describedby": describedBy,
    autoFocus,
    onKeyDown,
  };
  switch (column.type) {
    case "BOOLEAN":
      return <input type="checkbox" checked={draft === true} onChange={(e) => onChange(e.target.checked)} {...common} />;
    case "INTEGER":
      return <input type="number" step={1} inputMode="numeric" className="mono" value={text} onChange={(e) => onChange(e.target.value)} {...common} />;
    case "NUMERIC":
      return <input type="number" step="any" inputMode="decimal" className="mono" value={text} onChange={(e) => onChange(e.target.value)} {...common} />;
    case "DATE":
      return <input type="date" value={text} onChange={(e) => onChange(e.target.value)} {...common} />;
    case "TIMESTAMPTZ":
      return <input type="datetime-local" step={1} value={text} onChange={(e) => onChange(e.target.value)} {...common} />;
    case "JSONB":
      return <textarea rows={6} spellCheck={false} value={text} onChange={(e) => onChange(e.target.value)} placeholder='{"key": "value"}' {...common} />;
    case "SELECT":
      return (
        <select value={text} onChange={(e) => onChange(e.target.value)} {...common}>
          <option value="">{column.nullable ? "(empty)" : "Choose an option"}</option>
          <Options of={column.options ?? []} />
          {text && !(column.options ?? []).includes(text) && <option value={text}>{text}</option>}
        </select>
      );
    case "MULTI_SELECT":
      return <MultiSelect column={column} draft={draft} onChange={onChange} label={label ?? column.name} autoFocus={autoFocus} onKeyDown={onKeyDown} describedBy={describedBy} />;
    default:
      return <input value={text} onChange={(e) => onChange(e.target.value)} autoComplete="off" spellCheck={false} {...common} />;
  }
}

function MultiSelect({
  column,
  draft,
  onChange,
  label,
  autoFocus,
  onKeyDown,
  describedBy,
}: {
  column: ValueColumn;
  draft: Draft;
  onChange: (draft: Draft) => void;
  label: string;
  autoFocus?: boolean;
  onKeyDown?: (event: KeyboardEvent<HTMLElement>) => void;
  describedBy?: string;
}) {
  const chosen = Array.isArray(draft) ? draft : [];
  // Values the row holds that are no longer options stay visible, so saving keeps or drops them knowingly.
  const all = [...(column.options ?? []), ...chosen.filter((v) => !(column.options ?? []).includes(v))];
  const toggle = (value: string, on: boolean) => onChange(on ? [...chosen, value] : chosen.filter((v) => v !== value));
  return (
    <fieldset className="table-multi" aria-describedby={describedBy}>
      <legend className="visually-hidden">{label}</legend>
      {all.length === 0 && <span className="muted small">This column has no options.</span>}
      {all.map((o, i) => (
        <label key={o} className="check">
          <input type="checkbox" checked={chosen.includes(o)} onChange={(e) => toggle(o, e.target.checked)} autoFocus={autoFocus && i === 0} onKeyDown={onKeyDown} />
          <span>{o}</span>
        </label>
      ))}
    </fieldset>
  );
}

/** One value as a labelled form field (the column's name), with its type as the hint. */
export function ValueField({ column, draft, onChange, autoFocus }: { column: ValueColumn; draft: Draft; onChange: (draft: Draft) => void; autoFocus?: boolean }) {
  const hintId = useId();
  const hint = `${TYPE_HINT[column.type] ?? column.type}${column.nullable ? "" : ", required"}`;
  if (column.type === "MULTI_SELECT") {
    return (
      <fieldset className="kv">
        <legend className="field-label">{column.name}</legend>
        <ValueInput column={column} draft={draft} onChange={onChange} label={column.name} autoFocus={autoFocus} describedBy={hintId} />
        <span id={hintId} className="field-hint">
          {hint}
        </span>
      </fieldset>
    );
  }
  if (column.type === "BOOLEAN") {
    return (
      <div className="field">
        <label className="check">
          <ValueInput column={column} draft={draft} onChange={onChange} autoFocus={autoFocus} describedBy={hintId} />
          <span className="field-label">{column.name}</span>
        </label>
        <span id={hintId} className="field-hint">
          {hint}
        </span>
      </div>
    );
  }
  return (
    <label className="field">
      <span className="field-label">{column.name}</span>
      <ValueInput column={column} draft={draft} onChange={onChange} autoFocus={autoFocus} describedBy={hintId} />
      <span id={hintId} className="field-hint">
        {hint}
      </span>
    </label>
  );
}

/**
 * A new row: one typed field per column. Only the fields touched are sent, so the columns'
 * defaults apply to the rest; with a unique column, the row may update the one of the same key.
 */
export function RowForm({
  table,
  save,
  submit,
  busy,
  autoFocus,
}: {
  table: TableRead;
  /** Sends the row (and whether to upsert it); a refusal is shown above the fields. */
  save: (data: Record<string, unknown>, upsert: boolean) => Promise<unknown>;
  submit: string;
  busy: string;
  autoFocus?: boolean;
}) {
  const [drafts, setDrafts] = useState<Record<string, Draft>>(() => Object.fromEntries(table.columns.map((c) => [c.name, toDraft(c.type, null)])));
  const [touched, setTouched] = useState<Set<string>>(new Set());
  const [upsert, setUpsert] = useState(false);
  const [localError, setLocalError] = useState<unknown>(null);
  const key = table.columns.find((c) => c.is_index);
  const mutation = useMutation({ mutationFn: (data: Record<string, unknown>) => save(data, upsert) });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    setLocalError(null);
    const data: Record<string, unknown> = {};
    const problems: string[] = [];
    for (const c of table.columns) {
      if (!touched.has(c.name)) continue;
      const parsed = fromDraft(c, drafts[c.name]);
      if ("error" in parsed) problems.push(parsed.error);
      else data[c.name] = parsed.value;
    }
    if (problems.length) {
      mutation.reset();
      setLocalError(new Error(problems.join("; ")));
      return;
    }
    mutation.mutate(data);
  };
  return (
    <form className="stack" onSubmit={onSubmit}>
      <ErrorNote error={localError ?? mutation.error} title="Row not added" />
      {table.columns.length === 0 && <p className="muted">{table.name} has no columns: the row will hold only its id and times.</p>}
      <div className="form-grid">
        {table.columns.map((c, i) => (
          <ValueField
            key={c.id}
            column={c}
            draft={drafts[c.name]}
            autoFocus={autoFocus && i === 0}
            onChange={(draft) => {
              setDrafts((d) => ({ ...d, [c.name]: draft }));
              setTouched((t) => new Set(t).add(c.name));
            }}
          />
        ))}
      </div>
      <p className="field-hint">Fields left untouched take the column's default, or stay empty.</p>
      {key && (
        <label className="check">
          <input type="checkbox" checked={upsert} onChange={(e) => setUpsert(e.target.checked)} />
          <span>Update the row with the same {key.name} if there is one</span>
        </label>
      )}
      <div className="row form-actions">
        <SubmitButton pending={mutation.isPending} busy={busy}>
          {submit}
        </SubmitButton>
      </div>
    </form>
  );
}
