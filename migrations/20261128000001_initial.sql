-- The first schema: accounts, workspaces, workflows with immutable committed versions,
-- webhooks and secrets. Runs themselves live in Temporal, not here.

CREATE TABLE users (
    id              UUID PRIMARY KEY,
    email           TEXT NOT NULL,
    hashed_password TEXT NOT NULL,
    is_superuser    BOOLEAN NOT NULL DEFAULT FALSE,
    is_active       BOOLEAN NOT NULL DEFAULT TRUE,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_login_at   TIMESTAMPTZ
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- Opaque session tokens; only their SHA-256 is stored.
CREATE TABLE sessions (
    token_hash  BYTEA PRIMARY KEY,
    user_id     UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);

CREATE TABLE workspaces (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT workspaces_name_key UNIQUE (name)
);

CREATE TABLE memberships (
    user_id      UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    workspace_id UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    role         TEXT NOT NULL DEFAULT 'editor' CHECK (role IN ('admin', 'editor', 'viewer')),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, workspace_id)
);

-- The editable draft of a workflow; `draft` is the DSL as JSON (not JSONB: key order is the
-- author's and shows in results).
CREATE TABLE workflows (
    id           UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL DEFAULT 'offline',
    alias        TEXT,
    version      INTEGER,
    draft        JSON NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT workflows_alias_key UNIQUE (workspace_id, alias)
);
CREATE INDEX workflows_workspace_idx ON workflows (workspace_id, created_at);

-- Immutable committed versions; runs execute one of these.
CREATE TABLE workflow_definitions (
    id           UUID PRIMARY KEY,
    workflow_id  UUID NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    workspace_id UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    version      INTEGER NOT NULL,
    content      JSON NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT workflow_definitions_version_key UNIQUE (workflow_id, version)
);

CREATE TABLE webhooks (
    id                UUID PRIMARY KEY,
    workflow_id       UUID NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    workspace_id      UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    status            TEXT NOT NULL DEFAULT 'online' CHECK (status IN ('online', 'offline')),
    methods           TEXT[] NOT NULL DEFAULT ARRAY['POST'],
    allowlisted_cidrs TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[],
    include_headers   BOOLEAN NOT NULL DEFAULT FALSE,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT webhooks_workflow_key UNIQUE (workflow_id)
);

-- Secret values are AES-256-GCM encrypted (nonce || ciphertext); only key names are readable.
CREATE TABLE secrets (
    id             UUID PRIMARY KEY,
    workspace_id   UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    type           TEXT NOT NULL DEFAULT 'custom',
    environment    TEXT NOT NULL DEFAULT 'default',
    description    TEXT NOT NULL DEFAULT '',
    encrypted_keys BYTEA NOT NULL,
    key_names      TEXT[] NOT NULL,
    tags           JSONB NOT NULL DEFAULT '{}',
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT secrets_name_key UNIQUE (workspace_id, name, environment)
);
