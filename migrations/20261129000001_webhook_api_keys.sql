-- An optional second credential for a webhook: requests must carry it in `x-tracecat-api-key`
-- while a key exists (a revoked key refuses every request until it is replaced or deleted).
-- Only the SHA-256 of the key is stored; the key itself is shown once.

CREATE TABLE webhook_api_keys (
    webhook_id  UUID PRIMARY KEY REFERENCES webhooks (id) ON DELETE CASCADE,
    secret_hash BYTEA NOT NULL,
    preview     TEXT NOT NULL,
    created_by  UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at  TIMESTAMPTZ
);
