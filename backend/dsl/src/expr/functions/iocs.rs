//! IOC extraction (`extract_*`, `normalize_email`) after Tracecat's `ioc_extractors`: the same
//! candidate regexes, the same validation of each candidate (Python `ipaddress` rules, DNS label
//! rules, email-validator syntax rules, URL parsing) and the same defanged spellings.
//!
//! Two things differ by design. Results keep first-occurrence order: Tracecat returns a Python
//! set, whose order changes between processes, and a workflow needs replay-stable values.
//! Python's lookarounds and atomic groups, which the `regex` crate lacks, are emulated: a
//! lookahead at the end becomes consumed text outside capture group 1, and the other lookarounds
//! are checked on the neighbouring characters, retrying at the next position as Python's
//! backtracking engine does.

use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use super::{arity, opt_bool_at, str_at, value_error};
use crate::expr::ExprError;
use crate::expr::value::repr_str;

fn compile(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|e| unreachable!("IOC regex {pattern}: {e}"))
}

static ASN: LazyLock<Regex> = LazyLock::new(|| compile(r"\bAS\d+\b"));
static CVE: LazyLock<Regex> = LazyLock::new(|| compile(r"CVE-\d{4}-\d{4,7}"));
static MD5: LazyLock<Regex> = LazyLock::new(|| compile(r"\b[a-fA-F0-9]{32}\b"));
static SHA1: LazyLock<Regex> = LazyLock::new(|| compile(r"\b[a-fA-F0-9]{40}\b"));
static SHA256: LazyLock<Regex> = LazyLock::new(|| compile(r"\b[a-fA-F0-9]{64}\b"));
static SHA512: LazyLock<Regex> = LazyLock::new(|| compile(r"\b[a-fA-F0-9]{128}\b"));
static IPV4: LazyLock<Regex> = LazyLock::new(|| compile(r"\b(?:[0-9]{1,3}\.){3}[0-9]{1,3}\b"));
static EMAIL: LazyLock<Regex> =
    LazyLock::new(|| compile(r"[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}"));
/// Six hex pairs joined by `:` or by `-`; Tracecat's `(?<![\d:A-Fa-f-])` / `(?![\d:A-Fa-f-])`
/// are checked by [`mac_neighbour`].
static MAC: LazyLock<Regex> = LazyLock::new(|| {
    compile(r"[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){5}")
});
static MAC_NEIGHBOUR: LazyLock<Regex> = LazyLock::new(|| compile(r"^[\d:A-Fa-f-]$"));
/// Labels and a TLD; Tracecat wraps this in an atomic group between `(?<![:/\w+])` and
/// `(?![:/\w+@])`, which [`extract_domain_candidates`] checks.
static DOMAIN: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"(?:(?:xn--[a-zA-Z0-9]+|[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)\.)+(?:xn--[a-zA-Z0-9-]+|[a-zA-Z]{2,})(?:\.(?:xn--[a-zA-Z0-9-]+|[a-zA-Z]{2,}))*",
    )
});
static WORD: LazyLock<Regex> = LazyLock::new(|| compile(r"^\w$"));

/// URL regexes without Tracecat's final `(?<![?&=/#.])`, which [`trim_url`] applies.
const URL_TAIL: &str = r"://(?:www\.)?[-a-zA-Z0-9@:%._\+~#=\x{A0}-\x{FFFF}]{1,256}(?:\.[a-zA-Z0-9()\x{A0}-\x{FFFF}]{1,63})+(?::\d{1,5})?(?:/[-a-zA-Z0-9()@:%_\+.~#?&/=\x{A0}-\x{FFFF}]*)?";
static URL_ANY: LazyLock<Regex> =
    LazyLock::new(|| compile(&format!("(?:https?|tcp|udp|ftp|sftp|ftps){URL_TAIL}")));
static URL_HTTP: LazyLock<Regex> = LazyLock::new(|| compile(&format!("(?:https?){URL_TAIL}")));

