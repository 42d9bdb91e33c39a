//! python-slugify, as Tracecat uses it to derive an action `ref` from its title.
//!
//! Steps: quotes become separators, accented Latin letters are transliterated to ASCII (other
//! non-ASCII letters are dropped, unlike unidecode's full tables), lowercase, commas between
//! digits are removed, every run of characters outside `[a-z0-9]` becomes one separator, and
//! separators at either end are trimmed.

/// Slugifies `text` with `separator` between words (`"-"` is python-slugify's default).
pub fn slugify(text: &str, separator: &str) -> String {
    let mut ascii = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\'' | '"' | '\u{2018}' | '\u{2019}' | '\u{201c}' | '\u{201d}' => ascii.push('-'),
            c if c.is_ascii() => ascii.push(c),
            c => ascii.push_str(transliterate(c)),
        }
    }
    let lower = ascii.to_ascii_lowercase();
    // Drop commas between digits ("1,000" -> "1000").
    let chars: Vec<char> = lower.chars().collect();
    let mut words: Vec<String> = vec![String::new()];
    for (i, &c) in chars.iter().enumerate() {
        let digit_comma = c == ','
            && i > 0
            && chars[i - 1].is_ascii_digit()
            && chars.get(i + 1).is_some_and(char::is_ascii_digit);
        if digit_comma {
            continue;
        }
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            if let Some(w) = words.last_mut() {
                w.push(c);
            }
        } else if words.last().is_some_and(|w| !w.is_empty()) {
            words.push(String::new());
        }
    }
    words.retain(|w| !w.is_empty());
    words.join(separator)
}

/// The action ref Tracecat derives from a title: `slugify(title, separator="_")`.
pub fn slugify_ref(title: &str) -> String {
    slugify(title, "_")
}

/// ASCII for common Latin-1 / Latin Extended-A letters (a small subset of unidecode).
fn transliterate(c: char) -> &'static str {
    match c {
        'À'..='Å' | 'à'..='å' | 'Ā' | 'ā' | 'Ă' | 'ă' | 'Ą' | 'ą' => "a",
        'Æ' | 'æ' => "ae",
        'Ç' | 'ç' | 'Ć' | 'ć' | 'Č' | 'č' => "c",
        'Ð' | 'ð' | 'Ď' | 'ď' | 'Đ' | 'đ' => "d",
        'È'..='Ë' | 'è'..='ë' | 'Ē' | 'ē' | 'Ė' | 'ė' | 'Ę' | 'ę' | 'Ě' | 'ě' => "e",
        'Ğ' | 'ğ' => "g",
        'Ì'..='Ï' | 'ì'..='ï' | 'Ī' | 'ī' | 'Į' | 'į' | 'İ' | 'ı' => "i",
        'Ł' | 'ł' | 'Ľ' | 'ľ' => "l",
        'Ñ' | 'ñ' | 'Ń' | 'ń' | 'Ň' | 'ň' => "n",
        'Ò'..='Ö' | 'Ø' | 'ò'..='ö' | 'ø' | 'Ō' | 'ō' | 'Ő' | 'ő' => "o",
        'Œ' | 'œ' => "oe",
        'Ř' | 'ř' => "r",
        'Ś' | 'ś' | 'Š' | 'š' | 'Ş' | 'ş' => "s",
        'ß' => "ss",
        'Ť' | 'ť' | 'Ţ' | 'ţ' => "t",
        'Þ' | 'þ' => "th",
        'Ù'..='Ü' | 'ù'..='ü' | 'Ū' | 'ū' | 'Ů' | 'ů' | 'Ű' | 'ű' => "u",
        'Ý' | 'ý' | 'ÿ' | 'Ÿ' => "y",
        'Ź' | 'ź' | 'Ż' | 'ż' | 'Ž' | 'ž' => "z",
        _ => " ",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_examples() {
        assert_eq!(
            slugify_ref("Reshape Findings into SMAC"),
            "reshape_findings_into_smac"
        );
        assert_eq!(slugify_ref("Don't stop"), "don_t_stop");
        assert_eq!(slugify_ref("Café #2"), "cafe_2");
        assert_eq!(slugify_ref("1,000 alerts"), "1000_alerts");
    }

    #[test]
    fn separators_collapse_and_trim() {
        assert_eq!(slugify_ref("  --Hello__World--  "), "hello_world");
        assert_eq!(slugify_ref("a - b"), "a_b");
        assert_eq!(slugify_ref("a,b 1,2,3"), "a_b_123");
        assert_eq!(slugify_ref("Straße Œuvre"), "strasse_oeuvre");
        assert_eq!(slugify_ref("日本"), "");
        assert_eq!(slugify("Hello World", "-"), "hello-world");
    }

    #[test]
    fn title_round_trip() {
        // Tracecat shows imported actions as ref.capitalize().replace("_", " ").
        for r in ["reshape_findings_into_smac", "don_t_stop", "cafe_2"] {
            let mut title = r.replace('_', " ");
            title[..1].make_ascii_uppercase();
            assert_eq!(slugify_ref(&title), r);
        }
    }
}
