// A table's rows as a virtualized grid: fixed-height rows, only the visible ones (and a few
// either side) in the DOM, a sticky header whose buttons sort, a checkbox column for
// selection, and cells edited in place with an input fitting the column's type. The ARIA grid
// pattern: one cell takes the tab stop, arrow keys move it, Enter or F2 edits, Escape cancels.
import { useLayoutEffect, useRef, useState, type FocusEvent, type KeyboardEvent, type UIEvent } from "react";
import { messageOf } from "../api/client";
import { TYPE_HINT, fromDraft, sameValue, showValue, toDraft, type ColumnType, type Draft, type Row, type TableColumn } from "../api/types-tables";
import { ValueInput } from "./table-values";
import { Spinner } from "./ui";

/** Every row is this tall (px): the grid places rows by index, never by measuring them. */
export const ROW_HEIGHT = 36;
/** Rows rendered beyond each edge of the viewport, so fast scrolling shows no blank. */
const OVERSCAN = 8;

/** Each type's column width: at least `min` rem, then a share (`fr`) of the room left. */
const WIDTH: Record<ColumnType, [number, number]> = {
  TEXT: [12, 2],
  INTEGER: [7, 1],
  NUMERIC: [7, 1],
  DATE: [9, 1],
  BOOLEAN: [6, 0.6],
  TIMESTAMPTZ: [13, 1],
  JSONB: [14, 2],
  SELECT: [9, 1],
  MULTI_SELECT: [12, 1.5],
};
/** The selection column's width (rem). */
const CHECK_WIDTH = 2.75;

export interface GridSort {
  order_by?: string;
  sort: "asc" | "desc";
}

/** The small key mark on the table's unique-key column. */
export function KeyIcon({ title = "Unique key" }: { title?: string }) {
  return (
    <svg className="table-key" viewBox="0 0 16 16" width="14" height="14" role="img" aria-label={title}>
      <title>{title}</title>
      <path
        fill="currentColor"
        d="M10.5 1a4.5 4.5 0 0 0-4.37 5.57L1.3 11.4a1 1 0 0 0-.3.7V14a1 1 0 0 0 1 1h2v-1.5h1.5V12H7v-1.5l1.43-1.43A4.5 4.5 0 1 0 10.5 1Zm1 4a1 1 0 1 1 0-2 1 1 0 0 1 0 2Z"
      />
    </svg>
  );
}

interface Editing {
  rowId: string;
  column: string;
  draft: Draft;
  error: string | null;
  pending: boolean;
}

