// YAML for the editor: writing a JSON draft as readable YAML, and finding where in the text a
// validation error's `loc` (`actions.<ref>.args.url`) or an action lives.
import { isMap, isScalar, isSeq, parseDocument, stringify, type Document, type Node as YamlNode } from "yaml";

const TOP = ["title", "description", "entrypoint", "inputs", "triggers", "config", "actions", "returns", "error_handler"];
const ACTION = ["ref", "action", "description", "depends_on", "run_if", "for_each", "join_strategy", "retry_policy", "start_delay", "wait_until", "environment", "args"];

function ordered(value: Record<string, unknown>, order: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of order) if (k in value && !isEmpty(value[k], k)) out[k] = value[k];
  for (const k of Object.keys(value)) if (!(k in out) && !isEmpty(value[k], k)) out[k] = value[k];
  return out;
}

/** Defaults the api writes back that only add noise when shown. */
function isEmpty(v: unknown, key: string): boolean {
  if (v === null || v === undefined) return true;
  if (key === "args" || key === "actions") return false;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === "object") return Object.keys(v as object).length === 0;
  return false;
}

/** The engine's defaults, which a stored draft spells out and an author leaves out. */
function withoutDefaults(action: Record<string, unknown>): Record<string, unknown> {
  const out = { ...action };
  if (out.description === "") delete out.description;
  if (out.start_delay === 0) delete out.start_delay;
  if (out.join_strategy === "all") delete out.join_strategy;
  if (out.mask_output === false) delete out.mask_output;
  const retry = out.retry_policy as { max_attempts?: unknown; timeout?: unknown; retry_until?: unknown } | undefined;
  if (retry && retry.max_attempts === 1 && retry.timeout === 300 && retry.retry_until == null) delete out.retry_policy;
  return out;
}

/** A draft (JSON) as YAML, keys in the order people write them, defaults left out. */
export function toYaml(definition: Record<string, unknown>): string {
  const top = ordered(definition, TOP);
  const config = top.config as { environment?: unknown; timeout?: unknown } | undefined;
  if (config && config.environment === "default" && !config.timeout && Object.keys(config).length <= 2) delete top.config;
  if (top.description === "") delete top.description;
  if (Array.isArray(top.actions)) {
    top.actions = top.actions.map((a) => (a && typeof a === "object" ? ordered(withoutDefaults(a as Record<string, unknown>), ACTION) : a));
  }
  return stringify(top, { lineWidth: 0 });
}

export interface Located {
  from: number;
  to: number;
}

export interface Parsed {
  /** The document's value; undefined when it has syntax errors. */
  value: unknown;
  errors: { from: number; to: number; message: string }[];
  /** The parsed document, for finding places in it without parsing again. */
  doc: Document.Parsed;
}

/** A parse of the text: its value, or the syntax errors with their places. */
export function parse(text: string): Parsed {
  const doc = parseDocument(text, { prettyErrors: false });
  const errors = doc.errors.map((e) => ({ from: e.pos[0], to: Math.max(e.pos[1], e.pos[0] + 1), message: e.message.split("\n")[0] }));
  return { value: errors.length ? undefined : doc.toJS(), errors, doc };
}

function rangeOf(node: YamlNode | null | undefined): Located | null {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range ? { from: range[0], to: range[1] } : null;
}

function child(node: unknown, key: string): YamlNode | null {
  if (isMap(node)) {
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
    return (pair?.value as YamlNode) ?? (pair?.key as YamlNode) ?? null;
  }
  if (isSeq(node)) {
    const index = Number(key);
    if (Number.isInteger(index)) return (node.items[index] as YamlNode) ?? null;
  }
  return null;
}

function actionNode(root: unknown, ref: string): YamlNode | null {
  const actions = child(root, "actions");
  if (!isSeq(actions)) return null;
  return (actions.items.find((item) => isMap(item) && String((child(item, "ref") as { value?: unknown } | null)?.value) === ref) as YamlNode) ?? null;
}

/** Where `loc` points in `text` (parsed as `doc`): the deepest node of the path that exists,
 * or null. */
export function locate(text: string, loc: string, doc: Document.Parsed = parseDocument(text)): Located | null {
  if (doc.errors.length) return null;
  const parts = loc.replace(/\[(\d+)\]/g, ".$1").split(".").filter(Boolean);
  let node: YamlNode | null = doc.contents as YamlNode | null;
  let found = rangeOf(node);
  let i = 0;
  if (parts[0] === "actions" && parts.length > 1 && !/^\d+$/.test(parts[1])) {
    const action = actionNode(node, parts[1]);
    if (action) {
      node = action;
      found = rangeOf(action);
      i = 2;
    } else {
      node = child(node, "actions");
      found = rangeOf(node) ?? found;
      i = parts.length;
    }
  }
  for (; i < parts.length; i++) {
    const next = child(node, parts[i]);
    if (!next) break;
    node = next;
    found = rangeOf(next) ?? found;
  }
  return found && trimmed(text, found);
}

/** A block node's range runs on to the next line: stop it at its last visible character. */
function trimmed(text: string, range: Located): Located {
  let to = range.to;
  while (to > range.from && /\s/.test(text[to - 1])) to--;
  return { from: range.from, to };
}

/** The range of action `ref`'s entry, for jumping to it from the graph. */
export function locateAction(text: string, ref: string): Located | null {
  const doc = parseDocument(text);
  return rangeOf(actionNode(doc.contents, ref));
}

/** The ref of the action the cursor at `offset` is in, if any. */
export function actionAt(doc: Document.Parsed, offset: number): string | undefined {
  const actions = child(doc.contents, "actions");
  if (!isSeq(actions)) return undefined;
  for (const item of actions.items) {
    const r = rangeOf(item as YamlNode);
    if (r && offset >= r.from && offset <= r.to && isMap(item)) {
      const ref = (child(item, "ref") as { value?: unknown } | null)?.value;
      return typeof ref === "string" ? ref : undefined;
    }
  }
  return undefined;
}

/** Line-by-line diff (longest common subsequence): for comparing two versions. */
export function diffLines(a: string, b: string): { kind: "same" | "add" | "del"; text: string }[] {
  const x = a.split("\n");
  const y = b.split("\n");
  const n = x.length;
  const m = y.length;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const out: { kind: "same" | "add" | "del"; text: string }[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) {
      out.push({ kind: "same", text: x[i] });
      i++;
      j++;
    } else if (lcs[i + 1][j] >= lcs[i][j + 1]) out.push({ kind: "del", text: x[i++] });
    else out.push({ kind: "add", text: y[j++] });
  }
  while (i < n) out.push({ kind: "del", text: x[i++] });
  while (j < m) out.push({ kind: "add", text: y[j++] });
  return out;
}
