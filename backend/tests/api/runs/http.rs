//! Runs of `http` nodes: the output, retries with one Idempotency-Key and backoff, 4xx, 429 and
//! timeouts, exhausted retries, templates keeping JSON types, and secrets kept out of the log.

use std::time::Duration;

use serde_json::{Value, json};

use super::{http, keys, one_call, wf};
use crate::helpers::{Rule, Target, Weft, node_events, types};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_step_outputs_status_and_body() {
    let (weft, target) = (Weft::fresh().await, Target::spawn().await);
    let call = http(
        "call",
        &target.url("/ok"),
        json!({"request": {"method": "POST", "url": target.url("/ok"), "body": {"x": 1}}}),
    );
    weft.put_workflow(&one_call("ok", call)).await;
    let id = weft.start_run("ok", json!({"order": 7})).await;
    let run = weft.wait_for(&id, "completed").await;

    let output = json!({"status": 200, "body": {"path": "/ok", "n": 1, "echo": {"x": 1}}});
    assert_eq!(run["output"], output, "{run:#}");
    let call = &run["nodes"]["call"];
    assert_eq!(call["status"], "completed");
    assert_eq!(call["attempts"], 1);
    assert_eq!(call["output"], output);
    assert!(
        call["started_at"].is_i64() && call["finished_at"].is_i64(),
        "{call}"
    );
    for field in [
        "id",
        "workflow",
        "version",
        "status",
        "input",
        "output",
        "error",
        "created_at",
        "updated_at",
        "nodes",
    ] {
        assert!(
            run.get(field).is_some(),
            "GET /api/runs/{{id}} lacks `{field}`: {run:#}"
        );
    }
    assert_eq!(
        (&run["id"], &run["workflow"], &run["version"]),
        (&json!(id), &json!("ok"), &json!(1))
    );
    assert_eq!(run["input"], json!({"order": 7}));

    let seen = target.seen_at("/ok");
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].key.as_deref(), Some(format!("{id}/call").as_str()));
    weft.events(&id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5xx_is_retried_with_one_idempotency_key_and_backoff() {
    let (weft, target) = (Weft::fresh().await, Target::spawn().await);
    target.rule("/flaky", Rule::FailFirst(2, 503));
    weft.put_workflow(&one_call(
        "flaky",
        http("call", &target.url("/flaky"), json!({})),
    ))
    .await;
    let id = weft.start_run("flaky", json!({})).await;
    let run = weft.wait_for(&id, "completed").await;
    assert_eq!(run["nodes"]["call"]["attempts"], 3, "{run:#}");
    assert_eq!(run["output"]["status"], 200);

    let key = format!("{id}/call");
    assert_eq!(
        keys(&target.seen_at("/flaky")),
        [key.clone(), key.clone(), key]
    );

    // The waits are initial_interval × 2^(n-1): 50 ms, then 100 ms.
    let events = weft.events(&id).await;
    let failed = node_events(&events, "attempt_failed", "call");
    let waits: Vec<i64> = failed
        .iter()
        .map(|e| e["data"]["retry_at"].as_i64().expect("retry_at") - e["at"].as_i64().expect("at"))
        .collect();
    assert_eq!(waits, [50, 100], "{failed:#?}");
    let started = node_events(&events, "node_started", "call");
    let attempts: Vec<&Value> = started.iter().map(|e| &e["data"]["attempt"]).collect();
    assert_eq!(attempts, [&json!(1), &json!(2), &json!(3)]);
    for (f, s) in failed.iter().zip(&started[1..]) {
        assert!(
            s["at"].as_i64() >= f["data"]["retry_at"].as_i64(),
            "started before its backoff: {s} {f}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backoff_is_capped_by_max_interval() {
    let (weft, target) = (Weft::fresh().await, Target::spawn().await);
    target.rule("/flaky", Rule::FailFirst(3, 500));
    let retry = json!({"retry": {"max_attempts": 4, "initial_interval": "50ms", "backoff_coefficient": 3.0, "max_interval": "100ms"}});
    weft.put_workflow(&one_call(
        "capped",
        http("call", &target.url("/flaky"), retry),
    ))
    .await;
    let id = weft.start_run("capped", json!({})).await;
    weft.wait_for(&id, "completed").await;
    let events = weft.events(&id).await;
    let waits: Vec<i64> = node_events(&events, "attempt_failed", "call")
        .iter()
        .map(|e| e["data"]["retry_at"].as_i64().expect("retry_at") - e["at"].as_i64().expect("at"))
        .collect();
    assert_eq!(waits, [50, 100, 100]);
    assert_eq!(target.seen_at("/flaky").len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_4xx_fails_at_once_through_the_error_port() {
    let (weft, target) = (Weft::fresh().await, Target::spawn().await);
    target.rule("/bad", Rule::Always(400));
    let def = wf(
        "guarded",
        json!([
            {"id": "start", "type": "start"},
            http("call", &target.url("/bad"), json!({})),
            {"id": "ok", "type": "end", "output": "fine"},
            {"id": "handle", "type": "transform", "output": {"failed": "{{ nodes.call.status }}"}},
            {"id": "oops", "type": "end", "output": "{{ nodes.handle.output }}"}
        ]),
        json!([
            {"from": "start", "to": "call"},
            {"from": "call", "to": "ok"},
            {"from": "call", "to": "handle", "port": "error"},
            {"from": "handle", "to": "oops"}
        ]),
    );
    weft.put_workflow(&def).await;
    let id = weft.start_run("guarded", json!({})).await;
    let run = weft.wait_for(&id, "completed").await;
    let call = &run["nodes"]["call"];
    assert_eq!(
        (&call["status"], &call["attempts"]),
        (&json!("failed"), &json!(1)),
        "{run:#}"
    );
    assert!(
        call["error"].as_str().unwrap_or_default().contains("400"),
        "{call}"
    );
    assert_eq!(run["nodes"]["handle"]["status"], "completed");
    assert_eq!(run["nodes"]["ok"]["status"], "skipped");
    assert_eq!(run["output"], json!({"failed": "failed"}));
    assert_eq!(target.seen_at("/bad").len(), 1, "a 4xx is not retried");
    let events = weft.events(&id).await;
    let failed = node_events(&events, "node_failed", "call");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["data"]["port"], "error");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_4xx_without_an_error_edge_fails_the_run() {
    let (weft, target) = (Weft::fresh().await, Target::spawn().await);
    target.rule("/bad", Rule::Always(404));
    weft.put_workflow(&one_call(
        "plain",
        http("call", &target.url("/bad"), json!({})),
    ))
    .await;
    let id = weft.start_run("plain", json!({})).await;
    let run = weft.wait_for(&id, "failed").await;
    assert_eq!(run["nodes"]["call"]["attempts"], 1, "{run:#}");
    assert_eq!(run["nodes"]["call"]["status"], "failed");
    assert!(
        run["error"].as_str().unwrap_or_default().contains("404"),
        "{run:#}"
    );
    assert_eq!(target.seen_at("/bad").len(), 1);
    let events = weft.events(&id).await;
    assert_eq!(types(&events).last(), Some(&"run_failed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_is_retried() {
    let (weft, target) = (Weft::fresh().await, Target::spawn().await);
    target.rule("/busy", Rule::FailFirst(1, 429));
    weft.put_workflow(&one_call(
        "busy",
        http("call", &target.url("/busy"), json!({})),
    ))
    .await;
    let id = weft.start_run("busy", json!({})).await;
    let run = weft.wait_for(&id, "completed").await;
    assert_eq!(run["nodes"]["call"]["attempts"], 2, "{run:#}");
    assert_eq!(target.seen_at("/busy").len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_is_retried() {
    let (weft, target) = (Weft::fresh().await, Target::spawn().await);
    target.rule("/slow", Rule::SlowFirst(1, Duration::from_secs(2)));
    let call = http("call", &target.url("/slow"), json!({"timeout": "200ms"}));
    weft.put_workflow(&one_call("slow", call)).await;
    let id = weft.start_run("slow", json!({})).await;
    let run = weft.wait_for(&id, "completed").await;
    assert_eq!(run["nodes"]["call"]["attempts"], 2, "{run:#}");
    let events = weft.events(&id).await;
    let failed = node_events(&events, "attempt_failed", "call");
    assert_eq!(failed.len(), 1);
    let error = failed[0]["data"]["error"].as_str().unwrap_or_default();
    assert!(error.contains("timed out"), "{error}");
    assert_eq!(
        keys(&target.seen_at("/slow")),
        [format!("{id}/call"), format!("{id}/call")]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exhausted_retries_fail_the_run() {
    let (weft, target) = (Weft::fresh().await, Target::spawn().await);
    target.rule("/down", Rule::Always(503));
    weft.put_workflow(&one_call(
        "down",
        http("call", &target.url("/down"), json!({})),
    ))
    .await;
    let id = weft.start_run("down", json!({})).await;
    let run = weft.wait_for(&id, "failed").await;
    let call = &run["nodes"]["call"];
    assert_eq!(
        (&call["status"], &call["attempts"]),
        (&json!("failed"), &json!(3)),
        "{run:#}"
    );
    assert!(
        run["error"].as_str().unwrap_or_default().contains("503"),
        "{run:#}"
    );
    assert_eq!(target.seen_at("/down").len(), 3);
    let events = weft.events(&id).await;
    assert_eq!(node_events(&events, "attempt_failed", "call").len(), 3);
    assert_eq!(node_events(&events, "node_completed", "done").len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_render_input_and_earlier_outputs_keeping_json_types() {
    let (weft, target) = (Weft::fresh().await, Target::spawn().await);
    let first = json!({
        "id": "first", "type": "http",
        "request": {"method": "POST", "url": target.url("/first"), "body": {"hello": "{{ input.id }}"}}
    });
    let second = json!({
        "id": "second", "type": "http",
        "request": {
            "method": "PUT",
            "url": format!("{}/items/{{{{ input.id }}}}", target.base),
            "headers": {"X-Order": "{{ input.id }}-{{ input.n }}"},
            "body": {
                "n": "{{ input.n }}", "flag": "{{ input.flag }}", "tags": "{{ input.tags }}",
                "sum": "{{ input.n + 1 }}", "mixed": "n={{ input.n }}", "spaced": "  {{ input.n }}  ",
                "prev": "{{ nodes.first.output.body.echo }}", "prev_status": "{{ nodes.first.output.status }}",
                "run": "{{ run.id }}", "workflow": "{{ run.workflow }}", "literal": 7,
                "nested": {"list": ["{{ input.id }}", 3, "{{ input.flag }}"]}
            }
        }
    });
    let def = wf(
        "templated",
        json!([
            {"id": "start", "type": "start"},
            first,
            second,
            {"id": "done", "type": "end", "output": {"n": "{{ input.n }}", "got": "{{ nodes.second.output.body.echo.prev }}"}}
        ]),
        json!([
            {"from": "start", "to": "first"},
            {"from": "first", "to": "second"},
            {"from": "second", "to": "done"}
        ]),
    );
    weft.put_workflow(&def).await;
    let input = json!({"id": "A-1", "n": 42, "flag": true, "tags": ["x", "y"]});
    let id = weft.start_run("templated", input).await;
    let run = weft.wait_for(&id, "completed").await;

    let seen = target.seen_at("/items/A-1");
    assert_eq!(seen.len(), 1, "url template: {:?}", target.seen());
    assert_eq!(seen[0].method, "PUT");
    assert_eq!(
        seen[0].headers.get("x-order").map(String::as_str),
        Some("A-1-42")
    );
    assert_eq!(
        seen[0].body,
        json!({
            "n": 42, "flag": true, "tags": ["x", "y"], "sum": 43, "mixed": "n=42", "spaced": 42,
            "prev": {"hello": "A-1"}, "prev_status": 200, "run": id, "workflow": "templated", "literal": 7,
            "nested": {"list": ["A-1", 3, true]}
        })
    );
    assert_eq!(
        run["output"],
        json!({"n": 42, "got": {"hello": "A-1"}}),
        "{run:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_reach_the_target_but_never_the_log_or_the_run() {
    const SECRET: &str = "s3cr3t-v4lue-9731";
    let weft = Weft::fresh_with(&[("WEFT_SECRET_TOKEN", SECRET)]).await;
    let target = Target::spawn().await;
    let call = json!({
        "id": "call", "type": "http",
        "request": {"method": "POST", "url": target.url("/auth"),
                    "headers": {"Authorization": "Bearer {{ secrets.TOKEN }}"},
                    "body": {"order": "{{ input.id }}"}}
    });
    let def = wf(
        "secretive",
        json!([
            {"id": "start", "type": "start"},
            call,
            {"id": "peek", "type": "transform", "output": {"token": "{{ secrets.TOKEN }}", "said": "x{{ secrets.TOKEN }}"}},
            {"id": "done", "type": "end", "output": {"peek": "{{ nodes.peek.output }}", "call": "{{ nodes.call.output }}"}}
        ]),
        json!([
            {"from": "start", "to": "call"},
            {"from": "call", "to": "peek"},
            {"from": "peek", "to": "done"}
        ]),
    );
    // A transform cannot read a secret at all (SPEC §3): the validator refuses it.
    let (status, body) = weft.put("/api/workflows/secretive", &def).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("secrets_not_here"), "{body}");
    let mut def = def;
    def["nodes"][2]["output"] = json!({"token": "none here"});
    weft.put_workflow(&def).await;
    let id = weft.start_run("secretive", json!({"id": "o-1"})).await;
    let run = weft.wait_for(&id, "completed").await;

    let seen = target.seen_at("/auth");
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].headers.get("authorization").map(String::as_str),
        Some(format!("Bearer {SECRET}").as_str())
    );
    let events = weft.get_ok(&format!("/api/runs/{id}/events")).await;
    assert!(
        !events.to_string().contains(SECRET),
        "secret in the event log: {events:#}"
    );
    assert!(
        !run.to_string().contains(SECRET),
        "secret in the run: {run:#}"
    );
    let stream = weft.stream(&id, None).await;
    assert!(
        !format!("{stream:?}").contains(SECRET),
        "secret in the stream"
    );
}
