-- Rows of lookup tables linked to a case (Tracecat's case rows): each (case, table, row) once.
-- A link goes with its case or its table; a link to a row since deleted stays, and reads say
-- the row is gone.
CREATE TABLE case_table_rows (
    id         UUID PRIMARY KEY,
    case_id    UUID NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    table_id   UUID NOT NULL REFERENCES lookup_tables (id) ON DELETE CASCADE,
    row_id     UUID NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT case_table_rows_key UNIQUE (case_id, table_id, row_id)
);
CREATE INDEX case_table_rows_table_idx ON case_table_rows (table_id, row_id);
