//! The HTTP API of SPEC §3. **Architecture Invariant:** only this module knows HTTP and JSON
//! shapes; handlers translate requests into engine and store calls.

pub mod error;
pub mod json;
mod validate;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::post;

use crate::AppState;
use error::Error;

/// Everything under `/api`, with a JSON 404 for paths it does not serve.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/validate", post(validate::validate_definition))
        .fallback(|| async { Error::NotFound("no such API endpoint".to_owned()) })
        .layer(DefaultBodyLimit::max(json::MAX_BODY))
}