/// Tracecat's IPv6 alternation, one regex per branch in its order; group 1 is the address.
/// The bracketed branches consume the `[` and `]` that Tracecat's `(?<=\[)` and `(?=\])` look at.
static IPV6_BRANCHES: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    let h = "[0-9A-Fa-f]";
    let full = format!(r"(?:{h}{{1,4}}:){{7}}{h}{{1,4}}");
    let compressed =
        format!(r"(?:{h}{{1,4}}:){{0,6}}(?:{h}{{1,4}})?::(?:{h}{{1,4}}:){{0,6}}{h}{{1,4}}?");
    let v4_full = format!(r"(?:{h}{{1,4}}:){{6}}(?:\d{{1,3}}\.){{3}}\d{{1,3}}");
    let v4_compressed = format!(r"(?:{h}{{1,4}}:){{0,5}}:(?:\d{{1,3}}\.){{3}}\d{{1,3}}");
    let forms = [full, compressed, v4_full, v4_compressed];
    let bare = forms.iter().map(|f| compile(&format!(r"\b({f})\b")));
    let bracketed = forms.iter().map(|f| compile(&format!(r"\[({f})\]")));
    bare.chain(bracketed).collect()
});

/// Spellings undone before the second pass of `extract_domains(text, True)`, in Tracecat's order.
const DOMAIN_REFANG: &[(&str, &str)] = &[
    ("[.]", "."),
    ("(.)", "."),
    ("[dot]", "."),
    ("(dot)", "."),
    (" dot ", "."),
    (r"\.", "."),
];
const IPV4_REFANG: &[(&str, &str)] = &[
    ("[.]", "."),
    ("(.)", "."),
    (r"\.", "."),
    ("[dot]", "."),
    (" dot ", "."),
];
/// The last two entries are literal text in Tracecat too (`str.replace`, not a regex).
const IPV6_REFANG: &[(&str, &str)] = &[
    ("[:]", ":"),
    ("(:)", ":"),
    (r"\:", ":"),
    ("(colon)", ":"),
    ("[colon]", ":"),
    (" colon colon ", "::"),
    (" colon ", ":"),
    ("(dot)", "."),
    ("[dot]", "."),
    (" dot ", "."),
    (" period ", "."),
    ("[::]", "::"),
    ("(::)", "::"),
    (r"\::", "::"),
    (r"\[", "["),
    (r"\]", "]"),
    ("https://[", "["),
    ("http://[", "["),
    ("ftp://[", "["),
    ("]:[0-9]+", "]"),
    ("] port [0-9]+", "]"),
];
/// Applied in order, so `xxxp://` first becomes `xhttp://` (via `xxp://`), as in Tracecat.
const URL_REFANG: &[(&str, &str)] = &[
    ("[.]", "."),
    ("(.)", "."),
    ("[dot]", "."),
    ("(dot)", "."),
    (" dot ", "."),
    (" colon ", ":"),
    ("hxxp://", "http://"),
    ("hxxps://", "https://"),
    ("xxp://", "http://"),
    ("xxps://", "https://"),
    ("xxxp://", "http://"),
    ("xxxps://", "https://"),
    ("http[:]//", "http://"),
    ("https[:]//", "https://"),
    ("http(:)//", "http://"),
    ("https(:)//", "https://"),
    ("http:[/][/]", "http://"),
    ("https:[/][/]", "https://"),
    ("http:(/)(/)", "http://"),
    ("https:(/)(/)", "https://"),
];

fn refang(text: &str, table: &[(&str, &str)]) -> String {
    table
        .iter()
        .fold(text.to_owned(), |acc, (from, to)| acc.replace(from, to))
}

/// Distinct values in first-occurrence order.
fn unique<S: Into<String>>(items: impl IntoIterator<Item = S>) -> Vec<String> {
    let mut seen = HashSet::new();
    items
        .into_iter()
        .map(Into::into)
        .filter(|s| seen.insert(s.clone()))
        .collect()
}

