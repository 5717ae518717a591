//! `POST /api/validate`: runs the shared validator on a posted definition.

use axum::Json;
use serde_json::Value;
use shared::api::ValidateResponse;
use shared::validate::{is_valid, parse_and_validate};

use super::error::Error;
use super::json::Body;

pub(super) async fn validate_definition(
    Body(def): Body<Value>,
) -> Result<Json<ValidateResponse>, Error> {
    let (_, diagnostics) = parse_and_validate(&def);
    Ok(Json(ValidateResponse {
        valid: is_valid(&diagnostics),
        diagnostics,
    }))
}
