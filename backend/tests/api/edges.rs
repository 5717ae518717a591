//! The HTTP edges (issue 13), each refusal with its precise status, code and message, and the
//! store unchanged after it: writes that are not JSON (415), bodies that are not objects
//! (400), undeclared signals (404) and a full signal buffer (409), `limit` and caller-given
//! run ids (400), path ids `.`/`..` (404), a `Host` the server does not serve (421), writes a
//! browser sent from another origin (403); the security headers of every response; and a
//! panicking handler answered with a JSON 500 while the server goes on serving.

use axum::http::Method;
use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use shared::limits::{MAX_BUFFERED_SIGNALS, MAX_ID_LEN, MAX_PAGE};

use crate::helpers::{Checks, Weft, snapshot, types};

/// `start → gate (approval) → sig (signal "go") → done`.
pub(crate) fn gated(name: &str) -> Value {
    json!({
        "name": name,
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "gate", "type": "approval", "prompt": "ok?"},
            {"id": "sig", "type": "signal", "signal": "go"},
            {"id": "done", "type": "end"}
        ],
        "edges": [
            {"from": "start", "to": "gate"},
            {"from": "gate", "to": "sig", "port": "approved"},
            {"from": "sig", "to": "done"}
        ]
    })
}

/// `start → work (task on queue "edges") → done`, with a webhook trigger.
fn tasked(name: &str) -> Value {
    json!({
        "name": name,
        "triggers": {"webhook": {}},
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "work", "type": "task", "queue": "edges", "activity": "doIt"},
            {"id": "done", "type": "end"}
        ],
        "edges": [{"from": "start", "to": "work"}, {"from": "work", "to": "done"}]
    })
}

/// A server with a run waiting at `gate`, a run whose task a worker holds (its token), and
/// a webhook (`tasked`).
async fn busy_server(envs: &[(&str, &str)]) -> (Weft, String, String, String) {
    let weft = Weft::fresh_with(envs).await;
    weft.put_workflow(&gated("gated")).await;
    weft.put_workflow(&tasked("tasked")).await;
    let waiting = weft.start_run("gated", json!({})).await;
    weft.wait_node(&waiting, "gate", "waiting").await;
    let working = weft.start_run("tasked", json!({})).await;
    let (status, task) = weft
        .post("/api/queues/edges/poll", &json!({"wait": "10s"}))
        .await;
    assert_eq!(status, 200, "poll: {task}");
    let token = task["task_token"].as_str().expect("task_token").to_owned();
    (weft, waiting, working, token)
}