fn list(items: Vec<String>) -> Value {
    Value::Array(items.into_iter().map(Value::String).collect())
}

fn findall<'t>(re: &Regex, text: &'t str) -> Vec<&'t str> {
    re.find_iter(text).map(|m| m.as_str()).collect()
}

fn next_char(text: &str, i: usize) -> usize {
    i + text[i..].chars().next().map_or(1, char::len_utf8)
}

fn char_before(text: &str, i: usize) -> Option<char> {
    text[..i].chars().next_back()
}

fn char_at(text: &str, i: usize) -> Option<char> {
    text[i..].chars().next()
}

fn is_word(c: char) -> bool {
    let mut buf = [0; 4];
    WORD.is_match(c.encode_utf8(&mut buf))
}

/// Python `re.findall` over an alternation whose branches are tried in order at each position:
/// each branch is its own regex, group 1 is what Python reports, and text a branch consumes
/// around group 1 stands for a lookaround (so it may start one `[` before the scan position).
fn findall_branches<'t>(branches: &[Regex], text: &'t str) -> Vec<&'t str> {
    // Per branch: its leftmost match at or after the scan position, while that stays valid.
    let mut cache: Vec<Option<Option<(usize, usize)>>> = vec![None; branches.len()];
    let mut out = Vec::new();
    let mut pos = 0;
    while pos <= text.len() {
        let mut best: Option<(usize, usize)> = None;
        for (re, slot) in branches.iter().zip(cache.iter_mut()) {
            let found = match *slot {
                Some(Some((start, end))) if start >= pos => Some((start, end)),
                Some(None) => None,
                _ => {
                    let found = first_group_from(re, text, pos);
                    *slot = Some(found);
                    found
                }
            };
            if let Some((start, end)) = found
                && best.is_none_or(|(s, _)| start < s)
            {
                best = Some((start, end));
            }
        }
        let Some((start, end)) = best else { break };
        out.push(&text[start..end]);
        pos = if end > start {
            end
        } else {
            next_char(text, start)
        };
    }
    out
}

fn first_group_from(re: &Regex, text: &str, pos: usize) -> Option<(usize, usize)> {
    let mut at = if text[..pos].ends_with('[') {
        pos - 1
    } else {
        pos
    };
    loop {
        let caps = re.captures_at(text, at)?;
        let group = caps.get(1)?;
        if group.start() >= pos {
            return Some((group.start(), group.end()));
        }
        at = next_char(text, caps.get(0)?.start());
    }
}

/// Python `re.findall` for a regex with lookarounds the `regex` crate lacks: `accept` sees each
/// leftmost match and returns its end (possibly shortened), or `None` to reject the start, after
/// which the search resumes at `skip(start)`.
fn findall_checked<'t>(
    re: &Regex,
    text: &'t str,
    accept: impl Fn(usize, usize) -> Option<usize>,
    skip: impl Fn(usize) -> usize,
) -> Vec<&'t str> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos <= text.len() {
        let Some(m) = re.find_at(text, pos) else {
            break;
        };
        match accept(m.start(), m.end()) {
            Some(end) => {
                out.push(&text[m.start()..end]);
                pos = end.max(next_char(text, m.start()));
            }
            None => pos = skip(m.start()),
        }
    }
    out
}

// ---- validators ----

/// Python's `ipaddress.IPv4Address(s)`: four decimal octets, no leading zeros.
fn is_ipv4(s: &str) -> bool {
    let octets: Vec<&str> = s.split('.').collect();
    octets.len() == 4
        && octets.iter().all(|o| {
            (1..=3).contains(&o.len())
                && o.bytes().all(|b| b.is_ascii_digit())
                && !(o.len() > 1 && o.starts_with('0'))
                && o.parse::<u16>().is_ok_and(|n| n <= 255)
        })
}

