-- The model gateway: its catalog as edited through the api (a catalog file can add to it; the
-- gateway reloads on NOTIFY ferrocat_llm_catalog), and the usage of every model call.
CREATE TABLE llm_providers (
    name       TEXT PRIMARY KEY,
    entry      JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE llm_models (
    name       TEXT PRIMARY KEY,
    spec       JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- No foreign key to workspaces: rows are written in batches off the request path, and a batch
-- must not fail because one workspace was deleted meanwhile.
CREATE TABLE llm_usage (
    id             BIGSERIAL PRIMARY KEY,
    created_at     TIMESTAMPTZ NOT NULL,
    workspace_id   UUID NOT NULL,
    run_id         TEXT,
    model          TEXT NOT NULL,
    served_by      TEXT,
    provider       TEXT,
    endpoint       TEXT NOT NULL,
    stream         BOOLEAN NOT NULL,
    status         SMALLINT NOT NULL,
    attempts       INTEGER NOT NULL,
    input_tokens   BIGINT NOT NULL,
    output_tokens  BIGINT NOT NULL,
    latency_ms     DOUBLE PRECISION NOT NULL,
    first_event_ms DOUBLE PRECISION
);
CREATE INDEX llm_usage_workspace_idx ON llm_usage (workspace_id, created_at);
