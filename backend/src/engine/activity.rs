//! The `http` activity executor: renders the request (adding `secrets` only here, so they
//! never reach the log) and sends one attempt with reqwest.
//!
//! What went over the wire is recorded too ([`Exchange`], the log's `http_exchanged`), so an
//! operator can see why an attempt failed; every value of a secret the node reads is `***`
//! there and in the attempt's output and error ([`Mask`]), since a service may echo a header
//! back, and bodies are cut at [`MAX_RECORDED_BODY`].
//!
//! The method, URL, headers and body render on one template budget
//! ([`shared::render::request`]); a request whose templates are not quick renders on the bounded
//! blocking pool ([`crate::offload`]) rather than on the async runtime.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use shared::limits::{MAX_RECORDED_BODY, MAX_VALUE_BYTES};
use shared::model::HttpNode;

use super::decide::{ActivityError, Exchange};
use super::event::{HttpRequestRecord, HttpResponseRecord};

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

    /// The names, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.0.keys().cloned().collect();
        names.sort();
        names
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// What hides the values of the secrets `names` in what is recorded.
    pub fn mask(&self, names: &BTreeSet<String>) -> Mask {
        let mut values: Vec<String> = names
            .iter()
            .filter_map(|n| self.0.get(n))
            .filter(|v| !v.is_empty())
            .cloned()
            .collect();
        // The longest first, so a secret that contains another is hidden whole.
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        Mask(values)
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

/// The values of the secrets a node reads, replaced by `***` in what is recorded of its
/// attempts (as CI systems mask secrets in their logs). Empty for most nodes: then a no-op.
#[derive(Debug, Default, Clone)]
pub struct Mask(Vec<String>);

/// What a secret's value is recorded as.
const MASKED: &str = "***";

impl Mask {
    pub fn text(&self, s: &str) -> String {
        self.0.iter().fold(s.to_owned(), |s, v| {
            if s.contains(v.as_str()) {
                s.replace(v.as_str(), MASKED)
            } else {
                s
            }
        })
    }

    /// Masks every string of `v` (keys too), without recursion on its depth.
    pub fn value(&self, v: &mut Value) {
        if self.0.is_empty() {
            return;
        }
        let mut todo = vec![v];
        while let Some(v) = todo.pop() {
            match v {
                Value::String(s) => *s = self.text(s),
                Value::Array(items) => todo.extend(items.iter_mut()),
                Value::Object(map) => {
                    if map
                        .keys()
                        .any(|k| self.0.iter().any(|s| k.contains(s.as_str())))
                    {
                        let old = std::mem::take(map);
                        map.extend(old.into_iter().map(|(k, v)| (self.text(&k), v)));
                    }
                    todo.extend(map.values_mut());
                }
                Value::Null | Value::Bool(_) | Value::Number(_) => {}
            }
        }
    }

    /// An attempt's outcome with the secrets masked in its output or error.
    pub fn outcome(&self, result: Result<Value, ActivityError>) -> Result<Value, ActivityError> {
        match result {
            Ok(mut v) => {
                self.value(&mut v);
                Ok(v)
            }
            Err(e) => Err(ActivityError {
                message: self.text(&e.message),
                ..e
            }),
        }
    }
}

/// `s` masked and cut at [`MAX_RECORDED_BODY`] bytes (on a character boundary); whether it
/// was cut.
fn recorded_body(mask: &Mask, s: &str) -> (String, bool) {
    let mut s = mask.text(s);
    if s.len() <= MAX_RECORDED_BODY {
        return (s, false);
    }
    let mut end = MAX_RECORDED_BODY;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    (s, true)
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
        let rendered = shared::render::request(&node.request, ctx).map_err(fail)?;
        let method =
            reqwest::Method::from_bytes(rendered.method.trim().to_ascii_uppercase().as_bytes())
                .map_err(|_| fail(format!("`{}` is not an HTTP method", rendered.method)))?;
        let (url, body) = (rendered.url, rendered.body);
        let headers = rendered.headers.into_iter().collect();
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

impl Request {
    /// The request as recorded: the headers sent (the node's and the Idempotency-Key), masked.
    fn record(&self, key: &str, mask: &Mask) -> HttpRequestRecord {
        let mut headers: Vec<(String, String)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.clone(), mask.text(v)))
            .collect();
        headers.push(("Idempotency-Key".into(), mask.text(key)));
        let (body, truncated) = match &self.body {
            Some(b) => {
                let (text, cut) = recorded_body(mask, &b.to_string());
                (Some(text), cut)
            }
            None => (None, false),
        };
        HttpRequestRecord {
            method: self.method.to_string(),
            url: mask.text(&self.url),
            headers,
            body,
            truncated,
        }
    }
}

/// Sends one attempt of a rendered request; `key` is the Idempotency-Key. The outcome has
/// the secrets of `mask` hidden, and comes with what went over the wire.
pub async fn send(
    client: &reqwest::Client,
    request: Request,
    timeout: Duration,
    key: &str,
    mask: &Mask,
) -> (Result<Value, ActivityError>, Exchange) {
    let record = Box::new(request.record(key, mask));
    let mut response = None;
    let result = exchange(client, request, timeout, key, mask, &mut response).await;
    let exchange = Exchange {
        request: record,
        response: response.map(Box::new),
    };
    (mask.outcome(result), exchange)
}

/// The attempt itself; `recorded` gets the response as recorded once one came.
async fn exchange(
    client: &reqwest::Client,
    request: Request,
    timeout: Duration,
    key: &str,
    mask: &Mask,
    recorded: &mut Option<HttpResponseRecord>,
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
    let headers = resp
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.to_string(),
                mask.text(&String::from_utf8_lossy(v.as_bytes())),
            )
        })
        .collect();
    let read = read_capped(resp, MAX_VALUE_BYTES).await;
    let (body, truncated) = match &read {
        Ok((text, whole)) => {
            let (body, cut) = recorded_body(mask, text);
            (body, cut || !whole)
        }
        Err(e) => (format!("({})", e.message), false),
    };
    *recorded = Some(HttpResponseRecord {
        status: status.as_u16(),
        headers,
        body,
        truncated,
    });
    let (text, whole) = read?;
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
