//! Runs over HTTP, one test per SPEC §1 rule: http output, retries with one Idempotency-Key,
//! 4xx/429/timeouts, backoff, exhausted retries, templates and secrets, condition with dead
//! path and merge, fan-out and join, approvals (approve, reject, timeout, 409, 404), timers,
//! signals (and their timeout), the run's timeout, cancel with `on_cancel`, idempotent
//! start, `input_schema`, listing with filters and cursor paging, gap-free histories, and
//! the SSE stream with `Last-Event-ID`.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Rule, Target, Weft, node_events, types};

/// A definition from its parts.
fn wf(name: &str, nodes: Value, edges: Value) -> Value {
    json!({"name": name, "nodes": nodes, "edges": edges})
}

/// An `http` node that POSTs to `url` and retries fast; `extra` fields are merged in.
fn http(id: &str, url: &str, extra: Value) -> Value {
    let mut node = json!({
        "id": id, "type": "http",
        "request": {"method": "POST", "url": url},
        "retry": {"max_attempts": 3, "initial_interval": "50ms"}
    });
    if let (Some(node), Value::Object(extra)) = (node.as_object_mut(), extra) {
        node.extend(extra);
    }
    node
}

/// `start → call → done` where `done` outputs the call's output.
fn one_call(name: &str, call: Value) -> Value {
    wf(
        name,
        json!([
            {"id": "start", "type": "start"},
            call,
            {"id": "done", "type": "end", "output": "{{ nodes.call.output }}"}
        ]),
        json!([{"from": "start", "to": "call"}, {"from": "call", "to": "done"}]),
    )
}

