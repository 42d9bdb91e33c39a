//! The 422 a face-level check answers with: it names its field (the use cases' own field
//! checks are `ferrocat_app::checks`); and reading a field that null clears.

use crate::error::ApiError;

/// A 422 about the field at `loc`.
pub(crate) fn invalid(loc: &str, msg: impl Into<String>) -> ApiError {
    ferrocat_app::checks::invalid(loc, msg).into()
}

/// For `#[serde(default, deserialize_with = "present")]` on an `Option<Option<T>>`: a field that
/// is there, even as null, is `Some` (absent keeps, null clears).
pub(super) fn present<'de, D: serde::Deserializer<'de>, T: serde::Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Ok(Some(<Option<T> as serde::Deserialize>::deserialize(d)?))
}
