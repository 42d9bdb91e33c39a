//! Keeping secrets out of outputs: every secret value (longer than one character) is replaced by
//! `***` wherever it appears in a result or an error message, as Tracecat does.
//!
//! Values of at least [`MIN_DERIVED_LEN`] characters are also masked in the forms a workflow
//! most easily turns them into: upper and lower case, base64 (standard and URL-safe, padded or
//! not, and inside a longer base64 text such as a Basic credential), and URL-encoded (RFC 3986,
//! with `/` kept as Python's `quote` does, and form encoding). Shorter values would make these
//! forms too likely to appear by chance; they are masked exactly only. Masking is defence in
//! depth: a workflow that wants to reveal a secret can always find another encoding.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use serde_json::{Map, Value};

/// The shortest secret value (in characters) whose derived forms are masked too.
pub const MIN_DERIVED_LEN: usize = 8;

/// What gets masked: every string value of every secret and, for values of at least
/// [`MIN_DERIVED_LEN`] characters, its derived forms; longest first (so a value that contains
/// another is masked whole).
pub fn secret_values(secrets: &Map<String, Value>) -> Vec<String> {
    let mut values: Vec<String> = secrets
        .values()
        .filter_map(Value::as_object)
        .flat_map(|keys| keys.values())
        .filter_map(Value::as_str)
        .filter(|v| v.chars().count() > 1)
        .flat_map(|v| {
            let mut forms = vec![v.to_owned()];
            if v.chars().count() >= MIN_DERIVED_LEN {
                forms.extend(derived_forms(v));
            }
            forms
        })
        .collect();
    values.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    values.dedup();
    values
}

/// The forms of `value` masked besides the value itself.
fn derived_forms(value: &str) -> Vec<String> {
    let mut forms = vec![value.to_uppercase(), value.to_lowercase()];
    for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
        forms.push(engine.encode(value));
    }
    forms.extend(base64_cores(value.as_bytes()));
    forms.push(percent_encode(value, b""));
    forms.push(percent_encode(value, b"/"));
    forms.push(form_encode(value));
    // Lower-case hex digits, as some encoders write them.
    let lower_hex = |s: String| -> String {
        let mut out = String::with_capacity(s.len());
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            out.push(c);
            if c == '%' {
                out.extend(chars.by_ref().take(2).map(|h| h.to_ascii_lowercase()));
            }
        }
        out
    };
    forms.push(lower_hex(percent_encode(value, b"")));
    forms.retain(|form| form != value && form.chars().count() >= MIN_DERIVED_LEN);
    forms
}

/// The base64 characters that encode `bytes` at each of the three alignments it can have inside
/// a longer text (`user:secret` in a Basic credential): only the characters that depend on
/// `bytes` alone, standard and URL-safe.
fn base64_cores(bytes: &[u8]) -> Vec<String> {
    let mut cores = Vec::new();
    for offset in 0..3usize {
        let mut padded = vec![0u8; offset];
        padded.extend_from_slice(bytes);
        let encoded = STANDARD_NO_PAD.encode(&padded);
        // Character i covers bits [6i, 6i+6): it is free of the prefix when 6i >= 8*offset,
        // and free of what follows when 6i+6 <= 8*(offset+len).
        let start = (8 * offset).div_ceil(6);
        let end = (8 * (offset + bytes.len())) / 6;
        if end > start {
            let core = &encoded[start..end];
            cores.push(core.to_owned());
            cores.push(core.replace('+', "-").replace('/', "_"));
        }
    }
    cores
}

