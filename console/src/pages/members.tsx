// Who is in the workspace: members and their roles, invitations, and service accounts with
// their API keys. Workspace admins see all of it; organisation admins (superusers) also change
// roles, remove members and add existing accounts. Tokens and keys are shown once, on creation.
import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { client, unwrap } from "../api/client";
import { can, useMe, type Me } from "../api/session";
import type { ApiKey, CreatedApiKey, CreatedInvitation, Invitation, Membership, ServiceAccount, UserRow } from "../api/types-admin";
import { Badge, DataTable, Dialog, Empty, ErrorNote, Field, Options, PageHeader, RowButtons, Spinner, SubmitButton, When } from "../components/ui";
import { ConfirmDialog, RoleSelect, ShownOnce, Tabs, useConfirmed } from "../components/forms";

type Tab = "members" | "invitations" | "service-accounts";

export default function MembersPage({ ws }: { ws: string }) {
  const me = useMe().data;
  const [tab, setTab] = useState<Tab>("members");
  const admin = can(me, ws, "admin");
  return (
    <>
      <PageHeader title="Members" description="People and service accounts in this workspace, and what each may do: viewers read, editors change workflows, secrets and variables, admins manage members." />
      {!admin ? (
        <Empty title="Only workspace admins manage members">
          <p>Ask an admin of this workspace to invite someone, change a role or create an API key.</p>
        </Empty>
      ) : (
        <Tabs<Tab>
          label="Members"
          tabs={[
            ["members", "Members"],
            ["invitations", "Invitations"],
            ["service-accounts", "Service accounts"],
          ]}
          current={tab}
          onChange={setTab}
        >
          {tab === "members" && me && <Members ws={ws} me={me} />}
          {tab === "invitations" && <Invitations ws={ws} />}
          {tab === "service-accounts" && <ServiceAccounts ws={ws} />}
        </Tabs>
      )}
    </>
  );
}

// ---------------------------------------------------------------------------------------------
// Members

function Members({ ws, me }: { ws: string; me: Me }) {
  const queries = useQueryClient();
  const superuser = !!me.is_superuser;
  const key = ["memberships", ws];
  const list = useQuery({
    queryKey: key,
    queryFn: () => unwrap<Membership[]>(client.GET("/workspaces/{workspace_id}/memberships", { params: { path: { workspace_id: ws } } })),
  });
  const [adding, setAdding] = useState(false);
  const setRole = useMutation({
    mutationFn: ({ user_id, role }: { user_id: string; role: string }) =>
      unwrap<Membership>(
        client.PATCH("/workspaces/{workspace_id}/memberships/{user_id}", { params: { path: { workspace_id: ws, user_id } }, body: { role } }),
      ),
    onSettled: () => queries.invalidateQueries({ queryKey: key }),
  });
  const remove = useConfirmed(
    (m: Membership) =>
      unwrap(client.DELETE("/workspaces/{workspace_id}/memberships/{user_id}", { params: { path: { workspace_id: ws, user_id: m.user_id } } })),
    () => queries.invalidateQueries({ queryKey: key }),
  );
  const removing = remove.target;
  return (
    <div className="stack">
      {superuser ? (
        <div className="row">
          <button type="button" className="button button-primary" onClick={() => setAdding(true)}>
            Add existing account
          </button>
        </div>
      ) : (
        <p className="muted">Roles are changed and members removed by an organisation admin (superuser). To add someone, send an invitation.</p>
      )}
      <ErrorNote error={list.error} />
      <ErrorNote error={setRole.error} title="The role was not changed" />
      {list.isPending && <Spinner />}
      {list.data && list.data.length === 0 && (
        <Empty title="No members">
          <p>Invite people from the Invitations tab: they get a link to join with the role you choose.</p>
        </Empty>
      )}
      {list.data && list.data.length > 0 && (
        <DataTable columns={["Email", "Role", "Member since"]} actions={superuser}>
          {list.data.map((m) => (
            <tr key={m.user_id}>
              <td>
                {m.email}
                {m.user_id === me.id && <span className="muted"> (you)</span>}
              </td>
              <td>
                {superuser ? (
                  <RoleSelect
                    label={`Role of ${m.email}`}
                    hideLabel
                    value={m.role}
                    disabled={setRole.isPending}
                    onChange={(role) => setRole.mutate({ user_id: m.user_id, role })}
                  />
                ) : (
                  <span className="tag">{m.role}</span>
                )}
              </td>
              <td>
                <When at={m.created_at} />
              </td>
              {superuser && (
                <RowButtons buttons={[{ label: "Remove", name: `Remove ${m.email}`, onClick: remove.ask(m), danger: true }]} />
              )}
            </tr>
          ))}
        </DataTable>
      )}
      <ConfirmDialog {...remove.dialog} title="Remove member" confirmLabel="Remove member">
        <p>
          Remove <strong>{removing?.email}</strong> from this workspace? They lose access at once; their account stays.
          {removing?.user_id === me.id && <strong> This is you.</strong>}
        </p>
      </ConfirmDialog>
      <Dialog title="Add an existing account" open={adding} onClose={() => setAdding(false)}>
        {adding && (
          <AddMember
            ws={ws}
            members={list.data ?? []}
            onDone={async () => {
              setAdding(false);
              await queries.invalidateQueries({ queryKey: key });
            }}
          />
        )}
      </Dialog>
    </div>
  );
}

