-- Invitations to a workspace: an admin invites an email with a role; the invitee accepts with
-- the one-time token (only its SHA-256 is stored), creating their account or joining with it.
CREATE TABLE invitations (
    id           UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    email        TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'viewer')),
    token_hash   BYTEA NOT NULL UNIQUE,
    invited_by   UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at   TIMESTAMPTZ NOT NULL,
    accepted_at  TIMESTAMPTZ,
    accepted_by  UUID REFERENCES users (id) ON DELETE SET NULL,
    revoked_at   TIMESTAMPTZ
);
-- One open invitation per address and workspace; inviting again replaces it.
CREATE UNIQUE INDEX invitations_open_key ON invitations (workspace_id, lower(email))
    WHERE accepted_at IS NULL AND revoked_at IS NULL;
