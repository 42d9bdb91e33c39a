-- Tags group a workspace's workflows (`phishing`, `edr`, `tier-1`), as Tracecat's do: shown and
-- filtered on in the console, set with PATCH /workflows/{id}.
ALTER TABLE workflows ADD COLUMN tags TEXT[] NOT NULL DEFAULT '{}';
