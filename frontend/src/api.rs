//! Typed client for Weft's HTTP API (SPEC §3).
//!
//! Every call returns the endpoint's response type or an [`ApiErrorBody`]: the server's own
//! error body for a non-2xx status, or one made up here for a failure that never reached it
//! (network, unreadable body). Pages thus handle a single error shape. A call that never
//! reached the server says so in words ([`UNREACHABLE`]) rather than as the browser's
//! "TypeError: Failed to fetch"; the server's own messages pass through unchanged.
//!
//! A closed server (SPEC §7) answers 401 until a call carries a credential: the session's
//! cookie (set by `POST /api/auth/login`, sent by the browser itself) or a bearer token (an
//! API key or `WEFT_API_TOKEN`, kept in `sessionStorage` for the browser session). A 401
//! raises [`sign_in_needed`], which the shell turns into a visit to the login page, unless the
//! person chose to go on without signing in ([`decline_sign_in`]): then pages show the 401.

use std::cell::RefCell;

use gloo_net::http::{Request, RequestBuilder, Response};
use leptos::prelude::{ArcRwSignal, Get, GetUntracked, Set};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use shared::access::{Login, Me};
use shared::api::{ApiError, ApiErrorBody, ValidateResponse};

/// What every call returns.
pub type Result<T> = std::result::Result<T, ApiErrorBody>;

/// `POST /api/validate`: the server's findings for a definition.
pub async fn validate(definition: &Value) -> Result<ValidateResponse> {
    post_json("/api/validate", definition).await
}

/// `GET url` → the 2xx body as `T`. Pages build their own calls from these verbs.
pub async fn get_json<T: DeserializeOwned>(url: &str) -> Result<T> {
    let response = send(|token| with_token(Request::get(url), token).build()).await?;
    into_json(response).await
}

/// `GET url` once with the session's token, never asking for one: for what a page shows on
/// the side (the inbox's count in the top bar), which must not raise the token prompt.
pub async fn peek_json<T: DeserializeOwned>(url: &str) -> Result<T> {
    let token = session_token();
    let response = with_token(Request::get(url), token.as_deref())
        .build()
        .map_err(|e| local_error("request_body", e))?
        .send()
        .await
        .map_err(unreachable)?;
    into_json(response).await
}

/// `POST url` with a JSON body → the 2xx body as `T`.
pub async fn post_json<B, T>(url: &str, body: &B) -> Result<T>
where
    B: Serialize + ?Sized,
    T: DeserializeOwned,
{
    let response = send(|token| write(with_token(Request::post(url), token), Some(body))).await?;
    into_json(response).await
}

/// `PUT url` with a JSON body → the 2xx body as `T`.
pub async fn put_json<B, T>(url: &str, body: &B) -> Result<T>
where
    B: Serialize + ?Sized,
    T: DeserializeOwned,
{
    let response = send(|token| write(with_token(Request::put(url), token), Some(body))).await?;
    into_json(response).await
}

/// `DELETE url` → the 2xx body as `T`.
pub async fn delete_json<T: DeserializeOwned>(url: &str) -> Result<T> {
    let response = send(|token| write::<()>(with_token(Request::delete(url), token), None)).await?;
    into_json(response).await
}

/// `PATCH url` with a JSON body → the 2xx body as `T`.
pub async fn patch_json<B, T>(url: &str, body: &B) -> Result<T>
where
    B: Serialize + ?Sized,
    T: DeserializeOwned,
{
    let response = send(|token| write(with_token(Request::patch(url), token), Some(body))).await?;
    into_json(response).await
}

/// `DELETE url` answered `204 No Content`.
pub async fn delete_empty(url: &str) -> Result<()> {
    let response = send(|token| write::<()>(with_token(Request::delete(url), token), None)).await?;
    into_empty(response).await
}

/// `POST url` with a JSON body, answered `204 No Content`.
pub async fn post_empty<B: Serialize + ?Sized>(url: &str, body: &B) -> Result<()> {
    let response = send(|token| write(with_token(Request::post(url), token), Some(body))).await?;
    into_empty(response).await
}