function AddMember({ ws, members, onDone }: { ws: string; members: Membership[]; onDone: () => Promise<void> }) {
  const users = useQuery({ queryKey: ["users"], queryFn: () => unwrap<UserRow[]>(client.GET("/users")) });
  const [userId, setUserId] = useState("");
  const [role, setRole] = useState("editor");
  const add = useMutation({
    mutationFn: () =>
      unwrap<Membership>(client.POST("/workspaces/{workspace_id}/memberships", { params: { path: { workspace_id: ws } }, body: { user_id: userId, role } })),
    onSuccess: onDone,
  });
  const candidates = (users.data ?? []).filter((u) => u.is_active && !members.some((m) => m.user_id === u.id));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    add.mutate();
  };
  return (
    <form className="stack" onSubmit={submit}>
      <ErrorNote error={users.error ?? add.error} />
      {users.isPending && <Spinner />}
      {users.data && candidates.length === 0 && <p className="muted">Every active account is already a member. Send an invitation to someone new.</p>}
      {candidates.length > 0 && (
        <>
          <Field label="Account">
            <select value={userId} onChange={(e) => setUserId(e.target.value)} required>
              <option value="">Choose an account…</option>
              <Options of={candidates.map((u) => [u.id, u.email] as const)} />
            </select>
          </Field>
          <RoleSelect label="Role" value={role} onChange={setRole} />
          <div className="row form-actions">
            <SubmitButton pending={add.isPending} busy="Adding" disabled={!userId}>
              Add member
            </SubmitButton>
          </div>
        </>
      )}
    </form>
  );
}

// ---------------------------------------------------------------------------------------------
// Invitations

