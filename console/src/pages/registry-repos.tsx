// Git registries: repositories of YAML template actions the api clones, checks and loads into
// the action table. Each sync stores a version (a commit and the actions it held); one version
// per repository is current, and an older one can be promoted back. The organisation's, so only
// superusers see this section (the api answers 403 to anyone else).
import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { client, unwrap } from "../api/client";
import type { components } from "../api/schema";
import type { RegistryRepo, RegistryVersion } from "../api/types-admin";
import { DataTable, Dialog, Empty, ErrorNote, Field, RowButtons, Spinner, SubmitButton, When } from "../components/ui";
import { ConfirmDialog, optionalText, useConfirmed } from "../components/forms";

type CreateRepoBody = components["schemas"]["CreateRepo"];

const reposKey = ["registry", "repos"];
const versionsKey = (id: string) => ["registry", "repos", id, "versions"];

/** A commit as people read it: its first 10 hex digits. */
const shortSha = (sha: string) => sha.slice(0, 10);

/** The registries, their versions and the action table (a sync or promote changes all three). */
const refreshAll = (queries: QueryClient) =>
  Promise.all([
    queries.invalidateQueries({ queryKey: reposKey }),
    queries.invalidateQueries({ queryKey: ["registry", "actions"] }),
    queries.invalidateQueries({ queryKey: ["registry", "action"] }),
  ]);

/** What the last sync of a repository gave: the new version, or the api's refusal. */
type SyncOutcome = { origin: string; version: RegistryVersion } | { origin: string; error: unknown };

export function GitRegistries() {
  const queries = useQueryClient();
  const list = useQuery({ queryKey: reposKey, queryFn: () => unwrap<RegistryRepo[]>(client.GET("/registry/repos")) });
  const [adding, setAdding] = useState(false);
  const [browsing, setBrowsing] = useState<RegistryRepo | null>(null);
  const [outcomes, setOutcomes] = useState<Record<string, SyncOutcome>>({});
  const sync = useMutation({
    mutationFn: (repo: RegistryRepo) =>
      unwrap<RegistryVersion>(client.POST("/registry/repos/{repository_id}/sync", { params: { path: { repository_id: repo.id } }, body: {} })),
    onMutate: (repo) => setOutcomes(({ [repo.id]: _old, ...rest }) => rest),
    onSuccess: (version, repo) => setOutcomes((all) => ({ ...all, [repo.id]: { origin: repo.origin, version } })),
    onError: (error, repo) => setOutcomes((all) => ({ ...all, [repo.id]: { origin: repo.origin, error } })),
    // A failed sync is stored as the repository's last error.
    onSettled: () => refreshAll(queries),
  });
  const remove = useConfirmed(
    (repo: RegistryRepo) => unwrap(client.DELETE("/registry/repos/{repository_id}", { params: { path: { repository_id: repo.id } } })),
    () => refreshAll(queries),
  );
  const removing = remove.target;
  const dismiss = (id: string) => setOutcomes(({ [id]: _old, ...rest }) => rest);

  return (
    <section className="card stack registry-repos" aria-labelledby="git-registries-title">
      <div className="row">
        <div className="grow">
          <h2 id="git-registries-title">Git registries</h2>
          <p className="muted small">
            Git repositories of YAML template actions. A sync checks every template and, if all are valid, makes that commit the current
            version. Only organisation admins (superusers) see this.
          </p>
        </div>
        <button type="button" className="button button-primary" onClick={() => setAdding(true)}>
          Add registry
        </button>
      </div>
      <ErrorNote error={list.error} title="The git registries" />
      {Object.entries(outcomes).map(([id, outcome]) => (
        <SyncNote key={id} outcome={outcome} onDismiss={() => dismiss(id)} />
      ))}
      {list.isPending && <Spinner />}
      {list.data && list.data.length === 0 && (
        <Empty title="No git registries">
          <p>
            Add a git repository of template actions (<code>https://…</code>, <code>ssh://…</code>, <code>git://…</code> or{" "}
            <code>user@host:path</code>), then sync it to load its actions into the registry.
          </p>
        </Empty>
      )}
      {list.data && list.data.length > 0 && (
        <div className="table-scroll">
          <DataTable columns={["Origin", "Ref", "Current version", "Commit", "Last synced", "Last error"]} actions label="Git registries">
            {list.data.map((repo) => (
              <RepoRow
                key={repo.id}
                repo={repo}
                syncing={sync.isPending && sync.variables?.id === repo.id}
                onSync={() => sync.mutate(repo)}
                onVersions={() => setBrowsing(repo)}
                onRemove={remove.ask(repo)}
              />
            ))}
          </DataTable>
        </div>
      )}
      <Dialog title="Add registry" open={adding} onClose={() => setAdding(false)} wide>
        {adding && (
          <AddRepoForm
            onDone={async () => {
              setAdding(false);
              await queries.invalidateQueries({ queryKey: reposKey });
            }}
          />
        )}
      </Dialog>
      <Dialog title={browsing ? `Versions of ${browsing.origin}` : "Versions"} open={!!browsing} onClose={() => setBrowsing(null)} wide>
        {browsing && <Versions repo={list.data?.find((r) => r.id === browsing.id) ?? browsing} />}
      </Dialog>
      <ConfirmDialog {...remove.dialog} title="Remove registry" confirmLabel="Remove registry">
        <p>
          Remove <code>{removing?.origin}</code> with all its versions? Its actions leave the registry; workflows committed against one of
          its versions keep running it. This cannot be undone.
        </p>
      </ConfirmDialog>
    </section>
  );
}

