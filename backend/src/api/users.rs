//! The users who sign in (SPEC §7, admin only): list, add, change role or password, remove.
//! `weft user` does the same on the database directly.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::json;
use shared::access::{NewUser, Role, User, UserChange, UserList};
use shared::api::ApiErrorBody;

use super::error::Error;
use super::json::{Body, Params};
use crate::AppState;
use crate::access::{audit, secret, users};
use crate::store::UserRow;

impl From<users::Error> for Error {
    fn from(e: users::Error) -> Self {
        match e {
            users::Error::BadName | users::Error::EmptyPassword => Error::Unprocessable {
                message: e.to_string(),
                details: json!({}),
            },
            users::Error::Taken(_) => Error::Conflict(e.to_string()),
            users::Error::Secret(e) => Error::Internal(e.into()),
            users::Error::Store(e) => e.into(),
        }
    }
}

fn user(row: UserRow) -> User {
    User {
        role: Role::parse(&row.role).unwrap_or(Role::Viewer),
        name: row.name,
        created_at: row.created_at,
        last_login_at: row.last_login_at,
    }
}

/// Every user
#[utoipa::path(
    get,
    path = "/users",
    tag = "access",
    responses((status = 200, description = "The users, by name", body = UserList)),
)]
pub(super) async fn list_users(State(app): State<AppState>) -> Result<Json<UserList>, Error> {
    let users = app.store.users().await?.into_iter().map(user).collect();
    Ok(Json(UserList { users }))
}

/// Add a user
#[utoipa::path(
    post,
    path = "/users",
    tag = "access",
    request_body = NewUser,
    responses(
        (status = 201, description = "The user is added", body = User),
        (status = 409, description = "The name is taken", body = ApiErrorBody),
        (status = 422, description = "A name that is not lower-case letters, digits and `._-@`, or an empty password", body = ApiErrorBody),
    ),
)]
pub(super) async fn add_user(
    State(app): State<AppState>,
    Body(b): Body<NewUser>,
) -> Result<Response, Error> {
    let row = users::add(
        &app.store,
        &b.name,
        b.role,
        b.password,
        app.engine.clock.now(),
    )
    .await?;
    app.access.changed();
    let note = audit::Note {
        target: Some(format!("user:{}", row.name)),
        details: json!({ "role": b.role }),
    };
    Ok((StatusCode::CREATED, Extension(note), Json(user(row))).into_response())
}

/// Change a user's role or password
#[utoipa::path(
    patch,
    path = "/users/{name}",
    tag = "access",
    params(("name" = String, Path, description = "The user's name")),
    request_body = UserChange,
    responses(
        (status = 200, description = "The user as changed", body = User),
        (status = 404, description = "No such user", body = ApiErrorBody),
        (status = 422, description = "An empty password", body = ApiErrorBody),
    ),
)]
pub(super) async fn change_user(
    State(app): State<AppState>,
    Params(name): Params<String>,
    Body(b): Body<UserChange>,
) -> Result<Response, Error> {
    let password = match b.password {
        Some(p) if p.is_empty() => return Err(users::Error::EmptyPassword.into()),
        Some(p) => Some(
            secret::hash_password(p)
                .await
                .map_err(|e| Error::Internal(e.into()))?,
        ),
        None => None,
    };
    let now = app.engine.clock.now();
    let role = b.role.map(Role::as_str);
    if !app
        .store
        .update_user(&name, role, password.as_deref(), now)
        .await?
    {
        return Err(Error::NotFound(format!("user `{name}` not found")));
    }
    let row = app
        .store
        .user(&name, true)
        .await?
        .ok_or_else(|| Error::NotFound(format!("user `{name}` not found")))?;
    let note = audit::Note {
        target: None,
        details: json!({ "role": b.role, "password_changed": password.is_some() }),
    };
    Ok((Extension(note), Json(user(row))).into_response())
}

/// Remove a user
///
/// Their sessions end; keys they made stay (a key is an identity of its own).
#[utoipa::path(
    delete,
    path = "/users/{name}",
    tag = "access",
    params(("name" = String, Path, description = "The user's name")),
    responses(
        (status = 204, description = "The user is removed"),
        (status = 404, description = "No such user", body = ApiErrorBody),
    ),
)]
pub(super) async fn remove_user(
    State(app): State<AppState>,
    Params(name): Params<String>,
) -> Result<StatusCode, Error> {
    if !app.store.remove_user(&name).await? {
        return Err(Error::NotFound(format!("user `{name}` not found")));
    }
    app.access.changed();
    Ok(StatusCode::NO_CONTENT)
}
