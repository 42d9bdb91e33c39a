// The organisation's SAML single sign-on (superusers only): what to register at the identity
// provider, which identity provider ferrocat trusts (its metadata, by URL or pasted), and whether
// SAML sign-in is on and enforced.
import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { getSaml, patchSaml, samlKey, type SamlChanges, type SamlSettings } from "../api/saml";
import { authRulesKey } from "./auth-rules";
import { Check, CopyButton, ErrorNote, Field, Spinner, SubmitButton, When } from "./ui";

/** The "SAML single sign-on" card of the Settings page; mount it for superusers only (others get 403). */
export function SamlSection() {
  const saml = useQuery({ queryKey: samlKey, queryFn: getSaml });
  return (
    <section className="card stack" aria-labelledby="saml-title">
      <h2 id="saml-title">SAML single sign-on</h2>
      <p className="muted">
        Sign in through your organisation's identity provider (Okta, Microsoft Entra ID, Google Workspace…). Only organisation admins see
        these.
      </p>
      <ErrorNote error={saml.error} />
      {saml.isPending && <Spinner />}
      {saml.data && (
        <>
          <ServiceProvider saml={saml.data} />
          <IdentityProviderForm saml={saml.data} />
          <SamlRulesForm saml={saml.data} />
        </>
      )}
    </section>
  );
}

/** A save of these settings: the answer replaces the cached one, and everything that shows
 * sign-in settings (the sign-in rules, the sign-in page's `/info`) is fetched again. */
function useSave(onSaved: (saved: SamlSettings) => void) {
  const queries = useQueryClient();
  return useMutation({
    gcTime: 0,
    mutationFn: (changes: SamlChanges) => patchSaml(changes),
    onSuccess: (saved) => {
      queries.setQueryData(samlKey, saved);
      onSaved(saved);
      void queries.invalidateQueries({ queryKey: samlKey });
      void queries.invalidateQueries({ queryKey: authRulesKey });
      void queries.invalidateQueries({ queryKey: ["info"] });
    },
  });
}

/** One fact to copy into the identity provider's setup. */
function Fact({ name, value }: { name: string; value: string }) {
  return (
    <div>
      <dt>{name}</dt>
      <dd>
        <code className="mono" data-copy={value}>
          {value}
        </code>{" "}
        <CopyButton text={value} label={`Copy ${name}`} />
      </dd>
    </div>
  );
}

function ServiceProvider({ saml }: { saml: SamlSettings }) {
  return (
    <div className="stack">
      <h3>For your identity provider</h3>
      <p className="muted small">
        Register ferrocat as a SAML application with these, or give the identity provider the{" "}
        <a href={saml.saml_sp_metadata_url} target="_blank" rel="noreferrer">
          SP metadata
        </a>
        .
      </p>
      <dl className="kv-list">
        <Fact name="Entity ID" value={saml.saml_sp_entity_id} />
        <Fact name="ACS URL for the console" value={saml.saml_sp_acs_url} />
        <Fact name="ACS URL for IDE sign-in" value={saml.saml_mcp_acs_url} />
      </dl>
    </div>
  );
}

