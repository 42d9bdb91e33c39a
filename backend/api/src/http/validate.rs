//! The 422 a face-level check answers with: it names its field. (The use cases' own field
//! checks are `ferrocat_app::checks`.)

use crate::error::ApiError;

/// A 422 about the field at `loc`.
pub(crate) fn invalid(loc: &str, msg: impl Into<String>) -> ApiError {
    ferrocat_app::checks::invalid(loc, msg).into()
}
