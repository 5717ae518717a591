//! Signing in and out with a password (SPEC §7), and `GET /api/auth/me`, which tells the UI
//! whether the server is open and who the caller is.
//!
//! An unknown name and a wrong password get the same answer after the same work (a dummy hash
//! is checked), so the answer does not tell which names exist. Failures are counted per name
//! and per address in the store, on the engine's clock: past [`PER_NAME`] (or [`PER_ADDRESS`])
//! within [`WINDOW`] the answer is 429 with `Retry-After` until the window has passed.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::json;
use shared::access::{Login, Me, Role};
use shared::api::ApiErrorBody;

use super::error::Error;
use super::json::Body;
use crate::AppState;
use crate::access::{Principal, Via, audit, secret, sessions};

/// How long failed sign-ins are counted.
const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failed sign-ins for one name within [`WINDOW`] before the next is refused unheard.
const PER_NAME: i64 = 5;
/// The same for one address: higher, since several people may share one (a proxy, a NAT).
const PER_ADDRESS: i64 = 20;
/// The one answer to a wrong name or password.
const WRONG: &str = "wrong name or password";

/// Who am I?
///
/// `mode` is `open` when no user, key or token exists (every caller is the admin `local`).
/// Without a credential on a closed server the answer has no `user`.
#[utoipa::path(
    get,
    path = "/auth/me",
    tag = "access",
    responses((status = 200, description = "The server's mode and the caller", body = Me)),
)]
pub(super) async fn me(principal: Option<Extension<Principal>>) -> Json<Me> {
    let Some(Extension(p)) = principal else {
        return Json(Me {
            mode: "closed".into(),
            sso: false,
            user: None,
            role: None,
            via: None,
        });
    };
    Json(Me {
        mode: if p.via == Via::Open { "open" } else { "closed" }.into(),
        sso: false,
        user: Some(p.actor),
        role: Some(p.role),
        via: Some(p.via.as_str().into()),
    })
}

/// Sign in with a password
///
/// Sets the `weft_session` cookie (`HttpOnly`, `SameSite=Strict`, `Path=/`, `Secure` when
/// `--public-url` is https) and answers as `GET /api/auth/me` would.
#[utoipa::path(
    post,
    path = "/auth/login",
    tag = "access",
    request_body = Login,
    responses(
        (status = 200, description = "Signed in; the cookie is set", body = Me),
        (status = 401, description = "Wrong name or password", body = ApiErrorBody),
        (status = 429, description = "Too many failed sign-ins: retry after `Retry-After` seconds", body = ApiErrorBody),
    ),
)]
pub(super) async fn login(
    State(app): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    Body(b): Body<Login>,
) -> Result<Response, Error> {
    let now = app.engine.clock.now();
    let since = now - WINDOW.as_millis() as i64;
    let ip = peer.map(|Extension(ConnectInfo(a))| a.ip().to_string());
    // Sign-ins are rare, so each one also clears what has ended.
    app.store.forget_stale(now, since).await?;
    let mut counted = vec![(format!("user:{}", b.name), PER_NAME)];
    if let Some(ip) = &ip {
        counted.push((format!("ip:{ip}"), PER_ADDRESS));
    }
    let failed = |reason: &'static str| audit::Entry {
        at: now,
        actor: &b.name,
        action: "login",
        target: Some(format!("user:{}", b.name)),
        ok: false,
        ip: ip.clone(),
        details: json!({ "reason": reason }),
    };
    for (key, most) in &counted {
        if let Some((n, first)) = app.store.failures(key, since).await?
            && n >= *most
        {
            let wait = (first + WINDOW.as_millis() as i64 - now).max(1_000);
            audit::record(&app.store, failed("throttled")).await;
            return Err(Error::TooManyRequests {
                message: "too many failed sign-ins: wait, then try again".into(),
                retry_after: (wait as u64).div_ceil(1_000),
            });
        }
    }
    let user = app.store.user(&b.name, true).await?;
    let stored = user.as_ref().and_then(|u| u.password.clone());
    let ok = secret::verify_password(b.password, stored)
        .await
        .map_err(|e| Error::Internal(e.into()))?;
    let Some(user) = user.filter(|_| ok) else {
        for (key, _) in &counted {
            app.store.add_failure(key, now, since).await?;
        }
        audit::record(&app.store, failed(WRONG)).await;
        return Err(Error::Unauthorized(WRONG.into()));
    };
    app.store.clear_failures(&counted[0].0).await?;
    app.store.touch_login(&user.id, now).await?;
    let value = sessions::start(
        &app.store,
        &user.id,
        "password",
        now,
        app.access.session_ttl,
    )
    .await?;
    audit::record(
        &app.store,
        audit::Entry {
            at: now,
            actor: &user.name,
            action: "login",
            target: Some(format!("user:{}", user.name)),
            ok: true,
            ip,
            details: json!({ "via": "password" }),
        },
    )
    .await;
    let role = Role::parse(&user.role).unwrap_or(Role::Viewer);
    let me = Me {
        mode: "closed".into(),
        sso: false,
        user: Some(user.name),
        role: Some(role),
        via: Some("password".into()),
    };
    let cookie = sessions::set_cookie(&value, app.access.secure_cookies);
    Ok(([(SET_COOKIE, cookie)], Json(me)).into_response())
}

/// Sign out
///
/// Ends the session of the `weft_session` cookie, if any, and clears the cookie.
#[utoipa::path(
    post,
    path = "/auth/logout",
    tag = "access",
    responses((status = 204, description = "Signed out")),
)]
pub(super) async fn logout(
    State(app): State<AppState>,
    headers: HeaderMap,
    principal: Option<Extension<Principal>>,
) -> Result<Response, Error> {
    if let Some(value) = sessions::cookie(&headers) {
        let now = app.engine.clock.now();
        app.store.end_session(&secret::digest(&value)).await?;
        if let Some(Extension(p)) = principal
            && matches!(p.via, Via::Session(_))
        {
            audit::record(
                &app.store,
                audit::Entry {
                    at: now,
                    actor: &p.actor,
                    action: "logout",
                    target: Some(format!("user:{}", p.actor)),
                    ok: true,
                    ip: None,
                    details: json!({}),
                },
            )
            .await;
        }
    }
    let cookie = sessions::clear_cookie(app.access.secure_cookies);
    Ok((StatusCode::NO_CONTENT, [(SET_COOKIE, cookie)]).into_response())
}
