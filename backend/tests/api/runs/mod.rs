//! Runs over HTTP, one test per SPEC §1 rule, by area: [`http`] nodes (output, retries with
//! one Idempotency-Key, 4xx/429/timeouts, backoff, templates and secrets), token [`flow`]
//! (condition with dead path and merge, fan-out and join), [`waits`] (approvals, timers,
//! signals, the run's timeout), the run's [`lifecycle`] (cancel with `on_cancel`, idempotent
//! start, `input_schema`, listing with filters and cursor paging), and its [`history`] on the
//! SSE stream with `Last-Event-ID`. The definitions they share are built here.

mod exchange;
mod find;
mod flow;
mod history;
mod http;
mod lifecycle;
mod waits;

use serde_json::{Value, json};

use crate::helpers::Weft;

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
