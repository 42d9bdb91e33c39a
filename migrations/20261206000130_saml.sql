-- The organisation's SAML identity provider: its metadata as last accepted (checked to carry a
-- signing certificate and an HTTP-Redirect sign-in endpoint), where it was fetched from when
-- it came by URL, and the facts the settings page shows.
CREATE TABLE saml_settings (
    singleton        BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
    idp_metadata_xml TEXT NOT NULL,
    idp_metadata_url TEXT,
    idp_entity_id    TEXT NOT NULL,
    idp_sso_url      TEXT NOT NULL,
    idp_name         TEXT NOT NULL DEFAULT 'SAML',
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_by       UUID REFERENCES users (id) ON DELETE SET NULL
);

-- SAML sign-ins on their way (the console's and the MCP sign-in page's): found again by the
-- hash of their RelayState, bound to the browser that started them by the hash of a cookie it
-- holds, answered only for the AuthnRequest ID they sent (InResponseTo), and spent once.
CREATE TABLE saml_logins (
    relay_hash       BYTEA PRIMARY KEY,
    request_id       TEXT NOT NULL UNIQUE,
    browser_hash     BYTEA NOT NULL,
    face             TEXT NOT NULL CHECK (face IN ('console', 'mcp')),
    return_to        TEXT,
    mcp_request_hash BYTEA REFERENCES oauth_requests (id_hash) ON DELETE CASCADE,
    expires_at       TIMESTAMPTZ NOT NULL,
    used_at          TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX saml_logins_expires_idx ON saml_logins (expires_at);
