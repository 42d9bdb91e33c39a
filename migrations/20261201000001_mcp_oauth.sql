-- The MCP server's OAuth 2.1 authorization server: registered clients, pending authorization
-- requests (between /authorize, sign-in and consent), single-use codes, and grants (refresh
-- token families) with their refresh and access tokens. Every secret is stored as its SHA-256.

CREATE TABLE oauth_clients (
    client_id          TEXT PRIMARY KEY,
    -- NULL for public clients (token_endpoint_auth_method = 'none').
    client_secret_hash BYTEA,
    client_name        TEXT NOT NULL DEFAULT '',
    redirect_uris      TEXT[] NOT NULL,
    grant_types        TEXT[] NOT NULL,
    token_endpoint_auth_method TEXT NOT NULL,
    application_type   TEXT NOT NULL DEFAULT 'native',
    -- 'dcr' (RFC 7591) or 'cimd' (a client ID metadata document, cached here).
    registration       TEXT NOT NULL DEFAULT 'dcr' CHECK (registration IN ('dcr', 'cimd')),
    metadata           JSONB NOT NULL DEFAULT '{}',
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- An /authorize request that passed validation, waiting for sign-in and consent. Its random id
-- travels in the forms and is only ever compared by hash.
CREATE TABLE oauth_requests (
    id_hash        BYTEA PRIMARY KEY,
    client_id      TEXT NOT NULL REFERENCES oauth_clients (client_id) ON DELETE CASCADE,
    redirect_uri   TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    resource       TEXT NOT NULL,
    scope          TEXT NOT NULL,
    state          TEXT,
    user_id        UUID REFERENCES users (id) ON DELETE CASCADE,
    expires_at     TIMESTAMPTZ NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- A grant: one user's consent for one client and resource, and the family of refresh tokens
-- that carries it forward. Revoking it ends every token of the family.
CREATE TABLE oauth_grants (
    id          UUID PRIMARY KEY,
    client_id   TEXT NOT NULL REFERENCES oauth_clients (client_id) ON DELETE CASCADE,
    user_id     UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    resource    TEXT NOT NULL,
    scope       TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at  TIMESTAMPTZ,
    revoked_why TEXT
);
CREATE INDEX oauth_grants_user_idx ON oauth_grants (user_id);

CREATE TABLE oauth_codes (
    code_hash      BYTEA PRIMARY KEY,
    client_id      TEXT NOT NULL REFERENCES oauth_clients (client_id) ON DELETE CASCADE,
    user_id        UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri   TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    resource       TEXT NOT NULL,
    scope          TEXT NOT NULL,
    expires_at     TIMESTAMPTZ NOT NULL,
    -- Set when redeemed, with the grant it started: a second redemption revokes that grant.
    used_at        TIMESTAMPTZ,
    grant_id       UUID REFERENCES oauth_grants (id) ON DELETE CASCADE,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE oauth_refresh_tokens (
    token_hash  BYTEA PRIMARY KEY,
    grant_id    UUID NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    expires_at  TIMESTAMPTZ NOT NULL,
    -- Set once exchanged for its successor; presenting it again revokes the grant.
    rotated_at  TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX oauth_refresh_tokens_grant_idx ON oauth_refresh_tokens (grant_id);

CREATE TABLE oauth_access_tokens (
    token_hash  BYTEA PRIMARY KEY,
    grant_id    UUID NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    -- The resource (RFC 8707) the token was minted for: the public /mcp URL.
    audience    TEXT NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX oauth_access_tokens_grant_idx ON oauth_access_tokens (grant_id);
