// Who is signed in, and in which workspaces.
import { useQuery } from "@tanstack/react-query";
import { client, unwrap } from "./client";

export interface WorkspaceRef {
  id: string;
  name?: string;
  role: string;
}

export interface Me {
  id: string;
  type: "user" | "service_account";
  email?: string;
  name?: string;
  is_superuser?: boolean;
  workspaces: WorkspaceRef[];
}

export interface Info {
  version: string;
  public_app_url: string;
  public_api_url: string;
  auth_allowed_types: string[];
  saml_enabled: boolean;
  /** The OpenID Connect provider's name, when single sign-on is configured. */
  oidc_name?: string | null;
  /** The label of the SAML sign-in button, when SAML sign-in is on. */
  saml_name?: string | null;
}

export const meKey = ["me"] as const;

export function useMe() {
  return useQuery({ queryKey: meKey, queryFn: () => unwrap<Me>(client.GET("/users/me")), retry: false, staleTime: 60_000 });
}

export function useInfo() {
  return useQuery({ queryKey: ["info"], queryFn: () => unwrap<Info>(client.GET("/info")), staleTime: Infinity });
}

/** Roles in increasing power, as the api orders them. */
const ROLES = ["viewer", "editor", "admin"];

/** Whether the caller's role in `ws` is at least `role` (superusers always are). */
export function can(me: Me | undefined, ws: string, role: "viewer" | "editor" | "admin"): boolean {
  if (!me) return false;
  if (me.is_superuser) return true;
  const mine = me.workspaces.find((w) => w.id === ws)?.role ?? "";
  return ROLES.indexOf(mine) >= ROLES.indexOf(role);
}
