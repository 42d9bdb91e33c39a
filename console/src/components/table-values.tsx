// The inputs for one table value, fitting its column's type: text, number, date, checkbox,
// date and time, JSON, a select of the options, checkboxes for several options. The grid's
// cell editor and the add-row form both use them.
import { useId, type KeyboardEvent } from "react";
import { TYPE_HINT, type Draft, type TableColumn } from "../api/types-tables";
import { Options } from "./ui";

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