/** One registry; its current version's number and commit come from its versions list. */
function RepoRow({
  repo,
  syncing,
  onSync,
  onVersions,
  onRemove,
}: {
  repo: RegistryRepo;
  syncing: boolean;
  onSync: () => void;
  onVersions: () => void;
  onRemove: () => void;
}) {
  const versions = useQuery({
    queryKey: versionsKey(repo.id),
    queryFn: () => unwrap<RegistryVersion[]>(client.GET("/registry/repos/{repository_id}/versions", { params: { path: { repository_id: repo.id } } })),
    enabled: !!repo.current_version_id,
  });
  const current = repo.current_version_id ? versions.data?.find((v) => v.id === repo.current_version_id) : undefined;
  return (
    <tr>
      <td className="mono">{repo.origin}</td>
      <td className="mono">{repo.git_ref || <span className="muted">default branch</span>}</td>
      <td>
        {!repo.current_version_id ? (
          <span className="muted">not synced</span>
        ) : current ? (
          <>
            {current.version}
            <div className="muted small">
              {current.actions_count} {current.actions_count === 1 ? "action" : "actions"}
            </div>
          </>
        ) : versions.isPending ? (
          <Spinner label="Loading versions" />
        ) : (
          <span className="muted">—</span>
        )}
      </td>
      <td className="mono">{current ? <span title={current.commit_sha}>{shortSha(current.commit_sha)}</span> : <span className="muted">—</span>}</td>
      <td>
        <When at={repo.last_synced_at} />
      </td>
      <td>
        {repo.last_error ? (
          <p className="note note-error small">
            <strong>Last error: </strong>
            {repo.last_error}
          </p>
        ) : (
          <span className="muted">—</span>
        )}
      </td>
      <RowButtons
        buttons={[
          { label: "Sync", name: `Sync registry ${repo.origin}`, onClick: onSync, disabled: syncing },
          { label: "Versions", name: `Versions of registry ${repo.origin}`, onClick: onVersions },
          { label: "Remove", name: `Remove registry ${repo.origin}`, onClick: onRemove, danger: true },
        ]}
      />
    </tr>
  );
}

/** The result of a sync: the version it made, or every template problem as file:line and message. */
function SyncNote({ outcome, onDismiss }: { outcome: SyncOutcome; onDismiss: () => void }) {
  if ("error" in outcome) {
    return (
      <div className="row row-top">
        <div className="grow">
          <ErrorNote error={outcome.error} title={`Sync of ${outcome.origin} failed`} />
        </div>
        <button type="button" className="button button-small" onClick={onDismiss} aria-label={`Dismiss the sync result of ${outcome.origin}`}>
          Dismiss
        </button>
      </div>
    );
  }
  const { version } = outcome;
  return (
    <div className="note note-ok row" role="status">
      <span className="grow">
        <strong>
          Synced version {version.version} (commit {shortSha(version.commit_sha)}): {version.actions_count}{" "}
          {version.actions_count === 1 ? "action" : "actions"}
        </strong>{" "}
        <span className="muted small">from {outcome.origin}</span>
      </span>
      <button type="button" className="button button-small" onClick={onDismiss} aria-label={`Dismiss the sync result of ${outcome.origin}`}>
        Dismiss
      </button>
    </div>
  );
}

