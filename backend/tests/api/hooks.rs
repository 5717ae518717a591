//! Webhook triggers (`POST /hooks/{name}`): signed, unsigned and badly signed deliveries,
//! redeliveries with one `Idempotency-Key`, and every way a delivery is refused without
//! starting a run (404, 400, 413, 422, 503).

use hmac::{Hmac, KeyInit, Mac};
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::{Weft, is_json_error};

const SECRET: &str = "s3cret-hook-key";

/// `start → done`, with a webhook trigger signed with `WEFT_HOOK_SECRET_<secret>` if `secret` is
/// given.
fn hooked(name: &str, secret: Option<&str>) -> Value {
    let webhook = match secret {
        Some(s) => json!({ "secret": s }),
        None => json!({}),
    };
    json!({
        "name": name,
        "triggers": { "webhook": webhook },
        "nodes": [{"id": "start", "type": "start"}, {"id": "done", "type": "end"}],
        "edges": [{"from": "start", "to": "done"}]
    })
}

/// A server with `WEFT_HOOK_SECRET_ORDERS_HOOK` set and workflows `orders` (signed) and `open`
/// (unsigned).
async fn server() -> Weft {
    let weft = Weft::fresh_with(&[("WEFT_HOOK_SECRET_ORDERS_HOOK", SECRET)]).await;
    weft.put_workflow(&hooked("orders", Some("ORDERS_HOOK")))
        .await;
    weft.put_workflow(&hooked("open", None)).await;
    weft
}

