//! `Body<T>`: the JSON body extractor every handler uses.
//!
//! It reads the bytes itself (so a missing `Content-Type` is fine for curl and webhook
//! senders) and turns every failure into an [`Error`]: 413 over the limit, 400 otherwise,
//! naming where the JSON went wrong.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
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
