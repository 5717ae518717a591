//! Typed client for Weft's HTTP API (SPEC §3).
//!
//! Every call returns the endpoint's response type or an [`ApiErrorBody`]: the server's own
//! error body for a non-2xx status, or one made up here for a failure that never reached it
//! (network, unreadable body). Pages thus handle a single error shape.

use gloo_net::http::{Request, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use shared::api::{ApiError, ApiErrorBody, ValidateResponse};

/// What every call returns.
pub type Result<T> = std::result::Result<T, ApiErrorBody>;

/// `POST /api/validate`: the server's findings for a definition.
pub async fn validate(definition: &Value) -> Result<ValidateResponse> {
    post_json("/api/validate", definition).await
}

async fn post_json<B, T>(url: &str, body: &B) -> Result<T>
where
    B: Serialize + ?Sized,
    T: DeserializeOwned,
{
    let request = Request::post(url)
        .json(body)
        .map_err(|e| local_error("request_body", e))?;
    let response = request
        .send()
        .await
        .map_err(|e| local_error("network", e))?;
    into_json(response).await
}

/// Reads a 2xx body as `T`; turns any other status into the server's [`ApiErrorBody`].
async fn into_json<T: DeserializeOwned>(response: Response) -> Result<T> {
    if response.ok() {
        return response
            .json()
            .await
            .map_err(|e| local_error("bad_response", e));
    }
    match response.json::<ApiErrorBody>().await {
        Ok(body) => Err(body),
        // A proxy or a server that died mid-request answers without Weft's error shape.
        Err(_) => Err(local_error(
            "http_status",
            format!(
                "the server answered {} {}",
                response.status(),
                response.status_text()
            ),
        )),
    }
}

/// An error that happened on this side of the wire, in the server's error shape.
fn local_error(code: &str, message: impl ToString) -> ApiErrorBody {
    ApiErrorBody {
        error: ApiError {
            code: code.to_owned(),
            message: message.to_string(),
            details: None,
        },
    }
}
