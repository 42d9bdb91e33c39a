// Form pieces the admin pages share: key/value rows, a confirm dialog and the action behind it,
// tabs, a value shown once.
import { useId, useRef, useState, type KeyboardEvent, type ReactNode } from "react";
import { useMutation } from "@tanstack/react-query";
import { CopyButton, Dialog, ErrorNote, Options, Spinner } from "./ui";
import { ROLES } from "../api/types-admin";

export interface Pair {
  /** Stable row id for React keys (rows are added and removed). */
  id: number;
  key: string;
  value: string;
  /** Variables only: the value is JSON, not text. */
  json?: boolean;
}

let nextRow = 1;
export function newPair(key = "", value = "", json = false): Pair {
  return { id: nextRow++, key, value, json };
}

/**
 * Editable rows of key and value, with add and remove. `secret` makes the values write-only
 * password fields (never filled from the api); `jsonToggle` offers "value is JSON" per row.
 */
export function KeyValueRows({
  legend,
  pairs,
  onChange,
  secret,
  multiline,
  jsonToggle,
  keyHint,
}: {
  legend: string;
  pairs: Pair[];
  onChange: (pairs: Pair[]) => void;
  secret?: boolean;
  multiline?: boolean;
  jsonToggle?: boolean;
  keyHint?: ReactNode;
}) {
  const set = (id: number, change: Partial<Pair>) => onChange(pairs.map((p) => (p.id === id ? { ...p, ...change } : p)));
  return (
    <fieldset className="kv">
      <legend className="field-label">{legend}</legend>
      {keyHint && <p className="field-hint">{keyHint}</p>}
      {pairs.map((pair, i) => (
        <div className="kv-row" key={pair.id}>
          <label className="field">
            <span className="field-label">
              Key<span className="visually-hidden"> {i + 1}</span>
            </span>
            <input
              value={pair.key}
              onChange={(e) => set(pair.id, { key: e.target.value })}
              required
              spellCheck={false}
              autoComplete="off"
              pattern="[A-Za-z_][A-Za-z0-9_]*"
              title="letters, digits and underscores, not starting with a digit"
            />
          </label>
          <label className="field grow">
            <span className="field-label">
              Value<span className="visually-hidden"> {i + 1}</span>
            </span>
            {multiline ? (
              <textarea
                value={pair.value}
                onChange={(e) => set(pair.id, { value: e.target.value })}
                required
                rows={4}
                spellCheck={false}
                autoComplete="off"
                className={secret ? "secret-input" : undefined}
              />
            ) : (
              <input
                type={secret ? "password" : "text"}
                value={pair.value}
                onChange={(e) => set(pair.id, { value: e.target.value })}
                required={secret}
                spellCheck={false}
                autoComplete={secret ? "new-password" : "off"}
                className={pair.json ? "mono" : undefined}
              />
            )}
          </label>
          {jsonToggle && (
            <label className="kv-check">
              <input type="checkbox" checked={!!pair.json} onChange={(e) => set(pair.id, { json: e.target.checked })} />
              <span>
                JSON<span className="visually-hidden"> value {i + 1}</span>
              </span>
            </label>
          )}
          <button
            type="button"
            className="button button-small kv-remove"
            onClick={() => onChange(pairs.filter((p) => p.id !== pair.id))}
            disabled={pairs.length <= 1}
            aria-label={`Remove key ${pair.key || i + 1}`}
          >
            Remove
          </button>
        </div>
      ))}
      <div>
        <button type="button" className="button button-small" onClick={() => onChange([...pairs, newPair()])}>
          Add key
        </button>
      </div>
    </fieldset>
  );
}

/** Asks before something that cannot be undone; shows the api's error if it fails. */
/**
 * An action on one row that asks first. `ask(item)` is the row button's click: it clears the
 * action's last error (so the question never opens on an old failure) and asks about `item`;
 * `dialog` goes to {@link ConfirmDialog}, whose confirm acts on that item; on success the
 * question closes and `after` runs (typically a refresh of the list).
 */