/// Python's `ipaddress.IPv6Address(s)` (without a `%scope`, which no regex here yields).
fn is_ipv6(s: &str) -> bool {
    // A trailing dotted quad stands for the last two hextets.
    let embedded: [String; 2];
    let mut parts: Vec<&str> = s.split(':').collect();
    if parts.len() < 3 {
        return false;
    }
    if parts.last().is_some_and(|p| p.contains('.')) {
        let v4 = parts.pop().unwrap_or_default();
        if !is_ipv4(v4) {
            return false;
        }
        let n = u32::from(v4.parse::<Ipv4Addr>().unwrap_or(Ipv4Addr::UNSPECIFIED));
        embedded = [format!("{:x}", n >> 16), format!("{:x}", n & 0xFFFF)];
        parts.extend(embedded.iter().map(String::as_str));
    }
    if parts.len() > 9 {
        return false;
    }
    let last = parts.len() - 1;
    let mut skip = None;
    for (i, p) in parts.iter().enumerate().take(last).skip(1) {
        if p.is_empty() {
            if skip.is_some() {
                return false;
            }
            skip = Some(i);
        }
    }
    let (hi, lo) = match skip {
        Some(i) => {
            let (mut hi, mut lo) = (i, last - i);
            if parts[0].is_empty() {
                hi -= 1;
                if hi != 0 {
                    return false;
                }
            }
            if parts[last].is_empty() {
                lo -= 1;
                if lo != 0 {
                    return false;
                }
            }
            if hi + lo > 7 {
                return false;
            }
            (hi, lo)
        }
        None => {
            if parts.len() != 8 || parts[0].is_empty() || parts[last].is_empty() {
                return false;
            }
            (8, 0)
        }
    };
    let hextet = |p: &&str| (1..=4).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_hexdigit());
    parts[..hi].iter().all(hextet) && parts[parts.len() - lo..].iter().all(hextet)
}

