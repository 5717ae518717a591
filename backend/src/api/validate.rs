//! `POST /api/validate`: runs the shared validator on a posted definition.
//!
//! Validating the largest definition takes milliseconds, not microseconds, so it never runs
//! on the async runtime: [`off_runtime`] hands it to tokio's blocking pool, at most
//! [`AT_ONCE`] at a time, so a burst of big definitions cannot hold up `/healthz`, the event
//! streams or the engine's commits (the runtime has one worker per core).

use std::sync::LazyLock;

use axum::Json;
use serde_json::Value;
use shared::Workflow;
use shared::api::{ApiErrorBody, ValidateResponse};
use shared::validate::{Diagnostic, is_valid, parse_and_validate};
use tokio::sync::Semaphore;

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

/// Validations running at once; more wait their turn (the blocking pool is shared with the
/// store's and the file server's blocking work).
const AT_ONCE: usize = 2;

/// [`parse_and_validate`] on the blocking pool, behind a bound of [`AT_ONCE`].
pub(super) async fn off_runtime(def: Value) -> Result<(Option<Workflow>, Vec<Diagnostic>), Error> {
    static TURNS: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(AT_ONCE));
    let _turn = TURNS.acquire().await.map_err(anyhow::Error::from)?;
    let checked = tokio::task::spawn_blocking(move || parse_and_validate(&def))
        .await
        .map_err(anyhow::Error::from)?;
    Ok(checked)
}
