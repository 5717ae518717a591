//! Signing in and out with a password or through single sign-on (SPEC §7), and
//! `GET /api/auth/me`, which tells the UI whether the server is open and who the caller is.
//!
//! Single sign-on (`access::oidc`) is two browser navigations: `GET /api/auth/oidc/login`
//! sends the browser to the provider, and the provider sends it back to
//! `GET /api/auth/oidc/callback`, which starts the same session a password does and sends the
//! browser on to the page the sign-in started from. A refused sign-in there is a small HTML
//! page saying why (a browser, not a script, reads it): the one answer of `/api` that is not
//! JSON.
//!
//! An unknown name and a wrong password get the same answer after the same work (a dummy hash
//! is checked), so the answer does not tell which names exist. Failures are counted per name
//! and per address in the store, on the engine's clock: past [`PER_NAME`] (or [`PER_ADDRESS`])
//! within [`WINDOW`] the answer is 429 with `Retry-After` until the window has passed.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION, SET_COOKIE,
};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use base64::Engine as _;
use serde_json::json;
use sha2::Digest as _;
use shared::access::{Login, Me, Role};
use shared::api::ApiErrorBody;

use super::error::Error;
use super::json::Body;
use crate::AppState;
use crate::access::oidc::{self, Callback, Failure, Identity};
use crate::access::{Principal, Via, audit, secret, sessions};
use crate::store::UserRow;

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
pub(super) async fn me(
    State(app): State<AppState>,
    principal: Option<Extension<Principal>>,
) -> Json<Me> {
    let sso = app.access.oidc.is_some();
    let Some(Extension(p)) = principal else {
        return Json(Me {
            mode: "closed".into(),
            sso,
            user: None,
            role: None,
            via: None,
        });
    };
    Json(Me {
        mode: if p.via == Via::Open { "open" } else { "closed" }.into(),
        sso,
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
    // Every attempt counts as failed before the password is checked, so attempts made at
    // once cannot all pass a count read before any of them failed; a success takes it back.
    for (key, most) in &counted {
        let (n, first) = app.store.add_failure(key, now, since).await?;
        if n > *most {
            // Audited once per window, not once per refused attempt.
            if n == most + 1 {
                audit::record(&app.store, failed("throttled")).await;
            }
            let wait = (first + WINDOW.as_millis() as i64 - now).max(1_000);
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
        audit::record(&app.store, failed(WRONG)).await;
        return Err(Error::Unauthorized(WRONG.into()));
    };
    app.store.clear_failures(&counted[0].0).await?;
    for (key, _) in &counted[1..] {
        app.store.forgive_failure(key).await?;
    }
    let value = sign_in(
        &app,
        &user,
        "password",
        json!({ "via": "password" }),
        ip,
        now,
    )
    .await?;
    let role = Role::parse(&user.role).unwrap_or(Role::Viewer);
    let me = Me {
        mode: "closed".into(),
        sso: app.access.oidc.is_some(),
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
            && matches!(p.via, Via::Session(_) | Via::Sso(_))
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

/// Where to go once signed in.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct Start {
    /// A path on this server (`/runs/…`); anything else is ignored and the browser lands on `/`.
    return_to: Option<String>,
}

/// Sign in with single sign-on
///
/// Sends the browser to the OpenID provider (authorization code flow with PKCE) with a
/// short-lived `weft_oidc` cookie holding the sign-in's `state`, `nonce` and PKCE verifier.
/// 404 when single sign-on is not configured.
#[utoipa::path(
    get,
    path = "/auth/oidc/login",
    tag = "access",
    params(Start),
    responses(
        (status = 302, description = "To the identity provider"),
        (status = 404, description = "Single sign-on is not configured", body = ApiErrorBody),
    ),
)]
pub(super) async fn oidc_login(
    State(app): State<AppState>,
    Query(start): Query<Start>,
) -> Result<Response, Error> {
    let Some(provider) = &app.access.oidc else {
        return Err(Error::NotFound("single sign-on is not configured".into()));
    };
    let (url, pending) = provider.begin(start.return_to.as_deref(), app.engine.clock.now());
    let cookie = oidc::set_cookie(&pending, app.access.secure_cookies);
    Ok((
        StatusCode::FOUND,
        [
            (LOCATION, url),
            (SET_COOKIE, cookie),
            (CACHE_CONTROL, "no-store".to_owned()),
        ],
    )
        .into_response())
}

/// Single sign-on: the provider's redirect back
///
/// Checks `state` against the `weft_oidc` cookie, exchanges the code, verifies the ID token
/// and reads the role claim; then adds or updates the user (no password; the role follows
/// the claim at every sign-in), sets the `weft_session` cookie and sends the browser to the
/// page the sign-in started from. A refused sign-in is an HTML page saying why, and is
/// audited as a failed `login`.
#[utoipa::path(
    get,
    path = "/auth/oidc/callback",
    tag = "access",
    params(Callback),
    responses(
        (status = 302, description = "Signed in; the cookie is set"),
        (status = 400, description = "The state does not match (not started here, or too old)", content_type = "text/html", body = String),
        (status = 401, description = "The provider refused, or its answer did not verify", content_type = "text/html", body = String),
        (status = 403, description = "The user's claim names no Weft role", content_type = "text/html", body = String),
        (status = 404, description = "Single sign-on is not configured", body = ApiErrorBody),
    ),
)]
pub(super) async fn oidc_callback(
    State(app): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Query(back): Query<Callback>,
) -> Result<Response, Error> {
    let Some(provider) = &app.access.oidc else {
        return Err(Error::NotFound("single sign-on is not configured".into()));
    };
    let now = app.engine.clock.now();
    let ip = peer.map(|Extension(ConnectInfo(a))| a.ip().to_string());
    let secure = app.access.secure_cookies;
    let pending = oidc::cookie(&headers);
    let finished = match provider.finish(pending.as_deref(), &back, now).await {
        Ok((identity, return_to)) => match sso_user(&app, &identity, now).await? {
            Ok(user) => Ok((identity, return_to, user)),
            Err(f) => Err(f),
        },
        Err(f) => Err(f),
    };
    let (identity, return_to, (user, was)) = match finished {
        Ok(done) => done,
        Err(failure) => {
            let actor = failure.name().unwrap_or("oidc").to_owned();
            tracing::info!(reason = %failure, "single sign-on refused");
            audit::record(
                &app.store,
                audit::Entry {
                    at: now,
                    actor: &actor,
                    action: "login",
                    target: failure.name().map(|n| format!("user:{n}")),
                    ok: false,
                    ip,
                    details: json!({ "via": "oidc", "reason": failure.to_string() }),
                },
            )
            .await;
            return Ok(refused(&failure, secure));
        }
    };
    let mut details = json!({ "via": "oidc", "role": identity.role, "subject": identity.subject });
    if let Some(was) = was {
        details["role_was"] = json!(was);
    }
    let value = sign_in(&app, &user, "oidc", details, ip, now).await?;
    let mut response = (
        StatusCode::FOUND,
        [
            (LOCATION, return_to),
            (CACHE_CONTROL, "no-store".to_owned()),
        ],
    )
        .into_response();
    let h = response.headers_mut();
    for cookie in [
        sessions::set_cookie(&value, secure),
        oidc::clear_cookie(secure),
    ] {
        h.append(
            SET_COOKIE,
            cookie
                .parse()
                .map_err(|e| Error::Internal(anyhow::anyhow!("{e}")))?,
        );
    }
    Ok(response)
}

