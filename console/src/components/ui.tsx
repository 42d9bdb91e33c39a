// The console's few building blocks: buttons, dialogs, list tables, notes, empty states, copy, JSON.
import { useId, useLayoutEffect, useRef, useState, type ReactNode } from "react";
import { ApiError, messageOf } from "../api/client";

export function Spinner({ label = "Loading" }: { label?: string }) {
  return (
    <span className="spinner" role="status">
      <span className="visually-hidden">{label}</span>
    </span>
  );
}

/** An api error as the api said it, with the fields it pointed at. */
export function ErrorNote({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  const fields = error instanceof ApiError ? error.errors : [];
  return (
    <div className="note note-error" role="alert">
      {title && <strong>{title}: </strong>}
      {messageOf(error)}
      {fields.length > 0 && (
        <ul>
          {fields.map((f, i) => (
            <li key={i}>
              {f.loc !== undefined && <code>{Array.isArray(f.loc) ? f.loc.join(".") : String(f.loc)}</code>} {f.msg}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <h2>{title}</h2>
      {children}
    </div>
  );
}

/**
 * A modal dialog on the native <dialog> element: focus is trapped, Escape closes it. The body
 * mounts only once the dialog is open, so a field's `autoFocus` takes the focus that
 * showModal() gave the close button (mounted while closed, its focus() would be lost); without
 * one, focus stays on the close button.
 */
export function Dialog({ title, open, onClose, children, wide }: { title: string; open: boolean; onClose: () => void; children: ReactNode; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  // Its own title id: two dialogs on a page never name each other.
  const titleId = useId();
  const [shown, setShown] = useState(false);
  // A layout effect: the body mounts before the first paint, with no empty frame.
  useLayoutEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
    setShown(open);
  }, [open]);
  return (
    <dialog ref={ref} className={wide ? "dialog dialog-wide" : "dialog"} onClose={onClose} aria-labelledby={titleId}>
      {open && (
        <>
          <header className="dialog-header">
            <h2 id={titleId}>{title}</h2>
            <button type="button" className="icon-button" aria-label="Close" onClick={onClose}>
              ×
            </button>
          </header>
          {shown && <div className="dialog-body">{children}</div>}
        </>
      )}
    </dialog>
  );
}

export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // Clipboard access needs a secure context: select the text for a manual copy instead.
      const range = document.createRange();
      const node = document.querySelector(`[data-copy="${CSS.escape(text)}"]`);
      if (node) {
        range.selectNodeContents(node);
        window.getSelection()?.removeAllRanges();
        window.getSelection()?.addRange(range);
      }
    }
    setCopied(true);
    window.setTimeout(() => setCopied(false), 1500);
  };
  return (
    <button type="button" className="button button-small" onClick={copy}>
      {copied ? "Copied" : label}
    </button>
  );
}

/** Pretty JSON; `***` stays `***`. Long values scroll. */
export function JsonView({ value, label }: { value: unknown; label?: string }) {
  const text = value === undefined ? "" : JSON.stringify(value, null, 2);
  return (
    <pre className="json" aria-label={label} tabIndex={0}>
      {text}
    </pre>
  );
}

export function Badge({ status }: { status: string }) {
  return <span className={`badge badge-${status.toLowerCase()}`}>{status.toLowerCase().replace(/_/g, " ")}</span>;
}

/** A relative time with the exact time on hover. */
export function When({ at }: { at?: string | null }) {
  if (!at) return <span className="muted">—</span>;
  const date = new Date(at);
  return (
    <time dateTime={at} title={date.toLocaleString()}>
      {relative(date)}
    </time>
  );
}

export function relative(date: Date): string {
  const seconds = Math.round((Date.now() - date.getTime()) / 1000);
  const abs = Math.abs(seconds);
  const [n, unit] =
    abs < 60 ? [abs, "s"] : abs < 3600 ? [Math.floor(abs / 60), "min"] : abs < 86400 ? [Math.floor(abs / 3600), "h"] : [Math.floor(abs / 86400), "d"];
  if (abs < 5) return "just now";
  return seconds >= 0 ? `${n} ${unit} ago` : `in ${n} ${unit}`;
}

export function duration(start?: string | null, end?: string | null): string {
  if (!start) return "—";
  const ms = (end ? new Date(end).getTime() : Date.now()) - new Date(start).getTime();
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function PageHeader({ title, children, description }: { title: string; children?: ReactNode; description?: ReactNode }) {
  return (
    <header className="page-header">
      <div>
        <h1>{title}</h1>
        {description && <p className="muted">{description}</p>}
      </div>
      <div className="page-actions">{children}</div>
    </header>
  );
}

/** A labelled form field. */
export function Field({ label, children, hint }: { label: string; children: ReactNode; hint?: ReactNode }) {
  return (
    <label className="field">
      <span className="field-label">{label}</span>
      {children}
      {hint && <span className="field-hint">{hint}</span>}
    </label>
  );
}

/** A form's main button: a spinner named `busy` stands in for its text while the api works. */
/** A checkbox and its label; with a hint, the hint under it, tied by aria-describedby. */
export function Check({
  label,
  checked,
  onChange,
  hint,
  disabled,
}: {
  label: string;
  checked: boolean;
  onChange: (checked: boolean) => void;
  hint?: ReactNode;
  disabled?: boolean;
}) {
  const hintId = useId();
  const box = (
    <label className="check">
      <input type="checkbox" checked={checked} disabled={disabled} aria-describedby={hint ? hintId : undefined} onChange={(e) => onChange(e.target.checked)} />
      <span>{label}</span>
    </label>
  );
  if (!hint) return box;
  return (
    <div className="auth-rules-check">
      {box}
      <span className="field-hint" id={hintId}>
        {hint}
      </span>
    </div>
  );
}

export function SubmitButton({ pending, busy, disabled, children }: { pending: boolean; busy: string; disabled?: boolean; children: ReactNode }) {
  return (
    <button type="submit" className="button button-primary" disabled={pending || disabled}>
      {pending ? <Spinner label={busy} /> : children}
    </button>
  );
}

/** The <option>s of a select: each a value shown as itself, or a [value, text] pair. */
export function Options({ of }: { of: readonly (string | readonly [string, string, ...unknown[]])[] }) {
  return (
    <>
      {of.map((o) => {
        const [value, text] = typeof o === "string" ? [o, o] : o;
        return (
          <option key={value} value={value}>
            {text}
          </option>
        );
      })}
    </>
  );
}

/** The header cell over a table's row buttons: named for screen readers, blank on screen. */
export function ActionsHeader() {
  return (
    <th scope="col">
      <span className="visually-hidden">Actions</span>
    </th>
  );
}

/**
 * A list as a table: a header cell per column (`false` ones left out, for columns only some
 * readers see), then with `actions` an {@link ActionsHeader} over the rows' buttons.
 */
export function DataTable({
  columns,
  actions,
  label,
  caption,
  children,
}: {
  columns: (string | false)[];
  actions?: boolean;
  label?: string;
  caption?: string;
  children: ReactNode;
}) {
  return (
    <table className="table" aria-label={label}>
      {caption && <caption className="visually-hidden">{caption}</caption>}
      <thead>
        <tr>
          {columns.map(
            (c) =>
              c && (
                <th key={c} scope="col">
                  {c}
                </th>
              ),
          )}
          {actions && <ActionsHeader />}
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
}

/** One of a row's small buttons; `name` is its accessible name, saying which row it acts on. */
export interface RowButton {
  label: string;
  name?: string;
  onClick: () => void;
  danger?: boolean;
  disabled?: boolean;
}

/** A row's last cell: its small buttons, right-aligned; `false` entries are left out. */
export function RowButtons({ buttons }: { buttons: (RowButton | false)[] }) {
  return (
    <td>
      <div className="row row-end">
        {buttons.map(
          (b) =>
            b && (
              <button
                key={b.label}
                type="button"
                className={b.danger ? "button button-small button-danger" : "button button-small"}
                onClick={b.onClick}
                disabled={b.disabled}
                aria-label={b.name}
              >
                {b.label}
              </button>
            ),
        )}
      </div>
    </td>
  );
}

/**
 * A row's Edit and Delete buttons, named after the row (`Edit provider openai`); either is
 * left out without its callback. `onDelete` opens a confirm dialog (see `useConfirmed`).
 */
export function EditDeleteButtons({
  what,
  name,
  onEdit,
  onDelete,
  editLabel = "Edit",
}: {
  what: string;
  name: string;
  onEdit?: () => void;
  onDelete?: () => void;
  editLabel?: string;
}) {
  return (
    <RowButtons
      buttons={[
        !!onEdit && { label: editLabel, name: `${editLabel} ${what} ${name}`, onClick: onEdit },
        !!onDelete && { label: "Delete", name: `Delete ${what} ${name}`, onClick: onDelete, danger: true },
      ]}
    />
  );
}
