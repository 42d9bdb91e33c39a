//! Public identifiers in Tracecat's shapes: `wf_<base62>` for workflows, `ws_<base62>` for
//! workspaces, `<wf_id>/exec_<base62>` for executions. Internally every object has a UUID.

use uuid::Uuid;

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// An identifier that does not have the expected shape.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid {kind} id {value:?}")]
pub struct IdError {
    /// What kind of id was expected (`workflow`, `workspace`, `execution`).
    pub kind: &'static str,
    /// The text that was given.
    pub value: String,
}

/// Encodes a UUID as base62 (most significant digit first, no padding).
pub fn base62(id: Uuid) -> String {
    let mut n = id.as_u128();
    if n == 0 {
        return "0".into();
    }
    let mut out = Vec::with_capacity(22);
    while n > 0 {
        out.push(ALPHABET[(n % 62) as usize]);
        n /= 62;
    }
    out.reverse();
    String::from_utf8(out).expect("alphabet is ascii")
}

/// Decodes [`base62`] text back to a UUID.
pub fn from_base62(text: &str) -> Option<Uuid> {
    if text.is_empty() || text.len() > 22 {
        return None;
    }
    let mut n: u128 = 0;
    for b in text.bytes() {
        let digit = ALPHABET.iter().position(|&c| c == b)? as u128;
        n = n.checked_mul(62)?.checked_add(digit)?;
    }
    Some(Uuid::from_u128(n))
}

fn parse_prefixed(kind: &'static str, prefix: &str, legacy: &str, text: &str) -> Result<Uuid, IdError> {
    let err = || IdError { kind, value: text.to_owned() };
    if let Some(rest) = text.strip_prefix(prefix) {
        return from_base62(rest).ok_or_else(err);
    }
    if let Some(rest) = text.strip_prefix(legacy) {
        return Uuid::try_parse(rest).map_err(|_| err());
    }
    Uuid::try_parse(text).map_err(|_| err())
}

/// `wf_<base62>`.
pub fn workflow_id(id: Uuid) -> String {
    format!("wf_{}", base62(id))
}

/// Accepts `wf_<base62>`, legacy `wf-<hex32>` and a plain UUID.
pub fn parse_workflow_id(text: &str) -> Result<Uuid, IdError> {
    parse_prefixed("workflow", "wf_", "wf-", text)
}

/// `ws_<base62>`.
pub fn workspace_id(id: Uuid) -> String {
    format!("ws_{}", base62(id))
}

/// Accepts `ws_<base62>` and a plain UUID.
pub fn parse_workspace_id(text: &str) -> Result<Uuid, IdError> {
    parse_prefixed("workspace", "ws_", "ws-", text)
}

/// A new execution id for a workflow: `wf_<base62>/exec_<base62>`.
pub fn new_execution_id(workflow: Uuid) -> String {
    format!("{}/exec_{}", workflow_id(workflow), base62(Uuid::new_v4()))
}

/// Checks an execution id (`wf_…/exec_…`, or `:` as separator) and returns its workflow's UUID.
pub fn parse_execution_id(text: &str) -> Result<Uuid, IdError> {
    let err = || IdError { kind: "execution", value: text.to_owned() };
    let (wf, exec) = text.split_once('/').or_else(|| text.split_once(':')).ok_or_else(err)?;
    let exec = exec.strip_prefix("exec_").ok_or_else(err)?;
    from_base62(exec).ok_or_else(err)?;
    parse_workflow_id(wf).map_err(|_| err())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base62_round_trips() {
        for id in [Uuid::nil(), Uuid::max(), Uuid::from_u128(61), Uuid::from_u128(62), Uuid::new_v4()] {
            assert_eq!(from_base62(&base62(id)), Some(id), "{id}");
        }
        assert_eq!(base62(Uuid::from_u128(61)), "z");
        assert_eq!(base62(Uuid::from_u128(62)), "10");
    }

    #[test]
    fn workflow_ids_accept_all_shapes() {
        let id = Uuid::new_v4();
        assert_eq!(parse_workflow_id(&workflow_id(id)), Ok(id));
        assert_eq!(parse_workflow_id(&format!("wf-{}", id.simple())), Ok(id));
        assert_eq!(parse_workflow_id(&id.to_string()), Ok(id));
        assert!(parse_workflow_id("wf_!!").is_err());
        assert!(parse_workflow_id("nope").is_err());
    }

    #[test]
    fn execution_ids_name_their_workflow() {
        let wf = Uuid::new_v4();
        let exec = new_execution_id(wf);
        assert_eq!(parse_execution_id(&exec), Ok(wf));
        assert_eq!(parse_execution_id(&exec.replace('/', ":")), Ok(wf));
        assert!(parse_execution_id("wf_1/run_2").is_err());
        assert!(parse_execution_id("garbage").is_err());
    }
}
