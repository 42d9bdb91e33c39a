-- Accounts hardening (security review 2026-12, findings 3, 4 and 13).

-- Whether the owner of the address has proven it. Accounts created before this migration (the
-- first admin, earlier invitees) are taken as verified: nothing tells them apart now. New
-- accounts created by accepting an invitation start unverified (the inviter, not the address's
-- owner, received the token); a sign-in through the identity provider with a verified email
-- verifies them.
ALTER TABLE users ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT TRUE;

-- Wrong passwords given to accept an invitation for an existing account: past a few, the
-- invitation is burned (revoked), so one token is not an unlimited password oracle.
ALTER TABLE invitations ADD COLUMN failed_attempts INTEGER NOT NULL DEFAULT 0;

-- The last request of a session (refreshed at most once a minute), for the idle timeout.
ALTER TABLE sessions ADD COLUMN last_seen_at TIMESTAMPTZ NOT NULL DEFAULT now();