/// Percent-encodes everything but RFC 3986's unreserved characters and `keep`.
fn percent_encode(value: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') || keep.contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `application/x-www-form-urlencoded`: spaces as `+`, `*-._` kept.
fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b' ' => out.push('+'),
            b if b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_') => out.push(char::from(b)),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `text` with every mask replaced by `***`.
pub fn mask_text(text: &str, masks: &[String]) -> String {
    masks.iter().fold(text.to_owned(), |text, secret| text.replace(secret.as_str(), "***"))
}

/// An action's arguments with every value of `secrets` masked: what reaches the platform's
/// stores (cases, tables) never holds a secret.
pub fn mask_args(args: Map<String, Value>, secrets: &Map<String, Value>) -> Map<String, Value> {
    match mask(Value::Object(args), &secret_values(secrets)) {
        Value::Object(args) => args,
        _ => Map::new(),
    }
}

/// `value` with every string (and object key) masked.
pub fn mask(value: Value, masks: &[String]) -> Value {
    if masks.is_empty() {
        return value;
    }
    match value {
        Value::String(s) => Value::String(mask_text(&s, masks)),
        Value::Array(items) => Value::Array(items.into_iter().map(|v| mask(v, masks)).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (mask_text(&k, masks), mask(v, masks))).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn masks_nested_values_keys_and_substrings() {
        let secrets = json!({"api": {"TOKEN": "s3cr3t-token", "SHORT": "x"}, "db": {"PASS": "hunter22"}});
        let masks = secret_values(secrets.as_object().unwrap());
        assert_eq!(&masks[masks.len() - 1], "hunter22", "shortest last: {masks:?}");
        assert!(masks.contains(&"s3cr3t-token".to_owned()) && !masks.contains(&"x".to_owned()));
        let result = json!({"auth": "Bearer s3cr3t-token", "list": ["hunter22", 5], "hunter22": true, "x": "x"});
        assert_eq!(mask(result, &masks), json!({"auth": "Bearer ***", "list": ["***", 5], "***": true, "x": "x"}));
        assert_eq!(mask_text("failed with hunter22", &masks), "failed with ***");
    }

    /// The review's leak.yml (finding 9): each derived form it printed is masked now.
    #[test]
    fn derived_forms_of_long_values_are_masked() {
        let secrets = json!({"spec": {"T": "tokAAAA1111", "V": "p@ss w0rd/Zq&SPECIAL-77"}});
        let masks = secret_values(secrets.as_object().unwrap());
        let leaked = json!({
            "b64": "dG9rQUFBQTExMTE=",
            "b64_nopad": "dG9rQUFBQTExMTE",
            "up": "TOKAAAA1111",
            "low": "tokaaaa1111",
            "urlenc": "p%40ss%20w0rd%2FZq%26SPECIAL-77",
            "quote": "p%40ss%20w0rd/Zq%26SPECIAL-77",
            "lowhex": "p%40ss%20w0rd%2fZq%26SPECIAL-77",
            "form": "p%40ss+w0rd%2FZq%26SPECIAL-77",
            "v_b64": STANDARD.encode("p@ss w0rd/Zq&SPECIAL-77"),
            "v_b64url": URL_SAFE_NO_PAD.encode("p@ss w0rd/Zq&SPECIAL-77"),
        });
        let masked = mask(leaked, &masks);
        for (field, value) in masked.as_object().unwrap() {
            assert_eq!(value, "***", "{field}: {masked}");
        }
    }

    #[test]
    fn base64_of_a_value_inside_a_longer_text_is_masked() {
        let secret = "correct-horse-battery";
        let masks = secret_values(json!({"s": {"PASS": secret}}).as_object().unwrap());
        for prefix in ["", "a", "ab", "admin:", "user-name:"] {
            let basic = STANDARD.encode(format!("{prefix}{secret}"));
            let masked = mask_text(&basic, &masks);
            assert!(masked.contains("***"), "{prefix:?}: {basic} -> {masked}");
            // What is left is the prefix's characters and at most a few at the edges.
            let left = masked.replace("***", "").len();
            assert!(left <= prefix.len() * 4 / 3 + 6, "{prefix:?}: {basic} -> {masked}");
        }
    }

    #[test]
    fn short_values_are_masked_exactly_only() {
        let masks = secret_values(json!({"s": {"PIN": "4242", "K": "abcdefg"}}).as_object().unwrap());
        assert_eq!(masks, vec!["abcdefg".to_owned(), "4242".to_owned()], "{masks:?}");
        assert_eq!(mask_text("ABCDEFG NDI0Mg== 4242", &masks), "ABCDEFG NDI0Mg== ***");
        // At the minimum length the derived forms are in.
        let masks = secret_values(json!({"s": {"K": "abcdefgh"}}).as_object().unwrap());
        assert_eq!(mask_text("ABCDEFGH YWJjZGVmZ2g=", &masks), "*** ***");
    }
}
