-- Cases, as in Tracecat: per-workspace gapless numbers (CASE-0042), status, priority and
-- severity, a JSON payload, an assignee, tags, typed custom fields, comments with one level of
-- replies, tasks, attachments and an activity log that also feeds case triggers.

-- The last case number of each workspace; taken in the creating transaction, so a rolled-back
-- create gives its number back (gapless).
CREATE TABLE case_counters (
    workspace_id UUID PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    last_number  BIGINT NOT NULL
);

CREATE TABLE cases (
    id            UUID PRIMARY KEY,
    workspace_id  UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    case_number   BIGINT NOT NULL,
    summary       TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL CHECK (status IN ('unknown', 'new', 'in_progress', 'on_hold', 'resolved', 'closed', 'other')),
    priority      TEXT NOT NULL CHECK (priority IN ('unknown', 'low', 'medium', 'high', 'critical', 'other')),
    severity      TEXT NOT NULL CHECK (severity IN ('unknown', 'informational', 'low', 'medium', 'high', 'critical', 'fatal', 'other')),
    -- Sorting by priority or severity follows their order, not their spelling.
    priority_rank SMALLINT GENERATED ALWAYS AS (
        CASE priority WHEN 'unknown' THEN 0 WHEN 'low' THEN 1 WHEN 'medium' THEN 2 WHEN 'high' THEN 3
                      WHEN 'critical' THEN 4 ELSE 5 END) STORED,
    severity_rank SMALLINT GENERATED ALWAYS AS (
        CASE severity WHEN 'unknown' THEN 0 WHEN 'informational' THEN 1 WHEN 'low' THEN 2 WHEN 'medium' THEN 3
                      WHEN 'high' THEN 4 WHEN 'critical' THEN 5 WHEN 'fatal' THEN 6 ELSE 7 END) STORED,
    status_rank   SMALLINT GENERATED ALWAYS AS (
        CASE status WHEN 'unknown' THEN 0 WHEN 'new' THEN 1 WHEN 'in_progress' THEN 2 WHEN 'on_hold' THEN 3
                    WHEN 'resolved' THEN 4 WHEN 'closed' THEN 5 ELSE 6 END) STORED,
    payload       JSONB,
    -- Values of the workspace's custom fields, {name: value}.
    fields        JSONB NOT NULL DEFAULT '{}',
    assignee_id   UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT cases_number_key UNIQUE (workspace_id, case_number)
);
CREATE INDEX cases_created_idx ON cases (workspace_id, created_at, id);
CREATE INDEX cases_updated_idx ON cases (workspace_id, updated_at, id);
CREATE INDEX cases_status_idx ON cases (workspace_id, status_rank, id);
CREATE INDEX cases_priority_idx ON cases (workspace_id, priority_rank, id);
CREATE INDEX cases_severity_idx ON cases (workspace_id, severity_rank, id);
CREATE INDEX cases_assignee_idx ON cases (workspace_id, assignee_id);
CREATE INDEX cases_fields_idx ON cases USING GIN (fields jsonb_path_ops);

-- Custom field definitions of a workspace; values live in cases.fields.
CREATE TABLE case_fields (
    id                  UUID PRIMARY KEY,
    workspace_id        UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name                TEXT NOT NULL,
    type                TEXT NOT NULL CHECK (type IN ('TEXT', 'INTEGER', 'NUMERIC', 'BOOLEAN', 'DATE', 'TIMESTAMPTZ', 'JSONB', 'SELECT', 'MULTI_SELECT')),
    display_name        TEXT,
    description         TEXT NOT NULL DEFAULT '',
    nullable            BOOLEAN NOT NULL DEFAULT TRUE,
    "default"           JSONB,
    options             TEXT[],
    kind                TEXT,
    required_on_closure BOOLEAN NOT NULL DEFAULT FALSE,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT case_fields_name_key UNIQUE (workspace_id, name)
);

CREATE TABLE case_tags (
    id           UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    ref          TEXT NOT NULL,
    color        TEXT,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT case_tags_ref_key UNIQUE (workspace_id, ref)
);

CREATE TABLE case_tag_links (
    case_id UUID NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    tag_id  UUID NOT NULL REFERENCES case_tags (id) ON DELETE CASCADE,
    PRIMARY KEY (case_id, tag_id)
);
CREATE INDEX case_tag_links_tag_idx ON case_tag_links (tag_id, case_id);

-- Comments; a reply's parent is a top-level comment (one level of threading). A thread
-- starter deleted while it has replies keeps its place with deleted_at set.
CREATE TABLE case_comments (
    id             UUID PRIMARY KEY,
    case_id        UUID NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    parent_id      UUID REFERENCES case_comments (id) ON DELETE CASCADE,
    content        TEXT NOT NULL,
    user_id        UUID REFERENCES users (id) ON DELETE SET NULL,
    -- The run that wrote it, when a workflow did.
    wf_exec_id     TEXT,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_edited_at TIMESTAMPTZ,
    deleted_at     TIMESTAMPTZ
);
CREATE INDEX case_comments_case_idx ON case_comments (case_id, created_at);

CREATE TABLE case_tasks (
    id                     UUID PRIMARY KEY,
    case_id                UUID NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    title                  TEXT NOT NULL,
    description            TEXT NOT NULL DEFAULT '',
    priority               TEXT NOT NULL DEFAULT 'unknown',
    status                 TEXT NOT NULL DEFAULT 'todo' CHECK (status IN ('todo', 'in_progress', 'completed', 'blocked')),
    assignee_id            UUID REFERENCES users (id) ON DELETE SET NULL,
    workflow_id            UUID REFERENCES workflows (id) ON DELETE SET NULL,
    default_trigger_values JSONB,
    created_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at             TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX case_tasks_case_idx ON case_tasks (case_id, created_at);

-- Attachments, content-addressed: the blob is attachments/<sha256> in the object store, shared
-- by every attachment with the same content, and deleted with the last of them.
CREATE TABLE case_attachments (
    id           UUID PRIMARY KEY,
    case_id      UUID NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    sha256       TEXT NOT NULL,
    file_name    TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    creator_id   UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX case_attachments_case_idx ON case_attachments (case_id, created_at);
CREATE INDEX case_attachments_sha_idx ON case_attachments (sha256);

-- The activity log: every change, by whom (user_id) or by which run (wf_exec_id). `pending`
-- events have not yet been offered to case triggers; the dispatcher clears the flag in the
-- transaction in which it starts the subscribed workflows.
CREATE TABLE case_events (
    id           UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    case_id      UUID NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    type         TEXT NOT NULL,
    data         JSONB NOT NULL DEFAULT '{}',
    user_id      UUID REFERENCES users (id) ON DELETE SET NULL,
    wf_exec_id   TEXT,
    pending      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    seq          BIGSERIAL NOT NULL
);
CREATE INDEX case_events_case_idx ON case_events (case_id, seq);
CREATE INDEX case_events_pending_idx ON case_events (seq) WHERE pending;

-- A workflow's subscription to case events (one per workflow).
CREATE TABLE case_triggers (
    workflow_id     UUID PRIMARY KEY REFERENCES workflows (id) ON DELETE CASCADE,
    workspace_id    UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    status          TEXT NOT NULL DEFAULT 'offline' CHECK (status IN ('online', 'offline')),
    event_types     TEXT[] NOT NULL DEFAULT '{}',
    tag_filters     TEXT[] NOT NULL DEFAULT '{}',
    -- Why the trigger was switched off, when the dispatcher did it.
    disabled_reason TEXT,
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX case_triggers_online_idx ON case_triggers (workspace_id) WHERE status = 'online';
