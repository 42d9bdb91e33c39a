// Sign in with a password; single sign-on buttons appear when the api offers them.
import { useId, useState, type FormEvent, type ReactNode } from "react";
import { ApiError, raw } from "../api/client";
import { useInfo, type Info } from "../api/session";
import { ErrorNote, Field, SubmitButton } from "../components/ui";

/** Where single sign-on starts, to come back to the page it started from. */
const back = () => encodeURIComponent(window.location.pathname + window.location.search);
const SSO: Record<string, (info: Info | undefined) => { label: string; href: string }> = {
  oidc: (info) => ({ label: `Sign in with ${info?.oidc_name || "OpenID Connect"}`, href: `/api/auth/oidc/login?return_to=${back()}` }),
  saml: (info) => ({ label: `Sign in with ${info?.saml_name || "SAML"}`, href: `/api/auth/saml/login?return_to=${back()}` }),
};

/** Why single sign-on did not sign the user in, as the api's callback said (a cookie only this
 * site sets, read once). */
function ssoError(): Error | null {
  const found = document.cookie.split("; ").find((c) => c.startsWith("ferrocat_sso_error="));
  if (!found) return null;
  document.cookie = "ferrocat_sso_error=; path=/; max-age=0";
  const message = decodeURIComponent(found.slice("ferrocat_sso_error=".length));
  return message ? new Error(message) : null;
}

export function SignIn({ expired, onSignedIn }: { expired: boolean; onSignedIn: () => Promise<void> }) {
  const info = useInfo();
  const [error, setError] = useState<unknown>(ssoError);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      await raw("/auth/login", { method: "POST", body: new URLSearchParams(form as unknown as Record<string, string>) });
      await onSignedIn();
    } catch (e) {
      setError(e instanceof ApiError && e.detail === "LOGIN_BAD_CREDENTIALS" ? new Error("Wrong email or password.") : e);
    } finally {
      setBusy(false);
    }
  };
  const sso = (info.data?.auth_allowed_types ?? []).filter((t) => t in SSO);
  return (
    <SignInCard title="Sign in" onSubmit={submit}>
      {expired && <p className="note">Your session has ended. Sign in again to go on where you were.</p>}
      <ErrorNote error={error} />
      <Field label="Email">
        <input name="username" type="email" autoComplete="username" required autoFocus />
      </Field>
      <Field label="Password">
        <input name="password" type="password" autoComplete="current-password" required />
      </Field>
      <SubmitButton pending={busy} busy="Signing in">
        Sign in
      </SubmitButton>
      {sso.map((t) => {
        const { label, href } = SSO[t](info.data);
        return (
          <a key={t} className="button" href={href}>
            {label}
          </a>
        );
      })}
      {info.data && <p className="muted small">ferrocat {info.data.version}</p>}
    </SignInCard>
  );
}

/** The lone card of the pages outside the sign-in gate: the brand, a title, a form. */
export function SignInCard({ title, onSubmit, children }: { title: string; onSubmit: (event: FormEvent<HTMLFormElement>) => void; children: ReactNode }) {
  const titleId = useId();
  return (
    <main className="sign-in">
      <form className="card sign-in-card" onSubmit={onSubmit} aria-labelledby={titleId}>
        <div className="brand">
          <img src="/favicon.svg" alt="" width={28} height={28} />
          <span>ferrocat</span>
        </div>
        <h1 id={titleId}>{title}</h1>
        {children}
      </form>
    </main>
  );
}
