-- Schedules of workflows. Temporal is the system of record for when they fire (each row is one
-- Temporal schedule, `sch_<base62 id>`); this table mirrors the configuration for the routes.

CREATE TABLE schedules (
    id           UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    workflow_id  UUID NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    status       TEXT NOT NULL DEFAULT 'online' CHECK (status IN ('online', 'offline')),
    cron         TEXT,
    every_ms     BIGINT CHECK (every_ms > 0),
    offset_ms    BIGINT CHECK (offset_ms >= 0),
    start_at     TIMESTAMPTZ,
    end_at       TIMESTAMPTZ,
    inputs       JSON NOT NULL DEFAULT 'null',
    timeout_s    DOUBLE PRECISION CHECK (timeout_s >= 0),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT schedules_when_check CHECK ((cron IS NULL) <> (every_ms IS NULL))
);
CREATE INDEX schedules_workspace_idx ON schedules (workspace_id, created_at);
