//! The `http` activity executor: renders the request (adding `secrets` only here, so they
//! never reach the log) and sends one attempt with reqwest.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use shared::limits::MAX_VALUE_BYTES;
use shared::model::HttpNode;
use shared::template;

use super::decide::ActivityError;

/// Named values from the environment, read once at start: the templates' `secrets` from
/// `WEFT_SECRET_<NAME>` ([`Secrets::from_env`]), and, kept apart so no template can ever
/// read them, the webhooks' HMAC keys from `WEFT_HOOK_SECRET_<NAME>`
/// ([`Secrets::hook_keys_from_env`]).
#[derive(Debug, Default, Clone)]
pub struct Secrets(Arc<HashMap<String, String>>);

/// The prefix of the variables templates read as `secrets.NAME`.
pub const SECRET_PREFIX: &str = "WEFT_SECRET_";

/// The prefix of the variables holding webhook HMAC keys.
pub const HOOK_KEY_PREFIX: &str = "WEFT_HOOK_SECRET_";

impl Secrets {
    /// `WEFT_SECRET_<NAME>`: what `{{ secrets.NAME }}` renders in `http` and `task` nodes.
    pub fn from_env() -> Secrets {
        Secrets::with_prefix(SECRET_PREFIX)
    }

    /// `WEFT_HOOK_SECRET_<NAME>`: the keys webhooks check signatures with.
    pub fn hook_keys_from_env() -> Secrets {
        Secrets::with_prefix(HOOK_KEY_PREFIX)
    }

    fn with_prefix(prefix: &str) -> Secrets {
        // `WEFT_SECRET_` is not a prefix of `WEFT_HOOK_SECRET_`, so the two sets never share
        // a variable.
        let map = std::env::vars()
            .filter_map(|(k, v)| k.strip_prefix(prefix).map(|n| (n.to_owned(), v)))
            .collect();
        Secrets(Arc::new(map))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A run's template context with `secrets` added: only for what leaves the server (a
    /// request, a task's input), never for what is logged.
    pub fn context(&self, mut ctx: Value) -> Value {
        ctx["secrets"] = json!(*self.0);
        ctx
    }
}

/// Sends one attempt. `ctx` is the run's template context; `key` the Idempotency-Key.
pub async fn send(
    client: &reqwest::Client,
    node: &HttpNode,
    timeout: Duration,
    ctx: Value,
    secrets: &Secrets,
    key: &str,
) -> Result<Value, ActivityError> {
    let ctx = secrets.context(ctx);
    let fail = |message: String| ActivityError {
        message,
        retryable: false,
    };
    let method = template::render_string(&node.request.method, &ctx)
        .map_err(|e| fail(format!("method: {e}")))?;
    let method = reqwest::Method::from_bytes(method.trim().to_ascii_uppercase().as_bytes())
        .map_err(|_| fail(format!("`{method}` is not an HTTP method")))?;
    let url =
        template::render_string(&node.request.url, &ctx).map_err(|e| fail(format!("url: {e}")))?;
    let mut req = client
        .request(method, &url)
        .timeout(timeout)
        .header("Idempotency-Key", key);
    for (name, value) in node.request.headers.iter().flatten() {
        let value = template::render_string(value, &ctx)
            .map_err(|e| fail(format!("header {name}: {e}")))?;
        req = req.header(name.as_str(), value);
    }
    if let Some(body) = &node.request.body {
        let body = template::render(body, &ctx).map_err(|e| fail(format!("body: {e}")))?;
        req = req.json(&body);
    }
    let resp = req.send().await.map_err(|e| ActivityError {
        message: if e.is_timeout() {
            format!("timed out after {}", humantime::format_duration(timeout))
        } else {
            format!("request failed: {}", root_cause(&e))
        },
        retryable: true,
    })?;
    let status = resp.status();
    let (text, whole) = read_capped(resp, MAX_VALUE_BYTES).await?;
    if status.is_success() && !whole {
        return Err(ActivityError {
            message: format!(
                "the response body is over the {MAX_VALUE_BYTES}-byte limit of a node's output"
            ),
            retryable: false,
        });
    }
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    if status.is_success() {
        return Ok(json!({ "status": status.as_u16(), "body": body }));
    }
    let code = status.as_u16();
    let mut snippet = match &body {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    snippet.truncate(300);
    Err(ActivityError {
        message: format!("HTTP {code}: {snippet}"),
        retryable: status.is_server_error() || code == 408 || code == 429,
    })
}

/// The response body, at most `cap` bytes of it (a huge body never reaches memory), and
/// whether it was read whole.
async fn read_capped(
    mut resp: reqwest::Response,
    cap: usize,
) -> Result<(String, bool), ActivityError> {
    let mut bytes = Vec::new();
    let mut whole = true;
    while let Some(chunk) = resp.chunk().await.map_err(|e| ActivityError {
        message: format!("reading the response: {e}"),
        retryable: true,
    })? {
        if bytes.len() + chunk.len() > cap {
            bytes.extend_from_slice(&chunk[..cap - bytes.len()]);
            whole = false;
            break;
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok((String::from_utf8_lossy(&bytes).into_owned(), whole))
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}
