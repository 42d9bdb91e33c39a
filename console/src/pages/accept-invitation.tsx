// Accepting an invitation: the link an admin sends, `/invitations/accept#token=…`, opens this
// page outside the sign-in gate. The api cannot read an invitation by its token, so the page
// says what was joined only once it is accepted. An invitee without an account chooses a
// password; one with an account gives its password, or accepts while signed in as it. Accepting
// sets no session, so a password accept signs in with it afterwards.
import { useEffect, useState, type FormEvent } from "react";
import { ApiError, client, raw, unwrap } from "../api/client";
import { useMe } from "../api/session";
import type { components } from "../api/schema";
import { Link } from "../router";
import { ErrorNote, Field, SubmitButton } from "../components/ui";
import { SignInCard } from "./sign-in";

export type AcceptedInvitation = components["schemas"]["AcceptedInvitation"];

type Mode = "new" | "existing" | "session";

/** The token from the link's fragment (never sent to a server, so never in access logs). */
function tokenFromHash(): string {
  return new URLSearchParams(window.location.hash.slice(1)).get("token")?.trim() ?? "";
}

export function AcceptInvitation({ onAccepted }: { onAccepted: (accepted: AcceptedInvitation) => Promise<void> }) {
  // Held in memory only: never rendered, never logged.
  const [token] = useState(tokenFromHash);
  const me = useMe().data;
  const [mode, setMode] = useState<Mode>("new");
  const [password, setPassword] = useState("");
  const [again, setAgain] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  // Joined, but signing in afterwards failed: say so rather than leave them guessing.
  const [joined, setJoined] = useState<AcceptedInvitation | null>(null);

  // Out of the address bar, history and screenshots once read.
  useEffect(() => {
    if (window.location.hash) window.history.replaceState(null, "", window.location.pathname + window.location.search);
  }, []);
  // Signed in already: accepting as that account needs no password.
  useEffect(() => {
    if (me) setMode((m) => (m === "new" ? "session" : m));
  }, [me]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (mode === "new" && password !== again) {
      setError(new Error("The passwords differ."));
      return;
    }
    const secret = mode === "session" ? undefined : password;
    setBusy(true);
    setError(null);
    let accepted: AcceptedInvitation;
    try {
      accepted = await unwrap<AcceptedInvitation>(client.POST("/invitations/accept", { body: { token, password: secret } }));
    } catch (e) {
      setPassword("");
      setAgain("");
      // The api's answer says which form fits: 401, the address has an account and its password
      // is wanted; 422 while signed in, the address has none and needs a new password.
      if (e instanceof ApiError && e.status === 401 && mode !== "existing") setMode("existing");
      if (e instanceof ApiError && e.status === 422 && mode === "session") setMode("new");
      setError(e);
      setBusy(false);
      return;
    }
    try {
      if (secret !== undefined) {
        await raw("/auth/login", { method: "POST", body: new URLSearchParams({ username: accepted.email, password: secret }) });
      }
      setPassword("");
      setAgain("");
      await onAccepted(accepted);
    } catch (e) {
      setJoined(accepted);
      setError(e);
      setBusy(false);
    }
  };

  return (
    <SignInCard title="Accept invitation" onSubmit={submit}>
      {!token ? (
        <p className="note note-error" role="alert">
          This link holds no invitation. Open the link from your invitation again, or ask the admin who invited you for a new one.
        </p>
      ) : joined ? (
        <>
          <p className="note note-ok" role="status">
            You joined the workspace as {joined.role} with {joined.email}, but signing in failed.
          </p>
          <ErrorNote error={error} />
          <p>
            <Link to="/">Sign in</Link>
          </p>
        </>
      ) : (
        <>
          <p className="muted">You have been invited to a ferrocat workspace. Accepting it adds you with the role the admin chose.</p>
          <ErrorNote error={error} />
          <fieldset className="kv">
            <legend className="field-label">Your account</legend>
            {me && (
              <label className="check">
                <input type="radio" name="mode" checked={mode === "session"} onChange={() => setMode("session")} />
                <span>Accept as {me.email ?? me.name}, signed in now</span>
              </label>
            )}
            <label className="check">
              <input type="radio" name="mode" checked={mode === "new"} onChange={() => setMode("new")} />
              <span>I am new to ferrocat: create my account</span>
            </label>
            <label className="check">
              <input type="radio" name="mode" checked={mode === "existing"} onChange={() => setMode("existing")} />
              <span>I have an account for the invited address</span>
            </label>
          </fieldset>
          {mode === "new" && (
            <>
              <Field label="Choose a password" hint="For the invited address; the api says if it is too short or too common.">
                <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="new-password" required autoFocus />
              </Field>
              <Field label="Password, again">
                <input type="password" value={again} onChange={(e) => setAgain(e.target.value)} autoComplete="new-password" required />
              </Field>
            </>
          )}
          {mode === "existing" && (
            <Field label="Password" hint="The password of your account for the invited address.">
              <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="current-password" required autoFocus />
            </Field>
          )}
          <SubmitButton pending={busy} busy="Accepting">
            Accept invitation
          </SubmitButton>
        </>
      )}
    </SignInCard>
  );
}