function IdentityProviderForm({ saml }: { saml: SamlSettings }) {
  const [url, setUrl] = useState(saml.saml_idp_metadata_url ?? "");
  const [xml, setXml] = useState("");
  const [label, setLabel] = useState(saml.saml_idp_name);
  const save = useSave((saved) => {
    // Show what the api kept; the pasted XML is in it now, so the field empties.
    setUrl(saved.saml_idp_metadata_url ?? "");
    setXml("");
    setLabel(saved.saml_idp_name);
  });
  // A change after a save takes the "saved" note away: it no longer describes the form.
  const edited = () => {
    if (save.isSuccess || save.isError) save.reset();
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    // Only what was filled in: the URL when given, else the pasted XML; the label always.
    const changes: SamlChanges = { saml_idp_name: label.trim() };
    if (url.trim()) changes.saml_idp_metadata_url = url.trim();
    else if (xml.trim()) changes.saml_idp_metadata = xml;
    save.mutate(changes);
  };
  return (
    <form className="stack" onSubmit={submit}>
      <h3>Identity provider</h3>
      <p role="status">
        {saml.saml_idp_configured
          ? `Configured: ${saml.saml_idp_entity_id ?? "no entity ID"}, signs in at ${saml.saml_idp_sso_url ?? "no sign-in URL"}`
          : "Not configured yet"}
      </p>
      <ErrorNote error={save.error} />
      {save.isSuccess && (
        <p className="note note-ok" role="status">
          Identity provider saved.
        </p>
      )}
      <div className="form-grid">
        <Field label="IdP metadata URL" hint="Where the identity provider publishes its metadata; ferrocat reads it now">
          <input
            type="url"
            value={url}
            onChange={(e) => {
              edited();
              setUrl(e.target.value);
            }}
            autoComplete="off"
            spellCheck={false}
            placeholder="https://idp.example.com/saml/metadata"
          />
        </Field>
        <Field label="Button label" hint={'The sign-in page shows "Sign in with" this'}>
          <input
            value={label}
            onChange={(e) => {
              edited();
              setLabel(e.target.value);
            }}
            autoComplete="off"
            placeholder="Okta"
          />
        </Field>
      </div>
      <Field label="IdP metadata XML" hint="Or paste the metadata XML here instead of a URL; used when the URL is empty">
        <textarea
          className="mono"
          rows={6}
          value={xml}
          onChange={(e) => {
            edited();
            setXml(e.target.value);
          }}
          spellCheck={false}
          placeholder={'<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" …>'}
        />
      </Field>
      <div className="row form-actions">
        <SubmitButton pending={save.isPending} busy="Saving">
          Save identity provider
        </SubmitButton>
      </div>
    </form>
  );
}

type Rules = Pick<SamlSettings, "saml_enabled" | "saml_enforced">;

function SamlRulesForm({ saml }: { saml: SamlSettings }) {
  const [enabled, setEnabled] = useState(saml.saml_enabled);
  const [enforced, setEnforced] = useState(saml.saml_enforced);
  // The rules this form started from, or last saved: only what differs from them is sent.
  const [base, setBase] = useState<Rules & { updated_at: string | null }>(saml);
  const save = useSave((saved) => {
    setBase(saved);
    setEnabled(saved.saml_enabled);
    setEnforced(saved.saml_enforced);
  });
  const edited = () => {
    if (save.isSuccess || save.isError) save.reset();
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const changes: SamlChanges = {};
    if (enabled !== base.saml_enabled) changes.saml_enabled = enabled;
    if (enforced !== base.saml_enforced) changes.saml_enforced = enforced;
    save.mutate(changes);
  };
  return (
    <form className="stack" onSubmit={submit}>
      <h3>SAML rules</h3>
      <ErrorNote error={save.error} />
      {save.isSuccess && (
        <p className="note note-ok" role="status">
          SAML rules saved.
        </p>
      )}
      <Check
        label="Allow SAML sign-in"
        checked={enabled}
        disabled={!saml.saml_idp_configured}
        onChange={(v) => {
          edited();
          setEnabled(v);
        }}
        hint={
          saml.saml_idp_configured ? `The sign-in page offers "Sign in with ${saml.saml_idp_name || "SAML"}".` : "Configure the identity provider first."
        }
      />
      <Check
        label="Enforce single sign-on"
        checked={enforced}
        onChange={(v) => {
          edited();
          setEnforced(v);
        }}
        hint="Password sign-in is refused to everyone but the break-glass account of the sign-in rules."
      />
      <div className="row form-actions">
        {base.updated_at && (
          <span className="muted small grow">
            Last changed <When at={base.updated_at} />
          </span>
        )}
        <SubmitButton pending={save.isPending} busy="Saving">
          Save SAML rules
        </SubmitButton>
      </div>
    </form>
  );
}
