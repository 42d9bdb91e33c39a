//! A real browser for tests: Debian's `chromium`, driven through `chromium-driver` (WebDriver;
//! both come from the same Debian source, so the driver always matches the browser) with
//! fantoccini. The driver runs in a process group of its own on a free port; dropping the
//! [`Browser`] kills that group, browsers included, so a panicking test leaves no Chromium
//! behind.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

/// One headless Chromium session and the driver behind it.
pub struct Browser {
    pub client: Client,
    driver: Child,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("its address").port()
}

/// The driver's binary: `FERROCAT_TEST_CHROMEDRIVER`, else Debian's.
fn driver_path() -> PathBuf {
    std::env::var_os("FERROCAT_TEST_CHROMEDRIVER").map_or_else(|| PathBuf::from("/usr/bin/chromedriver"), PathBuf::from)
}

impl Browser {
    /// Starts the driver and opens a headless session (a 1280×900 window).
    pub async fn start() -> Browser {
        let port = free_port();
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