function Invitations({ ws }: { ws: string }) {
  const queries = useQueryClient();
  const key = ["invitations", ws];
  const list = useQuery({
    queryKey: key,
    queryFn: () => unwrap<Invitation[]>(client.GET("/workspaces/{workspace_id}/invitations", { params: { path: { workspace_id: ws } } })),
  });
  const [email, setEmail] = useState("");
  const [role, setRole] = useState("editor");
  const [days, setDays] = useState("7");
  // The one response that carries the token; dropped when another invitation is made or the tab closes.
  const [created, setCreated] = useState<CreatedInvitation | null>(null);
  const invite = useMutation({
    mutationFn: () =>
      unwrap<CreatedInvitation>(
        client.POST("/workspaces/{workspace_id}/invitations", {
          params: { path: { workspace_id: ws } },
          body: { email: email.trim(), role, expires_in_days: Number(days) || 7 },
        }),
      ),
    gcTime: 0,
    onMutate: () => setCreated(null),
    onSuccess: async (invitation) => {
      setCreated(invitation);
      setEmail("");
      await queries.invalidateQueries({ queryKey: key });
    },
  });
  const revoke = useConfirmed(
    (i: Invitation) =>
      unwrap(
        client.DELETE("/workspaces/{workspace_id}/invitations/{invitation_id}", { params: { path: { workspace_id: ws, invitation_id: i.id } } }),
      ),
    () => queries.invalidateQueries({ queryKey: key }),
  );
  const revoking = revoke.target;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    invite.mutate();
  };
  return (
    <div className="stack">
      <form className="card stack" onSubmit={submit} aria-labelledby="invite-title">
        <h2 id="invite-title">Invite someone</h2>
        <ErrorNote error={invite.error} />
        <div className="form-grid">
          <Field label="Email">
            <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} required autoComplete="off" />
          </Field>
          <RoleSelect label="Role" value={role} onChange={setRole} />
          <Field label="Expires after (days)" hint="1 to 30">
            <input type="number" min={1} max={30} value={days} onChange={(e) => setDays(e.target.value)} required />
          </Field>
        </div>
        <div className="row">
          <SubmitButton pending={invite.isPending} busy="Inviting">
            Create invitation
          </SubmitButton>
        </div>
        {created && (
          <ShownOnce label="Invitation link" value={created.accept_url}>
            Send it to <strong>{created.email}</strong> yourself (ferrocat sends no email). It joins them as {created.role} until{" "}
            {new Date(created.expires_at).toLocaleString()}; anyone holding it can accept it.
          </ShownOnce>
        )}
        {created && (
          <details>
            <summary>The bare token (for the api's POST /invitations/accept)</summary>
            <ShownOnce label="Invitation token" value={created.token} />
          </details>
        )}
      </form>
      <ErrorNote error={list.error} />
      {list.isPending && <Spinner />}
      {list.data && list.data.length === 0 && (
        <Empty title="No invitations yet">
          <p>An invitation is a one-time link that lets someone join this workspace with the role you chose, creating an account if they have none.</p>
        </Empty>
      )}
      {list.data && list.data.length > 0 && (
        <DataTable columns={["Email", "Role", "Status", "Sent", "Expires"]} actions>
          {list.data.map((i) => (
            <tr key={i.id}>
              <td>{i.email}</td>
              <td>{i.role}</td>
              <td>
                <Badge status={i.status} />
              </td>
              <td>
                <When at={i.created_at} />
              </td>
              <td>
                <When at={i.expires_at} />
              </td>
              <RowButtons
                buttons={[
                  i.status === "pending" && {
                    label: "Revoke",
                    name: `Revoke the invitation of ${i.email}`,
                    onClick: revoke.ask(i),
                    danger: true,
                  },
                ]}
              />
            </tr>
          ))}
        </DataTable>
      )}
      <ConfirmDialog {...revoke.dialog} title="Revoke invitation" confirmLabel="Revoke invitation">
        <p>
          Revoke the invitation of <strong>{revoking?.email}</strong>? Its link stops working at once.
        </p>
      </ConfirmDialog>
    </div>
  );
}

// ---------------------------------------------------------------------------------------------
// Service accounts

