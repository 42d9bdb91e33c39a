//! A real OpenID Connect provider for the single sign-on tests: the PyPI `oidc-provider-mock`
//! server (authlib; RS256 ID tokens, a JWKS), started per test from the Python named by
//! `FERROCAT_TEST_PYTHON` (deploy/test.sh installs it). Its `PUT /users/{sub}` sets the claims
//! of the ID tokens it issues, which is how a test makes it send an unverified email, or an
//! `aud` or `nonce` that is not ours.

use std::process::Stdio;

use reqwest::{Client, StatusCode, header};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, BufReader};

/// A client that keeps cookies and never follows redirects, as a test's browser.
fn browser() -> Client {
    Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// Where a redirect sends the browser.
fn location(response: &reqwest::Response) -> String {
    response.headers().get(header::LOCATION).expect("a Location header").to_str().unwrap().to_owned()
}

/// A running provider; killed when dropped.
pub struct Idp {
    pub url: String,
    _child: tokio::process::Child,
}

impl Idp {
    pub async fn start() -> Idp {
        let python = std::env::var("FERROCAT_TEST_PYTHON")
            .expect("FERROCAT_TEST_PYTHON must name a Python with oidc-provider-mock (deploy/test.sh sets it up)");
        let mut child = tokio::process::Command::new(python)
            .args(["-W", "ignore", "-m", "oidc_provider_mock", "--port", "0"])
            .current_dir("/")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start oidc-provider-mock");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        // uvicorn names the port it bound once it accepts connections.
        let url = tokio::time::timeout(std::time::Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Some(rest) = line.split("Uvicorn running on ").nth(1) {
                    return rest.split_whitespace().next().unwrap().to_owned();
                }
            }
            panic!("oidc-provider-mock exited before listening (is it installed in FERROCAT_TEST_PYTHON?)");
        })
        .await
        .expect("oidc-provider-mock listens in time");
        // Keep draining its log so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Idp { url, _child: child }
    }

    /// The claims of the next ID tokens for `sub`.
    pub async fn set_user(&self, sub: &str, claims: Value) {
        let response = Client::new().put(format!("{}/users/{sub}", self.url)).json(&claims).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }

    /// Signs `sub` in on the provider's authorization page; where it sends the browser.
    pub async fn sign_in(&self, authorize_url: &str, sub: &str) -> String {
        let page = Client::new().get(authorize_url).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK, "{}", page.text().await.unwrap());
        let response = browser().post(authorize_url).form(&[("sub", sub)]).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FOUND, "{}", response.text().await.unwrap());
        location(&response)
    }

    /// Denies on the provider's authorization page; where it sends the browser.
    pub async fn deny(&self, authorize_url: &str) -> String {
        let response = browser().post(authorize_url).form(&[("action", "deny")]).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FOUND);
        location(&response)
    }
}
