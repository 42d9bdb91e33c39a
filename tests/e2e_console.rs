//! The web console in a real browser (Debian's Chromium through chromium-driver), against a
//! whole stack through the edge's one port: sign in, import a two-action workflow, see its
//! validation error inline and fix it, commit, create its webhook and post to the copied URL,
//! watch the run go green and read an action's result, create a secret whose value never
//! comes back, and restore an earlier version. axe-core runs on every page and fails the test
//! on serious or critical accessibility problems. On failure a screenshot of the page is left
//! in the test's output folder; with `FERROCAT_SCREENSHOTS=<dir>` every page is saved there
//! (the README's screenshots under docs/ are made this way).

mod common;

use std::path::PathBuf;

use fantoccini::Locator;
use fantoccini::key::Key;
use serde_json::json;

use ferrocat_test_support::browser::Browser;

use common::{ADMIN_EMAIL, ADMIN_PASSWORD, Stack, json_of};

/// Two actions; the second names its dependency wrongly (`shap`), which the editor must show.
const WORKFLOW: &str = "title: Console tour
description: Two actions, run from the browser
entrypoint: {ref: shape}
actions:
  - ref: shape
    action: core.transform.reshape
    args:
      value:
        alert: ${{ TRIGGER.alert }}
        severity: ${{ TRIGGER.severity }}
  - ref: loud
    action: core.transform.reshape
    depends_on:
      - shap
    args:
      value: ${{ ACTIONS.shape.result.severity > 2 }}
returns:
  alert: ${{ ACTIONS.shape.result.alert }}
  loud: ${{ ACTIONS.loud.result }}
";

const SECRET_VALUE: &str = "sk-console-tour-5a1e7c";

struct Tour {
    browser: Browser,
    url: String,
    axe: String,
    /// Where failure screenshots go.
    out: PathBuf,
    /// Where every page's screenshot goes, when asked for.
    docs: Option<PathBuf>,
    /// Pages axe-core found problems on.
    a11y: Vec<String>,
}

impl Tour {
    fn el(&self) -> &fantoccini::Client {
        &self.browser.client
    }

    async fn goto(&self, path: &str) -> Result<(), String> {
        self.el().goto(&format!("{}{path}", self.url)).await.map_err(|e| format!("opening {path}: {e}"))
    }

    async fn click_css(&self, css: &str) -> Result<(), String> {
        self.browser.wait_css(css).await?.click().await.map_err(|e| format!("clicking {css}: {e}"))
    }

    /// Clicks the button (or link) whose text is `text`.
    async fn click_text(&self, text: &str) -> Result<(), String> {
        let xpath = format!("//*[self::button or self::a][normalize-space(.)='{text}']");
        let found = self.el().wait().at_most(std::time::Duration::from_secs(30)).for_element(Locator::XPath(&xpath)).await;
        found.map_err(|e| format!("no button {text:?}: {e}"))?.click().await.map_err(|e| format!("clicking {text:?}: {e}"))
    }

    /// The input labelled `label`.
    async fn field(&self, label: &str) -> Result<fantoccini::elements::Element, String> {
        let xpath = format!("//label[.//span[normalize-space(.)='{label}']]//*[self::input or self::textarea or self::select]");
        self.el()
            .wait()
            .at_most(std::time::Duration::from_secs(30))
            .for_element(Locator::XPath(&xpath))
            .await
            .map_err(|e| format!("no field {label:?}: {e}"))
    }

