//! The web console's place in a real browser: headless Chromium (through chromium-driver)
//! opens the stack's one URL through the edge and sees what `ferrocat ui` serves under its
//! Content-Security-Policy; a binary built without the console says how to build it, and its
//! link to the api works. A failing test leaves a screenshot in the system's temp folder.

mod common;

use fantoccini::Locator;

use ferrocat_test_support::browser::Browser;

use common::Stack;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_page_opens_in_a_browser_through_the_edge() {
    let stack = Stack::up();
    let browser = Browser::start().await;
    let shot = std::env::temp_dir().join(format!("ferrocat-console-{}.png", std::process::id()));
    let outcome = check(&browser, &stack.url).await;
    if let Err(problem) = outcome {
        browser.screenshot(&shot).await;
        panic!("{problem} (screenshot: {})", shot.display());
    }
}

async fn check(browser: &Browser, url: &str) -> Result<(), String> {
    let client = &browser.client;
    client.goto(&format!("{url}/workflows")).await.map_err(|e| format!("opening the console: {e}"))?;
    let title = client.title().await.map_err(|e| e.to_string())?;
    if title != "ferrocat" {
        return Err(format!("title {title:?}"));
    }
    let heading = client.find(Locator::Css("h1")).await.map_err(|e| e.to_string())?.text().await.map_err(|e| e.to_string())?;
    if heading != "ferrocat" {
        return Err(format!("heading {heading:?}"));
    }
    let body = client.find(Locator::Css("body")).await.map_err(|e| e.to_string())?.text().await.map_err(|e| e.to_string())?;
    if !body.contains("npm --prefix console run build") {
        return Err(format!("no build instructions in {body:?}"));
    }
    // The page's link to the api goes through the same edge.
    client.find(Locator::LinkText("/api/health")).await.map_err(|e| e.to_string())?.click().await.map_err(|e| e.to_string())?;
    let health = client.find(Locator::Css("body")).await.map_err(|e| e.to_string())?.text().await.map_err(|e| e.to_string())?;
    if !health.contains("\"status\"") {
        return Err(format!("/api/health showed {health:?}"));
    }
    Ok(())
}
