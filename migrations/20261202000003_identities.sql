-- Single sign-on through an upstream OpenID Connect provider: which platform user an upstream
-- identity (issuer, subject) is, and the sign-ins on their way through the provider.

-- An identity, once linked, stays with its user: the provider's subject is stable, its email
-- need not be.
CREATE TABLE identities (
    issuer        TEXT NOT NULL,
    subject       TEXT NOT NULL,
    user_id       UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The email the provider last vouched for (informational).
    email         TEXT,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_login_at TIMESTAMPTZ,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX identities_user_idx ON identities (user_id);

-- A redirect to the provider for a pending MCP authorization request, found again by the
-- `state` it carried (stored as its SHA-256). The nonce and PKCE verifier are needed once, at
-- the callback; `used_at` makes the state single-use.
CREATE TABLE oidc_logins (
    state_hash    BYTEA PRIMARY KEY,
    request_hash  BYTEA NOT NULL REFERENCES oauth_requests (id_hash) ON DELETE CASCADE,
    nonce         TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL,
    used_at       TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX oidc_logins_expires_idx ON oidc_logins (expires_at);
