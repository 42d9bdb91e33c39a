//! `ferrocat llm-gateway token`: mints a caller token from the configured signing secret, for
//! operators and tests (the executor mints its own per run).

use std::time::Duration;

use clap::Args;
use serde_json::{Map, Value};

use ferrocat_shared::config::{ConfigError, Env};

use crate::auth::{ALLOWED_SETTINGS, Claims, TokenKey, unix_now};

/// Arguments of `ferrocat llm-gateway token`.
#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// The workspace the caller acts for.
    #[arg(long)]
    pub workspace: String,
    /// A model the token allows (repeat for several; `*` for every catalog model).
    #[arg(long = "model", required = true)]
    pub models: Vec<String>,
    /// The provider that must serve the model.
    #[arg(long)]
    pub provider: Option<String>,
    /// The workflow run the calls belong to.
    #[arg(long)]
    pub run_id: Option<String>,
    /// Lifetime: `90s`, `10m`, `2h` (default 10m).
    #[arg(long, default_value = "10m", value_parser = parse_ttl)]
    pub ttl: Duration,
    /// A model setting fixed by the token, `key=JSON` (e.g. `temperature=0.2`); repeatable.
    #[arg(long = "setting", value_parser = parse_setting)]
    pub settings: Vec<(String, Value)>,
}

/// Parses `90s`, `10m`, `2h`, `1d` or plain seconds.
pub fn parse_ttl(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    let (number, unit) = raw.split_at(raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len()));
    let n: u64 = number.parse().map_err(|_| format!("{raw:?} is not a duration like 90s, 10m or 2h"))?;
    let seconds = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("{raw:?}: unknown unit {unit:?} (use s, m, h or d)")),
    };
    if seconds == 0 {
        return Err("the lifetime must be positive".into());
    }
    Ok(Duration::from_secs(seconds))
}

fn parse_setting(raw: &str) -> Result<(String, Value), String> {
    let (key, value) = raw.split_once('=').ok_or_else(|| format!("{raw:?} is not key=value"))?;
    if !ALLOWED_SETTINGS.contains(&key) {
        return Err(format!("{key:?} is not an allowed setting ({})", ALLOWED_SETTINGS.join(", ")));
    }
    let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
    Ok((key.to_owned(), value))
}

/// The token for `args`, signed with the secret configured in `env`.
pub fn mint(env: &Env, args: &TokenArgs) -> Result<String, ConfigError> {
    let secret = crate::config::signing_secret(env)?;
    let now = unix_now();
    let (model, models) = match args.models.as_slice() {
        [one] if one != "*" => (Some(one.clone()), vec![]),
        many => (None, many.to_vec()),
    };
    let claims = Claims {
        workspace_id: args.workspace.clone(),
        model,
        models,
        provider: args.provider.clone(),
        run_id: args.run_id.clone(),
        exp: now + args.ttl.as_secs(),
        iat: now,
        settings: args.settings.iter().cloned().collect::<Map<String, Value>>(),
    };
    Ok(TokenKey::new(&secret).mint(&claims))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_tokens_verify_with_the_same_secret() {
        let env = Env::from_pairs([("FERROCAT_LLM_GATEWAY_SIGNING_SECRET", "0123456789abcdef-secret")]);
        let args = TokenArgs {
            workspace: "ws".into(),
            models: vec!["gpt".into()],
            provider: None,
            run_id: None,
            ttl: parse_ttl("10m").unwrap(),
            settings: vec![parse_setting("temperature=0.2").unwrap()],
        };
        let token = mint(&env, &args).unwrap();
        let claims = TokenKey::new(&crate::config::signing_secret(&env).unwrap()).verify(&token, unix_now()).unwrap();
        assert_eq!(claims.model.as_deref(), Some("gpt"));
        assert_eq!(claims.settings["temperature"], 0.2);
        assert!(claims.exp - claims.iat == 600);
    }

    #[test]
    fn ttls_and_settings_parse() {
        assert_eq!(parse_ttl("90s").unwrap().as_secs(), 90);
        assert_eq!(parse_ttl("2h").unwrap().as_secs(), 7200);
        assert_eq!(parse_ttl("45").unwrap().as_secs(), 45);
        assert!(parse_ttl("10x").is_err() && parse_ttl("0m").is_err() && parse_ttl("m").is_err());
        assert!(parse_setting("api_base=http://x").is_err());
    }
}