export function useConfirmed<T>(act: (item: T) => Promise<unknown>, after: () => unknown) {
  const [target, setTarget] = useState<T | null>(null);
  const mutation = useMutation({
    mutationFn: act,
    onSuccess: async () => {
      setTarget(null);
      await after();
    },
  });
  const close = () => setTarget(null);
  return {
    /** The item being asked about, if any. */
    target,
    mutation,
    ask: (item: T) => () => {
      mutation.reset();
      setTarget(item);
    },
    close,
    dialog: {
      open: target !== null,
      onClose: close,
      onConfirm: () => {
        if (target !== null) mutation.mutate(target);
      },
      pending: mutation.isPending,
      error: mutation.error,
    },
  };
}

export function ConfirmDialog({
  open,
  title,
  children,
  confirmLabel,
  onConfirm,
  onClose,
  pending,
  error,
}: {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  onClose: () => void;
  pending?: boolean;
  error?: unknown;
}) {
  return (
    <Dialog title={title} open={open} onClose={onClose}>
      <div>{children}</div>
      <ErrorNote error={error} />
      <div className="row form-actions">
        <button type="button" className="button" onClick={onClose}>
          Cancel
        </button>
        <button type="button" className="button button-danger" onClick={onConfirm} disabled={pending}>
          {pending ? <Spinner label={confirmLabel} /> : confirmLabel}
        </button>
      </div>
    </Dialog>
  );
}

/** Tabs with the ARIA tab pattern: arrow keys move between tabs, each tab controls a panel. */
export function Tabs<T extends string>({
  label,
  tabs,
  current,
  onChange,
  children,
}: {
  label: string;
  tabs: [T, string][];
  current: T;
  onChange: (tab: T) => void;
  children: ReactNode;
}) {
  const base = useId();
  const refs = useRef<(HTMLButtonElement | null)[]>([]);
  const onKey = (event: KeyboardEvent<HTMLDivElement>) => {
    const index = tabs.findIndex(([id]) => id === current);
    let next = -1;
    if (event.key === "ArrowRight") next = (index + 1) % tabs.length;
    else if (event.key === "ArrowLeft") next = (index - 1 + tabs.length) % tabs.length;
    else if (event.key === "Home") next = 0;
    else if (event.key === "End") next = tabs.length - 1;
    if (next < 0) return;
    event.preventDefault();
    onChange(tabs[next][0]);
    refs.current[next]?.focus();
  };
  return (
    <>
      <div className="tabs" role="tablist" aria-label={label} onKeyDown={onKey}>
        {tabs.map(([id, text], i) => (
          <button
            key={id}
            ref={(el) => {
              refs.current[i] = el;
            }}
            type="button"
            role="tab"
            id={`${base}-tab-${id}`}
            aria-selected={id === current}
            aria-controls={`${base}-panel`}
            tabIndex={id === current ? 0 : -1}
            onClick={() => onChange(id)}
          >
            {text}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`${base}-panel`} aria-labelledby={`${base}-tab-${current}`}>
        {children}
      </div>
    </>
  );
}

/** A value the api returns once (a new API key, an invitation token): copy it now. */
export function ShownOnce({ label, value, children }: { label: string; value: string; children?: ReactNode }) {
  return (
    <div className="note note-warn shown-once" role="status">
      <strong>{label}</strong>
      <p>
        Copy it now: <strong>you will not see it again.</strong> {children}
      </p>
      <div className="row">
        <code className="shown-once-value" data-copy={value}>
          {value}
        </code>
        <CopyButton text={value} label={`Copy ${label.toLowerCase()}`} />
      </div>
    </div>
  );
}

/** A select of the workspace roles. */
export function RoleSelect({
  value,
  onChange,
  label,
  disabled,
  hideLabel,
}: {
  value: string;
  onChange: (role: string) => void;
  label: string;
  disabled?: boolean;
  hideLabel?: boolean;
}) {
  const id = useId();
  return (
    <span className={hideLabel ? undefined : "field"}>
      <label htmlFor={id} className={hideLabel ? "visually-hidden" : "field-label"}>
        {label}
      </label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)} disabled={disabled}>
        <Options of={ROLES} />
      </select>
    </span>
  );
}

/** Parses a positive integer field; empty is undefined. */
export function optionalInt(text: string): number | undefined {
  const t = text.trim();
  if (!t) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? Math.trunc(n) : undefined;
}

/** Text with surrounding space removed, or undefined when empty. */
export function optionalText(text: string): string | undefined {
  const t = text.trim();
  return t ? t : undefined;
}