function ServiceAccounts({ ws }: { ws: string }) {
  const queries = useQueryClient();
  const key = ["service-accounts", ws];
  const list = useQuery({
    queryKey: key,
    queryFn: () =>
      unwrap<ServiceAccount[]>(client.GET("/workspaces/{workspace_id}/service-accounts", { params: { path: { workspace_id: ws } } })),
  });
  const [creating, setCreating] = useState(false);
  const [keysOf, setKeysOf] = useState<ServiceAccount | null>(null);
  // Enabling acts at once; disabling asks first.
  const toggle = useConfirmed(
    (a: ServiceAccount) =>
      a.disabled
        ? unwrap<ServiceAccount>(
            client.POST("/workspaces/{workspace_id}/service-accounts/{account_id}/enable", { params: { path: { workspace_id: ws, account_id: a.id } } }),
          )
        : unwrap<ServiceAccount>(
            client.POST("/workspaces/{workspace_id}/service-accounts/{account_id}/disable", { params: { path: { workspace_id: ws, account_id: a.id } } }),
          ),
    () => queries.invalidateQueries({ queryKey: key }),
  );
  const disabling = toggle.target;
  return (
    <div className="stack">
      <div className="row">
        <button type="button" className="button button-primary" onClick={() => setCreating(true)}>
          New service account
        </button>
      </div>
      <ErrorNote error={list.error} />
      {!disabling && <ErrorNote error={toggle.mutation.error} />}
      {list.isPending && <Spinner />}
      {list.data && list.data.length === 0 && (
        <Empty title="No service accounts yet">
          <p>
            A service account is how scripts, CI and other systems call ferrocat's api: create one with the least role it needs, then give
            it an API key (sent as <code>Authorization: Bearer …</code>). Disable it to stop every key at once.
          </p>
        </Empty>
      )}
      {list.data && list.data.length > 0 && (
        <DataTable columns={["Name", "Role", "Status", "Created"]} actions>
          {list.data.map((a) => (
            <tr key={a.id}>
              <td>
                <strong>{a.name}</strong>
                {a.description && <div className="muted small">{a.description}</div>}
              </td>
              <td>{a.role}</td>
              <td>{a.disabled ? <Badge status="disabled" /> : <Badge status="active" />}</td>
              <td>
                <When at={a.created_at} />
              </td>
              <RowButtons
                buttons={[
                  { label: "API keys", name: `API keys of ${a.name}`, onClick: () => setKeysOf(a) },
                  a.disabled
                    ? { label: "Enable", name: `Enable ${a.name}`, onClick: () => toggle.mutation.mutate(a), disabled: toggle.mutation.isPending }
                    : { label: "Disable", name: `Disable ${a.name}`, onClick: toggle.ask(a), danger: true },
                ]}
              />
            </tr>
          ))}
        </DataTable>
      )}
      <Dialog title="New service account" open={creating} onClose={() => setCreating(false)}>
        {creating && (
          <CreateAccount
            ws={ws}
            onDone={async (account) => {
              setCreating(false);
              await queries.invalidateQueries({ queryKey: key });
              setKeysOf(account);
            }}
          />
        )}
      </Dialog>
      <Dialog title={keysOf ? `API keys of ${keysOf.name}` : "API keys"} open={!!keysOf} onClose={() => setKeysOf(null)} wide>
        {keysOf && <ApiKeys ws={ws} account={keysOf} />}
      </Dialog>
      <ConfirmDialog {...toggle.dialog} title="Disable service account" confirmLabel="Disable">
        <p>
          Disable <strong>{disabling?.name}</strong>? Every one of its API keys stops working until it is enabled again.
        </p>
      </ConfirmDialog>
    </div>
  );
}

