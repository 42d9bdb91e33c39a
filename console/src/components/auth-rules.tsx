// The organisation's sign-in rules (superusers only): which sign-in methods are on, whether
// single sign-on is enforced and who may still use a password, which email domains single
// sign-on accepts, and when and with what role it creates accounts.
import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { client, unwrap } from "../api/client";
import { ROLES, type Role } from "../api/types-admin";
import { Check, ErrorNote, Field, Options, Spinner, SubmitButton, When } from "./ui";

/** `GET /settings/auth`, and what `PATCH /settings/auth` answers. */
export interface AuthRules {
  auth_basic_enabled: boolean;
  auth_oidc_enabled: boolean;
  auth_saml_enabled: boolean;
  auth_sso_enforced: boolean;
  auth_break_glass_email: string | null;
  auth_allowed_email_domains: string[];
  auth_jit_provisioning: Provisioning;
  auth_default_role: Role;
  updated_at: string | null;
}

type Provisioning = "off" | "invited" | "allowed_domains";
type Changes = Partial<Omit<AuthRules, "updated_at">>;

const PROVISIONING: readonly (readonly [Provisioning, string])[] = [
  ["off", "Never"],
  ["invited", "For invited addresses"],
  ["allowed_domains", "For the allowed domains"],
];

export const authRulesKey = ["settings", "auth"] as const;

/** The "Sign-in rules" card of the Settings page; mount it for superusers only (others get 403). */
export function AuthRulesSection() {
  const rules = useQuery({ queryKey: authRulesKey, queryFn: () => unwrap<AuthRules>(client.GET("/settings/auth")) });
  return (
    <section className="card stack" aria-labelledby="auth-rules-title">
      <h2 id="auth-rules-title">Sign-in rules</h2>
      <p className="muted">
        How everyone signs in to this ferrocat. Only organisation admins see these; a rule that would lock everyone out is refused.
      </p>
      <ErrorNote error={rules.error} />
      {rules.isPending && <Spinner />}
      {rules.data && <AuthRulesForm rules={rules.data} />}
    </section>
  );
}

/** The domains typed in the field: separated by commas or spaces, blanks dropped. */
function parseDomains(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((d) => d.trim())
    .filter(Boolean);
}

function AuthRulesForm({ rules }: { rules: AuthRules }) {
  const queries = useQueryClient();
  const [basic, setBasic] = useState(rules.auth_basic_enabled);
  const [oidc, setOidc] = useState(rules.auth_oidc_enabled);
  const [saml, setSaml] = useState(rules.auth_saml_enabled);
  const [enforced, setEnforced] = useState(rules.auth_sso_enforced);
  const [breakGlass, setBreakGlass] = useState(rules.auth_break_glass_email ?? "");
  const [domains, setDomains] = useState(rules.auth_allowed_email_domains.join(", "));
  const [provisioning, setProvisioning] = useState<Provisioning>(rules.auth_jit_provisioning);
  const [role, setRole] = useState<Role>(rules.auth_default_role);
  // The rules this form started from, or last saved: only what differs from them is sent, so a
  // save never undoes another admin's change to a field this form did not touch.
  const [base, setBase] = useState(rules);
  const save = useMutation({
    gcTime: 0,
    mutationFn: (changes: Changes) => unwrap<AuthRules>(client.PATCH("/settings/auth", { body: changes })),
    onSuccess: (saved) => {
      queries.setQueryData(authRulesKey, saved);
      setBase(saved);
      // Show what the api kept (domains normalised, say), and compare the next save against it.
      setBreakGlass(saved.auth_break_glass_email ?? "");
      setDomains(saved.auth_allowed_email_domains.join(", "));
    },
  });
  // A change after a save takes the "saved" note away: it no longer describes the form.
  const edited = () => {
    if (save.isSuccess || save.isError) save.reset();
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const wanted: Changes = {
      auth_basic_enabled: basic,
      auth_oidc_enabled: oidc,
      auth_saml_enabled: saml,
      auth_sso_enforced: enforced,
      auth_break_glass_email: breakGlass.trim() || null,
      auth_allowed_email_domains: parseDomains(domains),
      auth_jit_provisioning: provisioning,
      auth_default_role: role,
    };
    const changes = Object.fromEntries(
      Object.entries(wanted).filter(([field, value]) => JSON.stringify(value) !== JSON.stringify(base[field as keyof Changes])),
    ) as Changes;
    save.mutate(changes);
  };
  return (
    <form className="stack" onSubmit={submit}>
      <ErrorNote error={save.error} />
      {save.isSuccess && (
        <p className="note note-ok" role="status">
          Sign-in rules saved.
        </p>
      )}
      <fieldset className="kv">
        <legend className="field-label">Sign-in methods</legend>
        <Check
          label="Password sign-in"
          checked={basic}
          onChange={(v) => {
            edited();
            setBasic(v);
          }}
        />
        <Check
          label="OpenID Connect"
          checked={oidc}
          onChange={(v) => {
            edited();
            setOidc(v);
          }}
        />
        <Check
          label="SAML"
          checked={saml}
          onChange={(v) => {
            edited();
            setSaml(v);
          }}
          hint="Needs the identity provider, configured under SAML single sign-on below."
        />
      </fieldset>
      <Check
        label="Enforce single sign-on"
        checked={enforced}
        onChange={(v) => {
          edited();
          setEnforced(v);
        }}
        hint="Password sign-in is refused to everyone but the break-glass account."
      />
      <div className="form-grid">
        <Field label="Break-glass account" hint="A superuser's email; empty: none">
          <input
            type="email"
            value={breakGlass}
            onChange={(e) => {
              edited();
              setBreakGlass(e.target.value);
            }}
            autoComplete="off"
            spellCheck={false}
            placeholder="admin@example.com"
          />
        </Field>
        <Field label="Allowed email domains" hint="Separated by commas. Single sign-on refuses other addresses; none: any">
          <input
            value={domains}
            onChange={(e) => {
              edited();
              setDomains(e.target.value);
            }}
            autoComplete="off"
            spellCheck={false}
            placeholder="example.com, example.org"
          />
        </Field>
        <Field label="Create accounts on single sign-on">
          <select
            value={provisioning}
            onChange={(e) => {
              edited();
              setProvisioning(e.target.value as Provisioning);
            }}
          >
            <Options of={PROVISIONING} />
          </select>
        </Field>
        <Field label="Role of new accounts">
          <select
            value={role}
            onChange={(e) => {
              edited();
              setRole(e.target.value as Role);
            }}
          >
            <Options of={ROLES} />
          </select>
        </Field>
      </div>
      <div className="row form-actions">
        {base.updated_at && (
          <span className="muted small grow">
            Last changed <When at={base.updated_at} />
          </span>
        )}
        <SubmitButton pending={save.isPending} busy="Saving">
          Save sign-in rules
        </SubmitButton>
      </div>
    </form>
  );
}
