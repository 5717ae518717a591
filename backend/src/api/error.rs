//! `api::Error`: every failure a handler returns, and its status and JSON body.
//!
//! Bodies are `{"error": {"code", "message", "details"?}}` (SPEC §3). Internal details are
//! logged, never sent to the client.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use shared::api::{ApiError, ApiErrorBody};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 400: the body is not what the endpoint reads.
    #[error("{0}")]
    BadRequest(String),
    /// 401: a missing, wrong, revoked or expired credential, or a wrong webhook signature.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: a write a browser sent from another origin (`api::guard`), or a caller whose
    /// role is below the route's (`access`).
    #[error("{0}")]
    Forbidden(String),
    /// 404
    #[error("{0}")]
    NotFound(String),
    /// 405: the path exists, the method does not.
    #[error("method not allowed on this path")]
    MethodNotAllowed,
    /// 409: the request conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// 413
    #[error("request body is larger than 1 MiB")]
    TooLarge,
    /// 413: a value in the body (a run's input, a signal's payload) over a limit of what a
    /// run keeps (`shared::limits::check_value`).
    #[error("{0}")]
    ValueTooLarge(String),
    /// 415: a write whose body is not declared `application/json`.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 421: a `Host` this server does not answer for (`api::guard`).
    #[error("{0}")]
    MisdirectedRequest(String),
    /// 429 with `Retry-After`: too many failed sign-ins; try again after that many seconds.
    #[error("{message}")]
    TooManyRequests { message: String, retry_after: u64 },
    /// 422 with the findings or failing paths in `details`.
    #[error("{message}")]
    Unprocessable { message: String, details: Value },
    /// 503: the server is misconfigured for this request (e.g. a webhook secret is not set);
    /// the message says what the operator must fix.
    #[error("{0}")]
    Unavailable(String),
    /// 500. Logged; the client sees only a generic message.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl Error {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Error::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            Error::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Error::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Error::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Error::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            Error::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            Error::TooLarge | Error::ValueTooLarge(_) => {
                (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
            }
            Error::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            Error::MisdirectedRequest(_) => {
                (StatusCode::MISDIRECTED_REQUEST, "misdirected_request")
            }
            Error::Unprocessable { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            Error::TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
            Error::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Error::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let retry_after = match &self {
            Error::TooManyRequests { retry_after, .. } => Some(*retry_after),
            _ => None,
        };
        let (message, details) = match self {
            Error::Internal(e) => {
                tracing::error!(error = ?e, "internal error");
                ("internal server error".to_owned(), None)
            }
            Error::Unavailable(message) => {
                tracing::warn!(%message, "misconfigured");
                (message, None)
            }
            Error::Unprocessable { message, details } => (message, Some(details)),
            other => (other.to_string(), None),
        };
        let body = ApiErrorBody {
            error: ApiError {
                code: code.to_owned(),
                message,
                details,
            },
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}

/// The answer to a request whose handler panicked (`CatchPanicLayer` in `crate::app`): the
/// panic is logged and the client gets the same 500 as for any internal error.
pub fn panicked(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    Error::Internal(anyhow::anyhow!("a request handler panicked: {what}")).into_response()
}

impl From<crate::store::Error> for Error {
    fn from(e: crate::store::Error) -> Self {
        Error::Internal(e.into())
    }
}

impl Error {
    /// `value` (named `what`) as a run may keep it, or a 413 naming the limit.
    pub fn check_value(what: &str, value: &Value) -> Result<(), Error> {
        shared::limits::check_value(value).map_err(|e| Error::ValueTooLarge(format!("{what}: {e}")))
    }
}
