//! A real browser for tests: Debian's `chromium`, driven through `chromium-driver` (WebDriver;
//! both come from the same Debian source, so the driver always matches the browser) with
//! fantoccini. The driver runs in a process group of its own on a free port; dropping the
//! [`Browser`] kills that group, browsers included, so a panicking test leaves no Chromium
//! behind.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

/// How long the helpers wait for the page.
const WAIT: Duration = Duration::from_secs(30);

/// One headless Chromium session and the driver behind it.
pub struct Browser {
    pub client: Client,
    driver: Child,
}

/// The driver's binary: `FERROCAT_TEST_CHROMEDRIVER`, else Debian's.
fn driver_path() -> PathBuf {
    std::env::var_os("FERROCAT_TEST_CHROMEDRIVER").map_or_else(|| PathBuf::from("/usr/bin/chromedriver"), PathBuf::from)
}

impl Browser {
    /// Starts the driver and opens a headless session (a 1280×900 window).
    pub async fn start() -> Browser {
        let port = crate::free_port();
        let mut command = Command::new(driver_path());
        command.arg(format!("--port={port}")).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let driver = command.spawn().unwrap_or_else(|e| panic!("starting {} (apt install chromium-driver): {e}", driver_path().display()));
        let url = format!("http://127.0.0.1:{port}");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({"args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"]}),
        );
        // A plain client is right here: it only asks the test's own driver, on loopback, whether
        // it listens; no workflow can point it anywhere.
        let http = reqwest::Client::new();
        // The driver answers /status once it listens.
        for _ in 0..200 {
            if http.get(format!("{url}/status")).send().await.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&url)
            .await
            .unwrap_or_else(|e| panic!("opening a Chromium session through {url}: {e}"));
        Browser { client, driver }
    }

    /// The first element `css` matches, once there is one (within 30 s); an error naming `css`
    /// otherwise.
    pub async fn wait_css(&self, css: &str) -> Result<Element, String> {
        self.client
            .wait()
            .at_most(WAIT)
            .every(Duration::from_millis(50))
            .for_element(Locator::Css(css))
            .await
            .map_err(|e| format!("nothing matched {css:?} within {WAIT:?}: {e}"))
    }

    /// Waits (within 30 s) until an element `css` matches shows `needle` in its text; returns
    /// that text. The error says what the elements showed instead.
    pub async fn wait_text(&self, css: &str, needle: &str) -> Result<String, String> {
        let deadline = tokio::time::Instant::now() + WAIT;
        let mut seen = Vec::new();
        loop {
            seen.clear();
            if let Ok(found) = self.client.find_all(Locator::Css(css)).await {
                for element in found {
                    let text = element.text().await.unwrap_or_default();
                    if text.contains(needle) {
                        return Ok(text);
                    }
                    seen.push(text);
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(format!("no {css:?} showed {needle:?} within {WAIT:?}; they showed {seen:?}"));
            }
            // Polling a condition of the page, which the browser changes on its own time.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Runs axe-core (its `axe.min.js` is `axe_source`) in the page and returns its serious and
    /// critical accessibility violations, one line each.
    pub async fn axe(&self, axe_source: &str) -> Result<Vec<String>, String> {
        let loaded = self.client.execute("return typeof window.axe === 'object';", vec![]).await.map_err(|e| e.to_string())?;
        if loaded != serde_json::Value::Bool(true) {
            // WebDriver's scripts run outside the page's Content-Security-Policy.
            self.client.execute(&format!("{axe_source}\n;return true;"), vec![]).await.map_err(|e| format!("loading axe-core: {e}"))?;
        }
        let script = r#"
            const done = arguments[arguments.length - 1];
            window.axe.run(document, { resultTypes: ["violations"] }).then(
              (r) => done(r.violations
                .filter((v) => v.impact === "serious" || v.impact === "critical")
                .map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`)),
              (e) => done([`axe failed: ${e}`]));
        "#;
        let found = self.client.execute_async(script, vec![]).await.map_err(|e| format!("running axe-core: {e}"))?;
        Ok(serde_json::from_value(found).unwrap_or_default())
    }

    /// Saves a screenshot of the page as `path` (a PNG).
    pub async fn screenshot(&self, path: &Path) {
        match self.client.screenshot().await {
            Ok(png) => {
                let _ = std::fs::write(path, png);
            }
            Err(e) => eprintln!("no screenshot: {e}"),
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The whole group: the driver and every Chromium process it started.
        let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", self.driver.id())]).status();
        let _ = self.driver.wait();
    }
}
