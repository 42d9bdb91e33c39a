//! Base64 encoding and hex digests.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use serde_json::Value;

use super::{arity, str_at, string, value_error};
use crate::expr::ExprError;
use crate::expr::value::repr_str;

pub(super) fn to_base64(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    string(STANDARD.encode(str_at(args, 0)?))
}

fn decoded_text(
    bytes: Result<Vec<u8>, base64::DecodeError>,
    input: &str,
) -> Result<Value, ExprError> {
    let bytes =
        bytes.map_err(|e| value_error(format!("invalid base64 {}: {e}", repr_str(input))))?;
    String::from_utf8(bytes).map(Value::String).map_err(|_| {
        value_error(format!(
            "base64 {} does not decode to UTF-8 text",
            repr_str(input)
        ))
    })
}

pub(super) fn from_base64(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    let s = str_at(args, 0)?;
    decoded_text(STANDARD.decode(s.trim()), s)
}

pub(super) fn to_base64url(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    string(URL_SAFE.encode(str_at(args, 0)?))
}

pub(super) fn from_base64url(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    let s = str_at(args, 0)?;
    // Accept input with or without `=` padding.
    decoded_text(URL_SAFE_NO_PAD.decode(s.trim().trim_end_matches('=')), s)
}

pub(super) fn hash_md5(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    use md5::Digest as _;
    string(hex::encode(md5::Md5::digest(str_at(args, 0)?.as_bytes())))
}

pub(super) fn hash_sha1(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    use sha1::Digest as _;
    string(hex::encode(sha1::Sha1::digest(str_at(args, 0)?.as_bytes())))
}

pub(super) fn hash_sha256(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    use sha2::Digest as _;
    string(hex::encode(sha2::Sha256::digest(
        str_at(args, 0)?.as_bytes(),
    )))
}

pub(super) fn hash_sha512(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    use sha2::Digest as _;
    string(hex::encode(sha2::Sha512::digest(
        str_at(args, 0)?.as_bytes(),
    )))
}
