-- Registries synced from git (Tracecat's custom registries): the organisation's repositories of
-- template actions and each sync of one, a version pinned by its commit sha holding the
-- template files it read. One version per repository is current; promoting an older one rolls
-- back.
CREATE TABLE registry_repositories (
    id                 UUID PRIMARY KEY,
    -- https://, ssh://, git:// or user@host:path.
    origin             TEXT NOT NULL UNIQUE,
    -- The branch or tag to sync (the remote's default branch when NULL).
    git_ref            TEXT,
    -- An organisation secret holding the deploy key (key PRIVATE_KEY), for ssh origins.
    ssh_key_secret     TEXT,
    current_version_id UUID,
    last_synced_at     TIMESTAMPTZ,
    -- Why the last sync failed, when it did.
    last_error         TEXT,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE registry_versions (
    id            UUID PRIMARY KEY,
    repository_id UUID NOT NULL REFERENCES registry_repositories (id) ON DELETE CASCADE,
    version       INTEGER NOT NULL,
    commit_sha    TEXT NOT NULL,
    -- {path: text} of every template file of the commit.
    files         JSONB NOT NULL,
    actions       TEXT[] NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT registry_versions_number UNIQUE (repository_id, version)
);

ALTER TABLE registry_repositories
    ADD CONSTRAINT registry_repositories_current FOREIGN KEY (current_version_id) REFERENCES registry_versions (id) ON DELETE SET NULL;
