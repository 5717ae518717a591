//! `GET /api/secrets`: the names of the secrets templates may read, for the designer's
//! autocomplete (issue 17). Only names: a value never leaves the server's environment.

use axum::Json;
use axum::extract::State;
use shared::api::{ApiErrorBody, SecretNames};

use crate::AppState;

/// List the secrets' names
///
/// The `NAME`s of the server's `WEFT_SECRET_<NAME>` variables, which `http` and `task`
/// templates read as `{{ secrets.NAME }}`; sorted. Their values are never sent.
#[utoipa::path(
    get,
    path = "/secrets",
    tag = "workflows",
    responses(
        (status = 200, description = "The names, sorted", body = SecretNames),
        (status = 403, description = "The caller's role is below `editor`", body = ApiErrorBody),
    ),
)]
pub(super) async fn secret_names(State(app): State<AppState>) -> Json<SecretNames> {
    Json(SecretNames {
        names: app.secret_names.clone(),
    })
}
