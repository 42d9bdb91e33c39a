//! `FN.extract_*` and `FN.normalize_email` on log lines, alerts and threat reports.

use serde_json::{Value, json};

use super::{ev, ev_err};
use crate::expr::{ExprContext, eval_expression};

/// Calls `FN.<f>(TRIGGER.text, extra…)` with `text` as the trigger, so tests need no quoting.
fn extract(f: &str, text: &str, extra: &str) -> Value {
    let ctx = ExprContext {
        trigger: json!({ "text": text }),
        ..ExprContext::default()
    };
    let expr = format!("FN.{f}(TRIGGER.text{extra})");
    eval_expression(&expr, &ctx).unwrap_or_else(|e| panic!("{expr}: {e}"))
}

#[test]
fn asns_need_the_as_prefix_and_word_boundaries() {
    let text = "BGP leak: AS64500 announced 203.0.113.0/24 owned by AS65010 (peer AS64500); \
                ASN 13335 and xAS7 and AS12abc are not ASNs";
    assert_eq!(
        extract("extract_asns", text, ""),
        json!(["AS64500", "AS65010"])
    );
    assert_eq!(extract("extract_asns", "no numbers here", ""), json!([]));
}

#[test]
fn cves_keep_first_occurrence_order_without_duplicates() {
    let text = "Patch Tuesday: CVE-2024-3400 (PAN-OS), CVE-2023-4966 (Citrix Bleed), \
                again CVE-2024-3400; bogus CVE-24-1 and CVE-2024-ABCD";
    assert_eq!(
        extract("extract_cves", text, ""),
        json!(["CVE-2024-3400", "CVE-2023-4966"])
    );
    // Like Tracecat's regex there is no trailing boundary: 8 digits yield the first 7.
    assert_eq!(
        extract("extract_cves", "CVE-2021-12345678", ""),
        json!(["CVE-2021-1234567"])
    );
}

#[test]
fn hashes_are_matched_by_exact_length() {
    let md5 = "44d88612fea8a8f36de82e1278abb02f";
    let sha1 = "3395856CE81F2B7382DEE72602F798B642F14140";
    let sha256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f";
    let sha512 = "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce\
                  47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";
    let text = format!(
        "EDR alert host=WS-042 file=invoice.exe md5={md5} sha1={sha1} sha256={sha256} \
         sha512={sha512} parent_md5={md5} truncated=44d88612fea8a8f36de82e1278abb0"
    );
    assert_eq!(extract("extract_md5", &text, ""), json!([md5]));
    assert_eq!(extract("extract_sha1", &text, ""), json!([sha1]));
    assert_eq!(extract("extract_sha256", &text, ""), json!([sha256]));
    assert_eq!(extract("extract_sha512", &text, ""), json!([sha512]));
    // A 40-digit run is no MD5, and a hash glued to a word is no hash.
    assert_eq!(extract("extract_md5", &format!("x{md5}"), ""), json!([]));
}

#[test]
fn ipv4_candidates_are_validated_like_python_ipaddress() {
    let text = "Apr 15 13:45:29 fw01 kernel: DROP IN=eth0 SRC=185.220.101.4:51812 \
                DST=10.0.0.5:22 LEN=60; X-Forwarded-For: 198.51.100.7, 185.220.101.4; \
                bad 256.1.1.1 and 01.2.3.4 and 1.2.3; deny 172.16.0.0/12";
    assert_eq!(
        extract("extract_ipv4", text, ""),
        json!([
            "185.220.101.4",
            "10.0.0.5",
            "198.51.100.7",
            "172.16.0.0"
        ])
    );
    // Five dotted numbers still contain one address at a word boundary.
    assert_eq!(
        extract("extract_ipv4", "1.2.3.4.5", ""),
        json!(["1.2.3.4"])
    );
}

#[test]
fn defanged_ipv4_is_found_only_when_asked() {
    let text = "C2 beacons to 45[.]77[.]12[.]9 and 103(.)20(.)5(.)4, staging at \
                8\\.8\\.4\\.4, backup [192.0.2.10] and 198[dot]51[dot]100[dot]23";
    assert_eq!(
        extract("extract_ipv4", text, ""),
        json!(["192.0.2.10"])
    );
    assert_eq!(
        extract("extract_ipv4", text, ", True"),
        json!([
            "192.0.2.10",
            "45.77.12.9",
            "103.20.5.4",
            "8.8.4.4",
            "198.51.100.23"
        ])
    );
}

