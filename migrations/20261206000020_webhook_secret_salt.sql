-- A webhook's URL secret can be rotated. The secret stays derived (sha256 of the webhook id and
-- the signing secret, as Tracecat does); a rotation stores a random salt that goes into the hash
-- too. NULL (every webhook made before this migration) keeps the original derivation, so existing
-- URLs keep working.
ALTER TABLE webhooks ADD COLUMN secret_salt TEXT;