/** A registry's versions, newest first; any but the current one can be promoted. */
function Versions({ repo }: { repo: RegistryRepo }) {
  const queries = useQueryClient();
  const versions = useQuery({
    queryKey: versionsKey(repo.id),
    queryFn: () => unwrap<RegistryVersion[]>(client.GET("/registry/repos/{repository_id}/versions", { params: { path: { repository_id: repo.id } } })),
  });
  const promote = useMutation({
    mutationFn: (version: RegistryVersion) =>
      unwrap<RegistryRepo>(
        client.POST("/registry/repos/{repository_id}/versions/{version_id}/promote", {
          params: { path: { repository_id: repo.id, version_id: version.id } },
        }),
      ),
    onSuccess: () => refreshAll(queries),
  });
  return (
    <div className="stack">
      <p className="muted">Workflows keep the versions they were committed against; commit them again to use the current ones.</p>
      <ErrorNote error={versions.error} />
      <ErrorNote error={promote.error} title={`Could not promote version ${promote.variables?.version ?? ""}`.trim()} />
      {promote.isSuccess && promote.variables && (
        <p className="note note-ok" role="status">
          Version {promote.variables.version} (commit {shortSha(promote.variables.commit_sha)}) is now current.
        </p>
      )}
      {versions.isPending && <Spinner />}
      {versions.data && versions.data.length === 0 && (
        <Empty title="No versions yet">
          <p>Sync the registry to make its first version.</p>
        </Empty>
      )}
      {versions.data && versions.data.length > 0 && (
        <div className="table-scroll">
          <DataTable columns={["Version", "Commit", "Actions", "Synced"]} actions label={`Versions of ${repo.origin}`}>
            {versions.data.map((v) => {
              const isCurrent = v.id === repo.current_version_id;
              return (
                <tr key={v.id}>
                  <td>
                    {v.version}
                    {isCurrent && (
                      <>
                        {" "}
                        <span className="badge badge-active">current</span>
                      </>
                    )}
                  </td>
                  <td className="mono">
                    <span title={v.commit_sha}>{shortSha(v.commit_sha)}</span>
                  </td>
                  <td>
                    {v.actions.length > 0 ? (
                      <details>
                        <summary>
                          {v.actions_count} {v.actions_count === 1 ? "action" : "actions"}
                        </summary>
                        {v.actions.map((a) => (
                          <code key={a} className="tag">
                            {a}
                          </code>
                        ))}
                      </details>
                    ) : (
                      <>{v.actions_count} actions</>
                    )}
                  </td>
                  <td>
                    <When at={v.created_at} />
                  </td>
                  <RowButtons
                    buttons={[
                      !isCurrent && {
                        label: "Promote",
                        name: `Promote version ${v.version}`,
                        onClick: () => promote.mutate(v),
                        disabled: promote.isPending,
                      },
                    ]}
                  />
                </tr>
              );
            })}
          </DataTable>
        </div>
      )}
    </div>
  );
}

function AddRepoForm({ onDone }: { onDone: () => Promise<void> }) {
  const [origin, setOrigin] = useState("");
  const [gitRef, setGitRef] = useState("");
  const [keySecret, setKeySecret] = useState("");
  const save = useMutation({
    mutationFn: (body: CreateRepoBody) => unwrap<RegistryRepo>(client.POST("/registry/repos", { body })),
    onSuccess: onDone,
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const body: CreateRepoBody = { origin: origin.trim() };
    const ref = optionalText(gitRef);
    const secret = optionalText(keySecret);
    if (ref) body.git_ref = ref;
    if (secret) body.ssh_key_secret = secret;
    save.mutate(body);
  };
  return (
    <form className="stack" onSubmit={submit}>
      <ErrorNote error={save.error} />
      <Field
        label="Origin"
        hint={
          <>
            <code>https://…</code>, <code>ssh://…</code>, <code>git://…</code> or <code>user@host:path</code>
          </>
        }
      >
        <input
          value={origin}
          onChange={(e) => setOrigin(e.target.value)}
          required
          autoFocus
          spellCheck={false}
          autoComplete="off"
          className="mono"
          placeholder="https://github.com/acme/actions.git"
        />
      </Field>
      <div className="form-grid">
        <Field label="Branch or tag" hint="Optional: the remote's default branch when empty.">
          <input value={gitRef} onChange={(e) => setGitRef(e.target.value)} spellCheck={false} autoComplete="off" placeholder="main" />
        </Field>
        <Field label="Deploy key secret" hint="Optional: the name of an organisation secret whose PRIVATE_KEY is the ssh key.">
          <input value={keySecret} onChange={(e) => setKeySecret(e.target.value)} spellCheck={false} autoComplete="off" placeholder="acme_deploy_key" />
        </Field>
      </div>
      <div className="row form-actions">
        <SubmitButton pending={save.isPending} busy="Adding">
          Save registry
        </SubmitButton>
      </div>
    </form>
  );
}
