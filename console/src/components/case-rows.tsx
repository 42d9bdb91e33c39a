// A case's "Rows" tab: the rows of lookup tables linked to the case, grouped by table and shown
// with their values now ("Row deleted" once a row is gone), unlinked one by one, and a dialog
// that links a row found by search or adds a row to a table and links it.
import { useEffect, useMemo, useState } from "react";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { can, useMe } from "../api/session";
import { MAX_CASE_ROWS, caseKeys, insertCaseRow, linkCaseRow, listCaseRows, unlinkCaseRow, type CaseDetail, type CaseRowLink } from "../api/types-cases";
import {
  RESERVED_COLUMNS,
  getTable,
  listRows,
  listTables,
  showValue,
  tableKeys,
  type Row,
  type TableColumn,
  type TableRead,
} from "../api/types-tables";
import { Link } from "../router";
import { ActionsHeader, Dialog, ErrorNote, Field, Options, Spinner, When } from "./ui";
import { Tabs } from "./forms";
import { RowForm } from "./table-values";

/** Search results shown at once in the link dialog. */
const RESULTS = 20;

type Shown = Pick<TableColumn, "name" | "type">;

/** The links of one table, in the order the api lists them. */
interface Group {
  tableId: string;
  tableName: string;
  links: CaseRowLink[];
}

function groups(links: CaseRowLink[]): Group[] {
  const byTable = new Map<string, Group>();
  for (const link of links) {
    const group = byTable.get(link.table_id) ?? { tableId: link.table_id, tableName: link.table_name, links: [] };
    group.links.push(link);
    byTable.set(link.table_id, group);
  }
  return [...byTable.values()];
}

/** The columns to show: the table's own, or (until it loads, or if it cannot) the rows' keys as text. */
function shownColumns(table: TableRead | undefined, rows: (Row | null)[]): Shown[] {
  if (table) return table.columns;
  const reserved: readonly string[] = RESERVED_COLUMNS;
  const names = new Set<string>();
  for (const row of rows) for (const key of Object.keys(row ?? {})) if (!reserved.includes(key)) names.add(key);
  return [...names].map((name) => ({ name, type: "TEXT" as const }));
}

/** A row in a few words, for button names: its first non-empty value, or its id. */
function summary(row: Row, columns: Shown[]): string {
  for (const c of columns) {
    const text = showValue(c.type, row[c.name]).trim();
    if (text) return text.length > 60 ? `${text.slice(0, 59)}…` : text;
  }
  return row.id.slice(0, 8);
}

function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = window.setTimeout(() => setSettled(value), ms);
    return () => window.clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

/** After a link or an unlink: the case's rows and its activity are stale. */
function useRefreshRows(ws: string, caseId: string) {
  const queries = useQueryClient();
  return () =>
    Promise.all([
      queries.invalidateQueries({ queryKey: caseKeys.part(ws, caseId, "rows") }),
      queries.invalidateQueries({ queryKey: caseKeys.part(ws, caseId, "events") }),
    ]);
}

export function CaseRows({ ws, c }: { ws: string; c: CaseDetail }) {
  const canEdit = can(useMe().data, ws, "editor");
  const refresh = useRefreshRows(ws, c.id);
  const [linking, setLinking] = useState(false);
  const [note, setNote] = useState("");
  const list = useQuery({ queryKey: caseKeys.part(ws, c.id, "rows"), queryFn: () => listCaseRows(ws, c.id) });
  const unlink = useMutation({
    mutationFn: (link: CaseRowLink) => unlinkCaseRow(ws, c.id, link.table_id, link.row_id),
    onSuccess: async (_, link) => {
      setNote(`Row unlinked from ${link.table_name}.`);
      await refresh();
    },
  });
  const links = list.data ?? [];
  const full = links.length >= MAX_CASE_ROWS;
  const linked = useMemo(() => new Set(links.map((l) => `${l.table_id}/${l.row_id}`)), [links]);
  return (
    <div className="stack">
      <ErrorNote error={list.error} />
      {list.isPending && <Spinner />}
      <div className="row case-rows-toolbar">
        {list.data && (
          <span className="muted small">
            {links.length} of {MAX_CASE_ROWS} rows linked
          </span>
        )}
        {canEdit && (
          <button
            type="button"
            className="button"
            onClick={() => {
              setNote("");
              setLinking(true);
            }}
            disabled={!list.data || full}
          >
            Link row
          </button>
        )}
      </div>
      {canEdit && full && <p className="muted small">A case links at most {MAX_CASE_ROWS} rows: unlink one to link another.</p>}
      <p className="visually-hidden" role="status">
        {note}
      </p>
      <ErrorNote error={unlink.error} title="Row not unlinked" />
      {list.data && links.length === 0 && <p className="muted">No rows linked</p>}
      {groups(links).map((g) => (
        <TableGroup key={g.tableId} ws={ws} group={g} canEdit={canEdit} onUnlink={(link) => unlink.mutate(link)} unlinking={unlink.isPending ? unlink.variables : undefined} />
      ))}
      <Dialog title="Link row" open={linking} onClose={() => setLinking(false)} wide>
        {linking && (
          <LinkRowForm
            ws={ws}
            caseId={c.id}
            linked={linked}
            onDone={async (message) => {
              setLinking(false);
              setNote(message);
              await refresh();
            }}
          />
        )}
      </Dialog>
    </div>
  );
}

