-- Lookup tables, as in Tracecat: typed tables per workspace that workflows read and write
-- (`core.table.*`) and analysts edit in a grid. Each is a real Postgres table in the schema
-- `table_rows`, with typed columns, a primary key and at most one unique index; its name and
-- its columns' names are generated from their ids ("t_<id>", "c_<id>"), so no name a user
-- gives is ever part of SQL, and a rename changes only the metadata below.

CREATE SCHEMA IF NOT EXISTS table_rows;

CREATE TABLE lookup_tables (
    id           UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         TEXT NOT NULL CHECK (name ~ '^[A-Za-z_][A-Za-z0-9_]{0,99}$'),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT lookup_tables_name_key UNIQUE (workspace_id, name)
);

CREATE TABLE lookup_table_columns (
    id         UUID PRIMARY KEY,
    table_id   UUID NOT NULL REFERENCES lookup_tables (id) ON DELETE CASCADE,
    name       TEXT NOT NULL CHECK (name ~ '^[A-Za-z_][A-Za-z0-9_]{0,99}$' AND name NOT LIKE '\_\_tc\_%'),
    type       TEXT NOT NULL CHECK (type IN ('TEXT', 'INTEGER', 'NUMERIC', 'DATE', 'BOOLEAN', 'TIMESTAMPTZ', 'JSONB', 'SELECT', 'MULTI_SELECT')),
    nullable   BOOLEAN NOT NULL DEFAULT TRUE,
    "default"  JSONB,
    options    TEXT[],
    is_index   BOOLEAN NOT NULL DEFAULT FALSE,
    position   INTEGER NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT lookup_table_columns_name_key UNIQUE (table_id, name)
);
-- "Only one unique index is allowed per table."
CREATE UNIQUE INDEX lookup_table_columns_one_index ON lookup_table_columns (table_id) WHERE is_index;

-- A table's rows go with its metadata, however that is deleted (by the api, or with its
-- workspace): the physical table is dropped in the same transaction.
CREATE FUNCTION lookup_tables_drop_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('DROP TABLE IF EXISTS table_rows.%I', 't_' || replace(OLD.id::text, '-', ''));
    RETURN OLD;
END
$$;
CREATE TRIGGER lookup_tables_drop_rows AFTER DELETE ON lookup_tables FOR EACH ROW EXECUTE FUNCTION lookup_tables_drop_rows();
