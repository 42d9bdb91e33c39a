//! A real OAuth 2 server on loopback: the npm `oauth2-mock-server` (from
//! `FERROCAT_TEST_NODE_MODULES`, which deploy/test.sh installs into `.ferrocat/npm` at the
//! version test-support/npm pins), run by `test-support/npm/oauth-server.mjs`. It grants
//! authorization codes with PKCE, client credentials and refreshes; every token request it
//! answers is reported as a JSON event ([`OAuthServer::next_token_request`]).

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use serde_json::Value;

/// The running server; stopped when dropped.
pub struct OAuthServer {
    /// `http://127.0.0.1:<port>`: `/authorize`, `/token`, `/jwks`.
    pub url: String,
    child: Child,
    events: Receiver<Value>,
}

impl Drop for OAuthServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl OAuthServer {
    /// Starts a server whose tokens announce `token_ttl` seconds of life.
    pub fn start(token_ttl: u64) -> Self {
        let modules = std::env::var("FERROCAT_TEST_NODE_MODULES")
            .expect("FERROCAT_TEST_NODE_MODULES must name the test suite's node_modules (deploy/test.sh installs them into .ferrocat/npm)");
        let entry = Path::new(&modules).join("oauth2-mock-server/dist/index.mjs");
        assert!(entry.is_file(), "{} is missing: run deploy/test.sh, which installs it", entry.display());
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("npm/oauth-server.mjs");
        let mut child = Command::new("node")
            .arg(&script)
            .env("OAUTH2_MOCK_SERVER", &entry)
            .env("TOKEN_TTL", token_ttl.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node runs (deploy/test.sh installs it)");
        let stdout = child.stdout.take().expect("piped stdout");
        let (send, events) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(event) = serde_json::from_str::<Value>(&line) {
                    let _ = send.send(event);
                }
            }
        });
        let ready = events.recv_timeout(Duration::from_secs(30)).expect("the OAuth server says it is ready within 30 s");
        assert_eq!(ready["event"], "ready", "{ready}");
        let url = ready["url"].as_str().expect("the ready event names the URL").to_owned();
        Self { url, child, events }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.url.rsplit(':').next().and_then(|p| p.parse().ok()).expect("the URL ends with the port")
    }

    /// The next token request it answered (waiting up to 10 s for it).
    pub fn next_token_request(&self) -> Value {
        loop {
            let event = self.events.recv_timeout(Duration::from_secs(10)).expect("a token request within 10 s");
            if event["event"] == "token" {
                return event;
            }
        }
    }

    /// Whether no token request is waiting to be read.
    pub fn no_more_token_requests(&self) -> bool {
        self.events.try_recv().is_err()
    }
}