/// Every write of the API and the webhooks, with a body it accepts as JSON.
fn writes(waiting: &str, token: &str) -> Vec<(Method, String, Value)> {
    let p = |m: Method, path: String, body: Value| (m, path, body);
    vec![
        p(Method::PUT, "/api/workflows/gated".into(), gated("gated")),
        p(Method::POST, "/api/validate".into(), gated("gated")),
        p(
            Method::POST,
            "/api/workflows/gated/runs".into(),
            json!({"input": {}}),
        ),
        p(
            Method::POST,
            format!("/api/runs/{waiting}/approvals/gate"),
            json!({"decision": "approve"}),
        ),
        p(
            Method::POST,
            format!("/api/runs/{waiting}/signals/go"),
            json!({}),
        ),
        p(
            Method::POST,
            format!("/api/runs/{waiting}/cancel"),
            json!({}),
        ),
        p(
            Method::POST,
            "/api/queues/edges/poll".into(),
            json!({"wait": "1ms"}),
        ),
        p(
            Method::POST,
            format!("/api/tasks/{token}/complete"),
            json!({"output": 1}),
        ),
        p(
            Method::POST,
            format!("/api/tasks/{token}/fail"),
            json!({"error": "x"}),
        ),
        p(
            Method::POST,
            format!("/api/tasks/{token}/heartbeat"),
            json!({}),
        ),
        p(Method::POST, "/hooks/tasked".into(), json!({})),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_that_are_not_json_are_415_and_change_nothing() {
    let (weft, waiting, working, token) = busy_server(&[]).await;
    let before = snapshot(&weft, &[&waiting, &working], &[]).await;
    let mut c = Checks::default();
    for (method, path, body) in writes(&waiting, &token) {
        let bytes = body.to_string().into_bytes();
        for (what, content_type) in [
            ("no Content-Type", None),
            ("text/plain", Some("text/plain;charset=UTF-8")),
            ("a form", Some("application/x-www-form-urlencoded")),
            ("multipart", Some("multipart/form-data; boundary=x")),
            ("a near miss", Some("application/jsonp")),
        ] {
            let headers: Vec<(&str, &str)> = content_type
                .map(|t| ("content-type", t))
                .into_iter()
                .collect();
            let got = weft.request(method.clone(), &path, &headers, &bytes).await;
            let says = match content_type {
                None => "this request has no Content-Type".to_owned(),
                Some(t) => format!("this request has Content-Type `{t}`"),
            };
            c.refused(
                &format!("{method} {path} with {what}"),
                got.clone(),
                415,
                "unsupported_media_type",
                "send the body with `Content-Type: application/json`",
            );
            c.refused(
                &format!("{method} {path} with {what}"),
                got,
                415,
                "unsupported_media_type",
                &says,
            );
        }
        // Bodiless writes need the header too: a cross-site form can send no body.
        c.refused(
            &format!("{method} {path} without a body or a type"),
            weft.request(method.clone(), &path, &[], b"").await,
            415,
            "unsupported_media_type",
            "(even an empty one)",
        );
    }
    let after = snapshot(&weft, &[&waiting, &working], &[]).await;
    if before != after {
        c.0.push(format!(
            "refusals changed the store:\nbefore {before:#}\nafter {after:#}"
        ));
    }
    c.assert_none();

    // Parameters and case do not matter; a bodiless write with the type is taken.
    let approve = format!("/api/runs/{waiting}/approvals/gate");
    let (status, body) = weft
        .request(
            Method::POST,
            &approve,
            &[("content-type", "Application/JSON; charset=utf-8")],
            br#"{"decision": "approve"}"#,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    weft.wait_node(&waiting, "sig", "waiting").await;
    let (status, body) = weft
        .request(
            Method::POST,
            &format!("/api/runs/{waiting}/cancel"),
            &[("content-type", "application/json")],
            b"",
        )
        .await;
    assert_eq!(status, 200, "{body}");
    weft.wait_for(&waiting, "cancelled").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_that_are_not_objects_are_400_naming_what_came() {
    let (weft, waiting, working, token) = busy_server(&[]).await;
    let before = snapshot(&weft, &[&waiting, &working], &[]).await;
    let mut c = Checks::default();
    // The webhook's body is the run's input, any JSON: not checked here.
    let writes = writes(&waiting, &token);
    for (method, path, _) in writes.iter().filter(|(_, p, _)| !p.starts_with("/hooks")) {
        for (body, kind) in [
            ("[]", "an array"),
            (r#"[{"decision": "approve"}]"#, "an array"),
            (r#""approve""#, "a string"),
            ("5", "a number"),
            ("true", "a boolean"),
            ("null", "null"),
        ] {
            c.refused(
                &format!("{method} {path} with {body}"),
                weft.raw(method.clone(), path, body.as_bytes().to_vec())
                    .await,
                400,
                "bad_request",
                &format!("the body must be a JSON object (`{{…}}`), not {kind}"),
            );
        }
    }
    // Unknown fields are refused, naming the field (a misspelt one would be ignored).
    for (path, body, field) in [
        (
            format!("/api/runs/{waiting}/signals/go"),
            json!({"payload": 1, "paylod": 2}),
            "paylod",
        ),
        (
            format!("/api/runs/{waiting}/approvals/gate"),
            json!({"decision": "approve", "note": "x"}),
            "note",
        ),
        (
            format!("/api/runs/{waiting}/cancel"),
            json!({"why": "x"}),
            "why",
        ),
        (
            "/api/workflows/gated/runs".to_owned(),
            json!({"input": {}, "runid": "x"}),
            "runid",
        ),
        (
            format!("/api/tasks/{token}/complete"),
            json!({"result": 1}),
            "result",
        ),
        (
            format!("/api/tasks/{token}/fail"),
            json!({"error": "x", "retry": true}),
            "retry",
        ),
    ] {
        c.refused(
            &format!("POST {path} with {body}"),
            weft.post(&path, &body).await,
            400,
            "bad_request",
            &format!("unknown field `{field}`"),
        );
    }
    let after = snapshot(&weft, &[&waiting, &working], &[]).await;
    if before != after {
        c.0.push(format!(
            "refusals changed the store:\nbefore {before:#}\nafter {after:#}"
        ));
    }
    c.assert_none();
    let (status, body) = weft
        .post(
            &format!("/api/tasks/{token}/complete"),
            &json!({"output": 1}),
        )
        .await;
    assert_eq!(status, 200, "the task is still the worker's: {body}");
    weft.wait_for(&working, "completed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signals_must_be_declared_and_a_run_buffers_a_bounded_number() {
    let weft = Weft::fresh().await;
    weft.put_workflow(&gated("gated")).await;
    let run = weft.start_run("gated", json!({})).await;
    weft.wait_node(&run, "gate", "waiting").await;
    let before = weft.events(&run).await;

    let (status, body) = weft
        .post(&format!("/api/runs/{run}/signals/stop"), &json!({}))
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (404, &json!("not_found")),
        "{body}"
    );
    assert_eq!(
        body["error"]["message"],
        "no `signal` node of workflow `gated` version 1 takes the signal `stop`"
    );
    assert_eq!(
        weft.events(&run).await,
        before,
        "an undeclared signal is not recorded"
    );

    // `go` is declared but its node does not wait yet: kept, up to the limit.
    for i in 0..MAX_BUFFERED_SIGNALS {
        let (status, body) = weft
            .post(
                &format!("/api/runs/{run}/signals/go"),
                &json!({"payload": i}),
            )
            .await;
        assert_eq!(status, 200, "signal {i}: {body}");
    }
    let full = weft.events(&run).await;
    let (status, body) = weft
        .post(
            &format!("/api/runs/{run}/signals/go"),
            &json!({"payload": "one too many"}),
        )
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (409, &json!("conflict")),
        "{body}"
    );
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&format!("already holds {MAX_BUFFERED_SIGNALS} signals")),
        "{message}"
    );
    assert_eq!(
        weft.events(&run).await,
        full,
        "the refused signal is not recorded"
    );
    let received = types(&full)
        .iter()
        .filter(|t| **t == "signal_received")
        .count();
    assert_eq!(received, MAX_BUFFERED_SIGNALS);

    // The node takes the first of them once it waits, and the run finishes.
    let (status, body) = weft
        .post(
            &format!("/api/runs/{run}/approvals/gate"),
            &json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let done = weft.wait_for(&run, "completed").await;
    assert_eq!(done["nodes"]["sig"]["output"], json!(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_and_caller_given_run_ids_are_checked() {
    let weft = Weft::fresh().await;
    weft.put_workflow(&tasked("tasked")).await;
    let mut c = Checks::default();
    let over = (MAX_PAGE + 1).to_string();
    for limit in ["0", "-1", over.as_str(), "9223372036854775807"] {
        c.refused(
            &format!("limit={limit}"),
            weft.get(&format!("/api/runs?limit={limit}")).await,
            400,
            "bad_request",
            &format!("limit must be between 1 and {MAX_PAGE}, not {limit}"),
        );
    }
    for limit in [1, MAX_PAGE] {
        c.status(
            &format!("limit={limit}"),
            weft.get(&format!("/api/runs?limit={limit}")).await,
            200,
        );
    }

    let long = "x".repeat(MAX_ID_LEN + 1);
    for (id, says) in [
        ("", "run_id must not be empty".to_owned()),
        (".", "run_id must not be `.`".to_owned()),
        ("..", "run_id must not be `..`".to_owned()),
        (
            long.as_str(),
            format!(
                "run_id is {} bytes long, over the limit of {MAX_ID_LEN}",
                MAX_ID_LEN + 1
            ),
        ),
        (
            "a/b",
            "run_id may hold only ASCII letters, digits and `-_.:`, not '/'".to_owned(),
        ),
        ("a b", "not ' '".to_owned()),
        ("a\tb", r"not '\t'".to_owned()),
        ("a\nb", r"not '\n'".to_owned()),
        ("a\u{7f}", r"not '\u{7f}'".to_owned()),
        ("caf\u{e9}", "not 'é'".to_owned()),
    ] {
        c.refused(
            &format!("run_id {id:?}"),
            weft.post(
                "/api/workflows/tasked/runs",
                &json!({"input": {}, "run_id": id}),
            )
            .await,
            400,
            "bad_request",
            &says,
        );
    }
    for (key, says) in [
        ("..", "Idempotency-Key must not be `..`"),
        ("  ", "Idempotency-Key must not be empty"),
        ("a/b", "Idempotency-Key may hold only"),
        (long.as_str(), "Idempotency-Key is 201 bytes long"),
    ] {
        c.refused(
            &format!("Idempotency-Key {key:?}"),
            weft.request(
                Method::POST,
                "/hooks/tasked",
                &[
                    ("content-type", "application/json"),
                    ("idempotency-key", key),
                ],
                b"{}",
            )
            .await,
            400,
            "bad_request",
            says,
        );
    }
    let runs = weft.get_ok("/api/runs").await;
    if runs["runs"] != json!([]) {
        c.0.push(format!("a refused id started a run: {runs}"));
    }

    // Path ids `.` and `..`, sent as they are (a URL parser would resolve them away).
    let host = format!("Host: {}", weft.base.trim_start_matches("http://"));
    for (head, says) in [
        (
            format!("GET /api/runs/.. HTTP/1.1\r\n{host}"),
            "run `..` not found",
        ),
        (
            format!("GET /api/runs/. HTTP/1.1\r\n{host}"),
            "run `.` not found",
        ),
        (
            format!("GET /api/runs/%2E%2E/events HTTP/1.1\r\n{host}"),
            "run `..` not found",
        ),
        (
            format!(
                "POST /api/runs/../cancel HTTP/1.1\r\n{host}\r\nContent-Type: application/json"
            ),
            "run `..` not found",
        ),
    ] {
        let (status, _, body) = weft.http1(&head, "").await;
        c.refused(
            &head.replace("\r\n", " | "),
            (status, body),
            404,
            "not_found",
            says,
        );
    }
    c.assert_none();

    // At the limit, and with every allowed character, an id is taken.
    for id in ["y".repeat(MAX_ID_LEN), "Order-1_a.b:c".to_owned()] {
        let (status, body) = weft
            .post(
                "/api/workflows/tasked/runs",
                &json!({"input": {}, "run_id": id}),
            )
            .await;
        assert_eq!(
            (status, body["run_id"].as_str()),
            (201, Some(id.as_str())),
            "{body}"
        );
    }
}

/// `GET path` sent to the server as `host`; the status and the error code, if any.
async fn as_host(weft: &Weft, host: &str, path: &str) -> (u16, Value) {
    let (status, _, body) = weft
        .http1(&format!("GET {path} HTTP/1.1\r\nHost: {host}"), "")
        .await;
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_hosts_a_server_serves_are_answered() {
    let weft = Weft::fresh().await;
    weft.put_workflow(&tasked("tasked")).await;
    let port = weft.base.rsplit(':').next().expect("a port").to_owned();
    let mut c = Checks::default();
    let with_port = format!("attacker.example:{port}");
    for host in [
        "attacker.example",
        with_port.as_str(),
        "127.0.0.2",
        "localhost@attacker.example",
    ] {
        for path in ["/api/workflows", "/", "/runs", "/metrics"] {
            c.refused(
                &format!("GET {path} as {host}"),
                as_host(&weft, host, path).await,
                421,
                "misdirected_request",
                &format!("this server does not answer for the host `{host}`"),
            );
        }
        // Orchestrators probe by whatever address they have.
        c.status(
            &format!("/healthz as {host}"),
            as_host(&weft, host, "/healthz").await,
            200,
        );
    }
    let (status, _, body) = weft
        .http1(
            &format!(
                "POST /api/workflows/tasked/runs HTTP/1.1\r\nHost: attacker.example:{port}\r\n\
                 Content-Type: application/json"
            ),
            r#"{"input": {}}"#,
        )
        .await;
    c.refused(
        "a start sent as attacker.example",
        (status, body),
        421,
        "misdirected_request",
        "--allowed-hosts",
    );
    if weft.get_ok("/api/runs").await["runs"] != json!([]) {
        c.0.push("a request to another host started a run".to_owned());
    }
    for host in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("[::1]:{port}"),
        "LocalHost".to_owned(),
    ] {
        c.status(
            &format!("GET as {host}"),
            as_host(&weft, &host, "/api/workflows").await,
            200,
        );
    }
    c.assert_none();

    // Configured names are served too, on any port or the one given.
    let other =
        Weft::fresh_with(&[("WEFT_ALLOWED_HOSTS", "weft.example.com, ops.example:8443")]).await;
    let mut c = Checks::default();
    for (host, status) in [
        ("weft.example.com", 200),
        ("weft.example.com:8080", 200),
        ("ops.example:8443", 200),
        ("ops.example:8080", 421),
        ("attacker.example", 421),
        ("localhost", 200),
    ] {
        c.status(
            &format!("GET as {host}"),
            as_host(&other, host, "/api/workflows").await,
            status,
        );
    }
    c.assert_none();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_a_browser_sends_from_another_origin_are_403_and_change_nothing() {
    let (weft, waiting, working, token) = busy_server(&[]).await;
    let own = weft.base.clone();
    let port = own.rsplit(':').next().expect("a port").to_owned();
    let approve = format!("/api/runs/{waiting}/approvals/gate");
    let before = snapshot(&weft, &[&waiting, &working], &[]).await;
    let json_type = ("content-type", "application/json");
    let mut c = Checks::default();
    let foreign_localhost = format!("http://localhost:{port}");
    let dev_server = "http://localhost:3000".to_owned();
    for (what, headers, says) in [
        (
            "a page on attacker.example",
            vec![json_type, ("origin", "http://attacker.example")],
            "refused a write from another origin (`Origin: http://attacker.example`)".to_owned(),
        ),
        (
            "a text/plain simple request from attacker.example",
            vec![
                ("content-type", "text/plain"),
                ("origin", "http://attacker.example"),
            ],
            "`Origin: http://attacker.example`".to_owned(),
        ),
        (
            "a sandboxed page (Origin: null)",
            vec![json_type, ("origin", "null")],
            "`Origin: null`".to_owned(),
        ),
        (
            "the same host under another name",
            vec![json_type, ("origin", foreign_localhost.as_str())],
            format!("`Origin: {foreign_localhost}`"),
        ),
        (
            "Sec-Fetch-Site: cross-site without an Origin",
            vec![json_type, ("sec-fetch-site", "cross-site")],
            "refused a write from another site (`Sec-Fetch-Site: cross-site`)".to_owned(),
        ),
        (
            "a dev server on another port (same site)",
            vec![
                json_type,
                ("sec-fetch-site", "same-site"),
                ("origin", dev_server.as_str()),
            ],
            "`Sec-Fetch-Site: same-site`".to_owned(),
        ),
    ] {
        for (method, path, body) in writes(&waiting, &token) {
            c.refused(
                &format!("{what}: {method} {path}"),
                weft.request(method, &path, &headers, body.to_string().as_bytes())
                    .await,
                403,
                "forbidden",
                &says,
            );
        }
    }
    // Reads are not refused: the browser's same-origin policy keeps them from the page.
    c.status(
        "a cross-origin GET",
        weft.request(
            Method::GET,
            "/api/runs",
            &[("origin", "http://attacker.example")],
            b"",
        )
        .await,
        200,
    );
    let after = snapshot(&weft, &[&waiting, &working], &[]).await;
    if before != after {
        c.0.push(format!(
            "refusals changed the store:\nbefore {before:#}\nafter {after:#}"
        ));
    }
    c.assert_none();

    // What the UI sends: its own origin, `same-origin`, JSON.
    let (status, body) = weft
        .request(
            Method::POST,
            &approve,
            &[
                json_type,
                ("origin", own.as_str()),
                ("sec-fetch-site", "same-origin"),
                ("sec-fetch-mode", "cors"),
            ],
            br#"{"decision": "approve"}"#,
        )
        .await;
    assert_eq!(status, 200, "a same-origin write: {body}");
    weft.wait_node(&waiting, "sig", "waiting").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_an_api_token_a_cross_origin_write_is_still_refused() {
    let weft = Weft::fresh_with(&[("WEFT_API_TOKEN", "t0ken")]).await;
    let def = serde_json::to_vec(&tasked("tasked")).expect("json");
    let (status, body) = weft
        .request(
            Method::PUT,
            "/api/workflows/tasked",
            &[
                ("content-type", "application/json"),
                ("authorization", "Bearer t0ken"),
                ("origin", "http://attacker.example"),
            ],
            &def,
        )
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (403, &json!("forbidden")),
        "{body}"
    );
    let (status, body) = weft
        .request(
            Method::PUT,
            "/api/workflows/tasked",
            &[
                ("content-type", "application/json"),
                ("authorization", "Bearer t0ken"),
                ("origin", weft.base.as_str()),
            ],
            &def,
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_the_security_headers() {
    let mut weft = Weft::fresh().await;
    let locked = "default-src 'none'; frame-ancestors 'none'";
    for (path, policy) in [
        ("/api/workflows", locked),
        ("/api/nope", locked),
        ("/healthz", locked),
        ("/metrics", locked),
    ] {
        let (_, headers, _) = weft
            .http1(&format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1"), "")
            .await;
        for header in [
            format!("content-security-policy: {policy}"),
            "x-frame-options: deny".to_owned(),
            "x-content-type-options: nosniff".to_owned(),
            "referrer-policy: no-referrer".to_owned(),
        ] {
            assert!(
                headers.contains(&header),
                "{path} lacks {header}:\n{headers}"
            );
        }
    }

    // The SPA's policy allows its inline loader by hash, read from the page at start.
    let script = "import init from '/frontend-0123456789abcdef.js'; await init();";
    std::fs::write(
        weft.ui_dir().join("index.html"),
        format!("<!doctype html><head><script type=\"module\">{script}</script></head>"),
    )
    .expect("index.html");
    weft.restart().await;
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(script));
    for path in ["/", "/runs/some-run", "/index.html"] {
        let (status, headers, _) = weft
            .http1(&format!("GET {path} HTTP/1.1\r\nHost: localhost"), "")
            .await;
        assert_eq!(status, 200, "{path}");
        let want = format!(
            "content-security-policy: default-src 'self'; script-src 'self' 'wasm-unsafe-eval' \
             'sha256-{hash}'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
             object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        )
        .to_ascii_lowercase();
        assert!(headers.contains(&want), "{path}: want {want}\n{headers}");
        assert!(
            headers.contains("x-frame-options: deny"),
            "{path}:\n{headers}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_is_a_json_500_and_the_server_goes_on() {
    let weft = Weft::simulated().await;
    for _ in 0..2 {
        let (status, body) = weft.post("/_test/panic", &json!({})).await;
        assert_eq!(status, 500, "{body}");
        assert_eq!(
            body,
            json!({"error": {"code": "internal", "message": "internal server error"}})
        );
        let (status, body) = weft.get("/healthz").await;
        assert_eq!((status, body), (200, json!("ok")));
        weft.put_workflow(&tasked("tasked")).await;
    }
    let log = weft.log();
    assert!(
        log.contains("a request handler panicked: POST /_test/panic asked for a panic"),
        "the panic is logged:\n{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_lists_the_refusals_of_every_write() {
    let weft = Weft::fresh().await;
    let doc = weft.get_ok("/api/openapi.json").await;
    let mut missing = Vec::new();
    let mut writes = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["post", "put", "patch"] {
            let Some(op) = item.get(method) else { continue };
            writes += 1;
            for status in ["403", "415"] {
                if op["responses"][status]["content"]["application/json"].is_null() {
                    missing.push(format!("{method} {path}: {status}"));
                }
            }
        }
    }
    assert!(writes >= 11, "{writes} writes documented");
    assert!(missing.is_empty(), "undocumented: {missing:?}");
}
