// One table: its rows in a virtualized grid (searched, sorted and paged by the api, edited in
// place), with adding rows, deleting the selected ones, managing columns, importing a CSV file
// into it and exporting it.
import { useEffect, useId, useMemo, useRef, useState } from "react";
import { keepPreviousData, useInfiniteQuery, useMutation, useQuery, useQueryClient, type InfiniteData } from "@tanstack/react-query";
import { can, useMe } from "../api/session";
import {
  BATCH_LIMIT,
  EXPORT_FORMATS,
  deleteRows,
  deleteTable,
  downloadUrl,
  getTable,
  insertRow,
  listRows,
  renameTable,
  tableKeys,
  updateRow,
  type Row,
  type RowPage,
  type RowQuery,
  type TableColumn,
  type TableRead,
} from "../api/types-tables";
import { Link, navigate } from "../router";
import { Dialog, Empty, ErrorNote, Field, PageHeader, Spinner, SubmitButton, When } from "../components/ui";
import { ConfirmDialog } from "../components/forms";
import { TableGrid, type GridSort } from "../components/table-grid";
import { RowForm } from "../components/table-values";
import { ColumnsPanel } from "../components/table-columns";
import { ImportIntoTable } from "../components/table-import";

/** Rows per request (the api takes at most 200). */
const PAGE = 100;

export default function TablePage({ ws, id }: { ws: string; id: string }) {
  const canEdit = can(useMe().data, ws, "editor");
  const queries = useQueryClient();
  const table = useQuery({ queryKey: tableKeys.one(ws, id), queryFn: () => getTable(ws, id) });
  const [confirmDelete, setConfirmDelete] = useState(false);
  const removeTable = useMutation({
    mutationFn: () => deleteTable(ws, id),
    onSuccess: async () => {
      setConfirmDelete(false);
      await queries.invalidateQueries({ queryKey: tableKeys.list(ws) });
      navigate(`/workspaces/${ws}/tables`);
    },
  });
  const crumbs = (
    <div className="muted small">
      <Link to={`/workspaces/${ws}/tables`}>Tables</Link> / {table.data?.name ?? id}
    </div>
  );
  if (table.isPending) return <>{crumbs}<Spinner /></>;
  if (!table.data) return <>{crumbs}<ErrorNote error={table.error} /></>;
  return (
    <>
      {crumbs}
      <TableHeader ws={ws} table={table.data} canEdit={canEdit} onDelete={() => { removeTable.reset(); setConfirmDelete(true); }} />
      <Rows ws={ws} table={table.data} canEdit={canEdit} />
      <ConfirmDialog
        open={confirmDelete}
        title="Delete table"
        confirmLabel="Delete table"
        onConfirm={() => removeTable.mutate()}
        onClose={() => setConfirmDelete(false)}
        pending={removeTable.isPending}
        error={removeTable.error}
      >
        <p>
          Delete the table <strong>{table.data.name}</strong> and all its rows? Workflows that use it will fail. This cannot be undone.
        </p>
      </ConfirmDialog>
    </>
  );
}

/** The table's name (renamed in place), its times, and the table-wide buttons. */
function TableHeader({ ws, table, canEdit, onDelete }: { ws: string; table: TableRead; canEdit: boolean; onDelete: () => void }) {
  const queries = useQueryClient();
  const [renaming, setRenaming] = useState(false);
  const [name, setName] = useState(table.name);
  const rename = useMutation({
    mutationFn: () => renameTable(ws, table.id, name.trim()),
    onSuccess: async (saved) => {
      queries.setQueryData(tableKeys.one(ws, table.id), saved);
      setRenaming(false);
      await queries.invalidateQueries({ queryKey: tableKeys.list(ws) });
    },
  });
  const description = (
    <>
      {table.columns.length} column{table.columns.length === 1 ? "" : "s"} · created <When at={table.created_at} /> · updated <When at={table.updated_at} />
    </>
  );
  if (renaming) {
    return (
      <form
        className="page-header"
        onSubmit={(e) => {
          e.preventDefault();
          if (name.trim() === table.name) setRenaming(false);
          else rename.mutate();
        }}
      >
        <div className="row row-bottom">
          <Field label="Table name">
            <input
              value={name}
              onChange={(e) => setName(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === "Escape") setRenaming(false);
              }}
              required
              autoFocus
              autoComplete="off"
              spellCheck={false}
              maxLength={100}
            />
          </Field>
          <SubmitButton pending={rename.isPending} busy="Renaming">
            Save name
          </SubmitButton>
          <button type="button" className="button" onClick={() => setRenaming(false)}>
            Cancel
          </button>
        </div>
        <ErrorNote error={rename.error} />
      </form>
    );
  }
  return (
    <PageHeader title={table.name} description={description}>
      {canEdit && (
        <>
          <button
            type="button"
            className="button"
            aria-label={`Rename table ${table.name}`}
            onClick={() => {
              setName(table.name);
              rename.reset();
              setRenaming(true);
            }}
          >
            Rename
          </button>
          <button type="button" className="button button-danger" aria-label={`Delete table ${table.name}`} onClick={onDelete}>
            Delete
          </button>
        </>
      )}
    </PageHeader>
  );
}