    /// Checks the page with axe-core and, when asked, saves its screenshot as `name`.
    async fn page(&mut self, name: &str) -> Result<(), String> {
        let found = self.browser.axe(&self.axe).await?;
        if !found.is_empty() {
            self.a11y.push(format!("{name}: {}", found.join("; ")));
        }
        if let Some(dir) = &self.docs {
            self.browser.screenshot(&dir.join(format!("{name}.png"))).await;
        }
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_security_engineer_does_the_tour_in_the_browser() {
    let stack = Stack::up();
    let axe_path = std::env::var("FERROCAT_TEST_AXE").unwrap_or_else(|_| "console/node_modules/axe-core/axe.min.js".into());
    let axe = std::fs::read_to_string(&axe_path)
        .unwrap_or_else(|e| panic!("axe-core at {axe_path} ({e}): run `npm --prefix console ci` (deploy/test.sh does)"));
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("console");
    std::fs::create_dir_all(&out).unwrap();
    let docs = std::env::var_os("FERROCAT_SCREENSHOTS").map(PathBuf::from);
    if let Some(dir) = &docs {
        std::fs::create_dir_all(dir).unwrap();
    }
    let mut tour = Tour { browser: Browser::start().await, url: stack.url.clone(), axe, out, docs, a11y: Vec::new() };
    let outcome = run(&mut tour).await;
    if let Err(problem) = outcome {
        let shot = tour.out.join("failure.png");
        if let Ok(text) = tour.el().find(Locator::Css("main")).await {
            eprintln!("the page showed: {}", text.html(false).await.unwrap_or_default());
        }
        tour.browser.screenshot(&shot).await;
        panic!("{problem}\n(screenshot of the page: {})\n{}", shot.display(), stack.logs());
    }
    assert!(tour.a11y.is_empty(), "axe-core found serious or critical problems:\n{}", tour.a11y.join("\n"));
}

async fn run(tour: &mut Tour) -> Result<(), String> {
    // The test's own client, standing in for an outside system that posts to the webhook; it
    // only ever calls this stack's edge, and no workflow can point it anywhere.
    let http = reqwest::Client::new();

    // Sign in.
    tour.goto("/").await?;
    let body = tour.browser.wait_css("body").await?.text().await.unwrap_or_default();
    if body.contains("npm --prefix console run build") {
        return Err("this binary was built without the console: run `npm --prefix console ci && npm --prefix console run build` first (deploy/test.sh does)".into());
    }
    tour.browser.wait_text("h1", "Sign in").await?;
    tour.page("sign-in").await?;
    tour.field("Email").await?.send_keys(ADMIN_EMAIL).await.map_err(|e| e.to_string())?;
    tour.field("Password").await?.send_keys(ADMIN_PASSWORD).await.map_err(|e| e.to_string())?;
    tour.click_text("Sign in").await?;
    tour.browser.wait_text("h1", "Workflows").await?;
    tour.browser.wait_text(".empty h2", "No workflows yet").await?;
    tour.page("workflows-empty").await?;
    let path = tour.el().current_url().await.map_err(|e| e.to_string())?.path().to_owned();
    let ws = path.split('/').nth(2).ok_or(format!("no workspace in {path}"))?.to_owned();

    // Import the workflow: the editor opens on it and points at the wrong dependency.
    tour.click_text("Import").await?;
    let textarea = tour.field("Or paste it here").await?;
    tour.el()
        .execute("const t = arguments[0]; const set = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value').set; set.call(t, arguments[1]); t.dispatchEvent(new Event('input', {bubbles: true}));", vec![serde_json::to_value(&textarea).unwrap(), json!(WORKFLOW)])
        .await
        .map_err(|e| format!("pasting the workflow: {e}"))?;
    tour.click_css("dialog[open] button[type=submit]").await?;
    tour.browser.wait_text("h1", "Console tour").await?;
    let problems = tour.browser.wait_text("[aria-label=Problems]", "unknown action 'shap'").await?;
    // The editor shows the YAML as imported, comments and all, and the problem names its line.
    if !problems.contains("line 14") {
        return Err(format!("the problem should point at line 14 (the depends_on list): {problems:?}"));
    }
    let line = tour.el().find_all(Locator::Css(".cm-line")).await.map_err(|e| e.to_string())?;
    let line14 = match line.get(13) {
        Some(element) => element.text().await.unwrap_or_default(),
        None => String::new(),
    };
    if line14.trim() != "- shap" {
        return Err(format!("line 14 of the editor is {line14:?}"));
    }
    tour.browser.wait_css(".cm-lintRange-error").await?;
    tour.browser.wait_css(".graph-node[data-ref=loud]").await?;
    tour.page("editor-invalid").await?;
    // Jump to the problem (its text is selected) and type the fix over it.
    tour.click_text("line 14").await?;
    tour.el().active_element().await.map_err(|e| e.to_string())?.send_keys("- shape").await.map_err(|e| e.to_string())?;
    tour.browser.wait_text("[role=status]", "No problems found.").await?;
    tour.click_text("Commit").await?;
    tour.browser.wait_text(".note-ok", "Committed version 1.").await?;
    tour.click_text("Add tags").await?;
    tour.field("Tags, separated by commas").await?.send_keys("phishing, tier-1").await.map_err(|e| e.to_string())?;
    tour.click_text("Save tags").await?;
    tour.browser.wait_text("[aria-label=Tags]", "tier-1").await?;
    tour.page("editor").await?;

    // The webhook: create it, copy its URL, post an alert to it as a SIEM would.
    tour.click_css("#tab-webhook").await?;
    tour.click_text("Create webhook").await?;
    let hook = tour.browser.wait_css("[data-testid=webhook-url]").await?.text().await.map_err(|e| e.to_string())?;
    if !hook.starts_with(&format!("{}/api/webhooks/", tour.url)) {
        return Err(format!("the webhook URL {hook:?} is not on this stack's URL {}", tour.url));
    }
    tour.browser.wait_text("code", "curl -X POST").await?;
    tour.page("webhook").await?;
    let (status, started) = json_of(http.post(&hook).json(&json!({"alert": "A-77", "severity": 4})).send().await.unwrap()).await;
    if status != 200 {
        return Err(format!("posting to the copied webhook URL: {status} {started}"));
    }
    let exec = started["wf_exec_id"].as_str().ok_or(format!("no run id in {started}"))?.to_owned();

    // The run goes green in the runs list, and its page shows each action's result.
    tour.click_text("Runs").await?;
    tour.browser.wait_text("table[aria-label=Runs] tbody tr", "Completed").await?;
    tour.browser.wait_text("table[aria-label=Runs] tbody tr", "webhook").await?;
    tour.page("runs").await?;
    tour.goto(&format!("/workspaces/{ws}/runs/{exec}")).await?;
    tour.browser.wait_css(".graph-node[data-ref=shape][data-status=completed]").await?;
    tour.browser.wait_css(".graph-node[data-ref=loud][data-status=completed]").await?;
    tour.click_css("details.action-card[data-ref=shape] summary").await?;
    let result = tour.browser.wait_text("details.action-card[data-ref=shape] pre", "A-77").await?;
    if !result.contains("\"severity\": 4") {
        return Err(format!("the shape action's result: {result:?}"));
    }
    tour.browser.wait_text("details[open] pre[aria-label='Run result']", "\"loud\": true").await?;
    tour.page("run").await?;

    // A secret: its value goes in once and never comes back, to the page or over the wire.
    tour.goto(&format!("/workspaces/{ws}/secrets")).await?;
    tour.browser.wait_text("h1", "Secrets").await?;
    tour.page("secrets-empty").await?;
    create_secret(tour).await?;
    tour.browser.wait_text("table tbody tr", "tour_api").await?;
    tour.el().refresh().await.map_err(|e| e.to_string())?;
    tour.browser.wait_text("table tbody tr", "tour_api").await?;
    tour.page("secrets").await?;
    let html = tour.el().source().await.map_err(|e| e.to_string())?;
    if html.contains(SECRET_VALUE) {
        return Err("the secret's value is in the page".into());
    }
    let wire = tour
        .el()
        .execute_async(
            "const done = arguments[arguments.length - 1]; fetch(`/api/secrets?workspace_id=${arguments[0]}`).then((r) => r.text()).then(done, (e) => done(String(e)));",
            vec![json!(ws)],
        )
        .await
        .map_err(|e| e.to_string())?;
    let wire = wire.as_str().unwrap_or_default();
    if !wire.contains("tour_api") || wire.contains(SECRET_VALUE) {
        return Err(format!("the secrets list as the console reads it: {wire}"));
    }

    // Every other page opens, says what it is, and passes axe-core.
    for (page, heading, shows) in [
        ("workflows", "Workflows", "phishing"),
        ("variables", "Variables", "No variables yet"),
        ("registry", "Registry", "core.http_request"),
        ("models", "AI models", "Providers"),
        ("members", "Members", ADMIN_EMAIL),
        ("settings", "Settings", &format!("{}/mcp", tour.url)),
        ("runs", "Runs", "Console tour"),
    ] {
        tour.goto(&format!("/workspaces/{ws}/{page}")).await?;
        tour.browser.wait_text("h1", heading).await?;
        tour.browser.wait_text("main", shows).await?;
        tour.page(page).await?;
    }

    // A superuser sets the organisation's sign-in rules on the settings page.
    tour.goto(&format!("/workspaces/{ws}/settings")).await?;
    tour.browser.wait_text("h2", "Sign-in rules").await?;
    tour.field("Allowed email domains").await?.send_keys("example.com").await.map_err(|e| e.to_string())?;
    tour.field("Role of new accounts").await?.select_by_value("editor").await.map_err(|e| e.to_string())?;
    tour.click_text("Save sign-in rules").await?;
    tour.browser.wait_text("[role=status]", "Sign-in rules saved.").await?;
    tour.page("settings-sign-in").await?;
    let (_, rules) = json_of(signed_in(&tour.url).await.get(format!("{}/api/settings/auth", tour.url)).send().await.unwrap()).await;
    if rules["auth_allowed_email_domains"] != json!(["example.com"]) || rules["auth_default_role"] != "editor" {
        return Err(format!("the sign-in rules the api keeps: {rules}"));
    }

    // A superuser adds a git registry from the registry page (syncing is tested elsewhere).
    tour.goto(&format!("/workspaces/{ws}/registry")).await?;
    tour.browser.wait_text("h2", "Git registries").await?;
    tour.browser.wait_text("main", "No git registries").await?;
    tour.click_text("Add registry").await?;
    tour.field("Origin").await?.send_keys("https://git.example.com/soc/templates.git").await.map_err(|e| e.to_string())?;
    tour.click_text("Save registry").await?;
    tour.browser.wait_text("table tbody tr", "https://git.example.com/soc/templates.git").await?;
    tour.page("registry-repos").await?;

    // An OAuth integration is configured from its page; its secret never comes back.
    tour.goto(&format!("/workspaces/{ws}/integrations")).await?;
    tour.browser.wait_text("h1", "Integrations").await?;
    tour.browser.wait_text("main", "Microsoft Entra ID").await?;
    tour.field("Search providers").await?.send_keys("github").await.map_err(|e| e.to_string())?;
    tour.click_text("Configure").await?;
    tour.field("Client ID").await?.send_keys("tour-github-app").await.map_err(|e| e.to_string())?;
    tour.field("Client secret").await?.send_keys("tour-github-app-secret").await.map_err(|e| e.to_string())?;
    tour.click_text("Save configuration").await?;
    tour.browser.wait_text("table tbody tr", "tour-github-app").await?;
    tour.page("integrations").await?;
    let html = tour.el().source().await.map_err(|e| e.to_string())?;
    if html.contains("tour-github-app-secret") {
        return Err("the integration's client secret is in the page".into());
    }

    // Cases: none yet; open one, comment on it, move it along, and read that in its activity.
    tour.goto(&format!("/workspaces/{ws}/cases")).await?;
    tour.browser.wait_text("h1", "Cases").await?;
    tour.browser.wait_text("main", "No cases yet").await?;
    tour.page("cases").await?;
    tour.click_text("New case").await?;
    tour.field("Summary").await?.send_keys("Phishing at finance").await.map_err(|e| e.to_string())?;
    tour.click_css("dialog[open] button[type=submit]").await?;
    tour.browser.wait_text("table[aria-label=Cases] tbody tr", "Phishing at finance").await?;
    tour.click_text("Phishing at finance").await?;
    tour.browser.wait_text("h1", "Phishing at finance").await?;
    tour.field("Comment").await?.send_keys("looking into it").await.map_err(|e| e.to_string())?;
    tour.click_text("Add comment").await?;
    tour.browser.wait_text(".comment-body", "looking into it").await?;
    tour.field("Status").await?.select_by_value("in_progress").await.map_err(|e| e.to_string())?;
    tour.click_text("Activity").await?;
    tour.browser.wait_text(".activity", "to In progress").await?;
    tour.page("case").await?;

    // Tables: one made by hand (a row added, a cell edited in the grid, a search, an export),
    // and one imported from a CSV file after its preview.
    tour.goto(&format!("/workspaces/{ws}/tables")).await?;
    tour.browser.wait_text("h1", "Tables").await?;
    tour.browser.wait_text("main", "No tables yet").await?;
    tour.page("tables-empty").await?;
    tour.click_text("New table").await?;
    tour.field("Table name").await?.send_keys("known_bad_ips").await.map_err(|e| e.to_string())?;
    tour.field("Column name 1").await?.send_keys("ip").await.map_err(|e| e.to_string())?;
    tour.click_text("Add column").await?;
    tour.field("Column name 2").await?.send_keys("score").await.map_err(|e| e.to_string())?;
    tour.field("Type of column 2").await?.select_by_value("INTEGER").await.map_err(|e| e.to_string())?;
    tour.click_text("Create table").await?;
    tour.browser.wait_text("h1", "known_bad_ips").await?;
    tour.click_text("Add row").await?;
    tour.field("ip").await?.send_keys("203.0.113.7").await.map_err(|e| e.to_string())?;
    tour.field("score").await?.send_keys("90").await.map_err(|e| e.to_string())?;
    tour.click_text("Save row").await?;
    tour.browser.wait_text("[role=gridcell][data-column=ip]", "203.0.113.7").await?;
    tour.click_css("[role=gridcell][data-column=score]").await?;
    tour.el().active_element().await.map_err(|e| e.to_string())?.send_keys(&Key::Enter.to_string()).await.map_err(|e| e.to_string())?;
    // The editor has the focus; typing replaces its text (WebDriver's clear would blur it, and
    // leaving a cell saves it).
    tour.browser.wait_css("[role=gridcell][data-column=score] input").await?;
    let keys = format!("{}a{}95{}", Key::Control, Key::Null, Key::Enter);
    tour.el().active_element().await.map_err(|e| e.to_string())?.send_keys(&keys).await.map_err(|e| e.to_string())?;
    tour.browser.wait_text("[role=gridcell][data-column=score]", "95").await?;
    tour.field("Search rows").await?.send_keys("203.0.113").await.map_err(|e| e.to_string())?;
    tour.browser.wait_text("[role=gridcell][data-column=ip]", "203.0.113.7").await?;
    tour.page("table").await?;
    tour.click_text("Export").await?;
    let link = tour.browser.wait_css("a[data-export=csv]").await?.attr("href").await.map_err(|e| e.to_string())?.ok_or("the CSV export has no link")?;
    let exported = signed_in(&tour.url).await.get(format!("{}{link}", tour.url)).send().await.unwrap().text().await.unwrap();
    if !exported.contains(",203.0.113.7,95") {
        return Err(format!("the exported CSV after the grid's edit: {exported}"));
    }
    let csv = tour.out.join("feed.csv");
    std::fs::write(&csv, "ip,verdict,score\n198.51.100.4,suspicious,40\n192.0.2.8,benign,3\n").map_err(|e| e.to_string())?;
    tour.goto(&format!("/workspaces/{ws}/tables")).await?;
    tour.click_text("Import CSV").await?;
    tour.field("CSV file").await?.send_keys(&csv.display().to_string()).await.map_err(|e| e.to_string())?;
    tour.browser.wait_text("table[aria-label='Inferred columns']", "INTEGER").await?;
    tour.browser.wait_text("table[aria-label='First rows']", "198.51.100.4").await?;
    tour.page("tables-import").await?;
    tour.click_text("Import").await?;
    tour.browser.wait_text("h1", "feed").await?;
    tour.browser.wait_text("[role=gridcell][data-column=verdict]", "suspicious").await?;
    // The case links the known-bad address's row, and its activity says so.
    tour.goto(&format!("/workspaces/{ws}/cases")).await?;
    tour.click_text("Phishing at finance").await?;
    tour.browser.wait_text("h1", "Phishing at finance").await?;
    tour.click_text("Rows").await?;
    tour.browser.wait_text("main", "No rows linked").await?;
    tour.click_text("Link row").await?;
    tour.field("Table").await?.select_by_label("known_bad_ips").await.map_err(|e| e.to_string())?;
    tour.field("Search rows").await?.send_keys("203.0.113.7").await.map_err(|e| e.to_string())?;
    tour.click_text("Link").await?;
    tour.browser.wait_text("[aria-label='Rows of known_bad_ips']", "203.0.113.7").await?;
    tour.page("case-rows").await?;
    tour.click_text("Activity").await?;
    tour.browser.wait_text(".activity", "linked a row of table known_bad_ips").await?;

    // A second version, then back to the first.
    let wf = workflow_id(tour, &ws).await?;
    tour.goto(&format!("/workspaces/{ws}/workflows/{wf}")).await?;
    tour.browser.wait_text("h1", "Console tour").await?;
    tour.click_css(".cm-content").await?;
    let content = tour.browser.wait_css(".cm-content").await?;
    let keys = format!("{}{}{}{} v2", Key::Control, Key::Home, Key::Null, Key::End);
    content.send_keys(&keys).await.map_err(|e| e.to_string())?;
    tour.browser.wait_text(".tag", "unsaved changes").await?;
    tour.click_text("Commit").await?;
    tour.browser.wait_text(".note-ok", "Committed version 2.").await?;
    tour.browser.wait_text("h1", "Console tour v2").await?;
    tour.click_css("#tab-versions").await?;
    tour.click_text("Compare version 1").await?;
    tour.browser.wait_text(".diff .add", "title: Console tour v2").await?;
    tour.page("versions").await?;
    tour.click_text("Restore version 1").await?;
    tour.browser.wait_text(".note-ok", "Version 1 is the draft again").await?;
    let title = tour.browser.wait_css("h1").await?.text().await.map_err(|e| e.to_string())?;
    if title != "Console tour" {
        return Err(format!("after restoring version 1 the title is {title:?}"));
    }
    let (_, draft) = json_of(
        signed_in(&tour.url).await.get(format!("{}/api/workflows/{wf}?workspace_id={ws}", tour.url)).send().await.unwrap(),
    )
    .await;
    if draft["definition"]["title"] != json!("Console tour") {
        return Err(format!("the api's draft after the restore: {draft}"));
    }
    Ok(())
}

async fn create_secret(tour: &Tour) -> Result<(), String> {
    tour.click_text("New secret").await?;
    tour.field("Name").await?.send_keys("tour_api").await.map_err(|e| e.to_string())?;
    tour.field("Key 1").await?.send_keys("API_KEY").await.map_err(|e| e.to_string())?;
    tour.field("Value 1").await?.send_keys(SECRET_VALUE).await.map_err(|e| e.to_string())?;
    tour.click_css("dialog[open] button[type=submit]").await
}

async fn workflow_id(tour: &Tour, ws: &str) -> Result<String, String> {
    let http = signed_in(&tour.url).await;
    let (_, page) = json_of(http.get(format!("{}/api/workflows?workspace_id={ws}", tour.url)).send().await.unwrap()).await;
    page["items"][0]["id"].as_str().map(str::to_owned).ok_or(format!("no workflow in {page}"))
}

/// The test's own signed-in client for the stack's api (through its edge), to check what the
/// console did.
async fn signed_in(url: &str) -> reqwest::Client {
    let http = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let response = http.post(format!("{url}/api/auth/login")).form(&[("username", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)]).send().await.unwrap();
    assert_eq!(response.status(), 204);
    http
}

/// An analyst opens the link of an invitation, chooses a password, and lands signed in, in the
/// workspace they were invited to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invited_analyst_accepts_in_the_browser_and_lands_in_the_workspace() {
    let stack = Stack::up();
    let (http, ws) = common::login(&stack.url).await;
    let (status, invitation) = json_of(
        http.post(format!("{}/api/workspaces/{ws}/invitations", stack.url)).json(&json!({"email": "analyst@example.com", "role": "editor"})).send().await.unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{invitation}");
    let link = invitation["accept_url"].as_str().expect("an accept link");
    let fragment = link.split_once('#').expect("the token in the link's fragment").1;
    let axe = std::fs::read_to_string(std::env::var("FERROCAT_TEST_AXE").unwrap_or_else(|_| "console/node_modules/axe-core/axe.min.js".into())).expect("axe-core");
    let browser = Browser::start().await;
    let outcome = async {
        browser.client.goto(&format!("{}/invitations/accept#{fragment}", stack.url)).await.map_err(|e| e.to_string())?;
        browser.wait_text("h1", "Accept invitation").await?;
        let problems = browser.axe(&axe).await?;
        if !problems.is_empty() {
            return Err(format!("axe-core on the accept page: {problems:?}"));
        }
        let url = browser.client.current_url().await.map_err(|e| e.to_string())?;
        if url.as_str().contains("token") {
            return Err(format!("the token stays in the address bar: {url}"));
        }
        for label in ["Choose a password", "Password, again"] {
            let xpath = format!("//label[.//span[normalize-space(.)='{label}']]//input");
            browser.client.find(Locator::XPath(&xpath)).await.map_err(|e| e.to_string())?.send_keys("analyst-passphrase-731").await.map_err(|e| e.to_string())?;
        }
        browser.client.find(Locator::Css("button[type=submit]")).await.map_err(|e| e.to_string())?.click().await.map_err(|e| e.to_string())?;
        browser.wait_text("h1", "Workflows").await?;
        browser.wait_text(".sidebar-footer", "analyst@example.com").await?;
        let path = browser.client.current_url().await.map_err(|e| e.to_string())?.path().to_owned();
        if !path.starts_with(&format!("/workspaces/{ws}/")) {
            return Err(format!("landed on {path}, not in workspace {ws}"));
        }
        Ok::<(), String>(())
    }
    .await;
    if let Err(problem) = outcome {
        let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("console").join("invitation-failure.png");
        std::fs::create_dir_all(shot.parent().unwrap()).unwrap();
        browser.screenshot(&shot).await;
        panic!("{problem}\n(screenshot: {})", shot.display());
    }
}

/// Someone signs in to the console through the organisation's identity provider (a real one,
/// oidc-provider-mock, on loopback): the sign-in page offers it by name, the provider's answer
/// comes back through the edge, and the console opens on the page they asked for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_signs_in_to_the_console_through_the_identity_provider() {
    let idp = ferrocat_test_support::oidc::Idp::start().await;
    idp.set_user("admin-sub", json!({"email": ADMIN_EMAIL, "email_verified": true})).await;
    idp.set_user("mallory", json!({"email": ADMIN_EMAIL, "email_verified": false})).await;
    let env = [
        ("FERROCAT_OIDC_ISSUER", idp.url.clone()),
        ("FERROCAT_OIDC_CLIENT_ID", "ferrocat-test".to_owned()),
        ("FERROCAT_OIDC_CLIENT_SECRET", "idp-client-secret-do-not-show".to_owned()),
        ("FERROCAT_OIDC_NAME", "Test IdP".to_owned()),
    ];
    let stack = tokio::task::spawn_blocking(move || Stack::up_with(&env)).await.unwrap();
    let (_, ws) = common::login(&stack.url).await;
    let browser = Browser::start().await;
    let sign_in_as = |who: &'static str| {
        let (browser, url, ws) = (&browser, stack.url.clone(), ws.clone());
        async move {
            browser.client.goto(&format!("{url}/workspaces/{ws}/cases")).await.map_err(|e| e.to_string())?;
            browser.wait_text("h1", "Sign in").await?;
            let xpath = "//a[normalize-space(.)='Sign in with Test IdP']";
            browser.client.wait().for_element(Locator::XPath(xpath)).await.map_err(|e| e.to_string())?.click().await.map_err(|e| e.to_string())?;
            // The provider's own page: who to sign in as.
            let sub = browser.client.wait().for_element(Locator::Css("input[name=sub]")).await.map_err(|e| format!("the provider's page: {e}"))?;
            sub.send_keys(who).await.map_err(|e| e.to_string())?;
            sub.send_keys(&Key::Enter.to_string()).await.map_err(|e| e.to_string())
        }
    };
    let outcome = async {
        // Refused: back on the sign-in page, which says why.
        sign_in_as("mallory").await?;
        browser.wait_text(".sign-in", "has not verified").await?;
        sign_in_as("admin-sub").await?;
        browser.wait_text("h1", "Cases").await?;
        let path = browser.client.current_url().await.map_err(|e| e.to_string())?.path().to_owned();
        if path != format!("/workspaces/{ws}/cases") {
            return Err(format!("landed on {path}, not the page the sign-in started from"));
        }
        browser.wait_text(".sidebar-footer", ADMIN_EMAIL).await?;
        Ok::<(), String>(())
    }
    .await;
    if let Err(problem) = outcome {
        let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("console").join("sso-failure.png");
        std::fs::create_dir_all(shot.parent().unwrap()).unwrap();
        browser.screenshot(&shot).await;
        panic!("{problem}\n(screenshot: {})\n{}", shot.display(), stack.logs());
    }
}