#[test]
fn ipv6_forms_brackets_and_ports() {
    let text = "sshd[811]: Failed password for root from 2001:db8:85a3::8a2e:370:7334 port 22; \
                proxy [2001:db8::1]:8443 -> [fe80::1ff:fe23:4567:890a]; \
                full 2001:0db8:0000:0000:0000:ff00:0042:8329; time 12:30:45";
    assert_eq!(
        extract("extract_ipv6", text, ""),
        json!([
            "2001:db8:85a3::8a2e:370:7334",
            "2001:db8::1",
            "fe80::1ff:fe23:4567:890a",
            "2001:0db8:0000:0000:0000:ff00:0042:8329"
        ])
    );
}

#[test]
fn ipv6_keeps_tracecats_alternation_order_quirks() {
    // Python tries the compressed branch before the embedded-IPv4 one at each position, so
    // `64:ff9b::192.0.2.33` yields `64:ff9b::192` (a valid address) and stops there.
    assert_eq!(
        extract("extract_ipv6", "nat64 64:ff9b::192.0.2.33", ""),
        json!(["64:ff9b::192"])
    );
    // Two `::` are split into two valid matches rather than rejected.
    assert_eq!(
        extract("extract_ipv6", "bogus dead::beef::1", ""),
        json!(["dead::beef", "::1"])
    );
    // The compressed branch ends in a hex digit, so a trailing `::` is never found.
    assert_eq!(
        extract("extract_ipv6", "route 2001:db8:: via [2001:db8:1::]", ""),
        json!([])
    );
}

#[test]
fn defanged_ipv6() {
    let text = "exfil to 2001[:]db8[:]85a3[:]0[:]0[:]8a2e[:]370[:]7334 and \
                fd00(:)(:)53 and 2001 colon db8 colon colon 9";
    assert_eq!(extract("extract_ipv6", text, ""), json!([]));
    assert_eq!(
        extract("extract_ipv6", text, ", True"),
        json!(["2001:db8:85a3:0:0:8a2e:370:7334", "fd00::53", "2001:db8::9"])
    );
}

#[test]
fn extract_ip_lists_ipv4_then_ipv6() {
    let text = "conn 2606:4700:4700::1111 -> 1.1.1.1, then 10.1.2.3 -> [2001:db8::53]:53";
    assert_eq!(
        extract("extract_ip", text, ""),
        json!(["1.1.1.1", "10.1.2.3", "2606:4700:4700::1111", "2001:db8::53"])
    );
    assert_eq!(
        extract("extract_ip", "hxxp://203[.]0[.]113[.]9/x", ", True"),
        json!(["203.0.113.9"])
    );
}

#[test]
fn domains_skip_urls_and_email_local_parts() {
    let text = "DNS query for update.evil-cdn.net from WS-7; beacon https://c2.example.org/gate.php; \
                mail from j.doe+alerts@corp-mail.co.uk; seen login.microsoftonline.com. \
                Not domains: example.123, 10.0.0.1, a..b";
    assert_eq!(
        extract("extract_domains", text, ""),
        json!([
            "update.evil-cdn.net",
            "corp-mail.co.uk",
            "login.microsoftonline.com"
        ])
    );
    // A run of labels followed by `/` is rejected whole (no backtracking to a shorter domain).
    assert_eq!(extract("extract_domains", "a.b.co.uk/x", ""), json!([]));
}

#[test]
fn defanged_domains() {
    let text = "IOCs: login-microsoft[.]com, cdn(.)bad-actor(.)ru, files\\.share\\.io and \
                phish[dot]example[dot]net";
    assert_eq!(extract("extract_domains", text, ""), json!([]));
    assert_eq!(
        extract("extract_domains", text, ", True"),
        json!([
            "login-microsoft.com",
            "cdn.bad-actor.ru",
            "files.share.io",
            "phish.example.net"
        ])
    );
}

#[test]
fn emails_are_validated_and_optionally_normalized() {
    let text = "From: \"IT Support\" <Help.Desk+ticket42@Contoso-Corp.com>; Reply-To: \
                billing@secure-payments.biz; bad: first..last@x.com, a@localhost.localdomain, \
                x@host.local, y@-bad.com, user@.com";
    assert_eq!(
        extract("extract_emails", text, ""),
        json!([
            "Help.Desk+ticket42@Contoso-Corp.com",
            "billing@secure-payments.biz",
            "a@localhost.localdomain"
        ])
    );
    assert_eq!(
        extract("extract_emails", text, ", True"),
        json!([
            "help.desk@contoso-corp.com",
            "billing@secure-payments.biz",
            "a@localhost.localdomain"
        ])
    );
}