/// `POST /api/auth/login`: the server sets the session cookie and answers who signed in. A
/// 429's `Retry-After` (seconds) is kept in the error's `details.retry_after`, since the
/// person needs to know how long to wait.
pub async fn login(name: &str, password: &str) -> Result<Me> {
    let body = Login {
        name: name.to_owned(),
        password: password.to_owned(),
    };
    let request = write(Request::post("/api/auth/login"), Some(&body))
        .map_err(|e| local_error("request_body", e))?;
    let response = request.send().await.map_err(unreachable)?;
    let retry_after = response
        .headers()
        .get("Retry-After")
        .and_then(|v| v.trim().parse::<u64>().ok());
    let me = into_json(response).await.map_err(|mut body| {
        if let Some(seconds) = retry_after {
            body.error.details = Some(serde_json::json!({ "retry_after": seconds }));
        }
        body
    })?;
    // The session is the credential now: a token kept from before would be sent first.
    set_session_token(None);
    DECLINED.with(|d| d.set(false));
    Ok(me)
}

/// `GET /api/auth/me` with `token` as the bearer: `Ok` when the server knows the token, which
/// is then kept for the browser session.
pub async fn sign_in_with_token(token: &str) -> Result<Me> {
    let response = with_token(Request::get("/api/auth/me"), Some(token))
        .send()
        .await
        .map_err(unreachable)?;
    let me: Me = into_json(response).await?;
    if me.user.is_none() {
        return Err(local_error(
            "unauthorized",
            "The server did not accept that token.",
        ));
    }
    set_session_token(Some(token));
    DECLINED.with(|d| d.set(false));
    Ok(me)
}

/// Forgets the session's token (signing out).
pub fn forget_token() {
    set_session_token(None);
}

/// Every write is declared JSON, a bodiless one too: the server refuses writes of any other
/// type (415), since those are what a page on another site can send without a preflight.
fn write<B: Serialize + ?Sized>(
    builder: RequestBuilder,
    body: Option<&B>,
) -> std::result::Result<Request, gloo_net::Error> {
    let builder = builder.header("Content-Type", "application/json");
    match body {
        Some(body) => builder.body(serde_json::to_string(body)?),
        None => builder.build(),
    }
}

/// The URL for an `EventSource` on `path` (which may hold a query already): `EventSource`
/// cannot send headers, so the session's token, if any, goes in `access_token`.
pub fn stream_url(path: &str) -> String {
    match session_token() {
        None => path.to_owned(),
        Some(token) => {
            let sep = if path.contains('?') { '&' } else { '?' };
            let token = String::from(js_sys::encode_uri_component(&token));
            format!("{path}{sep}access_token={token}")
        }
    }
}

/// Sends the request `build` makes with the session's token. A 401 asks the shell for a
/// sign-in ([`sign_in_needed`]) and is the call's answer.
async fn send(
    build: impl Fn(Option<&str>) -> std::result::Result<Request, gloo_net::Error>,
) -> Result<Response> {
    loop {
        let token = session_token();
        let request = build(token.as_deref()).map_err(|e| local_error("request_body", e))?;
        let response = request.send().await.map_err(unreachable)?;
        if response.status() != 401 {
            return Ok(response);
        }
        // Another call may have been given a new token while this one was in flight.
        if session_token() != token {
            continue;
        }
        if !DECLINED.with(|d| d.get_untracked()) {
            SIGN_IN.with(|s| s.set(true));
        }
        return Ok(response);
    }
}

fn with_token(builder: RequestBuilder, token: Option<&str>) -> RequestBuilder {
    match token {
        Some(token) => builder.header("Authorization", &format!("Bearer {token}")),
        None => builder,
    }
}

/// A 2xx answer without a body; any other status as in [`into_json`].
async fn into_empty(response: Response) -> Result<()> {
    if response.ok() {
        Ok(())
    } else {
        into_json::<Value>(response).await.map(drop)
    }
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
            status_message(response.status(), &response.status_text()),
        )),
    }
}