/// pydantic-extra-types' `DomainStr`: at most 253 characters, labels of 1–63 letters, digits
/// and inner hyphens, and an alphabetic TLD of 2–63 letters.
fn is_domain(s: &str) -> bool {
    let s = s.trim().to_lowercase();
    let Some((labels, tld)) = s.rsplit_once('.') else {
        return false;
    };
    (1..=253).contains(&s.chars().count())
        && (2..=63).contains(&tld.len())
        && tld.bytes().all(|b| b.is_ascii_lowercase())
        && labels.split('.').all(|l| {
            (1..=63).contains(&l.len())
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// Domains no email address may use (email-validator's `SPECIAL_USE_DOMAIN_NAMES`).
const SPECIAL_USE_DOMAINS: &[&str] = &["arpa", "invalid", "local", "localhost", "onion", "test"];

/// The syntax checks email-validator makes without a DNS lookup, for the ASCII candidates
/// the email regex yields: a dot-atom local part of at most 64 characters, a domain of
/// hostname labels with a period, not special-use, and at most 254 characters in all.
fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    let atom_ok = |part: &str| {
        !part.is_empty()
            && part.bytes().all(|b| {
                b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b)
            })
    };
    let domain = domain.to_ascii_lowercase();
    let label_ok = |l: &str| {
        let b = l.as_bytes();
        (1..=63).contains(&b.len())
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
            && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
            // IDNA forbids `--` in the third and fourth positions except in `xn--` labels.
            && (b.len() < 4 || &b[2..4] != b"--" || l.starts_with("xn--"))
    };
    local.len() <= 64
        && local.split('.').all(atom_ok)
        && domain.contains('.')
        && domain.len() <= 253
        && domain.split('.').all(label_ok)
        && domain.ends_with(|c: char| c.is_ascii_alphabetic())
        && !SPECIAL_USE_DOMAINS
            .iter()
            .any(|d| domain == *d || domain.ends_with(&format!(".{d}")))
        && s.len() <= 254
}

/// pydantic's `AnyUrl` / `AnyHttpUrl`, which parse with the same `url` crate.
fn is_url(s: &str, http_only: bool) -> bool {
    url::Url::parse(s).is_ok_and(|u| {
        !http_only || (matches!(u.scheme(), "http" | "https") && u.host().is_some())
    })
}

// ---- candidates ----

fn domain_lookaround(c: char) -> bool {
    matches!(c, ':' | '/' | '+') || is_word(c)
}

/// Tracecat's domain regex: a start after `:`, `/`, `+` or a word character is rejected, and so
/// is a match followed by one of those or `@`, with no backtracking into the match (it is
/// atomic); the next start tried is past the run of such characters, as none inside it can pass.
fn extract_domain_candidates(text: &str) -> Vec<&str> {
    findall_checked(
        &DOMAIN,
        text,
        |start, end| {
            let before_ok = char_before(text, start).is_none_or(|c| !domain_lookaround(c));
            let after_ok = char_at(text, end).is_none_or(|c| !domain_lookaround(c) && c != '@');
            (before_ok && after_ok).then_some(end)
        },
        |start| {
            let mut i = start;
            while let Some(c) = char_at(text, i).filter(|c| domain_lookaround(*c)) {
                i += c.len_utf8();
            }
            next_char(text, i)
        },
    )
}

fn extract_mac_candidates(text: &str) -> Vec<&str> {
    let neighbour = |c: char| {
        let mut buf = [0; 4];
        MAC_NEIGHBOUR.is_match(c.encode_utf8(&mut buf))
    };
    findall_checked(
        &MAC,
        text,
        |start, end| {
            let ok = char_before(text, start).is_none_or(|c| !neighbour(c))
                && char_at(text, end).is_none_or(|c| !neighbour(c));
            ok.then_some(end)
        },
        |start| next_char(text, start),
    )
}

/// Tracecat's final `(?<![?&=/#.])` makes the path give back trailing `? & = / # .` characters
/// (never more: the host part before the path cannot end with one).
fn trim_url(text: &str, start: usize, end: usize) -> usize {
    start + text[start..end].trim_end_matches(['?', '&', '=', '/', '#', '.']).len()
}

fn extract_url_candidates(text: &str, http_only: bool) -> Vec<&str> {
    let re: &Regex = if http_only { &URL_HTTP } else { &URL_ANY };
    findall_checked(
        re,
        text,
        |start, end| Some(trim_url(text, start, end)),
        |start| next_char(text, start),
    )
}

fn ipv4s(text: &str, include_defanged: bool) -> Vec<String> {
    let mut found: Vec<String> = findall(&IPV4, text).into_iter().map(String::from).collect();
    if include_defanged {
        let normalized = refang(text, IPV4_REFANG);
        found.extend(findall(&IPV4, &normalized).into_iter().map(String::from));
    }
    unique(found.into_iter().filter(|ip| is_ipv4(ip)))
}

fn ipv6s(text: &str, include_defanged: bool) -> Vec<String> {
    let mut found: Vec<String> = findall_branches(&IPV6_BRANCHES, text)
        .into_iter()
        .map(String::from)
        .collect();
    if include_defanged {
        let normalized = refang(text, IPV6_REFANG);
        found.extend(
            findall_branches(&IPV6_BRANCHES, &normalized)
                .into_iter()
                .map(String::from),
        );
    }
    unique(found.into_iter().filter(|ip| is_ipv6(ip)))
}

// ---- functions ----

fn simple(args: &[Value], re: &Regex) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    Ok(list(unique(findall(re, str_at(args, 0)?))))
}

pub(super) fn extract_asns(args: &[Value]) -> Result<Value, ExprError> {
    simple(args, &ASN)
}

pub(super) fn extract_cves(args: &[Value]) -> Result<Value, ExprError> {
    simple(args, &CVE)
}

pub(super) fn extract_md5(args: &[Value]) -> Result<Value, ExprError> {
    simple(args, &MD5)
}

pub(super) fn extract_sha1(args: &[Value]) -> Result<Value, ExprError> {
    simple(args, &SHA1)
}

pub(super) fn extract_sha256(args: &[Value]) -> Result<Value, ExprError> {
    simple(args, &SHA256)
}

