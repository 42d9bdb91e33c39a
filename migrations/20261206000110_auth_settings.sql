-- The organisation's sign-in rules (one row; absent means the defaults): which methods are on,
-- whether single sign-on is enforced (password sign-in refused but for one break-glass account),
-- which email domains may sign in through single sign-on, whether it creates accounts, and the
-- role a new account gets.
CREATE TABLE auth_settings (
    singleton         BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
    basic_enabled     BOOLEAN NOT NULL DEFAULT TRUE,
    oidc_enabled      BOOLEAN NOT NULL DEFAULT TRUE,
    saml_enabled      BOOLEAN NOT NULL DEFAULT FALSE,
    sso_enforced      BOOLEAN NOT NULL DEFAULT FALSE,
    break_glass_email TEXT,
    allowed_domains   TEXT[] NOT NULL DEFAULT '{}',
    jit_provisioning  TEXT NOT NULL DEFAULT 'off' CHECK (jit_provisioning IN ('off', 'invited', 'allowed_domains')),
    default_role      TEXT NOT NULL DEFAULT 'viewer' CHECK (default_role IN ('admin', 'editor', 'viewer')),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_by        UUID REFERENCES users (id) ON DELETE SET NULL
);