/// The user a single sign-on signs in as, added on first sign-in, its role set to what the
/// claim says now (with the role it had, when that changed). A password user's name is not
/// taken over.
async fn sso_user(
    app: &AppState,
    identity: &Identity,
    now: crate::clock::Millis,
) -> Result<Result<(UserRow, Option<String>), Failure>, Error> {
    let role = identity.role.as_str();
    if let Some(mut user) = app.store.user(&identity.name, true).await? {
        if user.password.is_some() {
            return Ok(Err(Failure::PasswordUser(identity.name.clone())));
        }
        match &user.sso_subject {
            Some(s) if *s == identity.subject => {}
            Some(_) => return Ok(Err(Failure::OtherSubject(identity.name.clone()))),
            None => {
                if !app.store.bind_subject(&user.id, &identity.subject).await? {
                    return Ok(Err(Failure::OtherSubject(identity.name.clone())));
                }
                user.sso_subject = Some(identity.subject.clone());
            }
        }
        let mut was = None;
        if user.role != role {
            app.store
                .update_user(&user.name, Some(role), None, now)
                .await?;
            was = Some(std::mem::replace(&mut user.role, role.to_owned()));
        }
        return Ok(Ok((user, was)));
    }
    let row = UserRow {
        id: uuid::Uuid::now_v7().to_string(),
        name: identity.name.clone(),
        role: role.to_owned(),
        password: None,
        created_at: now,
        last_login_at: None,
        sso_subject: Some(identity.subject.clone()),
    };
    if !app.store.add_user(&row).await? {
        // Another sign-in of the same person got there first.
        return Err(Error::Conflict(
            "the user was being added by another sign-in: try again".into(),
        ));
    }
    app.access.changed();
    Ok(Ok((row, None)))
}

