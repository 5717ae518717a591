//! The `/api` layer that decides who a caller is and whether the route allows them
//! ([`authenticate`]), and records the changes they make.
//!
//! Credentials, in order: `Authorization: Bearer` (the token or an API key); `?access_token=`
//! on `GET` of the two SSE routes (a browser's `EventSource` cannot send headers, and tokens
//! in URLs end up in logs, so nowhere else); the `weft_session` cookie. A cookie is sent by
//! the browser whatever page asked, so a write it authenticates must say it comes from this
//! server's own pages (`Origin` of this host, or `Sec-Fetch-Site: same-origin`); `api::guard`
//! already refuses writes a browser says come from elsewhere, this also refuses those that
//! say nothing.

use std::net::SocketAddr;

use axum::RequestExt;
use axum::extract::{ConnectInfo, MatchedPath, Query, RawPathParams, Request, State};
use axum::http::header::{AUTHORIZATION, HOST, ORIGIN, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, Method, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use shared::access::Role;
use subtle::ConstantTimeEq;

use super::audit::{self, Note};
use super::policy::{self, Need};
use super::{Principal, Via, secret, sessions};
use crate::AppState;
use crate::api::error::Error;

/// The routes that also take `?access_token=`.
const STREAMS: [&str; 2] = ["/api/runs/{id}/stream", "/api/runs/stream"];

/// Lets a request through when the route's rule allows its caller, with the [`Principal`]
/// in its extensions; 401 without a valid credential, 403 when the role is too low.
pub async fn authenticate(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    // A path no route matches gets the router's 404 from any signed-in caller.
    let rule = match &path {
        Some(path) => policy::rule(req.method(), path),
        None => policy::Rule {
            need: Need::Role(Role::Viewer),
            action: None,
            target: None,
        },
    };
    let (method, headers, uri) = (
        req.method().clone(),
        req.headers().clone(),
        req.uri().clone(),
    );
    let principal = match who(&app, &method, &headers, &uri, path.as_deref()).await {
        Ok(p) => p,
        // An open route (sign-in, `me`) serves a stale cookie as nobody; a bearer credential
        // was sent on purpose, and its caller must hear it is wrong.
        Err(_) if rule.need == Need::Open && bearer(&headers).is_none() => None,
        Err(e) => return challenge(e),
    };
    if let Need::Role(needed) = rule.need {
        let Some(p) = &principal else {
            return challenge(Error::Unauthorized(
                "this server needs an API token: send `Authorization: Bearer <token>`, \
                 an API key, or sign in"
                    .to_owned(),
            ));
        };
        if p.role < needed {
            return Error::Forbidden(format!(
                "this needs the role `{needed}`; you ({}) are `{}`",
                p.actor, p.role
            ))
            .into_response();
        }
    }
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    let target = match rule.target {
        Some(t) => Some(match req.extract_parts::<RawPathParams>().await {
            Ok(params) => policy::fill(t, &params.iter().collect::<Vec<_>>()),
            Err(_) => t.to_owned(),
        }),
        None => None,
    };
    if let Some(p) = &principal {
        req.extensions_mut().insert(p.clone());
    }
    let response = next.run(req).await;
    if let (Some(action), Some(p)) = (rule.action, &principal)
        && response.status().is_success()
        && response.extensions().get::<audit::Unchanged>().is_none()
    {
        let note = response
            .extensions()
            .get::<Note>()
            .cloned()
            .unwrap_or_default();
        app.access
            .audit
            .record(
                &app.store,
                audit::Entry {
                    at: app.engine.clock.now(),
                    actor: &p.actor,
                    action,
                    target: note.target.or(target),
                    ok: true,
                    ip,
                    details: note.details,
                },
            )
            .await;
    }
    response
}

/// A 401 with the `WWW-Authenticate: Bearer` challenge.
fn challenge(e: Error) -> Response {
    let mut response = e.into_response();
    if response.status() == axum::http::StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

/// The caller, or `None` when they present nothing on a closed server.
async fn who(
    app: &AppState,
    method: &Method,
    headers: &HeaderMap,
    uri: &Uri,
    path: Option<&str>,
) -> Result<Option<Principal>, Error> {
    if app.access.is_open(&app.store).await? {
        return Ok(Some(Principal {
            actor: "local".to_owned(),
            role: Role::Admin,
            via: Via::Open,
        }));
    }
    if let Some(given) = bearer(headers).or_else(|| query_token(method, uri, path)) {
        return credential(app, &given).await.map(Some);
    }
    if let Some(value) = sessions::cookie(headers) {
        let now = app.engine.clock.now();
        let (id_hash, session) =
            match sessions::resume(&app.store, &value, now, app.access.session_ttl).await {
                Ok(found) => found,
                Err(sessions::Refused::Expired) => {
                    return Err(Error::Unauthorized(
                        "session expired: sign in again".to_owned(),
                    ));
                }
                Err(sessions::Refused::Store(e)) => return Err(e.into()),
            };
        let Some(user) = app.store.user(&session.user_id, false).await? else {
            return Err(Error::Unauthorized(
                "session expired: sign in again".to_owned(),
            ));
        };
        if is_write(method) && !same_origin(headers) {
            return Err(Error::Forbidden(
                "a signed-in write must come from this server's pages: `Origin` or \
                 `Sec-Fetch-Site: same-origin` is missing"
                    .to_owned(),
            ));
        }
        let role = Role::parse(&user.role)
            .ok_or_else(|| anyhow::anyhow!("user {} has an unknown role", user.name))?;
        return Ok(Some(Principal {
            actor: user.name,
            role,
            via: if session.via == "oidc" {
                Via::Sso(id_hash)
            } else {
                Via::Session(id_hash)
            },
        }));
    }
    Ok(None)
}

/// The caller a bearer credential names: the token, or a live API key.
async fn credential(app: &AppState, given: &str) -> Result<Principal, Error> {
    if let Some(token) = app.access.token.as_deref()
        && given.as_bytes().ct_eq(token.as_bytes()).into()
    {
        return Ok(Principal {
            actor: "token".to_owned(),
            role: Role::Admin,
            via: Via::Token,
        });
    }
    if !given.starts_with(secret::KEY_PREFIX) {
        return Err(Error::Unauthorized("wrong API token".to_owned()));
    }
    let Some(key) = app.store.key_by_hash(&secret::digest(given)).await? else {
        return Err(Error::Unauthorized("unknown API key".to_owned()));
    };
    if key.revoked_at.is_some() {
        return Err(Error::Unauthorized("key revoked".to_owned()));
    }
    let role = Role::parse(&key.role)
        .ok_or_else(|| anyhow::anyhow!("key {} has an unknown role", key.id))?;
    let now = app.engine.clock.now();
    if key
        .last_used_at
        .is_none_or(|at| now - at >= sessions::TOUCH_EVERY)
    {
        app.store.touch_key(&key.id, now).await?;
    }
    Ok(Principal {
        actor: format!("key:{}", key.name),
        role,
        via: Via::Key(key.id),
    })
}

fn is_write(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether a browser says this request comes from this server's own pages.
fn same_origin(headers: &HeaderMap) -> bool {
    if headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"same-origin")
    {
        return true;
    }
    let (Some(origin), Some(host)) = (headers.get(ORIGIN), headers.get(HOST)) else {
        return false;
    };
    let (Ok(origin), Ok(host)) = (origin.to_str(), host.to_str()) else {
        return false;
    };
    origin
        .split_once("://")
        .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
}

/// The token of `Authorization: Bearer <token>` (the scheme is case-insensitive).
fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// `?access_token=` on `GET` of the SSE streams, and nowhere else.
fn query_token(method: &Method, uri: &Uri, path: Option<&str>) -> Option<String> {
    if *method != Method::GET || !path.is_some_and(|p| STREAMS.contains(&p)) {
        return None;
    }
    let Query(q) = Query::<AccessToken>::try_from_uri(uri).ok()?;
    q.access_token
}

#[derive(Deserialize)]
struct AccessToken {
    access_token: Option<String>,
}
