//! The extractors every handler uses: `Body<T>` (JSON body), `Params<T>` (path) and
//! `Filter<T>` (query string), each rejecting with an [`Error`] so every failure is JSON.
//!
//! It reads the bytes itself (so a missing `Content-Type` is fine for curl and webhook
//! senders) and turns every failure into an [`Error`]: 413 over the limit, 400 otherwise,
//! naming where the JSON went wrong.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::Error;

/// The largest request body accepted (SPEC §3).
pub const MAX_BODY: usize = 1024 * 1024;

pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        let bytes = raw(req, state).await?;
        parse(&bytes).map(Body)
    }
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

/// Parses JSON; an empty body reads as `{}` so bodiless POSTs (cancel, heartbeat) work.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    serde_json::from_slice(bytes).map_err(|e| {
        let what = if e.is_syntax() || e.is_eof() {
            "malformed JSON"
        } else {
            "invalid body"
        };
        Error::BadRequest(format!("{what}: {e}"))
    })
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
