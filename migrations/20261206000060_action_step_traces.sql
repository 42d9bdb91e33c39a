-- The steps a template action ran, per attempt: the executor records them (names, outcome,
-- times and masked errors; never arguments or results) and a run's detail shows them under the
-- action, since the template runs as one activity and Temporal's history holds only that.
CREATE TABLE action_step_traces (
    workspace_id UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    wf_exec_id   TEXT NOT NULL,
    action_ref   TEXT NOT NULL,
    -- The scatter stream ('' in the root stream).
    stream_id    TEXT NOT NULL DEFAULT '',
    attempt      INTEGER NOT NULL,
    steps        JSONB NOT NULL,
    recorded_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (wf_exec_id, action_ref, stream_id, attempt)
);
