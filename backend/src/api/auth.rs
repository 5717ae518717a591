//! The API token (SPEC §3): with `WEFT_API_TOKEN` set, every `/api` call must carry
//! `Authorization: Bearer <token>`. It is a layer on the `/api` router alone, so `/healthz`,
//! the UI's files and `/hooks` (which have their own signatures) stay open.

use axum::extract::{MatchedPath, Query, Request, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::error::Error;
use crate::AppState;

/// The routes that also take `?access_token=`: the SSE streams, since a browser's
/// `EventSource` cannot send headers.
const STREAMS: [&str; 2] = ["/api/runs/{id}/stream", "/api/runs/stream"];

/// Lets a request through when no token is configured or it presents the right one;
/// otherwise answers 401 with `WWW-Authenticate: Bearer`.
pub async fn require_token(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let Some(token) = app.api_token.as_deref() else {
        return next.run(req).await;
    };
    let given = bearer(&req).or_else(|| query_token(&req));
    let message = match given {
        Some(given) if same(&given, token) => return next.run(req).await,
        Some(_) => "wrong API token",
        None => "this server needs an API token: send `Authorization: Bearer <token>`",
    };
    let mut response = Error::Unauthorized(message.to_owned()).into_response();
    response
        .headers_mut()
        .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// The token of `Authorization: Bearer <token>` (the scheme is case-insensitive).
fn bearer(req: &Request) -> Option<String> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// `?access_token=` on `GET` of the SSE streams, and nowhere else: tokens in URLs end up in
/// logs and browser history, so only the route that has no other way gets one.
fn query_token(req: &Request) -> Option<String> {
    let matched = req.extensions().get::<MatchedPath>()?;
    if req.method() != Method::GET || !STREAMS.contains(&matched.as_str()) {
        return None;
    }
    let Query(q) = Query::<AccessToken>::try_from_uri(req.uri()).ok()?;
    q.access_token
}

#[derive(Deserialize)]
struct AccessToken {
    access_token: Option<String>,
}

/// Constant-time equality, so response timing does not reveal how much of a guess was right.
fn same(given: &str, token: &str) -> bool {
    given.as_bytes().ct_eq(token.as_bytes()).into()
}
