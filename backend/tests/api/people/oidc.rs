//! Single sign-on with OpenID Connect, against a real provider: `scripts/oidc_provider.mjs`
//! (npm `oidc-provider`, from `e2e/node_modules`) as a child process. The test walks what a
//! browser does: Weft's login route, the provider's redirects (its cookies kept by hand), and
//! the redirect back to Weft's callback.
//!
//! The provider knows the redirect URI `http://weft.test/api/auth/oidc/callback` (Weft's
//! `--public-url`, since the server's port is only known once it listens); the test sends the
//! redirect's query to the server's real address, as a browser at that name would.
//!
//! Without Node or the npm package these tests fail under `CI=true`, and elsewhere say
//! SKIPPED loudly and pass (`cd e2e && npm ci` installs it).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use reqwest::{StatusCode, Url};
use serde_json::{Value, json};

use super::{Caller, closed};
use crate::helpers::Weft;

/// Weft's public URL as the provider knows it.
const PUBLIC: &str = "http://weft.test";
const CLIENT_ID: &str = "weft";
const CLIENT_SECRET: &str = "weft-test-secret";

/// The provider, a child process that ends with this value.
struct Idp {
    child: Child,
    issuer: String,
    http: reqwest::Client,
    /// Its standard output, kept open (a closed pipe would end it at its next write).
    _stdout: BufReader<std::process::ChildStdout>,
    /// Its standard error, shown when a sign-in goes wrong.
    log: tempfile::NamedTempFile,
}

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A client that follows no redirect: each hop is looked at.
fn hop_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

impl Idp {
    /// Starts the provider with `accounts` (id → claims); `None` when Node or the package is
    /// missing outside CI.
    async fn start(accounts: Value) -> Option<Idp> {
        Idp::start_with(accounts, false).await
    }

    /// The same; with `id_token_claims` the provider has no userinfo endpoint and puts every
    /// claim in the ID token.
    async fn start_with(accounts: Value, id_token_claims: bool) -> Option<Idp> {
        let script = repo().join("scripts/oidc_provider.mjs");
        let package = repo().join("e2e/node_modules/oidc-provider/package.json");
        let node = Command::new("node")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !node || !package.exists() {
            let why = if node {
                format!("{} is missing (cd e2e && npm ci)", package.display())
            } else {
                "`node` is not on PATH".to_owned()
            };
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("the OpenID Connect tests need Node and npm's oidc-provider: {why}");
            }
            eprintln!(
                "\n{bar}\nSKIPPED: OpenID Connect test, no provider to test against: {why}\n{bar}\n",
                bar = "=".repeat(78)
            );
            return None;
        }
        let options = json!({
            "clientId": CLIENT_ID,
            "clientSecret": CLIENT_SECRET,
            "redirectUris": [format!("{PUBLIC}/api/auth/oidc/callback")],
            "accounts": accounts,
            "idTokenClaims": id_token_claims,
        });
        let log = tempfile::NamedTempFile::new().expect("log file");
        let mut child = Command::new("node")
            .arg(&script)
            .env("OIDC_PROVIDER_OPTIONS", options.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log.reopen().expect("log file"))
            .spawn()
            .expect("spawn node");
        let stdout = child.stdout.take().expect("stdout");
        let (line, stdout) = tokio::time::timeout(
            Duration::from_secs(30),
            tokio::task::spawn_blocking(move || {
                let mut line = String::new();
                let mut stdout = BufReader::new(stdout);
                stdout.read_line(&mut line).map(|_| (line, stdout))
            }),
        )
        .await
        .expect("the provider starts within 30 s")
        .expect("join")
        .expect("read the provider's address");
        let started: Value = serde_json::from_str(&line)
            .unwrap_or_else(|_| panic!("the provider printed `{line}`, not its address"));
        Some(Idp {
            child,
            issuer: started["issuer"].as_str().expect("issuer").to_owned(),
            http: hop_client(),
            _stdout: stdout,
            log,
        })
    }

    /// What the provider wrote on its standard error.
    fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    /// Who the next sign-in at the provider is.
    async fn sign_in_next(&self, account: &str) {
        self.control("/_test/login", json!({ "account": account }))
            .await;
    }

    /// Merges `claims` into `account`'s.
    async fn set_claims(&self, account: &str, claims: Value) {
        self.control(&format!("/_test/accounts/{account}"), claims)
            .await;
    }

    async fn control(&self, path: &str, body: Value) {
        let resp = self
            .http
            .post(format!("{}{path}", self.issuer))
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("provider control");
        assert_eq!(resp.status(), StatusCode::NO_CONTENT, "{path}");
    }
}