#[test]
fn normalize_email_lowercases_and_drops_the_subaddress() {
    assert_eq!(
        ev("FN.normalize_email('Alice.Smith+Phish-Report@Example.COM')"),
        json!("alice.smith@example.com")
    );
    assert_eq!(
        ev("FN.normalize_email('a+b+c@x.org')"),
        json!("a@x.org")
    );
    assert_eq!(
        ev_err("FN.normalize_email('not-an-email')"),
        "email must contain exactly one '@', got 'not-an-email'"
    );
    assert_eq!(
        ev_err("FN.normalize_email(1)"),
        "argument 1 must be str, not int"
    );
}

#[test]
fn macs_are_normalized_to_lowercase_colons() {
    let text = "DHCPACK on 10.0.0.23 to 00:1A:2B:3C:4D:5E via eth0; ARP spoof AA-BB-CC-DD-EE-FF; \
                same 00-1a-2b-3c-4d-5e; too long 00:11:22:33:44:55:66; short 00:11:22:33:44";
    assert_eq!(
        extract("extract_mac", text, ""),
        json!(["00:1a:2b:3c:4d:5e", "aa:bb:cc:dd:ee:ff"])
    );
}

#[test]
fn urls_trim_trailing_punctuation_and_validate() {
    let text = "Proofpoint: clicked https://login.micros0ft-online.com/common/oauth2?client_id=abc&x=1. \
                Payload at http://198.51.100.9:8080/dl/stage2.ps1, mirror ftp://files.example.net/pub/ \
                and sftp://drop.example.org:22/in; c2 tcp://c2.example.com:4444 and \
                port http://bad.example.com:99999/x; no scheme www.example.com";
    assert_eq!(
        extract("extract_urls", text, ""),
        json!([
            "https://login.micros0ft-online.com/common/oauth2?client_id=abc&x=1",
            "http://198.51.100.9:8080/dl/stage2.ps1",
            "ftp://files.example.net/pub",
            "sftp://drop.example.org:22/in",
            "tcp://c2.example.com:4444"
        ])
    );
    assert_eq!(
        extract("extract_urls", text, ", False, True"),
        extract("extract_urls", text, "")
    );
    assert_eq!(
        extract("extract_urls", text, ", True"),
        json!([
            "https://login.micros0ft-online.com/common/oauth2?client_id=abc&x=1",
            "http://198.51.100.9:8080/dl/stage2.ps1"
        ])
    );
}

#[test]
fn defanged_urls() {
    let text = "Block hxxps://evil[.]example[.]com/login.php?u=1 and hxxp://203.0.113.7/a.exe, \
                http[:]//phish(.)example(.)net/ and https:[/][/]cdn.bad.org/x and \
                xxxp://dl.example.com/p";
    assert_eq!(extract("extract_urls", text, ""), json!([]));
    assert_eq!(
        extract("extract_urls", text, ", False, True"),
        json!([
            "https://evil.example.com/login.php?u=1",
            "http://203.0.113.7/a.exe",
            "http://phish.example.net",
            "https://cdn.bad.org/x",
            "http://dl.example.com/p"
        ])
    );
}

#[test]
fn unicode_hosts_are_urls() {
    assert_eq!(
        extract("extract_urls", "see https://例子.测试/path now", ""),
        json!(["https://例子.测试/path"])
    );
}

#[test]
fn extractors_reject_bad_arguments() {
    assert_eq!(
        ev_err("FN.extract_ipv4(None)"),
        "argument 1 must be str, not NoneType"
    );
    assert_eq!(
        ev_err("FN.extract_urls('x', 'yes')"),
        "argument 2 must be bool, not str"
    );
    assert_eq!(
        ev_err("FN.extract_cves('a', 'b')"),
        "takes 1 argument but 2 were given"
    );
    assert_eq!(
        ev("FN.extract_ipv4.map(['1.2.3.4 x', 'y 5.6.7.8'])"),
        json!([["1.2.3.4"], ["5.6.7.8"]])
    );
}