/// `sha256=<hex HMAC-SHA256 of body>`, as a sender computes it.
pub(crate) fn sign(key: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// POSTs `body` to `/hooks/{name}` with `headers`; returns the status and the JSON body.
pub(crate) async fn deliver(
    weft: &Weft,
    name: &str,
    body: &[u8],
    headers: &[(&str, &str)],
) -> (u16, Value) {
    let mut req = weft
        .client
        .post(weft.url(&format!("/hooks/{name}")))
        .header(CONTENT_TYPE, "application/json")
        .body(body.to_vec());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.expect("deliver");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The ids of every run the server has, newest first.
async fn run_ids(weft: &Weft) -> Vec<String> {
    let body = weft.get_ok("/api/runs").await;
    body["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect()
}

#[track_caller]
fn assert_refused(what: &str, (status, body): (u16, Value), want: u16) {
    assert_eq!(status, want, "{what}: {body}");
    assert!(is_json_error(&body), "{what}: not a JSON error: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_delivery_starts_a_run_with_the_body_as_input() {
    let weft = server().await;
    let body = br#"{"order_id": "A-17", "amount": 250}"#;
    let sig = sign(SECRET, body);

    let (status, reply) = deliver(&weft, "orders", body, &[("X-Weft-Signature", &sig)]).await;

    assert_eq!(status, 202, "{reply}");
    let id = reply["run_id"].as_str().expect("run_id");
    assert_eq!(reply, json!({ "run_id": id }), "only the run id");
    let run = weft.wait_for(id, "completed").await;
    assert_eq!(run["workflow"], "orders");
    assert_eq!(run["input"], json!({"order_id": "A-17", "amount": 250}));
    assert_eq!(run_ids(&weft).await, [id]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_or_wrong_signature_is_401_and_starts_no_run() {
    let weft = server().await;
    let body = br#"{"order_id": "A-17"}"#;
    let other_key = sign("another key", body);
    let other_body = sign(SECRET, br#"{"order_id": "A-18"}"#);
    let good = sign(SECRET, body);
    let bare_hex = good.trim_start_matches("sha256=").to_owned();
    let truncated = good[..good.len() - 2].to_owned();

    assert_refused(
        "no signature",
        deliver(&weft, "orders", body, &[]).await,
        401,
    );
    for (what, sig) in [
        ("signed with another key", other_key.as_str()),
        ("signature of another body", other_body.as_str()),
        ("no sha256= prefix", bare_hex.as_str()),
        ("truncated", truncated.as_str()),
        ("not hex", "sha256=zz"),
        ("empty", ""),
    ] {
        let got = deliver(&weft, "orders", body, &[("X-Weft-Signature", sig)]).await;
        assert_refused(what, got, 401);
    }

    assert_eq!(run_ids(&weft).await, Vec::<String>::new(), "no run started");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_idempotency_key_starts_one_run() {
    let weft = server().await;
    let body = br#"{"order_id": "A-17"}"#;
    let sig = sign(SECRET, body);
    let headers = [
        ("X-Weft-Signature", sig.as_str()),
        ("Idempotency-Key", "delivery-42"),
    ];

    let first = deliver(&weft, "orders", body, &headers).await;
    let again = deliver(&weft, "orders", body, &headers).await;

    assert_eq!(first, (202, json!({"run_id": "delivery-42"})));
    assert_eq!(again, first, "a redelivery answers the same");
    assert_eq!(run_ids(&weft).await, ["delivery-42"]);

    // The same key with another body is a different delivery claiming the same run: 409.
    let other = br#"{"order_id": "B-1"}"#;
    let sig = sign(SECRET, other);
    let got = deliver(
        &weft,
        "orders",
        other,
        &[
            ("X-Weft-Signature", sig.as_str()),
            ("Idempotency-Key", "delivery-42"),
        ],
    )
    .await;
    assert_refused("same key, other body", got, 409);
    assert_eq!(run_ids(&weft).await, ["delivery-42"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workflow_without_a_secret_accepts_unsigned_deliveries() {
    let weft = server().await;

    let (status, reply) = deliver(&weft, "open", br#"{"x": 1}"#, &[]).await;

    assert_eq!(status, 202, "{reply}");
    let run = weft
        .wait_for(reply["run_id"].as_str().expect("run_id"), "completed")
        .await;
    assert_eq!(run["input"], json!({"x": 1}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_archived_and_triggerless_workflows_are_404() {
    let weft = server().await;
    let mut plain = hooked("plain", None);
    plain.as_object_mut().expect("object").remove("triggers");
    weft.put_workflow(&plain).await;
    weft.put_workflow(&hooked("gone", None)).await;
    let (status, body) = weft.delete("/api/workflows/gone").await;
    assert_eq!(status, 200, "archive: {body}");

    for name in ["nope", "gone", "plain"] {
        assert_refused(name, deliver(&weft, name, b"{}", &[]).await, 404);
    }
    let (_, body) = deliver(&weft, "plain", b"{}", &[]).await;
    assert_eq!(
        body["error"]["message"],
        "workflow `plain` has no webhook trigger"
    );
    assert_refused(
        "a path below a hook",
        deliver(&weft, "open/extra", b"{}", &[]).await,
        404,
    );
    let (status, _) = weft.get("/hooks/open").await;
    assert_eq!(status, 405, "GET on a hook");
    assert_eq!(run_ids(&weft).await, Vec::<String>::new(), "no run started");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bodies_are_refused_without_a_run() {
    let weft = server().await;
    let mut schema = hooked("typed", None);
    schema["input_schema"] = json!({"type": "object", "required": ["order_id"]});
    weft.put_workflow(&schema).await;

    assert_refused(
        "not JSON",
        deliver(&weft, "open", b"order_id=1", &[]).await,
        400,
    );
    let not_json = b"{not json";
    let sig = sign(SECRET, not_json);
    assert_refused(
        "signed, not JSON",
        deliver(&weft, "orders", not_json, &[("X-Weft-Signature", &sig)]).await,
        400,
    );
    let big = format!("{{\"pad\": \"{}\"}}", "x".repeat(1024 * 1024));
    assert_refused(
        "over 1 MiB",
        deliver(&weft, "open", big.as_bytes(), &[]).await,
        413,
    );
    assert_refused(
        "input_schema",
        deliver(&weft, "typed", br#"{"amount": 3}"#, &[]).await,
        422,
    );
    assert_refused(
        "a bad Idempotency-Key",
        deliver(
            &weft,
            "open",
            b"{}",
            &[("Idempotency-Key", "no spaces please")],
        )
        .await,
        400,
    );
    assert_eq!(run_ids(&weft).await, Vec::<String>::new(), "no run started");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_missing_from_the_environment_is_503_naming_it() {
    let weft = server().await;
    weft.put_workflow(&hooked("unset", Some("NOT_SET"))).await;
    let body = b"{}";
    let sig = sign(SECRET, body);

    let (status, reply) = deliver(&weft, "unset", body, &[("X-Weft-Signature", &sig)]).await;

    assert_eq!(status, 503, "{reply}");
    assert!(is_json_error(&reply), "{reply}");
    let message = reply["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("WEFT_HOOK_SECRET_NOT_SET"), "{message}");
    assert_eq!(run_ids(&weft).await, Vec::<String>::new(), "no run started");
}
