//! Token flow: a condition's dead path is skipped and its branches merge; a fan-out runs in
//! parallel and a join waits for every branch.

use std::time::Duration;

use serde_json::json;

use super::{http, wf};
use crate::helpers::{Rule, Target, Weft, node_events};

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