export function TableGrid({
  label,
  columns,
  rows,
  hasMore,
  canEdit,
  selected,
  onSelect,
  sort,
  onSort,
  onSave,
  onNearEnd,
}: {
  label: string;
  columns: TableColumn[];
  rows: Row[];
  hasMore: boolean;
  canEdit: boolean;
  selected: Set<string>;
  onSelect: (ids: string[], on: boolean) => void;
  sort: GridSort;
  onSort: (column: string) => void;
  /** Saves one cell; a rejection's message shows under the editor, which stays open. */
  onSave: (row: Row, column: TableColumn, value: unknown) => Promise<void>;
  /** Called when the last rows scroll into view (to load the next page). */
  onNearEnd?: () => void;
}) {
  const scroller = useRef<HTMLDivElement>(null);
  const head = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(600);
  // The selection column comes first when there is one; it is column 0 for the arrow keys.
  const offset = canEdit ? 1 : 0;
  const colCount = columns.length + offset;
  const [active, setActive] = useState({ row: 0, col: offset });
  const [editing, setEditing] = useState<Editing | null>(null);
  // The edit in progress as of now: a blur that arrives after Escape or a save finds it gone.
  const live = useRef<Editing | null>(null);
  live.current = editing;
  // Set when the keyboard moved the active cell: the next render focuses it.
  const focusNext = useRef(false);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const measure = () => setViewport(el.clientHeight || 600);
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  // Rows or columns changed (a new search, a column removed): keep the active cell inside.
  const lastRow = Math.max(0, rows.length - 1);
  const safeActive = { row: Math.min(active.row, lastRow), col: Math.min(Math.max(active.col, 0), Math.max(colCount - 1, 0)) };

  const headHeight = head.current?.offsetHeight ?? ROW_HEIGHT;
  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(rows.length - 1, Math.ceil((scrollTop + viewport) / ROW_HEIGHT) + OVERSCAN);
  const shown: number[] = [];
  for (let i = first; i <= last; i++) shown.push(i);
  // The row being edited and the active row stay mounted, wherever the scroll is.
  const editRow = editing ? rows.findIndex((r) => r.id === editing.rowId) : -1;
  for (const extra of [editRow, safeActive.row]) if (extra >= 0 && extra < rows.length && (extra < first || extra > last)) shown.push(extra);
  shown.sort((a, b) => a - b);

  const onScroll = (event: UIEvent<HTMLDivElement>) => {
    const el = event.currentTarget;
    setScrollTop(el.scrollTop);
    if (onNearEnd && hasMore && el.scrollTop + el.clientHeight >= rows.length * ROW_HEIGHT - 5 * ROW_HEIGHT) onNearEnd();
  };

  /** Scrolls so row `i` is fully visible under the sticky header. */
  const reveal = (i: number) => {
    const el = scroller.current;
    if (!el) return;
    const top = i * ROW_HEIGHT;
    const room = el.clientHeight - headHeight;
    let next = el.scrollTop;
    if (top < el.scrollTop) next = top;
    else if (top + ROW_HEIGHT > el.scrollTop + room) next = top + ROW_HEIGHT - room;
    if (next !== el.scrollTop) {
      el.scrollTop = next;
      setScrollTop(next);
    }
  };

  useLayoutEffect(() => {
    if (!focusNext.current) return;
    focusNext.current = false;
    const cell = scroller.current?.querySelector<HTMLElement>(`[data-row-index="${safeActive.row}"] [data-col-index="${safeActive.col}"]`);
    const target = cell?.querySelector<HTMLElement>("input") ?? cell;
    target?.focus({ preventScroll: true });
  });

  const moveTo = (row: number, col: number) => {
    const next = { row: Math.max(0, Math.min(lastRow, row)), col: Math.max(0, Math.min(colCount - 1, col)) };
    focusNext.current = true;
    setActive(next);
    reveal(next.row);
  };

  const startEdit = (rowIndex: number, col: number) => {
    const row = rows[rowIndex];
    const column = columns[col - offset];
    if (!canEdit || !row || !column) return;
    setActive({ row: rowIndex, col });
    setEditing({ rowId: row.id, column: column.name, draft: toDraft(column.type, row[column.name]), error: null, pending: false });
  };

  const stopEdit = () => {
    live.current = null;
    setEditing(null);
    focusNext.current = true;
  };

  const commit = async () => {
    if (!editing || editing.pending || !live.current) return;
    const row = rows.find((r) => r.id === editing.rowId);
    const column = columns.find((c) => c.name === editing.column);
    if (!row || !column) return stopEdit();
    const parsed = fromDraft(column, editing.draft);
    if ("error" in parsed) {
      setEditing({ ...editing, error: parsed.error });
      return;
    }
    if (sameValue(parsed.value, row[column.name])) return stopEdit();
    setEditing({ ...editing, pending: true, error: null });
    try {
      await onSave(row, column, parsed.value);
      // Another cell may be in edit by now (a double-click elsewhere saved this one on blur).
      if (live.current?.rowId === row.id && live.current.column === column.name) stopEdit();
    } catch (e) {
      setEditing((current) => (current && current.rowId === row.id && current.column === column.name ? { ...current, pending: false, error: messageOf(e) } : current));
    }
  };

  const onGridKey = (event: KeyboardEvent<HTMLDivElement>) => {
    if (editing || rows.length === 0) return;
    const { row, col } = safeActive;
    const page = Math.max(1, Math.floor((viewport - headHeight) / ROW_HEIGHT) - 1);
    switch (event.key) {
      case "ArrowDown":
        moveTo(row + 1, col);
        break;
      case "ArrowUp":
        moveTo(row - 1, col);
        break;
      case "ArrowRight":
        moveTo(row, col + 1);
        break;
      case "ArrowLeft":
        moveTo(row, col - 1);
        break;
      case "PageDown":
        moveTo(row + page, col);
        break;
      case "PageUp":
        moveTo(row - page, col);
        break;
      case "Home":
        moveTo(event.ctrlKey ? 0 : row, 0);
        break;
      case "End":
        moveTo(event.ctrlKey ? lastRow : row, colCount - 1);
        break;
      case "Enter":
      case "F2":
        // On the selection column, Enter is left to the checkbox.
        if (col < offset) return;
        startEdit(row, col);
        break;
      default:
        return;
    }
    event.preventDefault();
  };

  const allSelected = rows.length > 0 && rows.every((r) => selected.has(r.id));
  const ariaSort = (name: string) => (sort.order_by === name ? (sort.sort === "asc" ? "ascending" : "descending") : undefined);
  const widths = columns.map((c) => WIDTH[c.type] ?? [10, 1]);
  const template = [...(canEdit ? [`${CHECK_WIDTH}rem`] : []), ...widths.map(([min, fr]) => `minmax(${min}rem, ${fr}fr)`)].join(" ");
  const minWidth = (canEdit ? CHECK_WIDTH : 0) + widths.reduce((sum, [min]) => sum + min, 0);

  return (
    <div
      ref={scroller}
      className="tgrid"
      role="grid"
      aria-label={label}
      aria-rowcount={hasMore ? -1 : rows.length + 1}
      aria-colcount={colCount}
      aria-multiselectable={canEdit || undefined}
      style={{ ["--tgrid-cols" as string]: template, ["--tgrid-min" as string]: `${minWidth}rem` }}
      onScroll={onScroll}
    >
      <div role="rowgroup" className="tgrid-head" ref={head}>
        <div role="row" aria-rowindex={1} className="tgrid-row">
          {canEdit && (
            <div role="columnheader" className="tgrid-cell tgrid-check" aria-colindex={1}>
              <label className="check">
                <input type="checkbox" checked={allSelected} disabled={rows.length === 0} onChange={(e) => onSelect(rows.map((r) => r.id), e.target.checked)} />
                <span className="visually-hidden">Select all loaded rows</span>
              </label>
            </div>
          )}
          {columns.map((c, j) => {
            const sorted = ariaSort(c.name);
            return (
              <div key={c.id} role="columnheader" className="tgrid-cell" aria-sort={sorted} aria-colindex={j + offset + 1} data-column={c.name}>
                <button type="button" className="tgrid-sort" onClick={() => onSort(c.name)} title={`Sort by ${c.name}`}>
                  <span className="tgrid-name">{c.name}</span>
                  {c.is_index && <KeyIcon />}
                  <span className="tgrid-type">{TYPE_HINT[c.type] ?? c.type}</span>
                  <span className="tgrid-arrow" aria-hidden="true">
                    {sorted === "ascending" ? "▲" : sorted === "descending" ? "▼" : ""}
                  </span>
                </button>
              </div>
            );
          })}
        </div>
      </div>
      {rows.length > 0 && (
        <div role="rowgroup" className="tgrid-body" style={{ height: rows.length * ROW_HEIGHT }} onKeyDown={onGridKey}>
          {shown.map((i) => {
            const row = rows[i];
            const isSelected = selected.has(row.id);
            return (
              <div
                key={row.id}
                role="row"
                aria-rowindex={i + 2}
                aria-selected={canEdit ? isSelected : undefined}
                data-row-id={row.id}
                data-row-index={i}
                className={isSelected ? "tgrid-row tgrid-selected" : "tgrid-row"}
                style={{ top: i * ROW_HEIGHT }}
              >
                {canEdit && (
                  <div role="gridcell" className="tgrid-cell tgrid-check" aria-colindex={1} data-col-index={0} onClick={() => setActive({ row: i, col: 0 })}>
                    <label className="check">
                      <input
                        type="checkbox"
                        checked={isSelected}
                        tabIndex={safeActive.row === i && safeActive.col === 0 ? 0 : -1}
                        onChange={(e) => onSelect([row.id], e.target.checked)}
                      />
                      <span className="visually-hidden">Select row {i + 1}</span>
                    </label>
                  </div>
                )}
                {columns.map((c, j) => {
                  const col = j + offset;
                  const isActive = safeActive.row === i && safeActive.col === col;
                  const isEditing = editing?.rowId === row.id && editing.column === c.name;
                  const value = row[c.name];
                  const text = showValue(c.type, value);
                  return (
                    <div
                      key={c.id}
                      role="gridcell"
                      className={`tgrid-cell tgrid-type-${c.type.toLowerCase()}${isEditing ? " tgrid-editing" : ""}`}
                      aria-colindex={col + 1}
                      aria-readonly={canEdit ? undefined : true}
                      data-column={c.name}
                      data-col-index={col}
                      tabIndex={isActive && !isEditing ? 0 : -1}
                      title={text.length > 40 ? text : undefined}
                      onClick={() => setActive({ row: i, col })}
                      onDoubleClick={() => {
                        // The double-click selected a word; the editor should not open with it highlighted.
                        window.getSelection()?.removeAllRanges();
                        startEdit(i, col);
                      }}
                    >
                      {isEditing && editing ? (
                        <CellEditor
                          column={c}
                          rowNumber={i + 1}
                          editing={editing}
                          onDraft={(draft) => setEditing({ ...editing, draft, error: null })}
                          onSave={commit}
                          onCancel={stopEdit}
                        />
                      ) : value === null || value === undefined ? (
                        <span className="tgrid-null">
                          <span className="visually-hidden">empty</span>
                        </span>
                      ) : c.type === "BOOLEAN" ? (
                        <span className={value ? "tgrid-true" : "tgrid-false"}>{value ? "true" : "false"}</span>
                      ) : (
                        <span className="tgrid-value">{text}</span>
                      )}
                    </div>
                  );
                })}
              </div>
            );
          })}
        </div>
      )}
    </div>
  );
}

