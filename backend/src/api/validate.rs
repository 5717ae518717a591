//! `POST /api/validate`: runs the shared validator on a posted definition.
//!
//! Validating the largest definition takes milliseconds, not microseconds, so it never runs
//! on the async runtime: [`off_runtime`] hands it to [`crate::offload`], so a burst of big
//! definitions cannot hold up `/healthz`, the event streams or the engine's commits.

use axum::Json;
use serde_json::Value;
use shared::Workflow;
use shared::api::{ApiErrorBody, ValidateResponse};
use shared::validate::{Diagnostic, is_valid, parse_and_validate};

use super::error::Error;
use super::json::Body;

/// Validate a definition without saving it
///
/// Runs the same validator as `PUT /api/workflows/{name}` and the designer, and reports every
/// finding. An invalid definition is still a `200` with `"valid": false`.
#[utoipa::path(
    post,
    path = "/validate",
    tag = "workflows",
    request_body(content = Object, description = "A workflow definition (`weft/v1`, SPEC §1)"),
    responses(
        (status = 200, description = "The findings; `valid` is false when any is an error", body = ValidateResponse),
        (status = 400, description = "The body is not JSON", body = ApiErrorBody),
        (status = 413, description = "The body is over 1 MiB", body = ApiErrorBody),
    ),
)]
pub(super) async fn validate_definition(
    Body(def): Body<Value>,
) -> Result<Json<ValidateResponse>, Error> {
    let (_, diagnostics) = off_runtime(def).await?;
    Ok(Json(ValidateResponse {
        valid: is_valid(&diagnostics),
        diagnostics,
    }))
}

/// [`parse_and_validate`] on the blocking pool ([`crate::offload`]).
pub(super) async fn off_runtime(def: Value) -> Result<(Option<Workflow>, Vec<Diagnostic>), Error> {
    crate::offload::run(move || parse_and_validate(&def))
        .await
        .map_err(|e| Error::Internal(e.into()))
}
