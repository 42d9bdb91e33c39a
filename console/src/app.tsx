// The console's frame: sign-in gate, navigation, workspace switcher, theme, and the page for
// the current URL. Heavy pages (the editor, run detail) load on demand so the first load
// stays small.
import { Component, lazy, Suspense, useEffect, useState, type ErrorInfo, type ReactNode } from "react";
import { useIsFetching, useIsMutating, useQueryClient } from "@tanstack/react-query";
import { client, onSessionExpired, unwrap } from "./api/client";
import { useMe, type Me } from "./api/session";
import { Link, match, navigate, useLocation } from "./router";
import { applyTheme, initialTheme, type Theme } from "./theme";
import { ErrorNote, Options, Spinner } from "./components/ui";
import { SignIn } from "./pages/sign-in";
import { AcceptInvitation } from "./pages/accept-invitation";
import { WorkflowsPage } from "./pages/workflows";
import { RunsPage } from "./pages/runs";

const EditorPage = lazy(() => import("./pages/editor"));
const RunPage = lazy(() => import("./pages/run"));
const SecretsPage = lazy(() => import("./pages/secrets"));
const VariablesPage = lazy(() => import("./pages/variables"));
const IntegrationsPage = lazy(() => import("./pages/integrations"));
const RegistryPage = lazy(() => import("./pages/registry"));
const ModelsPage = lazy(() => import("./pages/models"));
const MembersPage = lazy(() => import("./pages/members"));
const SettingsPage = lazy(() => import("./pages/settings"));
const CasesPage = lazy(() => import("./pages/cases"));
const CasePage = lazy(() => import("./pages/case"));
const CaseSettingsPage = lazy(() => import("./pages/case-settings"));
const TablesPage = lazy(() => import("./pages/tables"));
const TablePage = lazy(() => import("./pages/table"));

type Page = (params: Record<string, string>) => ReactNode;

/** Every page of a workspace, by URL pattern under `/workspaces/:ws`. */
const PAGES: [string, string, Page][] = [
  ["workflows", "Workflows", (p) => <WorkflowsPage ws={p.ws} />],
  ["workflows/:wf", "", (p) => <EditorPage ws={p.ws} wf={p.wf} />],
  ["runs", "Runs", (p) => <RunsPage ws={p.ws} />],
  ["runs/*", "", (p) => <RunPage ws={p.ws} exec={p["*"]} />],
  ["cases", "Cases", (p) => <CasesPage ws={p.ws} />],
  // Before "cases/:case": the first pattern that matches wins.
  ["cases/settings", "", (p) => <CaseSettingsPage ws={p.ws} />],
  ["cases/:case", "", (p) => <CasePage ws={p.ws} id={p.case} />],
  ["tables", "Tables", (p) => <TablesPage ws={p.ws} />],
  ["tables/:table", "", (p) => <TablePage ws={p.ws} id={p.table} />],
  ["secrets", "Secrets", (p) => <SecretsPage ws={p.ws} />],
  ["variables", "Variables", (p) => <VariablesPage ws={p.ws} />],
  ["integrations", "Integrations", (p) => <IntegrationsPage ws={p.ws} />],
  ["registry", "Registry", (p) => <RegistryPage ws={p.ws} />],
  ["models", "AI models", (p) => <ModelsPage ws={p.ws} />],
  ["members", "Members", (p) => <MembersPage ws={p.ws} />],
  ["settings", "Settings", (p) => <SettingsPage ws={p.ws} />],
];

export function App() {
  const me = useMe();
  const queries = useQueryClient();
  const [expired, setExpired] = useState(false);
  const [theme, setTheme] = useState<Theme>(initialTheme);
  useEffect(() => applyTheme(theme), [theme]);
  const { path } = useLocation();
  // An invitation link opens outside the gate: for someone with no account yet, or signed in
  // as another one (whose 401 there is a wrong account, not an ended session).
  const accepting = !!match("/invitations/accept", path);
  // A 401 on any call once signed in: the session ended (expired, or signed out elsewhere).
  // Sign-in then shows over the page, and the page carries on where it was.
  const signedIn = !!me.data;
  useEffect(() => onSessionExpired(() => signedIn && !accepting && setExpired(true)), [signedIn, accepting]);

  if (accepting) {
    return (
      <AcceptInvitation
        onAccepted={async (accepted) => {
          setExpired(false);
          await queries.invalidateQueries();
          navigate(`/workspaces/${accepted.workspace_id}/workflows`, { replace: true });
        }}
      />
    );
  }
  if (me.isPending) return <div className="center"><Spinner /></div>;
  if (!me.data || expired) {
    return (
      <SignIn
        expired={expired}
        onSignedIn={async () => {
          setExpired(false);
          await queries.invalidateQueries();
          if (path === "/login" || path === "/") navigate("/", { replace: true });
        }}
      />
    );
  }
  return <Shell me={me.data} path={path} theme={theme} setTheme={setTheme} />;
}

