//! What a run waits for: approvals (approve once, reject, timeout), timers, signals (before
//! or after the wait, and their timeout), and the run's own timeout.

use serde_json::json;

use super::{approval_wf, decide, wf};
use crate::helpers::{Weft, node_events, types};

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
        json!({"decision": "approve", "by": "local", "comment": "lgtm", "data": null}),
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
            "approval_decided",
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