fn keys(seen: &[crate::helpers::Seen]) -> Vec<String> {
    seen.iter()
        .map(|s| s.key.clone().unwrap_or_default())
        .collect()
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_condition_skips_the_dead_path_and_branches_merge() {
    let (weft, target) = (Weft::fresh().await, Target::spawn().await);
    let def = wf(
        "route",
        json!([
            {"id": "start", "type": "start"},
            {"id": "check", "type": "condition", "expr": "input.amount > 100"},
            http("big", &target.url("/big"), json!({})),
            http("small", &target.url("/small"), json!({})),
            {"id": "merge", "type": "join"},
            {"id": "done", "type": "end", "output": {"amount": "{{ input.amount }}", "branch": "{{ nodes.check.output }}"}}
        ]),
        json!([
            {"from": "start", "to": "check"},
            {"from": "check", "to": "big", "port": "true"},
            {"from": "check", "to": "small", "port": "false"},
            {"from": "big", "to": "merge"},
            {"from": "small", "to": "merge"},
            {"from": "merge", "to": "done"}
        ]),
    );
    weft.put_workflow(&def).await;
    for (amount, taken, dead) in [(500, "big", "small"), (5, "small", "big")] {
        let id = weft.start_run("route", json!({"amount": amount})).await;
        let run = weft.wait_for(&id, "completed").await;
        let nodes = &run["nodes"];
        assert_eq!(nodes[taken]["status"], "completed", "{run:#}");
        assert_eq!(nodes[dead]["status"], "skipped", "{run:#}");
        assert_eq!(nodes["merge"]["status"], "completed", "{run:#}");
        assert_eq!(
            run["output"],
            json!({"amount": amount, "branch": amount > 100})
        );
        let events = weft.events(&id).await;
        assert_eq!(node_events(&events, "node_skipped", dead).len(), 1);
        assert_eq!(node_events(&events, "node_completed", "merge").len(), 1);
    }
    assert_eq!(target.seen_at("/big").len(), 1);
    assert_eq!(target.seen_at("/small").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fan_out_runs_in_parallel_and_join_waits_for_every_branch() {
    let (weft, target) = (Weft::fresh().await, Target::spawn().await);
    target.rule("/b", Rule::Slow(Duration::from_millis(150)));
    let def = wf(
        "fan",
        json!([
            {"id": "start", "type": "start"},
            {"id": "split", "type": "parallel"},
            http("a", &target.url("/a"), json!({})),
            http("b", &target.url("/b"), json!({})),
            http("c", &target.url("/c"), json!({})),
            {"id": "join", "type": "join"},
            {"id": "done", "type": "end", "output": [
                "{{ nodes.a.output.body.path }}", "{{ nodes.b.output.body.path }}", "{{ nodes.c.output.body.path }}"]}
        ]),
        json!([
            {"from": "start", "to": "split"},
            {"from": "split", "to": "a"},
            {"from": "split", "to": "b"},
            {"from": "split", "to": "c"},
            {"from": "a", "to": "join"},
            {"from": "b", "to": "join"},
            {"from": "c", "to": "join"},
            {"from": "join", "to": "done"}
        ]),
    );
    weft.put_workflow(&def).await;
    let id = weft.start_run("fan", json!({})).await;
    let run = weft.wait_for(&id, "completed").await;
    assert_eq!(run["output"], json!(["/a", "/b", "/c"]), "{run:#}");

    let events = weft.events(&id).await;
    let seq = |ty: &str, node: &str| {
        let found = node_events(&events, ty, node);
        assert_eq!(found.len(), 1, "{ty} {node}: {events:#?}");
        found[0]["seq"].as_i64().expect("seq")
    };
    let started: Vec<i64> = ["a", "b", "c"]
        .iter()
        .map(|n| seq("node_started", n))
        .collect();
    let completed: Vec<i64> = ["a", "b", "c"]
        .iter()
        .map(|n| seq("node_completed", n))
        .collect();
    let join = seq("node_completed", "join");
    assert!(
        started.iter().max() < completed.iter().min(),
        "all branches start before any finishes: {started:?} {completed:?}"
    );
    assert!(
        completed.iter().all(|&c| c < join),
        "join after every branch"
    );
}

/// `start → gate → done`, plus `rejected → sorry → no` when `rejected_edge`.
fn approval_wf(name: &str, rejected_edge: bool) -> Value {
    let mut nodes = vec![
        json!({"id": "start", "type": "start"}),
        json!({"id": "gate", "type": "approval", "prompt": "Ship {{ input.order }}?"}),
        json!({"id": "done", "type": "end", "output": "{{ nodes.gate.output }}"}),
    ];
    let mut edges = vec![
        json!({"from": "start", "to": "gate"}),
        json!({"from": "gate", "to": "done", "port": "approved"}),
    ];
    if rejected_edge {
        nodes.push(json!({"id": "sorry", "type": "transform", "output": {"rejected": true}}));
        nodes.push(json!({"id": "no", "type": "end", "output": "{{ nodes.sorry.output }}"}));
        edges.push(json!({"from": "gate", "to": "sorry", "port": "rejected"}));
        edges.push(json!({"from": "sorry", "to": "no"}));
    }
    wf(name, Value::Array(nodes), Value::Array(edges))
}

async fn decide(weft: &Weft, run: &str, node: &str, decision: Value) -> (u16, Value) {
    weft.post(&format!("/api/runs/{run}/approvals/{node}"), &decision)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_is_approved_once() {
    let weft = Weft::fresh().await;
    weft.put_workflow(&approval_wf("ship", false)).await;
    let id = weft.start_run("ship", json!({"order": "A-1"})).await;
    let run = weft.wait_node(&id, "gate", "waiting").await;
    assert_eq!(run["nodes"]["gate"]["prompt"], "Ship A-1?", "{run:#}");

    let (status, body) = decide(&weft, &id, "nope", json!({"decision": "approve"})).await;
    assert_eq!(status, 404, "unknown node: {body}");
    let (status, body) = decide(&weft, &id, "done", json!({"decision": "approve"})).await;
    assert_eq!(status, 409, "not an approval: {body}");

    let (status, body) = decide(
        &weft,
        &id,
        "gate",
        json!({"decision": "approve", "comment": "lgtm"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let run = weft.wait_for(&id, "completed").await;
    assert_eq!(
        run["output"],
        json!({"decision": "approve", "comment": "lgtm"}),
        "{run:#}"
    );

    let (status, body) = decide(&weft, &id, "gate", json!({"decision": "reject"})).await;
    assert_eq!(status, 409, "second decision: {body}");
    assert!(crate::helpers::is_json_error(&body), "{body}");

    let events = weft.events(&id).await;
    assert_eq!(
        types(&events),
        [
            "run_started",
            "node_completed",
            "node_waiting",
            "node_completed",
            "node_completed",
            "run_completed"
        ]
    );
    for e in &events {
        assert!(e["at"].is_i64() && e["data"].is_object(), "{e}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejection_takes_the_rejected_edge_or_fails_the_run() {
    let weft = Weft::fresh().await;
    weft.put_workflow(&approval_wf("soft", true)).await;
    weft.put_workflow(&approval_wf("hard", false)).await;

    let soft = weft.start_run("soft", json!({"order": "A-1"})).await;
    weft.wait_node(&soft, "gate", "waiting").await;
    let (status, body) = decide(
        &weft,
        &soft,
        "gate",
        json!({"decision": "reject", "comment": "too big"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let run = weft.wait_for(&soft, "completed").await;
    assert_eq!(run["output"], json!({"rejected": true}), "{run:#}");
    assert_eq!(run["nodes"]["done"]["status"], "skipped");
    assert_eq!(run["nodes"]["sorry"]["status"], "completed");

    let hard = weft.start_run("hard", json!({"order": "A-2"})).await;
    weft.wait_node(&hard, "gate", "waiting").await;
    let (status, body) = decide(
        &weft,
        &hard,
        "gate",
        json!({"decision": "reject", "comment": "no"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let run = weft.wait_for(&hard, "failed").await;
    assert!(
        run["error"]
            .as_str()
            .unwrap_or_default()
            .contains("rejected"),
        "{run:#}"
    );
    assert_eq!(run["nodes"]["gate"]["status"], "failed");
    weft.events(&soft).await;
    weft.events(&hard).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_timeout_takes_the_timeout_port_or_fails_the_run() {
    let weft = Weft::fresh().await;
    let with_port = wf(
        "patient",
        json!([
            {"id": "start", "type": "start"},
            {"id": "gate", "type": "approval", "prompt": "ok?", "timeout": "300ms"},
            {"id": "done", "type": "end", "output": "approved"},
            {"id": "late", "type": "transform", "output": "{{ nodes.gate.output }}"},
            {"id": "escalated", "type": "end", "output": "{{ nodes.late.output }}"}
        ]),
        json!([
            {"from": "start", "to": "gate"},
            {"from": "gate", "to": "done", "port": "approved"},
            {"from": "gate", "to": "late", "port": "timeout"},
            {"from": "late", "to": "escalated"}
        ]),
    );
    weft.put_workflow(&with_port).await;
    let mut without_port = approval_wf("impatient", false);
    without_port["nodes"][1]["timeout"] = json!("300ms");
    weft.put_workflow(&without_port).await;

    let a = weft.start_run("patient", json!({})).await;
    let b = weft.start_run("impatient", json!({"order": 1})).await;
    let run = weft.wait_for(&a, "completed").await;
    assert_eq!(run["nodes"]["late"]["status"], "completed", "{run:#}");
    assert_eq!(run["nodes"]["done"]["status"], "skipped", "{run:#}");
    let events = weft.events(&a).await;
    let gate = node_events(&events, "node_completed", "gate");
    assert_eq!(gate.len(), 1);
    assert_eq!(gate[0]["data"]["port"], "timeout");

    let run = weft.wait_for(&b, "failed").await;
    assert!(
        run["error"]
            .as_str()
            .unwrap_or_default()
            .contains("timed out"),
        "{run:#}"
    );
    let (status, body) = decide(&weft, &a, "gate", json!({"decision": "approve"})).await;
    assert_eq!(status, 409, "decision after the timeout: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timer_waits_its_duration() {
    let weft = Weft::fresh().await;
    let def = wf(
        "nap",
        json!([
            {"id": "start", "type": "start"},
            {"id": "nap", "type": "timer", "duration": "200ms"},
            {"id": "done", "type": "end"}
        ]),
        json!([{"from": "start", "to": "nap"}, {"from": "nap", "to": "done"}]),
    );
    weft.put_workflow(&def).await;
    let id = weft.start_run("nap", json!({})).await;
    let run = weft.wait_for(&id, "completed").await;
    let nap = &run["nodes"]["nap"];
    let slept = nap["finished_at"].as_i64().expect("finished_at")
        - nap["started_at"].as_i64().expect("started_at");
    assert!(slept >= 200, "the timer fired after {slept} ms: {run:#}");
    let events = weft.events(&id).await;
    let waiting = node_events(&events, "node_waiting", "nap");
    assert_eq!(waiting.len(), 1);
    assert_eq!(
        waiting[0]["data"]["until"].as_i64().expect("until")
            - waiting[0]["at"].as_i64().expect("at"),
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signal_is_taken_whether_it_comes_before_or_after_the_wait() {
    let weft = Weft::fresh().await;
    let early = wf(
        "early",
        json!([
            {"id": "start", "type": "start"},
            {"id": "nap", "type": "timer", "duration": "600ms"},
            {"id": "sig", "type": "signal", "signal": "go"},
            {"id": "done", "type": "end", "output": "{{ nodes.sig.output }}"}
        ]),
        json!([{"from": "start", "to": "nap"}, {"from": "nap", "to": "sig"}, {"from": "sig", "to": "done"}]),
    );
    let late = wf(
        "late",
        json!([
            {"id": "start", "type": "start"},
            {"id": "sig", "type": "signal", "signal": "go"},
            {"id": "done", "type": "end", "output": "{{ nodes.sig.output }}"}
        ]),
        json!([{"from": "start", "to": "sig"}, {"from": "sig", "to": "done"}]),
    );
    weft.put_workflow(&early).await;
    weft.put_workflow(&late).await;

    // Before: the signal arrives while the timer still runs, and is kept for the node.
    let a = weft.start_run("early", json!({})).await;
    let (status, body) = weft
        .post(
            &format!("/api/runs/{a}/signals/go"),
            &json!({"payload": {"v": 1}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let run = weft.wait_for(&a, "completed").await;
    assert_eq!(run["output"], json!({"v": 1}), "{run:#}");
    let events = weft.events(&a).await;
    assert!(
        node_events(&events, "node_waiting", "sig").is_empty(),
        "{events:#?}"
    );
    let received = events.iter().position(|e| e["type"] == "signal_received");
    let taken = events
        .iter()
        .position(|e| e["type"] == "node_completed" && e["node"] == "sig");
    let nap_done = events
        .iter()
        .position(|e| e["type"] == "node_completed" && e["node"] == "nap");
    assert!(received < nap_done && nap_done < taken, "{events:#?}");

    // After: the node waits, then the signal completes it.
    let b = weft.start_run("late", json!({})).await;
    weft.wait_node(&b, "sig", "waiting").await;
    let (status, body) = weft
        .post(
            &format!("/api/runs/{b}/signals/go"),
            &json!({"payload": {"v": 2}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let run = weft.wait_for(&b, "completed").await;
    assert_eq!(run["output"], json!({"v": 2}), "{run:#}");

    let (status, body) = weft
        .post(&format!("/api/runs/{b}/signals/go"), &json!({}))
        .await;
    assert_eq!(status, 409, "signal to a finished run: {body}");
    let (status, body) = weft
        .post("/api/runs/no-such-run/signals/go", &json!({}))
        .await;
    assert_eq!(status, 404, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_runs_the_on_cancel_path_then_the_run_is_cancelled() {
    let (weft, target) = (Weft::fresh().await, Target::spawn().await);
    let mut def = approval_wf("refundable", false);
    def["on_cancel"] = json!("refund");
    def["nodes"].as_array_mut().expect("nodes").extend([
        json!({"id": "refund", "type": "http",
               "request": {"method": "POST", "url": target.url("/refund"), "body": {"order": "{{ input.order }}"}}}),
        json!({"id": "refunded", "type": "end"}),
    ]);
    def["edges"]
        .as_array_mut()
        .expect("edges")
        .push(json!({"from": "refund", "to": "refunded"}));
    weft.put_workflow(&def).await;

    let id = weft.start_run("refundable", json!({"order": "A-9"})).await;
    weft.wait_node(&id, "gate", "waiting").await;
    assert!(
        target.seen_at("/refund").is_empty(),
        "the cancel path waits for a cancel"
    );
    let (status, body) = weft
        .post(
            &format!("/api/runs/{id}/cancel"),
            &json!({"reason": "customer asked"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let run = weft.wait_for(&id, "cancelled").await;
    assert_eq!(run["nodes"]["gate"]["status"], "cancelled", "{run:#}");
    assert_eq!(run["nodes"]["refund"]["status"], "completed", "{run:#}");
    let seen = target.seen_at("/refund");
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].body, json!({"order": "A-9"}));
    assert_eq!(
        seen[0].key.as_deref(),
        Some(format!("{id}/refund").as_str())
    );

    let (status, body) = weft
        .post(&format!("/api/runs/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(status, 409, "cancel of a cancelled run: {body}");
    let (status, body) = decide(&weft, &id, "gate", json!({"decision": "approve"})).await;
    assert_eq!(status, 409, "approve after cancel: {body}");
    let events = weft.events(&id).await;
    assert_eq!(types(&events).last(), Some(&"run_cancelled"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_abandons_an_attempt_in_flight() {
    let (weft, target) = (Weft::fresh().await, Target::spawn().await);
    target.rule("/slow", Rule::Slow(Duration::from_millis(400)));
    let call = http("call", &target.url("/slow"), json!({"timeout": "5s"}));
    weft.put_workflow(&one_call("slowpoke", call)).await;
    let id = weft.start_run("slowpoke", json!({})).await;
    weft.wait_node(&id, "call", "running").await;
    let (status, body) = weft
        .post(&format!("/api/runs/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    weft.wait_for(&id, "cancelled").await;
    // Let the abandoned attempt's late answer arrive; it must change nothing.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let run = weft.run(&id).await;
    assert_eq!(run["status"], "cancelled", "{run:#}");
    assert_eq!(run["nodes"]["call"]["status"], "cancelled", "{run:#}");
    let events = weft.events(&id).await;
    assert!(
        node_events(&events, "node_completed", "call").is_empty(),
        "{events:#?}"
    );
    assert_eq!(types(&events).last(), Some(&"run_cancelled"));
    assert_eq!(target.seen_at("/slow").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starting_is_idempotent_by_run_id() {
    let weft = Weft::fresh().await;
    weft.put_workflow(&approval_wf("once", false)).await;
    let start = |input: Value| {
        let weft = &weft;
        async move {
            weft.post(
                "/api/workflows/once/runs",
                &json!({"run_id": "order-1", "input": input}),
            )
            .await
        }
    };
    let (status, first) = start(json!({"order": 1})).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["run_id"], "order-1");
    let (status, again) = start(json!({"order": 1})).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["run_id"], "order-1");
    assert_eq!(again["created_at"], first["created_at"]);
    let (status, body) = start(json!({"order": 2})).await;
    assert_eq!(status, 409, "{body}");
    assert!(crate::helpers::is_json_error(&body), "{body}");

    let list = weft.get_ok("/api/runs").await;
    assert_eq!(list["runs"].as_array().map(Vec::len), Some(1), "{list:#}");
    let run = weft.run("order-1").await;
    assert_eq!(run["input"], json!({"order": 1}));
    let events = weft.events("order-1").await;
    assert_eq!(
        node_events(&events, "node_waiting", "gate").len(),
        1,
        "started once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_input_not_matching_input_schema_is_422_with_paths() {
    let weft = Weft::fresh().await;
    let mut def = approval_wf("typed", false);
    def["input_schema"] = json!({
        "type": "object", "required": ["order"],
        "properties": {"order": {"type": "string"}, "amount": {"type": "number", "minimum": 0}}
    });
    weft.put_workflow(&def).await;

    let (status, body) = weft
        .post(
            "/api/workflows/typed/runs",
            &json!({"input": {"amount": "ten"}}),
        )
        .await;
    assert_eq!(status, 422, "{body:#}");
    let errors = body["error"]["details"]["errors"].clone();
    assert!(errors.get("/amount").is_some(), "names /amount: {body:#}");
    assert!(
        errors.to_string().contains("order"),
        "names the missing `order`: {body:#}"
    );

    let (status, body) = weft
        .post(
            "/api/workflows/typed/runs",
            &json!({"input": {"order": "x", "amount": -1}}),
        )
        .await;
    assert_eq!(status, 422, "{body:#}");
    assert!(
        body["error"]["details"]["errors"].get("/amount").is_some(),
        "{body:#}"
    );

    let list = weft.get_ok("/api/runs").await;
    assert_eq!(list["runs"], json!([]), "nothing started: {list:#}");
    weft.start_run("typed", json!({"order": "x", "amount": 3}))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_list_filters_and_pages_newest_first() {
    let (weft, target) = (Weft::fresh().await, Target::spawn().await);
    target.rule("/bad", Rule::Always(400));
    let quick = wf(
        "quick",
        json!([{"id": "start", "type": "start"}, {"id": "done", "type": "end"}]),
        json!([{"from": "start", "to": "done"}]),
    );
    weft.put_workflow(&quick).await;
    weft.put_workflow(&one_call(
        "doomed",
        http("call", &target.url("/bad"), json!({})),
    ))
    .await;
    let mut created = Vec::new();
    for _ in 0..5 {
        created.push(weft.start_run("quick", json!({})).await);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let doomed = weft.start_run("doomed", json!({})).await;
    for id in &created {
        weft.wait_for(id, "completed").await;
    }
    weft.wait_for(&doomed, "failed").await;

    let mut seen = Vec::new();
    let mut pages = 0;
    let mut path = "/api/runs?workflow=quick&limit=2".to_owned();
    loop {
        pages += 1;
        assert!(pages <= 5, "paging does not end");
        let page = weft.get_ok(&path).await;
        let runs = page["runs"].as_array().expect("runs");
        assert!(runs.len() <= 2, "{page:#}");
        seen.extend(
            runs.iter()
                .map(|r| r["id"].as_str().expect("id").to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/runs?workflow=quick&limit=2&cursor={c}"),
            None => break,
        }
    }
    let newest_first: Vec<String> = created.iter().rev().cloned().collect();
    assert_eq!(seen, newest_first, "every run exactly once, newest first");

    let failed = weft.get_ok("/api/runs?status=failed").await;
    let ids: Vec<&Value> = failed["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .map(|r| &r["id"])
        .collect();
    assert_eq!(ids, [&json!(doomed)]);
    let none = weft
        .get_ok("/api/runs?workflow=doomed&status=completed")
        .await;
    assert_eq!(none["runs"], json!([]));
    let all = weft.get_ok("/api/runs").await;
    assert_eq!(all["runs"].as_array().map(Vec::len), Some(6));
    assert_eq!(all["runs"][0]["id"], json!(doomed), "newest first");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_sends_the_history_and_resumes_after_last_event_id() {
    let weft = Weft::fresh().await;
    weft.put_workflow(&approval_wf("streamed", false)).await;
    let id = weft.start_run("streamed", json!({"order": 1})).await;
    weft.wait_node(&id, "gate", "waiting").await;

    // Live: the stream is open while the approval arrives, and ends after the final event.
    let (live, ()) = tokio::join!(weft.stream(&id, None), async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let (status, body) = decide(&weft, &id, "gate", json!({"decision": "approve"})).await;
        assert_eq!(status, 200, "{body}");
    });
    let events = weft.events(&id).await;
    assert!(events.len() > 4, "{events:#?}");
    let ids: Vec<i64> = live.iter().map(|(i, _)| *i).collect();
    assert_eq!(ids, (1..=events.len() as i64).collect::<Vec<_>>());
    let data: Vec<Value> = live.iter().map(|(_, d)| d.clone()).collect();
    assert_eq!(
        data, events,
        "the stream carries the same events as /events"
    );

    let resumed = weft.stream(&id, Some(3)).await;
    assert_eq!(resumed.first().map(|(i, _)| *i), Some(4), "{resumed:?}");
    let data: Vec<Value> = resumed.iter().map(|(_, d)| d.clone()).collect();
    assert_eq!(data, events[3..].to_vec());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signal_timeout_takes_the_timeout_port_or_fails_the_run() {
    let weft = Weft::fresh().await;
    let with_port = wf(
        "wait-or-move-on",
        json!([
            {"id": "start", "type": "start"},
            {"id": "sig", "type": "signal", "signal": "go", "timeout": "200ms"},
            {"id": "done", "type": "end", "output": "signalled"},
            {"id": "gave_up", "type": "end", "output": "timed out"}
        ]),
        json!([
            {"from": "start", "to": "sig"},
            {"from": "sig", "to": "done"},
            {"from": "sig", "to": "gave_up", "port": "timeout"}
        ]),
    );
    let without_port = wf(
        "wait-or-fail",
        json!([
            {"id": "start", "type": "start"},
            {"id": "sig", "type": "signal", "signal": "go", "timeout": "200ms"},
            {"id": "done", "type": "end"}
        ]),
        json!([{"from": "start", "to": "sig"}, {"from": "sig", "to": "done"}]),
    );
    weft.put_workflow(&with_port).await;
    weft.put_workflow(&without_port).await;
    let a = weft.start_run("wait-or-move-on", json!({})).await;
    let b = weft.start_run("wait-or-fail", json!({})).await;
    let run = weft.wait_for(&a, "completed").await;
    assert_eq!(run["output"], "timed out", "{run:#}");
    assert_eq!(run["nodes"]["done"]["status"], "skipped");
    let run = weft.wait_for(&b, "failed").await;
    assert!(
        run["error"]
            .as_str()
            .unwrap_or_default()
            .contains("timed out"),
        "{run:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_run_timeout_fails_the_run_and_cancels_what_waits() {
    let weft = Weft::fresh().await;
    let mut def = approval_wf("deadline", false);
    def["timeout"] = json!("300ms");
    weft.put_workflow(&def).await;
    let id = weft.start_run("deadline", json!({"order": 1})).await;
    let run = weft.wait_for(&id, "failed").await;
    assert!(
        run["error"]
            .as_str()
            .unwrap_or_default()
            .contains("timed out"),
        "{run:#}"
    );
    assert_eq!(run["nodes"]["gate"]["status"], "cancelled", "{run:#}");
    let (status, body) = decide(&weft, &id, "gate", json!({"decision": "approve"})).await;
    assert_eq!(status, 409, "{body}");
    weft.events(&id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resuming_after_the_final_event_ends_the_stream() {
    let weft = Weft::fresh().await;
    let quick = wf(
        "quick",
        json!([{"id": "start", "type": "start"}, {"id": "done", "type": "end"}]),
        json!([{"from": "start", "to": "done"}]),
    );
    weft.put_workflow(&quick).await;
    let id = weft.start_run("quick", json!({})).await;
    weft.wait_for(&id, "completed").await;
    let last = weft.events(&id).await.len() as i64;
    // A finished run has nothing more to send: the stream ends instead of idling forever.
    let ended = tokio::time::timeout(Duration::from_secs(5), weft.stream(&id, Some(last))).await;
    assert_eq!(
        ended.ok(),
        Some(Vec::new()),
        "the stream stayed open after the final event"
    );
}