/// The page a refused single sign-on shows, with the pending cookie cleared.
fn refused(failure: &Failure, secure: bool) -> Response {
    let status = match failure {
        Failure::BadState => StatusCode::BAD_REQUEST,
        Failure::Provider(_) | Failure::Token(_) => StatusCode::UNAUTHORIZED,
        Failure::NoRole { .. }
        | Failure::BadName(_)
        | Failure::PasswordUser(_)
        | Failure::OtherSubject(_) => StatusCode::FORBIDDEN,
    };
    let page = format!(
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Sign-in refused · Weft</title><style>{REFUSED_STYLE}</style>\
         <main data-testid=\"sso-refused\"><p class=\"brand\">Weft</p>\
         <h1>Sign-in refused</h1><p role=\"alert\">{}</p>\
         <p><a href=\"/login\">Back to sign-in</a></p></main></html>",
        code_spans(&escape(&failure.to_string()))
    );
    // The page's one inline style, allowed by its hash; nothing else may load.
    let digest = sha2::Sha256::digest(REFUSED_STYLE.as_bytes());
    let policy = format!(
        "default-src 'none'; style-src 'sha256-{}'; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'none'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    );
    (
        status,
        [
            (CONTENT_TYPE, "text/html; charset=utf-8".to_owned()),
            (SET_COOKIE, oidc::clear_cookie(secure)),
            (CACHE_CONTROL, "no-store".to_owned()),
            (CONTENT_SECURITY_POLICY, policy),
        ],
        page,
    )
        .into_response()
}

/// The refusal page's look: the login page's card, in the UI's colours and font.
const REFUSED_STYLE: &str = "body{margin:0;background:#f6f7f9;color:#1d2129;\
font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif}\
main{max-width:440px;margin:12vh auto;padding:28px 32px;background:#fff;\
border:1px solid #e3e5ea;border-radius:8px}\
.brand{margin:0 0 8px;font-weight:700;color:#4f46e5}h1{margin:0 0 12px;font-size:20px}\
[role=alert]{padding:10px 12px;background:#fdeceb;color:#b42318;border-radius:8px}\
a{color:#4f46e5}code{font:13px ui-monospace,Menlo,Consolas,monospace}";

/// `text` with each `` `name` `` as `<code>name</code>` (the messages quote names so).
fn code_spans(text: &str) -> String {
    let mut out = String::new();
    let paired = text.matches('`').count().is_multiple_of(2);
    for (i, part) in text.split('`').enumerate() {
        match (i % 2 == 1, paired) {
            (true, true) => out.push_str(&format!("<code>{part}</code>")),
            (true, false) => out.push_str(&format!("`{part}")),
            _ => out.push_str(part),
        }
    }
    out
}

/// `text` safe inside HTML.
fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '&' => "&amp;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

/// Signs `user` in, by password or by single sign-on (`via`): notes the login, starts a
/// session and audits it with `details`; the session cookie's value.
async fn sign_in(
    app: &AppState,
    user: &UserRow,
    via: &str,
    details: serde_json::Value,
    ip: Option<String>,
    now: crate::clock::Millis,
) -> Result<String, Error> {
    app.store.touch_login(&user.id, now).await?;
    let value = sessions::start(&app.store, &user.id, via, now, app.access.session_ttl).await?;
    audit::record(
        &app.store,
        audit::Entry {
            at: now,
            actor: &user.name,
            action: "login",
            target: Some(format!("user:{}", user.name)),
            ok: true,
            ip,
            details,
        },
    )
    .await;
    Ok(value)
}

#[cfg(test)]
mod tests {
    #[test]
    fn quoted_names_become_code_and_a_lone_backtick_stays() {
        assert_eq!(
            super::code_spans("the `groups` claim names no `role`"),
            "the <code>groups</code> claim names no <code>role</code>"
        );
        assert_eq!(super::code_spans("odd ` one"), "odd ` one");
    }
}
