//! What an `http` attempt sent and received, in its `http_exchanged` event (SPEC §6): the
//! rendered request and the response, secrets masked wherever they would be recorded (the
//! exchange, the output a service echoes them into, the stream), bodies cut at the limit,
//! and no response when none came.

use std::time::Duration;

use serde_json::{Value, json};

use super::{http, one_call};
use crate::helpers::{Rule, Target, Weft, node_events};

const SECRET: &str = "s3cr3t-v4lue-2468";

/// The `(type, attempt)` of each of `node`'s events about attempts.
fn attempt_events(events: &[Value], node: &str) -> Vec<(String, i64)> {
    events
        .iter()
        .filter(|e| e["node"] == node)
        .filter_map(|e| {
            let ty = e["type"].as_str()?;
            let attempt = e["data"]["attempt"].as_i64().unwrap_or(0);
            Some((ty.to_owned(), attempt))
        })
        .collect()
}

fn header<'a>(headers: &'a Value, name: &str) -> Option<&'a str> {
    headers
        .as_array()?
        .iter()
        .find(|h| h[0].as_str().is_some_and(|n| n.eq_ignore_ascii_case(name)))
        .and_then(|h| h[1].as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_attempt_records_its_request_and_response_with_secrets_masked() {
    let weft = Weft::fresh_with(&[("WEFT_SECRET_TOKEN", SECRET)]).await;
    let target = Target::spawn().await;
    target.rule("/echo", Rule::FailFirst(1, 503));
    let call = http(
        "call",
        &target.url("/echo?order={{ input.id }}"),
        json!({"request": {
            "method": "POST", "url": target.url("/echo?order={{ input.id }}"),
            "headers": {"Authorization": "Bearer {{ secrets.TOKEN }}", "X-Order": "{{ input.id }}"},
            "body": {"token": "{{ secrets.TOKEN }}", "order": "{{ input.id }}"}
        }}),
    );
    weft.put_workflow(&one_call("echoed", call)).await;
    let id = weft.start_run("echoed", json!({"id": "o-7"})).await;
    let run = weft.wait_for(&id, "completed").await;

    // The secret reached the target, as it must.
    let seen = target.seen_at("/echo");
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].body["token"], json!(SECRET));

    let events = weft.events(&id).await;
    let order: Vec<(String, i64)> = attempt_events(&events, "call");
    let expected: Vec<(String, i64)> = [
        ("node_started", 1),
        ("http_exchanged", 1),
        ("attempt_failed", 1),
        ("node_started", 2),
        ("http_exchanged", 2),
        ("node_completed", 0),
    ]
    .iter()
    .map(|(t, a)| (t.to_string(), *a))
    .collect();
    assert_eq!(order, expected, "{events:#?}");

    let exchanges = node_events(&events, "http_exchanged", "call");
    let first = &exchanges[0]["data"];
    let request = &first["request"];
    assert_eq!(request["method"], json!("POST"));
    assert_eq!(request["url"], json!(target.url("/echo?order=o-7")));
    assert_eq!(
        header(&request["headers"], "Authorization"),
        Some("Bearer ***")
    );
    assert_eq!(header(&request["headers"], "X-Order"), Some("o-7"));
    assert_eq!(
        header(&request["headers"], "Idempotency-Key"),
        Some(format!("{id}/call").as_str())
    );
    let body: Value = serde_json::from_str(request["body"].as_str().expect("a body")).unwrap();
    assert_eq!(body, json!({"token": "***", "order": "o-7"}));
    assert_eq!(first["response"]["status"], json!(503));
    assert!(
        first["response"]["body"]
            .as_str()
            .unwrap_or_default()
            .contains("injected"),
        "{first:#}"
    );
    assert!(
        header(&first["response"]["headers"], "content-type").is_some(),
        "{first:#}"
    );

    // The target echoed the secret back: masked in the response and in the node's output.
    let second = &exchanges[1]["data"];
    assert_eq!(second["response"]["status"], json!(200));
    let echoed: Value =
        serde_json::from_str(second["response"]["body"].as_str().expect("a body")).unwrap();
    assert_eq!(echoed["echo"]["token"], json!("***"));
    assert_eq!(
        run["output"]["body"]["echo"]["token"],
        json!("***"),
        "{run:#}"
    );

    let everything = format!("{events:?} {run} {:?}", weft.stream(&id, None).await);
    assert!(
        !everything.contains(SECRET),
        "the secret was recorded: {everything}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_body_is_cut_and_a_timeout_has_no_response() {
    let (weft, target) = (Weft::fresh().await, Target::spawn().await);
    target.rule("/big", Rule::Bytes(10_000));
    target.rule("/slow", Rule::Slow(Duration::from_secs(2)));
    weft.put_workflow(&one_call(
        "big",
        http("call", &target.url("/big"), json!({})),
    ))
    .await;
    weft.put_workflow(&one_call(
        "slow",
        http(
            "call",
            &target.url("/slow"),
            json!({"timeout": "200ms", "retry": {"max_attempts": 1}}),
        ),
    ))
    .await;

    let big = weft.start_run("big", json!({})).await;
    let run = weft.wait_for(&big, "completed").await;
    assert_eq!(
        run["output"]["body"].as_str().map(str::len),
        Some(10_000),
        "the output keeps the whole body"
    );
    let events = weft.events(&big).await;
    let response = &node_events(&events, "http_exchanged", "call")[0]["data"]["response"];
    assert_eq!(response["truncated"], json!(true), "{response:#}");
    assert_eq!(response["body"].as_str().map(str::len), Some(4096));

    let slow = weft.start_run("slow", json!({})).await;
    weft.wait_for(&slow, "failed").await;
    let events = weft.events(&slow).await;
    let exchanged = node_events(&events, "http_exchanged", "call");
    assert_eq!(exchanged.len(), 1, "{events:#?}");
    assert!(exchanged[0]["data"]["request"]["url"].is_string());
    assert!(
        exchanged[0]["data"].get("response").is_none(),
        "no response came: {:#}",
        exchanged[0]
    );
}
