//! Which caller a request is: its token (the contract, [`ferrocat_shared::gateway_token`],
//! re-exported here) read from the request's headers.

pub use ferrocat_shared::gateway_token::{ALLOWED_SETTINGS, AuthError, Claims, TokenKey, unix_now};

/// The caller token of a request: `x-ferrocat-token` first (so that passthrough callers can keep
/// their own `Authorization` for the provider), then `Authorization: Bearer`, then `x-api-key`
/// (what Anthropic's SDKs send).
pub fn token_from_headers(headers: &http::HeaderMap) -> Result<&str, AuthError> {
    if let Some(v) = headers.get("x-ferrocat-token") {
        return v.to_str().map_err(|_| AuthError::Malformed("header is not ASCII"));
    }
    if let Some(v) = headers.get(http::header::AUTHORIZATION) {
        let v = v.to_str().map_err(|_| AuthError::Malformed("header is not ASCII"))?;
        let token = v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")).ok_or(AuthError::Malformed("Authorization is not a Bearer token"))?;
        return Ok(token.trim());
    }
    if let Some(v) = headers.get("x-api-key") {
        return v.to_str().map_err(|_| AuthError::Malformed("header is not ASCII"));
    }
    Err(AuthError::Missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_header_precedence() {
        let mut h = http::HeaderMap::new();
        assert_eq!(token_from_headers(&h), Err(AuthError::Missing));
        h.insert("x-api-key", "k1".parse().unwrap());
        assert_eq!(token_from_headers(&h), Ok("k1"));
        h.insert("authorization", "Bearer k2".parse().unwrap());
        assert_eq!(token_from_headers(&h), Ok("k2"));
        h.insert("x-ferrocat-token", "k3".parse().unwrap());
        assert_eq!(token_from_headers(&h), Ok("k3"));
    }
}
