-- Sign-ins to the console and api through the OpenID Connect provider, on their way: found
-- again by the hash of their state, bound to the browser that started them by the hash of a
-- cookie it holds, and spent once.
CREATE TABLE console_sso_logins (
    state_hash    BYTEA PRIMARY KEY,
    browser_hash  BYTEA NOT NULL,
    nonce         TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    return_to     TEXT NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL,
    used_at       TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX console_sso_logins_expires_idx ON console_sso_logins (expires_at);
