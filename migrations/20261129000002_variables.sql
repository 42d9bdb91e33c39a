-- Workspace variables: plain (not secret) `{key: value}` sets per environment, resolved when a
-- run starts and exposed to its expressions as `VARS.name.key`.

CREATE TABLE variables (
    id           UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    environment  TEXT NOT NULL DEFAULT 'default',
    "values"     JSONB NOT NULL DEFAULT '{}',
    tags         JSONB NOT NULL DEFAULT '{}',
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT variables_name_key UNIQUE (workspace_id, name, environment)
);
