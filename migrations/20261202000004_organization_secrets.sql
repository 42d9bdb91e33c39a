-- Organisation secrets: rows of `secrets` without a workspace. The model gateway reads a
-- provider key from the calling workspace's secret of that name, else from the organisation's,
-- so one key can serve every workspace. Workflows' SECRETS stay workspace-only.
ALTER TABLE secrets ALTER COLUMN workspace_id DROP NOT NULL;
CREATE UNIQUE INDEX secrets_org_name_key ON secrets (name, environment) WHERE workspace_id IS NULL;