pub(super) fn extract_sha512(args: &[Value]) -> Result<Value, ExprError> {
    simple(args, &SHA512)
}

/// `extract_domains(text, include_defanged=False)`.
pub(super) fn extract_domains(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 2)?;
    let text = str_at(args, 0)?;
    let mut found: Vec<String> = extract_domain_candidates(text)
        .into_iter()
        .map(String::from)
        .collect();
    if opt_bool_at(args, 1)? {
        let normalized = refang(text, DOMAIN_REFANG);
        found.extend(
            extract_domain_candidates(&normalized)
                .into_iter()
                .map(String::from),
        );
    }
    Ok(list(unique(found.into_iter().filter(|d| is_domain(d)))))
}

/// `extract_emails(text, normalize=False)`: with `normalize`, see [`normalize_email`].
pub(super) fn extract_emails(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 2)?;
    let text = str_at(args, 0)?;
    let normalize = opt_bool_at(args, 1)?;
    let valid = findall(&EMAIL, text).into_iter().filter(|e| is_email(e));
    Ok(list(unique(valid.map(|e| {
        if normalize {
            normalized_email(e).unwrap_or_else(|| e.to_owned())
        } else {
            e.to_owned()
        }
    }))))
}

/// Lowercases and drops the `+subaddress` of the local part.
fn normalized_email(email: &str) -> Option<String> {
    let lower = email.to_lowercase();
    let (local, domain) = lower.split_once('@')?;
    if domain.contains('@') {
        return None;
    }
    let local = local.split('+').next().unwrap_or_default();
    Some(format!("{local}@{domain}"))
}

/// `normalize_email(email)`: `User.Name+News@Example.COM` → `user.name@example.com`.
pub(super) fn normalize_email(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    let email = str_at(args, 0)?;
    normalized_email(email).map(Value::String).ok_or_else(|| {
        value_error(format!(
            "email must contain exactly one '@', got {}",
            repr_str(email)
        ))
    })
}

/// `extract_ipv4(text, include_defanged=False)`.
pub(super) fn extract_ipv4(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 2)?;
    Ok(list(ipv4s(str_at(args, 0)?, opt_bool_at(args, 1)?)))
}

/// `extract_ipv6(text, include_defanged=False)`.
pub(super) fn extract_ipv6(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 2)?;
    Ok(list(ipv6s(str_at(args, 0)?, opt_bool_at(args, 1)?)))
}

/// `extract_ip(text, include_defanged=False)`: the IPv4 addresses, then the IPv6 ones.
pub(super) fn extract_ip(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 2)?;
    let (text, defanged) = (str_at(args, 0)?, opt_bool_at(args, 1)?);
    let mut all = ipv4s(text, defanged);
    all.extend(ipv6s(text, defanged));
    Ok(list(all))
}

/// `extract_mac(text)`: lowercase, colon-separated.
pub(super) fn extract_mac(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    let text = str_at(args, 0)?;
    let normalized = extract_mac_candidates(text).into_iter().map(|m| {
        let hex: String = m
            .chars()
            .filter(char::is_ascii_hexdigit)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        hex.as_bytes()
            .chunks(2)
            .map(|pair| String::from_utf8_lossy(pair).into_owned())
            .collect::<Vec<_>>()
            .join(":")
    });
    Ok(list(unique(normalized)))
}

/// `extract_urls(text, http_only=False, include_defanged=False)`.
pub(super) fn extract_urls(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 3)?;
    let text = str_at(args, 0)?;
    let http_only = opt_bool_at(args, 1)?;
    let mut found: Vec<String> = extract_url_candidates(text, http_only)
        .into_iter()
        .map(String::from)
        .collect();
    if opt_bool_at(args, 2)? {
        let normalized = refang(text, URL_REFANG);
        found.extend(
            extract_url_candidates(&normalized, http_only)
                .into_iter()
                .map(String::from),
        );
    }
    Ok(list(unique(
        found.into_iter().filter(|u| is_url(u, http_only)),
    )))
}
