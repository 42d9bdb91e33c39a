//! Redirect URIs: which may be registered (https; http on loopback only; private-use schemes
//! such as `cursor://` and `vscode://`), and when a requested one matches a registered one
//! (exactly, except that loopback matches on any port, RFC 8252 §7.3).

use url::Url;

/// Schemes that can run code or read local data in a browser: never a redirect target.
const FORBIDDEN_SCHEMES: &[&str] = &["javascript", "data", "vbscript", "file", "about", "blob", "filesystem", "ftp", "ws", "wss"];

fn is_loopback_host(url: &Url) -> bool {
    matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"))
}

/// Why `uri` cannot be registered as a redirect URI, if it cannot.
pub fn check_registrable(uri: &str) -> Result<(), String> {
    if uri.len() > 2000 {
        return Err("redirect URI is longer than 2000 characters".into());
    }
    let url = Url::parse(uri).map_err(|e| format!("redirect URI {uri:?} is not an absolute URI: {e}"))?;
    if url.fragment().is_some() {
        return Err(format!("redirect URI {uri:?} must not have a fragment"));
    }
    match url.scheme() {
        "https" if url.host_str().is_some() => Ok(()),
        "https" => Err(format!("redirect URI {uri:?} has no host")),
        "http" if is_loopback_host(&url) => Ok(()),
        "http" => Err(format!("redirect URI {uri:?} uses http on a host other than loopback; use https")),
        scheme if FORBIDDEN_SCHEMES.contains(&scheme) => Err(format!("redirect URI scheme {scheme:?} is not allowed")),
        // A private-use scheme (RFC 8252 §7.1) of a native app, e.g. cursor:// or vscode://.
        _ => Ok(()),
    }
}

/// Whether `requested` may be used where `registered` was registered.
pub fn matches(registered: &str, requested: &str) -> bool {
    if registered == requested {
        return true;
    }
    let (Ok(a), Ok(b)) = (Url::parse(registered), Url::parse(requested)) else { return false };
    a.scheme() == "http"
        && b.scheme() == "http"
        && is_loopback_host(&a)
        && a.host_str() == b.host_str()
        && a.path() == b.path()
        && a.query() == b.query()
        && b.fragment().is_none()
        && b.username().is_empty()
        && b.password().is_none()
}

/// The registered URI that `requested` matches, if any.
pub fn find<'a>(registered: &'a [String], requested: &str) -> Option<&'a str> {
    registered.iter().map(String::as_str).find(|r| matches(r, requested))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_real_clients_register_is_accepted() {
        for uri in [
            "http://localhost:33418/callback",
            "http://127.0.0.1/",
            "http://127.0.0.1:33418/",
            "http://[::1]:8080/cb",
            "https://vscode.dev/redirect",
            "https://claude.ai/api/mcp/auth_callback",
            "cursor://anysphere.cursor-mcp/oauth/callback",
            "vscode://vscode.github-authentication/did-authenticate",
            "com.example.app:/oauth2redirect",
        ] {
            assert_eq!(check_registrable(uri), Ok(()), "{uri}");
        }
    }

    #[test]
    fn dangerous_or_plain_http_redirects_are_refused() {
        for uri in [
            "http://evil.example/callback",
            "javascript:alert(1)",
            "data:text/html,hi",
            "file:///etc/passwd",
            "https://ok.example/cb#frag",
            "/relative/path",
            "http://localhost.evil.example/cb",
        ] {
            assert!(check_registrable(uri).is_err(), "{uri}");
        }
    }

    #[test]
    fn loopback_matches_on_any_port_and_nothing_else_is_loose() {
        assert!(matches("http://127.0.0.1/callback", "http://127.0.0.1:51234/callback"));
        assert!(matches("http://localhost:8787/callback", "http://localhost:9999/callback"));
        assert!(matches("http://127.0.0.1/", "http://127.0.0.1:33418/"));
        assert!(!matches("http://127.0.0.1/callback", "http://127.0.0.1:5123/other"));
        assert!(!matches("http://127.0.0.1/callback", "http://localhost:5123/callback"));
        assert!(!matches("http://127.0.0.1/callback", "http://127.0.0.1:5123/callback?x=1"));
        assert!(!matches("https://app.example/cb", "https://app.example:8443/cb"));
        assert!(!matches("https://app.example/cb", "https://app.example/cb/"));
        assert!(matches("cursor://anysphere.cursor-mcp/oauth/callback", "cursor://anysphere.cursor-mcp/oauth/callback"));
        assert!(!matches("cursor://anysphere.cursor-mcp/oauth/callback", "cursor://anysphere.cursor-mcp/oauth/other"));
    }
}