/// A server with single sign-on through `idp` (and the admin token, for the audit log).
async fn weft_with(idp: &Idp, envs: &[(&str, &str)]) -> Weft {
    let mut all = vec![
        ("WEFT_PUBLIC_URL", PUBLIC),
        ("WEFT_OIDC_ISSUER", idp.issuer.as_str()),
        ("WEFT_OIDC_CLIENT_ID", CLIENT_ID),
        ("WEFT_OIDC_CLIENT_SECRET", CLIENT_SECRET),
    ];
    all.extend_from_slice(envs);
    closed(&all).await
}

/// The answer of Weft's callback, and what the way there looked like.
struct Landing {
    status: u16,
    location: Option<String>,
    /// Every `Set-Cookie` of the callback's answer.
    cookies: Vec<String>,
    body: String,
    /// The `Set-Cookie` of the login route (the pending sign-in).
    pending: String,
}

impl Landing {
    /// The `weft_session` value set, if any.
    fn session(&self) -> Option<String> {
        self.cookies
            .iter()
            .find_map(|c| c.split(';').next()?.strip_prefix("weft_session="))
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }
}

/// How the redirect back to Weft is changed before it is followed.
#[derive(Clone, Copy, PartialEq)]
enum Back {
    AsIs,
    /// `state` altered.
    TamperedState,
    /// Sent without the pending `weft_oidc` cookie (another browser).
    NoPendingCookie,
}

/// What a browser does from "Sign in with SSO" to the callback's answer.
async fn sign_in(idp: &Idp, weft: &Weft, login_query: &str, back: Back) -> Landing {
    let http = hop_client();
    let resp = http
        .get(weft.url(&format!("/api/auth/oidc/login{login_query}")))
        .send()
        .await
        .expect("login route");
    assert_eq!(resp.status(), StatusCode::FOUND, "login route");
    let pending = resp
        .headers()
        .get(SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .expect("the pending cookie")
        .to_owned();
    let pending_pair = pending.split(';').next().expect("name=value").to_owned();
    let mut url = Url::parse(header(&resp, LOCATION).expect("to the provider")).expect("url");
    // The provider's cookies, by name, sent back on every hop (all are on its host).
    let mut jar = BTreeMap::<String, String>::new();
    let back_url = loop {
        let cookie = jar
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let resp = http
            .get(url.clone())
            .header(COOKIE, cookie)
            .send()
            .await
            .unwrap_or_else(|e| panic!("provider hop {url}: {e}\nprovider log:\n{}", idp.log()));
        for c in resp.headers().get_all(SET_COOKIE) {
            if let Some((k, v)) = c
                .to_str()
                .ok()
                .and_then(|c| c.split(';').next())
                .and_then(|p| p.split_once('='))
            {
                jar.insert(k.trim().to_owned(), v.trim().to_owned());
            }
        }
        let status = resp.status();
        let location = header(&resp, LOCATION).map(str::to_owned);
        let Some(location) = location.filter(|_| status.is_redirection()) else {
            panic!(
                "the provider stopped at {url} with {status}: {}\nprovider log:\n{}",
                resp.text().await.unwrap_or_default(),
                idp.log()
            );
        };
        if location.starts_with(PUBLIC) {
            break location;
        }
        url = url.join(&location).expect("a provider URL");
    };
    let mut back_url =
        Url::parse(&back_url.replacen(PUBLIC, &weft.base, 1)).expect("the redirect back");
    if back == Back::TamperedState {
        let pairs: Vec<(String, String)> = back_url
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == "state" {
                    format!("{v}x")
                } else {
                    v.into()
                };
                (k.into(), v)
            })
            .collect();
        back_url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    let mut req = http.get(back_url);
    if back != Back::NoPendingCookie {
        req = req.header(COOKIE, pending_pair);
    }
    let resp = req.send().await.expect("callback");
    Landing {
        status: resp.status().as_u16(),
        location: header(&resp, LOCATION).map(str::to_owned),
        cookies: resp
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_owned)
            .collect(),
        body: resp.text().await.unwrap_or_default(),
        pending,
    }
}