function TableGroup({
  ws,
  group,
  canEdit,
  onUnlink,
  unlinking,
}: {
  ws: string;
  group: Group;
  canEdit: boolean;
  onUnlink: (link: CaseRowLink) => void;
  unlinking: CaseRowLink | undefined;
}) {
  const table = useQuery({ queryKey: tableKeys.one(ws, group.tableId), queryFn: () => getTable(ws, group.tableId), retry: false });
  const columns = shownColumns(table.data, group.links.map((l) => l.row_data));
  const name = table.data?.name ?? group.tableName;
  const headingId = `case-rows-${group.tableId}`;
  return (
    <section className="case-rows-group stack" aria-labelledby={headingId}>
      <h3 id={headingId}>
        <Link to={`/workspaces/${ws}/tables/${group.tableId}`}>{name}</Link>{" "}
        <span className="muted small">
          ({group.links.length} row{group.links.length === 1 ? "" : "s"})
        </span>
      </h3>
      <div className="table-scroll" role="region" aria-label={`Rows of ${name}`} tabIndex={0}>
        <table className="table case-rows-table">
          <thead>
            <tr>
              <th scope="col">Row</th>
              {columns.map((c) => (
                <th key={c.name} scope="col" className="mono">
                  {c.name}
                </th>
              ))}
              <th scope="col">Linked</th>
              {canEdit && <ActionsHeader />}
            </tr>
          </thead>
          <tbody>
            {group.links.map((link, i) => (
              <tr key={link.id} className={link.is_row_available ? undefined : "case-rows-gone"}>
                <th scope="row" className="num">
                  {i + 1}
                  {!link.is_row_available && columns.length === 0 && <em> Row deleted</em>}
                </th>
                {link.is_row_available && link.row_data ? (
                  columns.map((c) => {
                    const text = showValue(c.type, link.row_data?.[c.name]);
                    return (
                      <td key={c.name} className="case-rows-value">
                        {text || <span className="muted">—</span>}
                      </td>
                    );
                  })
                ) : (
                  columns.length > 0 && (
                  <td colSpan={columns.length}>
                    <em>Row deleted</em> <span className="muted small mono">{link.row_id}</span>
                  </td>
                  )
                )}
                <td>
                  <When at={link.created_at} />
                </td>
                {canEdit && (
                  <td>
                    <div className="row row-end">
                      <button
                        type="button"
                        className="button button-small"
                        onClick={() => onUnlink(link)}
                        disabled={unlinking?.id === link.id}
                        aria-label={`Unlink row ${i + 1} of ${name}`}
                      >
                        Unlink
                      </button>
                    </div>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ErrorNote error={table.error} title={`Columns of ${name} not loaded`} />
    </section>
  );
}

type Mode = "find" | "add";

const MODES: [Mode, string][] = [
  ["find", "Find a row"],
  ["add", "Add row"],
];

/** Choose a table, then find a row of it to link, or add one and link it. */
function LinkRowForm({ ws, caseId, linked, onDone }: { ws: string; caseId: string; linked: Set<string>; onDone: (message: string) => Promise<void> }) {
  const queries = useQueryClient();
  const tables = useQuery({ queryKey: tableKeys.list(ws), queryFn: () => listTables(ws) });
  const [tableId, setTableId] = useState("");
  const [mode, setMode] = useState<Mode>("find");
  const table = useQuery({ queryKey: tableKeys.one(ws, tableId), queryFn: () => getTable(ws, tableId), enabled: !!tableId });
  return (
    <div className="stack">
      <ErrorNote error={tables.error} title="Tables not loaded" />
      {tables.isPending && <Spinner label="Loading tables" />}
      {tables.data && tables.data.length === 0 && (
        <p className="muted">
          This workspace has no tables yet. <Link to={`/workspaces/${ws}/tables`}>Create one</Link> first.
        </p>
      )}
      {tables.data && tables.data.length > 0 && (
        <Field label="Table">
          <select value={tableId} onChange={(e) => setTableId(e.target.value)} autoFocus>
            <option value="">Choose a table</option>
            <Options of={tables.data.map((t) => [t.id, t.name] as const)} />
          </select>
        </Field>
      )}
      <ErrorNote error={table.error} title="Table not loaded" />
      {tableId && table.isPending && <Spinner label="Loading the table" />}
      {table.data && table.data.id === tableId && (
        <Tabs label="How to link a row" tabs={MODES} current={mode} onChange={setMode}>
          {mode === "find" ? (
            <FindRows key={tableId} ws={ws} caseId={caseId} table={table.data} linked={linked} onDone={onDone} />
          ) : (
            <RowForm
              key={tableId}
              table={table.data}
              submit="Add and link"
              busy="Adding and linking"
              save={async (data, upsert) => {
                const added = table.data;
                if (!added) return;
                await insertCaseRow(ws, caseId, added.id, data, upsert);
                await queries.invalidateQueries({ queryKey: tableKeys.rows(ws, added.id) });
                await onDone(`Row added to ${added.name} and linked.`);
              }}
            />
          )}
        </Tabs>
      )}
    </div>
  );
}

function FindRows({
  ws,
  caseId,
  table,
  linked,
  onDone,
}: {
  ws: string;
  caseId: string;
  table: TableRead;
  linked: Set<string>;
  onDone: (message: string) => Promise<void>;
}) {
  const [text, setText] = useState("");
  const term = useDebounced(text.trim(), 250);
  const found = useQuery({
    // Under the table's rows key, so a change to the table refreshes it; its own tail, since the
    // table page keeps pages of rows (an infinite query) under that key too.
    queryKey: [...tableKeys.rows(ws, table.id), "case-link", term],
    queryFn: () => listRows(ws, table.id, { search_term: term || undefined }, { limit: RESULTS }),
    placeholderData: keepPreviousData,
  });
  const link = useMutation({
    mutationFn: (row: Row) => linkCaseRow(ws, caseId, table.id, row.id),
    onSuccess: () => onDone(`Row of ${table.name} linked.`),
  });
  const columns = table.columns;
  const rows = found.data?.items ?? [];
  return (
    <div className="stack">
      <Field label="Search rows" hint="Matches the text, select and JSON columns; the first 20 matches are shown.">
        <input type="search" value={text} onChange={(e) => setText(e.target.value)} autoComplete="off" spellCheck={false} />
      </Field>
      <ErrorNote error={found.error} title="Rows not loaded" />
      <ErrorNote error={link.error} title="Row not linked" />
      {found.isPending && <Spinner label="Searching rows" />}
      {found.data && rows.length === 0 && <p className="muted">{term ? `No rows of ${table.name} match “${term}”.` : `${table.name} has no rows yet.`}</p>}
      {rows.length > 0 && (
        <div className="table-scroll case-rows-results" role="region" aria-label={`Rows of ${table.name} found`} tabIndex={0}>
          <table className="table case-rows-table">
            <thead>
              <tr>
                {columns.map((c) => (
                  <th key={c.id} scope="col" className="mono">
                    {c.name}
                  </th>
                ))}
                <ActionsHeader />
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => {
                const name = summary(row, columns);
                const already = linked.has(`${table.id}/${row.id}`);
                return (
                  <tr key={row.id}>
                    {columns.map((c) => {
                      const value = showValue(c.type, row[c.name]);
                      return (
                        <td key={c.id} className="case-rows-value">
                          {value || <span className="muted">—</span>}
                        </td>
                      );
                    })}
                    <td>
                      <div className="row row-end">
                        {already ? (
                          <span className="muted small">Linked</span>
                        ) : (
                          <button
                            type="button"
                            className="button button-small button-primary"
                            onClick={() => link.mutate(row)}
                            disabled={link.isPending}
                            aria-label={`Link row ${name}`}
                          >
                            {link.isPending && link.variables?.id === row.id ? <Spinner label="Linking" /> : "Link"}
                          </button>
                        )}
                      </div>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {found.data?.has_more && <p className="muted small">More rows match: narrow the search to find the one you want.</p>}
    </div>
  );
}
