// SAML single sign-on settings: the shapes of `GET`/`PATCH /settings/saml` (the api's OpenAPI
// document gives their answer as free JSON, so the calls go through `raw` with these types)
// and the query key the Settings page uses.
import { raw } from "./client";

/** `GET /settings/saml`, and what `PATCH /settings/saml` answers. */
export interface SamlSettings {
  saml_enabled: boolean;
  saml_enforced: boolean;
  saml_idp_metadata_url: string | null;
  saml_idp_configured: boolean;
  saml_idp_entity_id: string | null;
  saml_idp_sso_url: string | null;
  /** The label of the sign-in page's button. */
  saml_idp_name: string;
  saml_sp_entity_id: string;
  saml_sp_acs_url: string;
  saml_sp_metadata_url: string;
  /** Where the identity provider posts back when an AI assistant (MCP) signs in. */
  saml_mcp_acs_url: string;
  updated_at: string | null;
}

/** What `PATCH /settings/saml` takes: any of these; `saml_idp_metadata` is the IdP's metadata XML. */
export interface SamlChanges {
  saml_enabled?: boolean;
  saml_enforced?: boolean;
  saml_idp_metadata_url?: string | null;
  saml_idp_metadata?: string;
  saml_idp_name?: string;
}

export const samlKey = ["settings", "saml"] as const;

export const getSaml = () => raw<SamlSettings>("/settings/saml", { method: "GET" });

export const patchSaml = (changes: SamlChanges) =>
  raw<SamlSettings>("/settings/saml", { method: "PATCH", headers: { "content-type": "application/json" }, body: JSON.stringify(changes) });
