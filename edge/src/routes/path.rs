//! Request paths as the edge compares them: the one normalisation that both routing and
//! forwarding use, so the edge and an upstream can never disagree about which path a request
//! names; the ASCII case-insensitive prefix test; and the public prefix the proxy and the access
//! log both single out (webhooks).

use std::borrow::Cow;

/// The public webhook receivers (normalised path). Requests here never carry the caller's
/// cookies upstream: a browser following a link to a webhook would hand over its session.
pub const WEBHOOK_PREFIX: &str = "/api/webhooks/";

/// Normalises a request path once, before routing: decodes `%XX` only where it names an
/// unreserved character (RFC 3986 §2.3, so `%2F` stays encoded; repeatedly, until no such
/// escape is left), merges repeated `/`, and
/// resolves `.` and `..` segments without climbing above the root. The result starts with `/`.
pub fn normalize_path(raw: &str) -> String {
    // Decoding can make a new escape (`%6%31` → `%61`): decode until nothing changes, so the
    // result is a fixed point and no upstream that decodes once more sees another path. Each
    // round that changes anything shortens the text, so this ends.
    let mut decoded = decode_unreserved(raw);
    loop {
        let again = decode_unreserved(&decoded);
        if again == decoded {
            break;
        }
        decoded = Cow::Owned(again.into_owned());
    }
    let mut segments: Vec<&str> = Vec::new();
    // A path ending in `/`, `/.` or `/..` names a directory; keep its trailing slash.
    let mut trailing_slash = false;
    for segment in decoded.split('/') {
        match segment {
            "" | "." => trailing_slash = true,
            ".." => {
                segments.pop();
                trailing_slash = true;
            }
            segment => {
                segments.push(segment);
                trailing_slash = false;
            }
        }
    }
    let mut out = String::with_capacity(decoded.len() + 1);
    for segment in &segments {
        out.push('/');
        out.push_str(segment);
    }
    if trailing_slash || segments.is_empty() {
        out.push('/');
    }
    out
}

fn decode_unreserved(raw: &str) -> Cow<'_, str> {
    if !raw.contains('%') {
        return Cow::Borrowed(raw);
    }
    let bytes = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).and_then(hex),
                bytes.get(i + 2).and_then(hex),
            )
        {
            let byte = hi << 4 | lo;
            if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
                out.push(char::from(byte));
                i += 3;
                continue;
            }
        }
        // Everything else is copied; the input is a valid `str`, so char boundaries line up.
        let len = utf8_len(bytes[i]);
        out.push_str(&raw[i..i + len]);
        i += len;
    }
    Cow::Owned(out)
}

fn hex(b: &u8) -> Option<u8> {
    char::from(*b).to_digit(16).map(|d| d as u8)
}

fn utf8_len(first: u8) -> usize {
    match first {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

/// Whether `s` starts with `prefix`, ignoring ASCII case (as Caddy's matchers do).
pub fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_examples() {
        for (raw, want) in [
            ("", "/"),
            ("/", "/"),
            ("///", "/"),
            ("/a/./b", "/a/b"),
            ("/a/b/..", "/a/"),
            ("/a/b/.", "/a/b/"),
            ("/a/..", "/"),
            ("/..", "/"),
            ("/a/%2e%2e/b", "/b"),
            ("/a/%2E/b", "/a/b"),
            ("/%7Euser/%41%5a", "/~user/AZ"),
            ("/a%2Fb", "/a%2Fb"),
            ("/a%2fb/%20x", "/a%2fb/%20x"),
            ("/bad%zz/%4", "/bad%zz/%4"),
            ("/caf%C3%A9/é", "/caf%C3%A9/é"),
            ("relative/x", "/relative/x"),
        ] {
            assert_eq!(normalize_path(raw), want, "normalize_path({raw:?})");
        }
    }

    /// Exhaustive over short paths built from tricky segments: the result is rooted, has no
    /// empty, `.` or `..` segment, and normalising again changes nothing.
    #[test]
    fn normalisation_invariants() {
        const PARTS: &[&str] = &[
            "", ".", "..", "a", "%2e", "%2E%2e", "%2F", "%41pi", "%", "%zz", "é",
        ];
        let mut paths = vec![String::new()];
        for _ in 0..4 {
            let mut next = Vec::new();
            for prefix in &paths {
                for part in PARTS {
                    next.push(format!("{prefix}/{part}"));
                }
            }
            paths.extend(next);
        }
        for raw in &paths {
            let path = normalize_path(raw);
            assert!(path.starts_with('/'), "{raw:?} -> {path:?}");
            let inner = path.trim_start_matches('/');
            let inner = inner.strip_suffix('/').unwrap_or(inner);
            if !inner.is_empty() {
                for segment in inner.split('/') {
                    assert!(!matches!(segment, "" | "." | ".."), "{raw:?} -> {path:?}");
                }
            }
            assert_eq!(normalize_path(&path), path, "idempotent for {raw:?}");
        }
    }
}