function Shell({ me, path, theme, setTheme }: { me: Me; path: string; theme: Theme; setTheme: (t: Theme) => void }) {
  const queries = useQueryClient();
  const ws = match("/workspaces/:ws/*", path)?.ws;
  const first = me.workspaces[0]?.id;
  useEffect(() => {
    if (!ws && first) navigate(`/workspaces/${first}/workflows`, { replace: true });
  }, [ws, first]);
  if (!first && !ws) {
    return (
      <main className="center">
        <ErrorNote error={new Error("You are not a member of any workspace yet. Ask an admin to invite you.")} />
      </main>
    );
  }
  if (!ws) return null;
  const rest = path.slice(`/workspaces/${ws}/`.length);
  let page: ReactNode = <NotFound />;
  for (const [pattern, , render] of PAGES) {
    const params = match(pattern, rest);
    if (params) {
      page = render({ ...params, ws });
      break;
    }
  }
  const signOut = async () => {
    await unwrap(client.POST("/auth/logout")).catch(() => undefined);
    queries.clear();
    window.location.assign("/");
  };
  return (
    <div className="shell">
      <a className="skip-link" href="#main">Skip to content</a>
      <Progress />
      <nav className="sidebar" aria-label="Main">
        <div className="brand">
          <img src="/favicon.svg" alt="" width={24} height={24} />
          <span>ferrocat</span>
        </div>
        <label className="field">
          <span className="field-label">Workspace</span>
          <select value={ws} onChange={(e) => navigate(`/workspaces/${e.target.value}/workflows`)}>
            <Options of={me.workspaces.map((w) => [w.id, w.name ?? w.id] as const)} />
            {!me.workspaces.some((w) => w.id === ws) && <option value={ws}>{ws}</option>}
          </select>
        </label>
        <ul>
          {PAGES.filter(([, label]) => label).map(([pattern, label]) => {
            const to = `/workspaces/${ws}/${pattern}`;
            const current = rest === pattern || rest.startsWith(`${pattern}/`);
            return (
              <li key={pattern}>
                <Link to={to} aria-current={current ? "page" : undefined}>
                  {label}
                </Link>
              </li>
            );
          })}
        </ul>
        <div className="sidebar-footer">
          <span className="muted" title={me.email ?? me.name}>{me.email ?? me.name}</span>
          <div className="row">
            <button type="button" className="button button-small" onClick={() => setTheme(theme === "dark" ? "light" : "dark")}>
              {theme === "dark" ? "Light theme" : "Dark theme"}
            </button>
            <button type="button" className="button button-small" onClick={signOut}>
              Sign out
            </button>
          </div>
        </div>
      </nav>
      <main id="main" className="main" tabIndex={-1}>
        <PageBoundary key={path}>
          <Suspense fallback={<Spinner />}>{page}</Suspense>
        </PageBoundary>
      </main>
    </div>
  );
}

/** A page that throws shows what went wrong, and the rest of the console keeps working. */
class PageBoundary extends Component<{ children: ReactNode }, { error: unknown; where: string }> {
  state = { error: null as unknown, where: "" };

  static getDerivedStateFromError(error: unknown) {
    return { error };
  }

  componentDidCatch(error: unknown, info: ErrorInfo) {
    console.error("the page failed", error, info.componentStack);
    this.setState({ where: info.componentStack ?? "" });
  }

  render() {
    if (this.state.error) {
      return (
        <div className="stack">
          <h1>This page failed</h1>
          <ErrorNote error={this.state.error} />
          {this.state.where && (
            <details>
              <summary>Where (for a bug report)</summary>
              <pre className="json">{this.state.where.trim()}</pre>
            </details>
          )}
          <p>
            <Link to="/">Back to workflows</Link>, or reload the page.
          </p>
        </div>
      );
    }
    return this.props.children;
  }
}

/** A thin bar at the top while anything loads or saves. */
function Progress() {
  const busy = useIsFetching() + useIsMutating() > 0;
  return <div className={busy ? "progress progress-busy" : "progress"} role="progressbar" aria-label="Loading" aria-hidden={!busy} />;
}

function NotFound() {
  return (
    <div className="empty">
      <h1>Page not found</h1>
      <p>
        <Link to="/">Back to workflows</Link>
      </p>
    </div>
  );
}