fn header(resp: &reqwest::Response, name: reqwest::header::HeaderName) -> Option<&str> {
    resp.headers().get(name).and_then(|v| v.to_str().ok())
}

/// `GET /api/auth/me` with the session cookie, as the next request of the browser.
async fn me(weft: &Weft, session: &str) -> Value {
    let answer = Caller::Session(session.to_owned())
        .get(weft, "/api/auth/me")
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body
}

/// The audit log's `login` entries, newest first.
async fn logins(weft: &Weft) -> Vec<Value> {
    let (status, page) = weft.get("/api/audit?action=login").await;
    assert_eq!(status, 200, "{page}");
    page["entries"].as_array().expect("entries").clone()
}

fn alice(role: Value) -> Value {
    json!({"alice": {"preferred_username": "alice", "email": "alice@example.com", "weft_role": role}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sso_signs_in_with_the_role_of_the_claim() {
    let Some(idp) = Idp::start(alice(json!("editor"))).await else {
        return;
    };
    let weft = weft_with(&idp, &[]).await;
    let anonymous = Caller::Nobody.get(&weft, "/api/auth/me").await;
    assert_eq!(anonymous.body, json!({"mode": "closed", "sso": true}));

    let landing = sign_in(&idp, &weft, "?return_to=/runs/abc", Back::AsIs).await;
    assert_eq!(landing.status, 302, "{}", landing.body);
    assert_eq!(landing.location.as_deref(), Some("/runs/abc"));
    for part in ["HttpOnly", "SameSite=Lax", "Path=/api/auth/oidc"] {
        assert!(
            landing.pending.contains(part),
            "{} lacks {part}",
            landing.pending
        );
    }
    let session_cookie = landing
        .cookies
        .iter()
        .find(|c| c.starts_with("weft_session="))
        .expect("a session cookie");
    for part in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(
            session_cookie.contains(part),
            "{session_cookie} lacks {part}"
        );
    }
    assert!(
        landing
            .cookies
            .iter()
            .any(|c| c.starts_with("weft_oidc=;") && c.contains("Max-Age=0")),
        "the pending cookie is cleared: {:?}",
        landing.cookies
    );
    let session = landing.session().expect("signed in");
    assert_eq!(
        me(&weft, &session).await,
        json!({"mode": "closed", "sso": true, "user": "alice", "role": "editor", "via": "oidc"})
    );
    // The session works for writes the role allows, like a password one.
    let saved = Caller::Session(session.clone())
        .send(
            &weft,
            reqwest::Method::PUT,
            "/api/workflows/sso-saved",
            Some(&json!({"name": "sso-saved", "nodes": [{"id": "start", "type": "start"}, {"id": "end", "type": "end"}], "edges": [{"from": "start", "to": "end"}]})),
        )
        .await;
    assert!(
        saved.status < 300,
        "an editor saves: {} {}",
        saved.status,
        saved.body
    );

    let (status, users) = weft.get("/api/users").await;
    assert_eq!(status, 200);
    let user = &users["users"][0];
    assert_eq!(
        (&user["name"], &user["role"]),
        (&json!("alice"), &json!("editor"))
    );
    assert!(user["last_login_at"].is_i64(), "{user}");

    let entries = logins(&weft).await;
    let entry = &entries[0];
    assert_eq!(
        (&entry["actor"], &entry["outcome"], &entry["details"]["via"]),
        (&json!("alice"), &json!("ok"), &json!("oidc")),
        "{entry}"
    );
    assert_eq!(entry["target"], "user:alice");

    // Only a path on this server is returned to.
    let elsewhere = sign_in(&idp, &weft, "?return_to=https://evil.example/", Back::AsIs).await;
    assert_eq!(elsewhere.location.as_deref(), Some("/"));
    let plain = sign_in(&idp, &weft, "", Back::AsIs).await;
    assert_eq!(plain.location.as_deref(), Some("/"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_claim_changes_the_role_at_the_next_sign_in() {
    let Some(idp) = Idp::start(alice(json!("editor"))).await else {
        return;
    };
    let weft = weft_with(&idp, &[]).await;
    let first = sign_in(&idp, &weft, "", Back::AsIs)
        .await
        .session()
        .expect("signed in");
    assert_eq!(me(&weft, &first).await["role"], "editor");

    idp.set_claims("alice", json!({"weft_role": "viewer"}))
        .await;
    let second = sign_in(&idp, &weft, "", Back::AsIs)
        .await
        .session()
        .expect("signed in");
    assert_eq!(me(&weft, &second).await["role"], "viewer");
    // The role is the user's, so the older session has it too.
    assert_eq!(me(&weft, &first).await["role"], "viewer");
    let entries = logins(&weft).await;
    assert_eq!(
        entries[0]["details"]["role_was"], "editor",
        "{}",
        entries[0]
    );

    // An array: the highest role it names wins; unknown names are ignored.
    idp.set_claims(
        "alice",
        json!({"weft_role": ["viewer", "operator", "chief"]}),
    )
    .await;
    let third = sign_in(&idp, &weft, "", Back::AsIs)
        .await
        .session()
        .expect("signed in");
    assert_eq!(me(&weft, &third).await["role"], "operator");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_claims_may_come_in_the_id_token_alone() {
    let Some(idp) = Idp::start_with(alice(json!("approver")), true).await else {
        return;
    };
    let weft = weft_with(&idp, &[]).await;
    let session = sign_in(&idp, &weft, "", Back::AsIs)
        .await
        .session()
        .expect("signed in");
    let me = me(&weft, &session).await;
    assert_eq!(
        (&me["user"], &me["role"]),
        (&json!("alice"), &json!("approver"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_map_to_roles() {
    let accounts =
        json!({"carol": {"preferred_username": "carol", "groups": ["staff", "weft-ops"]}});
    let Some(idp) = Idp::start(accounts).await else {
        return;
    };
    let weft = weft_with(
        &idp,
        &[
            ("WEFT_OIDC_ROLE_CLAIM", "groups"),
            ("WEFT_OIDC_ROLE_MAP", "weft-ops=operator,staff=viewer"),
        ],
    )
    .await;
    let session = sign_in(&idp, &weft, "", Back::AsIs)
        .await
        .session()
        .expect("signed in");
    let me = me(&weft, &session).await;
    assert_eq!(
        (&me["user"], &me["role"]),
        (&json!("carol"), &json!("operator"))
    );
}

/// A user is bound to the provider's subject at the first sign-in: another account that
/// calls itself by the same name (a `preferred_username` anyone may set) is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_account_with_the_same_name_is_refused() {
    let accounts = json!({
        "alice": {"preferred_username": "alice", "weft_role": "approver"},
        "mallory": {"preferred_username": "Alice", "weft_role": "approver"},
    });
    let Some(idp) = Idp::start(accounts).await else {
        return;
    };
    let weft = weft_with(&idp, &[]).await;
    let first = sign_in(&idp, &weft, "", Back::AsIs)
        .await
        .session()
        .expect("signed in");
    assert_eq!(me(&weft, &first).await["user"], "alice");
    idp.sign_in_next("mallory").await;
    let landing = sign_in(&idp, &weft, "", Back::AsIs).await;
    assert_eq!(landing.status, 403, "{}", landing.body);
    assert!(landing.session().is_none(), "{:?}", landing.cookies);
    assert!(
        landing.body.contains("another single sign-on user"),
        "{}",
        landing.body
    );
    // alice herself still comes in.
    idp.sign_in_next("alice").await;
    let again = sign_in(&idp, &weft, "", Back::AsIs).await;
    assert!(again.session().is_some(), "{}", again.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_that_names_no_role_is_refused() {
    let accounts = json!({
        "bob": {"preferred_username": "bob", "weft_role": "intern"},
        "dave": {"preferred_username": "dave"},
    });
    let Some(idp) = Idp::start(accounts).await else {
        return;
    };
    let weft = weft_with(&idp, &[]).await;
    let landing = sign_in(&idp, &weft, "", Back::AsIs).await;
    assert_eq!(landing.status, 403, "{}", landing.body);
    assert!(landing.session().is_none(), "{:?}", landing.cookies);
    assert!(
        landing.body.contains("bob may not use Weft")
            && landing
                .body
                .contains("<code>weft_role</code> claim names no Weft role"),
        "a clear page: {}",
        landing.body
    );
    idp.sign_in_next("dave").await;
    let landing = sign_in(&idp, &weft, "", Back::AsIs).await;
    assert_eq!(landing.status, 403, "no claim at all: {}", landing.body);
    let entries = logins(&weft).await;
    let failed: Vec<_> = entries
        .iter()
        .map(|e| {
            (
                e["actor"].as_str(),
                e["outcome"].as_str(),
                e["details"]["via"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        failed,
        [
            (Some("dave"), Some("failed"), Some("oidc")),
            (Some("bob"), Some("failed"), Some("oidc"))
        ]
    );
    let (_, users) = weft.get("/api/users").await;
    assert_eq!(users["users"], json!([]), "nobody was added");

    // With a default role, the same people come in as that.
    let open_door = weft_with(&idp, &[("WEFT_OIDC_DEFAULT_ROLE", "viewer")]).await;
    idp.sign_in_next("bob").await;
    let session = sign_in(&idp, &open_door, "", Back::AsIs)
        .await
        .session()
        .expect("signed in");
    assert_eq!(me(&open_door, &session).await["role"], "viewer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_or_foreign_state_is_refused() {
    let Some(idp) = Idp::start(alice(json!("admin"))).await else {
        return;
    };
    let weft = weft_with(&idp, &[]).await;
    for (back, what) in [
        (Back::TamperedState, "tampered state"),
        (Back::NoPendingCookie, "no pending cookie"),
    ] {
        let landing = sign_in(&idp, &weft, "", back).await;
        assert_eq!(landing.status, 400, "{what}: {}", landing.body);
        assert!(landing.session().is_none(), "{what}: {:?}", landing.cookies);
        assert!(
            landing.body.contains("state does not match"),
            "{what}: {}",
            landing.body
        );
    }
    let entries = logins(&weft).await;
    assert_eq!(entries.len(), 2, "{entries:?}");
    for e in &entries {
        assert_eq!(
            (&e["actor"], &e["outcome"]),
            (&json!("oidc"), &json!("failed")),
            "{e}"
        );
    }
    // The honest sign-in still works.
    assert!(
        sign_in(&idp, &weft, "", Back::AsIs)
            .await
            .session()
            .is_some()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_provider_the_server_does_not_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(["serve", "--listen", "127.0.0.1:0", "--database"])
        .arg(format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("w.db").display()
        ))
        .env("WEFT_OIDC_ISSUER", "http://127.0.0.1:9/nowhere")
        .env("WEFT_OIDC_CLIENT_ID", CLIENT_ID)
        .env_remove("WEFT_API_TOKEN")
        .stdin(Stdio::null())
        .output()
        .expect("run weft");
    assert!(!out.status.success());
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("OpenID Connect discovery at http://127.0.0.1:9/nowhere failed"),
        "{said}"
    );
    // SSO routes answer 404 on a server without it.
    let weft = Weft::fresh().await;
    let (status, body) = weft.get("/api/auth/oidc/login").await;
    assert_eq!(status, 404, "{body}");
}
