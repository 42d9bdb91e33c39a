// Pieces the case pages share: a tag as a coloured chip, a case's status as a badge, and the
// workspace's members for the assignee pickers (admins can list them; others cannot).
import type { ReactNode } from "react";
import { useQuery } from "@tanstack/react-query";
import { client, unwrap } from "../api/client";
import { can, type Me } from "../api/session";
import type { Membership } from "../api/types-admin";
import { label, type CaseTag } from "../api/types-cases";

/** A tag with its colour as a dot and a border; the text keeps the theme's colours (contrast). */
export function TagChip({ tag, children }: { tag: Pick<CaseTag, "name" | "color" | "ref">; children?: ReactNode }) {
  const color = tag.color && /^#[0-9a-fA-F]{3,8}$/.test(tag.color) ? tag.color : undefined;
  return (
    <span className="case-tag" style={color ? { borderColor: color } : undefined} title={tag.ref}>
      <span className="case-tag-dot" style={color ? { background: color } : undefined} aria-hidden="true" />
      {tag.name}
      {children}
    </span>
  );
}

/** A case enum value as a coloured badge, in the console's words ("In progress"). */
export function CaseBadge({ value }: { value: string }) {
  return <span className={`badge case-badge badge-${value}`}>{label(value)}</span>;
}

/**
 * The workspace's members, for assignee pickers. Only admins may list memberships; for anyone
 * else this is undefined, and pickers offer "Assign to me" instead.
 */
export function useMembers(ws: string, me: Me | undefined) {
  const admin = can(me, ws, "admin");
  const members = useQuery({
    queryKey: ["memberships", ws],
    queryFn: () => unwrap<Membership[]>(client.GET("/workspaces/{workspace_id}/memberships", { params: { path: { workspace_id: ws } } })),
    enabled: admin,
    retry: false,
    staleTime: 60_000,
  });
  return admin && members.data ? members.data : undefined;
}