/** The next sort when a column's header is clicked: ascending, then descending, then none. */
function nextSort(current: GridSort, column: string): GridSort {
  if (current.order_by !== column) return { order_by: column, sort: "asc" };
  if (current.sort === "asc") return { order_by: column, sort: "desc" };
  return { sort: "asc" };
}

function Rows({ ws, table, canEdit }: { ws: string; table: TableRead; canEdit: boolean }) {
  const queries = useQueryClient();
  const [search, setSearch] = useState("");
  const [term, setTerm] = useState("");
  // The search text goes to the api a moment after typing stops.
  useEffect(() => {
    const timer = window.setTimeout(() => setTerm(search.trim()), 300);
    return () => window.clearTimeout(timer);
  }, [search]);
  const [sort, setSort] = useState<GridSort>({ sort: "asc" });
  // A sorted column that was deleted or renamed no longer sorts.
  const orderBy = sort.order_by && table.columns.some((c) => c.name === sort.order_by) ? sort.order_by : undefined;
  const query: RowQuery = useMemo(() => ({ search_term: term || undefined, order_by: orderBy, sort: sort.sort }), [term, orderBy, sort.sort]);
  const key = tableKeys.rows(ws, table.id, query);
  const rows = useInfiniteQuery({
    queryKey: key,
    queryFn: ({ pageParam }) => listRows(ws, table.id, query, { cursor: pageParam, limit: PAGE }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last: RowPage) => (last.has_more && last.next_cursor ? last.next_cursor : undefined),
    placeholderData: keepPreviousData,
  });
  const items = useMemo(() => {
    const seen = new Set<string>();
    return (rows.data?.pages ?? []).flatMap((p) => p.items).filter((r) => (seen.has(r.id) ? false : (seen.add(r.id), true)));
  }, [rows.data]);
  const refresh = () => Promise.all([queries.invalidateQueries({ queryKey: tableKeys.rows(ws, table.id) }), queries.invalidateQueries({ queryKey: tableKeys.one(ws, table.id) })]);

  const [selected, setSelected] = useState<Set<string>>(new Set());
  // A new search or order starts a new selection: the old one may not be on screen.
  useEffect(() => setSelected(new Set()), [query]);
  const select = (ids: string[], on: boolean) =>
    setSelected((s) => {
      const next = new Set(s);
      for (const id of ids) {
        if (on) next.add(id);
        else next.delete(id);
      }
      return next;
    });

  const [note, setNote] = useState("");
  const [dialog, setDialog] = useState<"" | "add" | "columns" | "import" | "delete">("");
  const close = () => setDialog("");

  const saveCell = async (row: Row, column: TableColumn, value: unknown) => {
    const saved = await updateRow(ws, table.id, row.id, { [column.name]: value });
    queries.setQueryData<InfiniteData<RowPage>>(key, (data) =>
      data ? { ...data, pages: data.pages.map((p) => ({ ...p, items: p.items.map((r) => (r.id === saved.id ? saved : r)) })) } : data,
    );
  };

  const batchDelete = useMutation({
    mutationFn: async () => {
      const ids = [...selected];
      let deleted = 0;
      for (let i = 0; i < ids.length; i += BATCH_LIMIT) deleted += (await deleteRows(ws, table.id, ids.slice(i, i + BATCH_LIMIT))).rows_deleted;
      return deleted;
    },
    onSuccess: async (deleted) => {
      close();
      setSelected(new Set());
      setNote(`Deleted ${deleted} row${deleted === 1 ? "" : "s"}.`);
      await refresh();
    },
  });

  const loadMore = () => {
    if (rows.hasNextPage && !rows.isFetchingNextPage) void rows.fetchNextPage({ cancelRefetch: false });
  };
  const noRows = items.length === 0 && !rows.isPending;

  return (
    <>
      <div className="row row-bottom toolbar">
        <form role="search" aria-label="Search rows" className="grow" onSubmit={(e) => e.preventDefault()}>
          <Field label="Search rows">
            <input type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="Text in any column" />
          </Field>
        </form>
        {canEdit && (
          <button type="button" className="button button-primary" onClick={() => setDialog("add")} disabled={table.columns.length === 0}>
            Add row
          </button>
        )}
        <button type="button" className="button" onClick={() => setDialog("columns")}>
          Columns
        </button>
        {canEdit && (
          <button type="button" className="button" onClick={() => setDialog("import")} disabled={table.columns.length === 0}>
            Import CSV
          </button>
        )}
        <ExportMenu ws={ws} table={table} />
      </div>
      {note && (
        <p className="note note-ok" role="status">
          {note}
        </p>
      )}
      <ErrorNote error={rows.error} />
      {canEdit && selected.size > 0 && (
        <div className="row row-bottom toolbar batch-bar" role="region" aria-label="Selected rows">
          <span>{selected.size} selected</span>
          <button
            type="button"
            className="button button-danger"
            onClick={() => {
              batchDelete.reset();
              setDialog("delete");
            }}
          >
            Delete selected
          </button>
          <button type="button" className="button" onClick={() => setSelected(new Set())}>
            Clear selection
          </button>
        </div>
      )}
      {table.columns.length === 0 ? (
        <Empty title="No columns yet">
          <p>A table needs at least one column before it can hold rows.</p>
          {canEdit && (
            <button type="button" className="button button-primary" onClick={() => setDialog("columns")}>
              Add a column
            </button>
          )}
        </Empty>
      ) : (
        <>
          <TableGrid
            label={`Rows of ${table.name}`}
            columns={table.columns}
            rows={items}
            hasMore={!!rows.hasNextPage}
            canEdit={canEdit}
            selected={selected}
            onSelect={select}
            sort={{ order_by: orderBy, sort: sort.sort }}
            onSort={(column) => setSort((s) => nextSort({ ...s, order_by: orderBy }, column))}
            onSave={saveCell}
            onNearEnd={loadMore}
          />
          {rows.isPending && <Spinner label="Loading rows" />}
          {noRows && (
            <Empty title={term ? "No rows match" : "No rows yet"}>
              <p>{term ? `No row contains “${term}”.` : canEdit ? "Add a row, or import a CSV file into this table." : "Rows appear here once workflows or editors add them."}</p>
            </Empty>
          )}
          <div className="row pager">
            <span className="muted grow" role="status">
              {items.length > 0 && `${items.length} row${items.length === 1 ? "" : "s"} loaded${rows.hasNextPage ? ", more to load" : ""}.`}
              {canEdit && items.length > 0 && " Double-click a cell, or press Enter on it, to edit."}
            </span>
            {rows.hasNextPage && (
              <button type="button" className="button" onClick={loadMore} disabled={rows.isFetchingNextPage}>
                {rows.isFetchingNextPage ? <Spinner label="Loading more rows" /> : "Load more rows"}
              </button>
            )}
          </div>
        </>
      )}
      <Dialog title="Add row" open={dialog === "add"} onClose={close} wide>
        {dialog === "add" && (
          <RowForm
            table={table}
            submit="Save row"
            busy="Adding"
            autoFocus
            save={async (data, upsert) => {
              await insertRow(ws, table.id, data, upsert);
              close();
              setNote("Row added.");
              await refresh();
            }}
          />
        )}
      </Dialog>
      <Dialog title="Columns" open={dialog === "columns"} onClose={close} wide>
        {dialog === "columns" && <ColumnsPanel ws={ws} table={table} canEdit={canEdit} onChanged={refresh} />}
      </Dialog>
      <Dialog title="Import CSV into this table" open={dialog === "import"} onClose={close} wide>
        {dialog === "import" && (
          <ImportIntoTable
            ws={ws}
            table={table}
            onDone={async (inserted) => {
              close();
              setNote(`Imported ${inserted} row${inserted === 1 ? "" : "s"}.`);
              await refresh();
            }}
          />
        )}
      </Dialog>
      <ConfirmDialog
        open={dialog === "delete"}
        title="Delete rows"
        confirmLabel={`Delete ${selected.size} row${selected.size === 1 ? "" : "s"}`}
        onConfirm={() => batchDelete.mutate()}
        onClose={close}
        pending={batchDelete.isPending}
        error={batchDelete.error}
      >
        <p>Delete the {selected.size} selected rows? This cannot be undone.</p>
      </ConfirmDialog>
    </>
  );
}

/** A button that opens the download links, one per format; Escape or a click elsewhere closes it. */
function ExportMenu({ ws, table }: { ws: string; table: TableRead }) {
  const [open, setOpen] = useState(false);
  const menuId = useId();
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const away = (event: MouseEvent) => {
      if (box.current && !box.current.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener("mousedown", away);
    return () => document.removeEventListener("mousedown", away);
  }, [open]);
  return (
    <div
      className="table-export"
      ref={box}
      onKeyDown={(e) => {
        if (e.key === "Escape" && open) {
          e.stopPropagation();
          setOpen(false);
          box.current?.querySelector("button")?.focus();
        }
      }}
    >
      <button type="button" className="button" aria-expanded={open} aria-controls={menuId} onClick={() => setOpen((o) => !o)}>
        Export
      </button>
      <ul id={menuId} className="table-export-menu" aria-label={`Export ${table.name}`} hidden={!open}>
        {EXPORT_FORMATS.map(([format, text]) => (
          <li key={format}>
            <a href={downloadUrl(ws, table.id, format)} download data-export={format} onClick={() => setOpen(false)}>
              {text}
            </a>
          </li>
        ))}
      </ul>
    </div>
  );
}
