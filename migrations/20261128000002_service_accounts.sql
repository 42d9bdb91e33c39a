-- Machine identities: service accounts belong to one workspace with one role; their API keys
-- (`tc_ws_sk_<key id>_<secret>`) are shown once and stored as the SHA-256 of the secret.

CREATE TABLE service_accounts (
    id           UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    role         TEXT NOT NULL DEFAULT 'viewer' CHECK (role IN ('admin', 'editor', 'viewer')),
    created_by   UUID REFERENCES users (id) ON DELETE SET NULL,
    disabled_at  TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT service_accounts_name_key UNIQUE (workspace_id, name)
);

CREATE TABLE api_keys (
    id                 UUID PRIMARY KEY,
    service_account_id UUID NOT NULL REFERENCES service_accounts (id) ON DELETE CASCADE,
    workspace_id       UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name               TEXT NOT NULL,
    secret_hash        BYTEA NOT NULL,
    preview            TEXT NOT NULL,
    created_by         UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_used_at       TIMESTAMPTZ,
    revoked_at         TIMESTAMPTZ
);
CREATE INDEX api_keys_service_account_idx ON api_keys (service_account_id);
