//! The `http` activity executor: renders the request (adding `secrets` only here, so they
//! never reach the log) and sends one attempt with reqwest.
//!
//! The method, URL, headers and body render on one template budget
//! ([`template::Renderer`]); a request whose templates are not quick renders on the bounded
//! blocking pool ([`crate::offload`]) rather than on the async runtime.

use std::collections::{BTreeSet, HashMap};
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

    /// Named values given directly (tests).
    #[cfg(test)]
    pub fn from_map(map: HashMap<String, String>) -> Secrets {
        Secrets(Arc::new(map))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A run's template context with the secrets `names` added (those a node's templates
    /// read: `Plan::secrets`): only for what leaves the server (a request, a task's input),
    /// never for what is logged.
    pub fn context(&self, mut ctx: Value, names: &BTreeSet<String>) -> Value {
        let read: serde_json::Map<String, Value> = names
            .iter()
            .filter_map(|n| self.0.get(n).map(|v| (n.clone(), json!(v))))
            .collect();
        ctx["secrets"] = Value::Object(read);
        ctx
    }
}

/// One attempt's request, rendered.
#[derive(Debug)]
pub struct Request {
    method: reqwest::Method,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<Value>,
}

impl Request {
    /// Renders `node`'s request against `ctx` (secrets included) on one budget. A template
    /// that fails fails the attempt for good: another attempt renders the same.
    pub fn render(node: &HttpNode, ctx: &Value) -> Result<Request, ActivityError> {
        let fail = |message: String| ActivityError {
            message,
            retryable: false,
        };
        let mut r = template::Renderer::new(ctx);
        let method = r
            .string(&node.request.method)
            .map_err(|e| fail(format!("method: {e}")))?;
        let method = reqwest::Method::from_bytes(method.trim().to_ascii_uppercase().as_bytes())
            .map_err(|_| fail(format!("`{method}` is not an HTTP method")))?;
        let url = r
            .string(&node.request.url)
            .map_err(|e| fail(format!("url: {e}")))?;
        let mut headers = Vec::new();
        for (name, value) in node.request.headers.iter().flatten() {
            let value = r
                .string(value)
                .map_err(|e| fail(format!("header {name}: {e}")))?;
            headers.push((name.clone(), value));
        }
        let body = match &node.request.body {
            Some(body) => Some(r.value(body).map_err(|e| fail(format!("body: {e}")))?),
            None => None,
        };
        Ok(Request {
            method,
            url,
            headers,
            body,
        })
    }

    /// [`Request::render`] where it belongs: here if the node's templates are `quick`, else
    /// on the bounded blocking pool.
    pub async fn render_for(
        node: &HttpNode,
        ctx: Value,
        quick: bool,
    ) -> Result<Request, ActivityError> {
        if quick {
            return Request::render(node, &ctx);
        }
        let node = node.clone();
        crate::offload::run(move || Request::render(&node, &ctx))
            .await
            .unwrap_or_else(|e| {
                Err(ActivityError {
                    message: format!("rendering the request: {e}"),
                    retryable: true,
                })
            })
    }
}

/// Sends one attempt of a rendered request; `key` is the Idempotency-Key.
pub async fn send(
    client: &reqwest::Client,
    request: Request,
    timeout: Duration,
    key: &str,
) -> Result<Value, ActivityError> {
    let mut req = client
        .request(request.method, &request.url)
        .timeout(timeout)
        .header("Idempotency-Key", key);
    for (name, value) in request.headers {
        req = req.header(name, value);
    }
    if let Some(body) = &request.body {
        req = req.json(body);
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
