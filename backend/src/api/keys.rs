//! API keys (SPEC §7, admin only): for scripts, workers and CI. A key is shown once, when it
//! is made; the store keeps its sha256 and a prefix to recognise it by in lists.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::json;
use shared::access::{ApiKey, CreatedKey, KeyList, NewKey, Role};
use shared::api::ApiErrorBody;

use super::error::Error;
use super::json::{Body, Params};
use crate::AppState;
use crate::access::{Principal, audit, secret};
use crate::store::KeyRow;

/// How much of a key lists show: `weft_` and 8 hex digits.
const SHOWN: usize = secret::KEY_PREFIX.len() + 8;

fn key(row: KeyRow) -> ApiKey {
    ApiKey {
        role: Role::parse(&row.role).unwrap_or(Role::Viewer),
        id: row.id,
        name: row.name,
        prefix: row.prefix,
        created_by: row.created_by,
        created_at: row.created_at,
        last_used_at: row.last_used_at,
        revoked_at: row.revoked_at,
    }
}

/// Every API key
///
/// Newest first, revoked ones too; never the key itself.
#[utoipa::path(
    get,
    path = "/keys",
    tag = "access",
    responses((status = 200, description = "The keys", body = KeyList)),
)]
pub(super) async fn list_keys(State(app): State<AppState>) -> Result<Json<KeyList>, Error> {
    let keys = app.store.keys().await?.into_iter().map(key).collect();
    Ok(Json(KeyList { keys }))
}

/// Make an API key
///
/// The answer holds the key (`Authorization: Bearer <key>`); it is not shown again.
#[utoipa::path(
    post,
    path = "/keys",
    tag = "access",
    request_body = NewKey,
    responses(
        (status = 201, description = "The key, shown this once", body = CreatedKey),
        (status = 422, description = "An empty or over-long name", body = ApiErrorBody),
    ),
)]
pub(super) async fn create_key(
    State(app): State<AppState>,
    Extension(by): Extension<Principal>,
    Body(b): Body<NewKey>,
) -> Result<Response, Error> {
    let name = b.name.trim();
    if name.is_empty() || name.len() > 64 {
        return Err(Error::Unprocessable {
            message: "a key's name is 1 to 64 characters".into(),
            details: json!({}),
        });
    }
    let value = secret::new_key();
    let row = KeyRow {
        id: uuid::Uuid::now_v7().to_string(),
        name: name.to_owned(),
        role: b.role.as_str().to_owned(),
        key_hash: secret::digest(&value),
        prefix: value[..SHOWN].to_owned(),
        created_by: by.actor,
        created_at: app.engine.clock.now(),
        last_used_at: None,
        revoked_at: None,
    };
    app.store.create_key(&row).await?;
    app.access.changed();
    let note = audit::Note {
        target: Some(format!("key:{}", row.id)),
        details: json!({ "name": row.name, "role": b.role }),
    };
    let created = CreatedKey {
        key: value,
        info: key(row),
    };
    Ok((StatusCode::CREATED, Extension(note), Json(created)).into_response())
}

/// Revoke an API key
///
/// From now on the key gets 401 `key revoked`.
#[utoipa::path(
    delete,
    path = "/keys/{id}",
    tag = "access",
    params(("id" = String, Path, description = "The key's id")),
    responses(
        (status = 204, description = "The key is revoked"),
        (status = 404, description = "No such key, or it is revoked already", body = ApiErrorBody),
    ),
)]
pub(super) async fn revoke_key(
    State(app): State<AppState>,
    Params(id): Params<String>,
) -> Result<StatusCode, Error> {
    if !app.store.revoke_key(&id, app.engine.clock.now()).await? {
        return Err(Error::NotFound(format!("no live key `{id}`")));
    }
    app.access.changed();
    Ok(StatusCode::NO_CONTENT)
}
