//! Redaction of credentials from text that reaches a caller or a log: upstream error bodies
//! (providers often echo part of the key they refused) and transport errors (which name URLs).

use std::sync::LazyLock;

use regex::Regex;

/// What replaces a redacted value.
pub const REDACTED: &str = "[REDACTED]";

static PATTERNS: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    [
        // Authorization values.
        (r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]{4,}", "$1 [REDACTED]"),
        // Well-known key shapes: OpenAI/Anthropic `sk-...`, Google `AIza...`, GitHub, Slack, AWS.
        (r"\bsk-[A-Za-z0-9_\-*.]{6,}", "[REDACTED]"),
        (r"\bAIza[0-9A-Za-z_\-]{10,}", "[REDACTED]"),
        (r"\b(gh[pousr]_[A-Za-z0-9]{10,}|xox[abposr]-[A-Za-z0-9\-]{10,}|AKIA[0-9A-Z]{16})\b", "[REDACTED]"),
        // key=value / "key": "value" pairs whose name says secret.
        (
            r#"(?i)(["']?(?:api[_-]?key|x-api-key|api-key|access[_-]?token|token|secret|password|passwd|authorization|key)["']?\s*[:=]\s*["']?)[^"'\s,&}]{3,}"#,
            "$1[REDACTED]",
        ),
        // Userinfo in URLs.
        (r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s:@]+:[^/\s@]+@", "$1[REDACTED]@"),
    ]
    .into_iter()
    .map(|(p, r)| (Regex::new(p).expect("valid redaction pattern"), r))
    .collect()
});

/// `text` with every `known` secret (the exact values used for this call) and everything that
/// looks like a credential replaced by [`REDACTED`].
pub fn redact(text: &str, known: &[&str]) -> String {
    let mut out = text.to_owned();
    for secret in known.iter().filter(|s| s.len() >= 4) {
        if out.contains(secret) {
            out = out.replace(secret, REDACTED);
        }
    }
    for (re, replacement) in PATTERNS.iter() {
        if re.is_match(&out) {
            out = re.replace_all(&out, *replacement).into_owned();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_known_values_and_key_shapes() {
        let text = r#"{"error":{"message":"Incorrect API key provided: sk-proj-abc123XYZ. Header was Bearer tok.en-1","api_key":"hunter22"}} see https://user:pw@host/x?key=AIzaSyA1234567890abc"#;
        let out = redact(text, &["my-custom-secret"]);
        for leaked in ["sk-proj-abc123XYZ", "tok.en-1", "hunter22", "user:pw", "AIzaSyA1234567890abc"] {
            assert!(!out.contains(leaked), "{leaked} left in {out}");
        }
        assert!(out.contains("Incorrect API key provided"));
        assert_eq!(redact("the key my-custom-secret-value", &["my-custom-secret-value"]), "the key [REDACTED]");
    }

    #[test]
    fn leaves_plain_text_alone() {
        let text = "model gpt-4o does not exist; max_tokens must be <= 4096";
        assert_eq!(redact(text, &[]), text);
    }
}
