//! The password policy every password a person chooses must meet (accepting an invitation,
//! changing one's password): long enough, and not among the passwords guessed first. A long
//! passphrase of ordinary words passes; a common password with digits or symbols added, one
//! character repeated, a keyboard run or a counting sequence does not.

/// Why a password is refused, as a sentence for the person choosing it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeakPassword {
    #[error("the password must be at least {0} characters")]
    TooShort(usize),
    #[error("the password is one of the most common passwords; a few unrelated words make a strong one")]
    Common,
    #[error("the password repeats too few different characters; a few unrelated words make a strong one")]
    Repetitive,
    #[error("the password is a sequence (like abcdef or 123456); a few unrelated words make a strong one")]
    Sequence,
    #[error("the password must not contain the account's email address or its name part")]
    ContainsEmail,
}

/// The words (and keyboard runs) attackers try first, lowercase; a password is refused when it
/// is one of these once digits and symbols at its ends are stripped.
const COMMON: &[&str] = &[
    "password", "passw0rd", "p@ssword", "p@ssw0rd", "qwerty", "qwertyuiop", "qwertyuiopasdfghjkl", "asdfghjkl", "zxcvbnm",
    "qwertz", "azerty", "iloveyou", "letmein", "welcome", "admin", "administrator", "root", "changeme", "secret",
    "monkey", "dragon", "football", "baseball", "soccer", "hockey", "master", "superman", "batman", "sunshine",
    "princess", "shadow", "trustno", "starwars", "whatever", "freedom", "computer", "internet", "login", "access",
    "default", "ferrocat", "tracecat", "security", "abc", "test", "testing", "guest", "user", "hello", "charlie",
    "michael", "jennifer", "jordan", "hunter", "ranger", "killer", "pokemon", "samsung", "google", "summer", "winter",
    "spring", "autumn", "passwordpassword", "qwertyqwerty",
];

/// Checks `password` against the policy; `email` is the account's address.
pub fn check(password: &str, min_length: usize, email: &str) -> Result<(), WeakPassword> {
    let chars: Vec<char> = password.chars().collect();
    if chars.len() < min_length {
        return Err(WeakPassword::TooShort(min_length));
    }
    let lower = password.to_lowercase();
    let core = lower.trim_matches(|c: char| !c.is_alphabetic());
    let letters: String = lower.chars().filter(|c| c.is_alphanumeric()).collect();
    if COMMON.contains(&core) || COMMON.contains(&letters.as_str()) || COMMON.iter().any(|w| w.len() >= 6 && is_repeats_of(&letters, w))
    {
        return Err(WeakPassword::Common);
    }
    let mut distinct = chars.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 5 {
        return Err(WeakPassword::Repetitive);
    }
    if is_sequence(&chars) {
        return Err(WeakPassword::Sequence);
    }
    let email = crate::db::users::email_key(email);
    let local = email.split('@').next().unwrap_or_default();
    if !email.is_empty() && (lower.contains(&email) || (local.chars().count() >= 4 && lower.trim_matches(|c: char| !c.is_alphabetic()) == local)) {
        return Err(WeakPassword::ContainsEmail);
    }
    Ok(())
}

/// Whether `text` is `word` written several times over.
fn is_repeats_of(text: &str, word: &str) -> bool {
    !text.is_empty() && text.len().is_multiple_of(word.len()) && text.len() > word.len() && text == word.repeat(text.len() / word.len())
}

/// Whether every character is the one before it plus or minus one, wrapping 9 to 0
/// (`abcdefghijkl`, `987654321098`, `123456789012`).
fn is_sequence(chars: &[char]) -> bool {
    let step = |a: char, b: char| -> Option<i32> {
        let (a, b) = (a.to_ascii_lowercase(), b.to_ascii_lowercase());
        match (a, b) {
            ('9', '0') => Some(1),
            ('0', '9') => Some(-1),
            _ => Some(b as i32 - a as i32),
        }
    };
    let steps: Vec<Option<i32>> = chars.windows(2).map(|w| step(w[0], w[1])).collect();
    let Some(first) = steps.first().copied().flatten() else { return false };
    (first == 1 || first == -1) && steps.iter().all(|s| *s == Some(first))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMAIL: &str = "Analyst@example.com";

    #[test]
    fn weak_passwords_are_refused_with_the_reason() {
        for (password, why) in [
            ("short", WeakPassword::TooShort(12)),
            ("aaaaaaaaaaaa", WeakPassword::Repetitive),
            ("abababababab", WeakPassword::Repetitive),
            ("Password1234!", WeakPassword::Common),
            ("qwertyuiop12", WeakPassword::Common),
            ("passwordpassword", WeakPassword::Common),
            ("!!Letmein2026", WeakPassword::Common),
            ("abcdefghijklm", WeakPassword::Sequence),
            ("123456789012", WeakPassword::Sequence),
            ("987654321098", WeakPassword::Sequence),
            ("analyst@example.com", WeakPassword::ContainsEmail),
            ("my analyst@example.com pw", WeakPassword::ContainsEmail),
        ] {
            assert_eq!(check(password, 12, EMAIL), Err(why), "{password}");
        }
    }

    #[test]
    fn passphrases_and_ordinary_long_passwords_pass() {
        for password in ["purple elephant juggles quietly", "a-long-enough-password", "correct-horse-battery-staple", "Tr0ub4dor&3-extra", "ünïcödé pässwörd wörks"] {
            assert_eq!(check(password, 12, EMAIL), Ok(()), "{password}");
        }
    }
}