function CreateAccount({ ws, onDone }: { ws: string; onDone: (account: ServiceAccount) => Promise<void> }) {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [role, setRole] = useState("viewer");
  const create = useMutation({
    mutationFn: () =>
      unwrap<ServiceAccount>(
        client.POST("/workspaces/{workspace_id}/service-accounts", { params: { path: { workspace_id: ws } }, body: { name: name.trim(), description, role } }),
      ),
    onSuccess: onDone,
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  return (
    <form className="stack" onSubmit={submit}>
      <ErrorNote error={create.error} />
      <Field label="Name">
        <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} autoFocus autoComplete="off" />
      </Field>
      <Field label="Description">
        <input value={description} onChange={(e) => setDescription(e.target.value)} autoComplete="off" placeholder="What uses it, who owns it" />
      </Field>
      <RoleSelect label="Role" value={role} onChange={setRole} />
      <p className="field-hint">Give it the least role it needs: viewer to read, editor to run and change workflows.</p>
      <div className="row form-actions">
        <SubmitButton pending={create.isPending} busy="Creating">
          Create service account
        </SubmitButton>
      </div>
    </form>
  );
}

function ApiKeys({ ws, account }: { ws: string; account: ServiceAccount }) {
  const queries = useQueryClient();
  const key = ["api-keys", ws, account.id];
  const path = { workspace_id: ws, account_id: account.id };
  const list = useQuery({
    queryKey: key,
    queryFn: () => unwrap<ApiKey[]>(client.GET("/workspaces/{workspace_id}/service-accounts/{account_id}/api-keys", { params: { path } })),
  });
  const [name, setName] = useState("");
  // The new key lives only in this dialog's state: closing it forgets the key.
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  const create = useMutation({
    mutationFn: () =>
      unwrap<CreatedApiKey>(
        client.POST("/workspaces/{workspace_id}/service-accounts/{account_id}/api-keys", { params: { path }, body: { name: name.trim() || "default" } }),
      ),
    // The response holds the key: drop it from the cache once the dialog is gone.
    gcTime: 0,
    onMutate: () => setCreated(null),
    onSuccess: async (k) => {
      setCreated(k);
      setName("");
      await queries.invalidateQueries({ queryKey: key });
    },
  });
  const revoke = useConfirmed(
    (k: ApiKey) =>
      unwrap(
        client.POST("/workspaces/{workspace_id}/service-accounts/{account_id}/api-keys/{key_id}/revoke", { params: { path: { ...path, key_id: k.id } } }),
      ),
    () => queries.invalidateQueries({ queryKey: key }),
  );
  const revoking = revoke.target;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  return (
    <div className="stack">
      <p className="muted">
        Role <strong>{account.role}</strong>
        {account.disabled && " · disabled: its keys do not work and no new key can be made"}
      </p>
      {!account.disabled && (
        <form className="row row-bottom" onSubmit={submit}>
          <Field label="Key name" hint="Where it is used, e.g. ci or siem">
            <input value={name} onChange={(e) => setName(e.target.value)} maxLength={100} placeholder="default" autoComplete="off" />
          </Field>
          <SubmitButton pending={create.isPending} busy="Creating">
            Create API key
          </SubmitButton>
        </form>
      )}
      <ErrorNote error={create.error} />
      {created && (
        <ShownOnce label="API key" value={created.key}>
          Store it in your secret manager. Send it as <code>Authorization: Bearer &lt;key&gt;</code>.
        </ShownOnce>
      )}
      <ErrorNote error={list.error} />
      {list.isPending && <Spinner />}
      {list.data && list.data.length === 0 && <p className="muted">No keys yet: create one above.</p>}
      {list.data && list.data.length > 0 && (
        <DataTable columns={["Name", "Key", "Created", "Last used", "Status"]} actions>
          {list.data.map((k) => (
            <tr key={k.id}>
              <td>{k.name}</td>
              <td className="mono">{k.preview}</td>
              <td>
                <When at={k.created_at} />
              </td>
              <td>
                <When at={k.last_used_at} />
              </td>
              <td>{k.revoked ? <Badge status="revoked" /> : <Badge status="active" />}</td>
              <RowButtons
                buttons={[!k.revoked && { label: "Revoke", name: `Revoke key ${k.name}`, onClick: revoke.ask(k), danger: true }]}
              />
            </tr>
          ))}
        </DataTable>
      )}
      {revoking && (
        <div className="note note-error" role="alertdialog" aria-labelledby="revoke-key-title">
          <p id="revoke-key-title">
            Revoke <strong>{revoking.name}</strong> (<code>{revoking.preview}</code>)? Whatever uses it is refused from now on. This cannot be undone.
          </p>
          <ErrorNote error={revoke.mutation.error} />
          <div className="row">
            <button type="button" className="button" onClick={revoke.close}>
              Cancel
            </button>
            <button type="button" className="button button-danger" onClick={revoke.dialog.onConfirm} disabled={revoke.mutation.isPending} autoFocus>
              {revoke.mutation.isPending ? <Spinner label="Revoking" /> : "Revoke key"}
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