/// A superuser points the console at a SAML identity provider (SimpleSAMLphp) on the settings
/// page, turns SAML sign-in on, signs out, and signs in again through the IdP: its signed
/// answer goes through the edge to the api's ACS, and the console opens on the page the
/// sign-in started from.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_superuser_configures_saml_in_the_console_and_signs_in_through_it() {
    use ferrocat_test_support::saml::{KnownSp, SamlIdp, User};
    let stack = tokio::task::spawn_blocking(Stack::up).await.unwrap();
    let (_, ws) = common::login(&stack.url).await;
    let sp = KnownSp::new(&format!("{}/api/auth/saml/metadata", stack.url), &[&format!("{}/api/auth/saml/acs", stack.url)]);
    let idp = SamlIdp::start(&[sp], &[User::new("admin", ADMIN_EMAIL)]).await;
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("console");
    let tour = Tour { browser: Browser::start().await, url: stack.url.clone(), axe: String::new(), out, docs: None, a11y: Vec::new() };
    let outcome = async {
        tour.goto(&format!("/workspaces/{ws}/settings")).await?;
        tour.browser.wait_text("h1", "Sign in").await?;
        tour.field("Email").await?.send_keys(ADMIN_EMAIL).await.map_err(|e| e.to_string())?;
        tour.field("Password").await?.send_keys(ADMIN_PASSWORD).await.map_err(|e| e.to_string())?;
        tour.click_text("Sign in").await?;
        tour.browser.wait_text("h2", "SAML single sign-on").await?;
        tour.field("IdP metadata URL").await?.send_keys(&idp.metadata_url()).await.map_err(|e| e.to_string())?;
        let label = tour.field("Button label").await?;
        label.clear().await.map_err(|e| e.to_string())?;
        label.send_keys("Test SAML").await.map_err(|e| e.to_string())?;
        tour.click_text("Save identity provider").await?;
        tour.browser.wait_text("[role=status]", "Configured:").await?;
        tour.field("Allow SAML sign-in").await?.click().await.map_err(|e| e.to_string())?;
        tour.click_text("Save SAML rules").await?;
        tour.browser.wait_text("[role=status]", "SAML rules saved.").await?;
        tour.click_text("Sign out").await?;
        // Signing out ends in its own navigation to the root; opening the next page before that
        // lands would let it take the browser back to the root.
        tour.browser.wait_text("h1", "Sign in").await?;
        tour.goto(&format!("/workspaces/{ws}/cases")).await?;
        tour.browser.wait_text("h1", "Sign in").await?;
        tour.click_text("Sign in with Test SAML").await?;
        // The identity provider's own password form.
        let user = tour.browser.wait_css("input[name=username]").await.map_err(|e| format!("the IdP's page: {e}"))?;
        user.send_keys("admin").await.map_err(|e| e.to_string())?;
        tour.browser.wait_css("input[name=password]").await?.send_keys("admin-pass").await.map_err(|e| e.to_string())?;
        tour.click_css("#submit_button").await?;
        // Its page posts the answer on by script; without the script, the button does it.
        if let Ok(button) = tour.el().find(Locator::Css("#postLoginSubmitButton")).await {
            let _ = button.click().await;
        }
        tour.browser.wait_text("h1", "Cases").await?;
        let path = tour.el().current_url().await.map_err(|e| e.to_string())?.path().to_owned();
        if path != format!("/workspaces/{ws}/cases") {
            return Err(format!("landed on {path}, not the page the sign-in started from"));
        }
        tour.browser.wait_text(".sidebar-footer", ADMIN_EMAIL).await?;
        Ok::<(), String>(())
    }
    .await;
    if let Err(problem) = outcome {
        let shot = tour.out.join("saml-failure.png");
        std::fs::create_dir_all(&tour.out).unwrap();
        tour.browser.screenshot(&shot).await;
        panic!("{problem}\n(screenshot: {})\n{}", shot.display(), stack.logs());
    }
}
