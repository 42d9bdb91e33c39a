-- OAuth integrations (Tracecat's oauth_integration): a workspace's client for one provider and
-- grant, and the tokens it holds. Client secrets and tokens are sealed with the database key
-- (AAD: the row id), like secret values; templates read the access token as
-- SECRETS.<provider>_oauth.<PROVIDER>_USER_TOKEN (authorization code) or _SERVICE_TOKEN
-- (client credentials), refreshed by the executor before it expires.
CREATE TABLE oauth_integrations (
    id                UUID PRIMARY KEY,
    workspace_id      UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    provider_id       TEXT NOT NULL,
    grant_type        TEXT NOT NULL CHECK (grant_type IN ('authorization_code', 'client_credentials')),
    client_id         TEXT NOT NULL,
    -- {client_secret} sealed.
    encrypted_client  BYTEA NOT NULL,
    scopes            TEXT[] NOT NULL DEFAULT '{}',
    -- Values of the provider's endpoint placeholders ({tenant}).
    params            JSONB NOT NULL DEFAULT '{}',
    -- {access_token, refresh_token} sealed; NULL until connected.
    encrypted_tokens  BYTEA,
    expires_at        TIMESTAMPTZ,
    granted_scopes    TEXT[],
    -- Why the last token request failed, when it did (never a token).
    last_error        TEXT,
    connected_by      UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT oauth_integrations_key UNIQUE (workspace_id, provider_id, grant_type)
);

-- An authorization-code flow in progress: the state sent to the provider, the PKCE verifier
-- (sealed), who started it and until when it may finish. Used once: the callback deletes it.
CREATE TABLE oauth_states (
    state              TEXT PRIMARY KEY,
    integration_id     UUID NOT NULL REFERENCES oauth_integrations (id) ON DELETE CASCADE,
    user_id            UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    encrypted_verifier BYTEA NOT NULL,
    expires_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX oauth_states_expires_at ON oauth_states (expires_at);