/** The editor over one cell: Enter (Ctrl+Enter in JSON) saves, Escape cancels, leaving it saves. */
function CellEditor({
  column,
  rowNumber,
  editing,
  onDraft,
  onSave,
  onCancel,
}: {
  column: TableColumn;
  rowNumber: number;
  editing: Editing;
  onDraft: (draft: Draft) => void;
  onSave: () => void;
  onCancel: () => void;
}) {
  const box = useRef<HTMLDivElement>(null);
  const errorId = `tgrid-error-${column.id}`;
  const onKey = (event: KeyboardEvent<HTMLElement>) => {
    // Keys typed into the editor are the editor's, never the grid's arrow navigation.
    event.stopPropagation();
    if (event.key === "Escape") {
      event.preventDefault();
      onCancel();
    } else if (event.key === "Enter" && (column.type !== "JSONB" || event.ctrlKey || event.metaKey)) {
      // A checkbox's Enter saves too; Space still toggles it.
      event.preventDefault();
      onSave();
    }
  };
  const onBlur = (event: FocusEvent<HTMLDivElement>) => {
    const el = box.current;
    // Unmounting (after Escape or a save) is no reason to save.
    if (!el || !el.isConnected) return;
    if (event.relatedTarget instanceof Node && el.contains(event.relatedTarget)) return;
    if (!editing.pending) onSave();
  };
  const wide = column.type === "JSONB" || column.type === "MULTI_SELECT";
  return (
    <div ref={box} className={wide ? "tgrid-editor tgrid-editor-wide" : "tgrid-editor"} onKeyDown={onKey} onBlur={onBlur}>
      <ValueInput
        column={column}
        draft={editing.draft}
        onChange={onDraft}
        label={`${column.name}, row ${rowNumber}`}
        autoFocus
        invalid={!!editing.error}
        describedBy={editing.error ? errorId : undefined}
      />
      {editing.error && (
        <p id={errorId} className="tgrid-error" role="alert">
          {editing.error}
        </p>
      )}
      <div className="row tgrid-editor-actions">
        <button type="button" className="button button-small button-primary" onClick={onSave} disabled={editing.pending}>
          {editing.pending ? <Spinner label="Saving" /> : "Save"}
        </button>
        <button type="button" className="button button-small" onClick={onCancel}>
          Cancel
        </button>
        {column.type === "JSONB" && <span className="muted small">Ctrl+Enter saves</span>}
      </div>
    </div>
  );
}
