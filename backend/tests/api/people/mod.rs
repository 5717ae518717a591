//! People and access (SPEC §7): roles on every route, sessions, single sign-on, API keys,
//! `weft user` and the audit log. Servers here run with a token; [`admin`] makes the
//! harness's own client carry it, so the usual helpers (`put_workflow`, `start_run`, …) act
//! as the admin, and [`Caller`] sends a request as someone else.

mod approvals;
mod audit;
mod cli_users;
mod keys;
mod masking;
mod oidc;
mod roles;
mod sessions;

use std::time::Duration;

use reqwest::Method;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, HeaderMap, HeaderValue, ORIGIN};
use serde_json::{Value, json};

use crate::helpers::Weft;

/// The admin token of the servers here.
pub(crate) const TOKEN: &str = "people-admin-token";

/// A server with the token, whose harness client carries it.
pub(crate) async fn closed(envs: &[(&str, &str)]) -> Weft {
    let mut all = vec![("WEFT_API_TOKEN", TOKEN)];
    all.extend_from_slice(envs);
    let mut weft = Weft::fresh_with(&all).await;
    admin(&mut weft);
    weft
}

/// Makes the harness's client send the admin token with every request (also after a
/// restart, which makes a new client: call this again then).
pub(crate) fn admin(weft: &mut Weft) {
    let mut headers = HeaderMap::new();
    headers.insert(
        AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {TOKEN}")).expect("header"),
    );
    weft.client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .default_headers(headers)
        .build()
        .expect("client");
}

/// Who sends a request.
#[derive(Debug, Clone)]
pub(crate) enum Caller {
    Nobody,
    Bearer(String),
    /// A session cookie's value; writes carry this server's `Origin`, as its pages' do.
    Session(String),
}

/// An answer: status, headers, JSON body (or the text as a string).
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Value,
}

impl Answer {
    pub(crate) fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or("")
    }
}

/// A client with no default headers (the harness's carries the token).
fn plain() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

impl Caller {
    /// Sends `method path` (a JSON `body` on writes) as this caller, with extra `headers`
    /// (an empty value leaves that header out).
    pub(crate) async fn send_with(
        &self,
        weft: &Weft,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut req = plain().request(method.clone(), weft.url(path));
        match self {
            Caller::Nobody => {}
            Caller::Bearer(b) => req = req.header(AUTHORIZATION, format!("Bearer {b}")),
            Caller::Session(c) => {
                req = req.header(COOKIE, format!("weft_session={c}"));
                if method != Method::GET
                    && !headers
                        .iter()
                        .any(|(k, _)| k.eq_ignore_ascii_case("origin"))
                {
                    req = req.header(ORIGIN, weft.base.clone());
                }
            }
        }
        if let Some(body) = body {
            req = req
                .header(CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        // An empty value sends no such header (`("origin", "")`: a write that says nothing).
        for (k, v) in headers.iter().filter(|(_, v)| !v.is_empty()) {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.expect("request to weft");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        // Streams answer with their headers and then stay open: only their status is read.
        let is_stream = headers
            .get(CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
        let body = if is_stream {
            Value::Null
        } else {
            let text = resp.text().await.expect("body");
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    pub(crate) async fn send(
        &self,
        weft: &Weft,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Answer {
        self.send_with(weft, method, path, body, &[]).await
    }

    pub(crate) async fn get(&self, weft: &Weft, path: &str) -> Answer {
        self.send(weft, Method::GET, path, None).await
    }

    pub(crate) async fn post(&self, weft: &Weft, path: &str, body: &Value) -> Answer {
        self.send(weft, Method::POST, path, Some(body)).await
    }
}

/// Adds a user through the API (the harness's client is the admin).
pub(crate) async fn add_user(weft: &Weft, name: &str, role: &str, password: &str) {
    let (status, body) = weft
        .post(
            "/api/users",
            &json!({"name": name, "role": role, "password": password}),
        )
        .await;
    assert_eq!(status, 201, "add {name}: {body}");
}

/// Makes an API key through the API; returns the key and its id.
pub(crate) async fn make_key(weft: &Weft, name: &str, role: &str) -> (String, String) {
    let (status, body) = weft
        .post("/api/keys", &json!({"name": name, "role": role}))
        .await;
    assert_eq!(status, 201, "make key {name}: {body}");
    (
        body["key"].as_str().expect("key").to_owned(),
        body["id"].as_str().expect("id").to_owned(),
    )
}

/// Signs in; returns the session cookie's value and the whole answer.
pub(crate) async fn login(weft: &Weft, name: &str, password: &str) -> (String, Answer) {
    let answer = Caller::Nobody
        .post(
            weft,
            "/api/auth/login",
            &json!({"name": name, "password": password}),
        )
        .await;
    assert_eq!(answer.status, 200, "login {name}: {}", answer.body);
    let cookie = set_cookie(&answer).expect("a session cookie");
    let value = cookie
        .split(';')
        .next()
        .and_then(|pair| pair.strip_prefix("weft_session="))
        .expect("weft_session=…")
        .to_owned();
    (value, answer)
}

/// The `Set-Cookie` of `weft_session`, whole.
pub(crate) fn set_cookie(answer: &Answer) -> Option<String> {
    answer
        .headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("weft_session="))
        .map(str::to_owned)
}

/// The roles from least to most.
pub(crate) const ROLES: [&str; 5] = ["viewer", "approver", "operator", "editor", "admin"];

pub(crate) fn rank(role: &str) -> usize {
    ROLES.iter().position(|r| *r == role).expect("a role")
}