/// What a person reads when a call never reached the server (it is down, restarting, or the
/// network is away): the browser itself only says "TypeError: Failed to fetch".
pub const UNREACHABLE: &str = "Cannot reach the Weft server — is it running? Check that it is started and that this browser can reach it, then try again.";

/// A call that failed before any answer: [`UNREACHABLE`], with the browser's own words kept
/// in `details.cause` for whoever debugs it.
fn unreachable(cause: impl std::fmt::Display) -> ApiErrorBody {
    let mut body = local_error("network", UNREACHABLE);
    body.error.details = Some(serde_json::json!({ "cause": cause.to_string() }));
    body
}

/// A non-2xx answer without Weft's error body: a proxy in front of a server that is down or
/// restarting says 502–504, which means the same to the person as no answer at all.
pub fn status_message(status: u16, text: &str) -> String {
    let said = format!("{status} {text}");
    let said = said.trim();
    if matches!(status, 502..=504) {
        format!(
            "The Weft server is not answering ({said}) — it may be restarting. Try again in a moment."
        )
    } else {
        format!("The server answered {said}.")
    }
}

/// An error that happened on this side of the wire, in the server's error shape.
pub fn local_error(code: &str, message: impl ToString) -> ApiErrorBody {
    ApiErrorBody {
        error: ApiError {
            code: code.to_owned(),
            message: message.to_string(),
            details: None,
        },
    }
}

/// The `sessionStorage` key: the token lasts as long as the tab, not across browser restarts.
const TOKEN_KEY: &str = "weft.api_token";

thread_local! {
    /// The session's token, read from `sessionStorage` once; also kept here where storage is
    /// unavailable (some private modes).
    static TOKEN: RefCell<Option<String>> = RefCell::new(read_session_storage());
    /// Set by a 401: the shell sends the person to the login page.
    static SIGN_IN: ArcRwSignal<bool> = ArcRwSignal::new(false);
    /// The person chose to go on without signing in: 401s are the pages' to show.
    static DECLINED: ArcRwSignal<bool> = ArcRwSignal::new(false);
}

/// `true` once a call was refused for want of a credential; the shell resets it.
pub fn sign_in_needed() -> ArcRwSignal<bool> {
    SIGN_IN.with(Clone::clone)
}

/// Go on without signing in (until the page is reloaded): 401s no longer ask for a sign-in.
pub fn decline_sign_in() {
    DECLINED.with(|d| d.set(true));
}

/// Whether the person chose to go on without signing in (tracked in a reactive context).
pub fn sign_in_declined() -> bool {
    DECLINED.with(|d| d.get())
}

fn set_session_token(token: Option<&str>) {
    if let Some(storage) = session_storage() {
        // Storage full or denied: the in-memory copy still serves this page.
        let _ = match token {
            Some(token) => storage.set_item(TOKEN_KEY, token),
            None => storage.remove_item(TOKEN_KEY),
        };
    }
    TOKEN.with(|t| *t.borrow_mut() = token.map(str::to_owned));
}

fn session_token() -> Option<String> {
    TOKEN.with(|t| t.borrow().clone())
}

fn session_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

fn read_session_storage() -> Option<String> {
    session_storage()?.get_item(TOKEN_KEY).ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_fetch_reads_as_a_sentence_and_keeps_the_cause_aside() {
        let body = unreachable("TypeError: Failed to fetch");
        assert_eq!(body.error.code, "network");
        assert!(
            body.error
                .message
                .starts_with("Cannot reach the Weft server — is it running?")
        );
        assert!(!body.error.message.contains("TypeError"));
        assert_eq!(
            body.error.details,
            Some(serde_json::json!({ "cause": "TypeError: Failed to fetch" }))
        );
    }

    #[test]
    fn a_bare_status_says_what_it_means() {
        assert_eq!(
            status_message(502, "Bad Gateway"),
            "The Weft server is not answering (502 Bad Gateway) — it may be restarting. Try again in a moment."
        );
        assert!(status_message(504, "").contains("(504)"));
        assert_eq!(
            status_message(418, "I'm a teapot"),
            "The server answered 418 I'm a teapot."
        );
    }
}
