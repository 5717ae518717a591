//! The extractors every handler uses: `Body<T>` (JSON body), `Params<T>` (path) and
//! `Filter<T>` (query string), each rejecting with an [`Error`] so every failure is JSON;
//! and [`require_json`], the media type every write must declare.
//!
//! Writes take `Content-Type: application/json` only (SPEC §3), bodiless ones too: a form,
//! `text/plain` or a request with no type at all is what a page on another site can send
//! without a CORS preflight, so refusing them (415) keeps such pages from driving the API.
//! `Body<T>` reads the bytes itself and turns every failure into an [`Error`]: 413 over the
//! limit, 400 otherwise, naming where the JSON went wrong, or the JSON type that came instead
//! of an object (serde would otherwise read `[…]` as a struct's fields in order).

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::Error;

/// The largest request body accepted (SPEC §3).
pub const MAX_BODY: usize = 1024 * 1024;

/// A JSON object body, read as `T`; an empty body reads as `{}`.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        let bytes = raw(req, state).await?;
        parse_object(&bytes).map(Body)
    }
}

/// Answers 415 to a `POST`, `PUT` or `PATCH` whose `Content-Type` is not `application/json`
/// (parameters such as `charset` allowed, case-insensitive). Layered on the `/api` and
/// `/hooks` routes.
pub async fn require_json(req: Request, next: Next) -> Response {
    if !matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH) {
        return next.run(req).await;
    }
    let given = req.headers().get(header::CONTENT_TYPE);
    let is_json = given
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"));
    if is_json {
        return next.run(req).await;
    }
    let got = match given {
        None => "no Content-Type".to_owned(),
        Some(v) => format!("Content-Type `{}`", String::from_utf8_lossy(v.as_bytes())),
    };
    Error::UnsupportedMediaType(format!(
        "this endpoint takes JSON only: send the body with `Content-Type: application/json` \
         (even an empty one); this request has {got}"
    ))
    .into_response()
}

/// Reads the raw body, mapping an oversized one to 413.
pub async fn raw<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, Error> {
    Bytes::from_request(req, state).await.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Error::TooLarge
        } else {
            Error::BadRequest(r.body_text())
        }
    })
}

/// Parses any JSON (a webhook's body is the run's input, whatever its type); an empty body
/// reads as `{}` so bodiless POSTs (cancel, heartbeat) work.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    serde_json::from_slice(or_empty_object(bytes)).map_err(|e| {
        let what = if e.is_syntax() || e.is_eof() {
            "malformed JSON"
        } else {
            "invalid body"
        };
        Error::BadRequest(format!("{what}: {e}"))
    })
}

/// Parses a JSON object as `T`: every body of the API is one. Anything else is a 400 that
/// names what came instead; unknown fields are refused by the types themselves
/// (`deny_unknown_fields`), naming the field and the ones expected.
pub fn parse_object<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    let bytes = or_empty_object(bytes);
    if bytes.trim_ascii_start().starts_with(b"{") {
        return parse(bytes);
    }
    let kind = match parse::<Value>(bytes)? {
        Value::Array(_) => "an array",
        Value::String(_) => "a string",
        Value::Number(_) => "a number",
        Value::Bool(_) => "a boolean",
        Value::Null => "null",
        Value::Object(_) => return parse(bytes),
    };
    Err(Error::BadRequest(format!(
        "the body must be a JSON object (`{{…}}`), not {kind}"
    )))
}

fn or_empty_object(bytes: &[u8]) -> &[u8] {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    }
}

/// Path parameters; a malformed one is a 400 in our error body.
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Params<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Error> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(t)| Params(t))
            .map_err(|r| Error::BadRequest(r.body_text()))
    }
}

/// The query string; a malformed one is a 400 in our error body.
pub struct Filter<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Filter<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Error> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(t)| Filter(t))
            .map_err(|r| Error::BadRequest(r.body_text()))
    }
}
