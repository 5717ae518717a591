//! Child runs (SPEC §5): `subflow` and `map`. The child's output, the links both ways, the
//! error port, the cancel cascade, the depth limit, an unknown workflow refused on save, a
//! map's order, its concurrency bound as the activity target saw it, an empty list, a value
//! that is not a list, tolerated failures, and a kill -9 in the middle of a map.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::helpers::{Rule, Target, Weft, spawn_weft};
use crate::sim::assert_index_matches_log;

/// `start → a → end`, where `a` is `node` (its id set here).
fn around(name: &str, mut node: Value) -> Value {
    node["id"] = json!("a");
    json!({
        "name": name,
        "nodes": [{"id": "start", "type": "start"}, node,
                  {"id": "end", "type": "end", "output": "{{ nodes.a.output }}"}],
        "edges": [{"from": "start", "to": "a"}, {"from": "a", "to": "end"}]
    })
}

/// A child that doubles `input.n`.
fn doubler() -> Value {
    around(
        "double",
        json!({"type": "transform", "output": {"n": "{{ input.n * 2 }}", "by": "{{ run.id }}"}}),
    )
}

/// A child that calls `target`'s `/item` with its input, then answers `{"got": input}`.
fn caller(name: &str, target: &Target) -> Value {
    json!({
        "name": name,
        "nodes": [{"id": "start", "type": "start"},
                  {"id": "call", "type": "http", "timeout": "10s",
                   "retry": {"max_attempts": 5, "initial_interval": "100ms"},
                   "request": {"method": "POST", "url": target.url("/item"), "body": {"item": "{{ input }}"}}},
                  {"id": "end", "type": "end", "output": {"got": "{{ input }}"}}],
        "edges": [{"from": "start", "to": "call"}, {"from": "call", "to": "end"}]
    })
}

/// A map parent over `input.items` with children of `workflow`.
fn mapper(name: &str, workflow: &str, extra: Value) -> Value {
    let mut node = json!({"type": "map", "items": "{{ input.items }}", "workflow": workflow});
    for (k, v) in extra.as_object().expect("object") {
        node[k] = v.clone();
    }
    around(name, node)
}

fn children(run: &Value, node: &str) -> Vec<String> {
    run["nodes"][node]["children"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| c["run"].as_str().expect("run").to_owned())
        .collect()
}

#[tokio::test]
async fn a_subflow_returns_its_child_output_and_both_runs_link_to_each_other() {
    let weft = Weft::fresh().await;
    weft.put_workflow(&doubler()).await;
    weft.put_workflow(&around(
        "parent",
        json!({"type": "subflow", "workflow": "double", "input": {"n": "{{ input.n }}"}}),
    ))
    .await;
    let id = weft.start_run("parent", json!({"n": 21})).await;
    let run = weft.wait_for(&id, "completed").await;
    let kids = children(&run, "a");
    assert_eq!(kids.len(), 1, "{run:#}");
    assert_eq!(run["output"]["n"], 42, "{run:#}");
    assert_eq!(run["output"]["by"], kids[0].as_str(), "the child's own id");
    assert_eq!(run["nodes"]["a"]["children"][0]["status"], "completed");
    let child = weft.run(&kids[0]).await;
    assert_eq!(child["workflow"], "double");
    assert_eq!(child["parent"]["run"], id.as_str());
    assert_eq!(child["parent"]["node"], "a");
    assert_eq!(child["input"], json!({"n": 21}));
    assert!(run.get("parent").is_none(), "a top-level run has no parent");
    assert_index_matches_log(weft.database()).await;
}

#[tokio::test]
async fn a_failed_child_takes_the_error_port_or_fails_the_parent() {
    let target = Target::spawn().await;
    target.rule("/item", Rule::Always(500));
    let weft = Weft::fresh().await;
    let mut child = caller("flaky", &target);
    child["nodes"][1]["retry"] = json!({"max_attempts": 1});
    weft.put_workflow(&child).await;
    let mut parent = around(
        "caught",
        json!({"type": "subflow", "workflow": "flaky", "input": 1}),
    );
    parent["nodes"].as_array_mut().expect("nodes").push(
        json!({"id": "oops", "type": "end", "output": {"why": "{{ nodes.a.output.error }}"}}),
    );
    parent["edges"]
        .as_array_mut()
        .expect("edges")
        .push(json!({"from": "a", "to": "oops", "port": "error"}));
    weft.put_workflow(&parent).await;
    let id = weft.start_run("caught", json!({})).await;
    let run = weft.wait_for(&id, "completed").await;
    assert_eq!(run["nodes"]["a"]["status"], "failed", "{run:#}");
    let why = run["output"]["why"].as_str().expect("error text");
    assert!(why.contains("failed") && why.contains("HTTP 500"), "{why}");
    assert_eq!(run["nodes"]["end"]["status"], "skipped");

    weft.put_workflow(&around(
        "uncaught",
        json!({"type": "subflow", "workflow": "flaky", "input": 1}),
    ))
    .await;
    let id = weft.start_run("uncaught", json!({})).await;
    let run = weft.wait_for(&id, "failed").await;
    let error = run["error"].as_str().expect("error");
    assert!(error.contains("node `a` failed: child run"), "{error}");
}

#[tokio::test]
async fn cancelling_a_parent_cancels_its_running_child_whose_on_cancel_path_runs() {
    let target = Target::spawn().await;
    let weft = Weft::fresh().await;
    weft.put_workflow(&json!({
        "name": "waits",
        "on_cancel": "undo",
        "nodes": [{"id": "start", "type": "start"},
                  {"id": "ask", "type": "approval", "prompt": "ok?"},
                  {"id": "end", "type": "end"},
                  {"id": "undo", "type": "http", "request": {"method": "POST", "url": target.url("/undo"), "body": "{{ run.id }}"}},
                  {"id": "undone", "type": "end"}],
        "edges": [{"from": "start", "to": "ask"}, {"from": "ask", "to": "end", "port": "approved"},
                  {"from": "undo", "to": "undone"}]
    }))
    .await;
    weft.put_workflow(&around(
        "holder",
        json!({"type": "subflow", "workflow": "waits"}),
    ))
    .await;
    let id = weft.start_run("holder", json!({})).await;
    let run = weft.wait_node(&id, "a", "running").await;
    let kid = children(&run, "a").remove(0);
    weft.wait_node(&kid, "ask", "waiting").await;
    let (status, body) = weft
        .post(
            &format!("/api/runs/{id}/cancel"),
            &json!({"reason": "stop"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    weft.wait_for(&id, "cancelled").await;
    let child = weft.wait_for(&kid, "cancelled").await;
    assert_eq!(child["nodes"]["undo"]["status"], "completed", "{child:#}");
    let undone = target.seen_at("/undo");
    assert_eq!(undone.len(), 1);
    assert_eq!(undone[0].body, json!(kid));
    assert_index_matches_log(weft.database()).await;
}

#[tokio::test]
async fn nesting_deeper_than_32_levels_fails_the_node() {
    let weft = Weft::fresh().await;
    // A workflow that starts itself: each level one deeper, until the limit fails the node.
    weft.put_workflow(&around(
        "forever",
        json!({"type": "subflow", "workflow": "forever"}),
    ))
    .await;
    let id = weft.start_run("forever", json!(null)).await;
    let run = weft.wait_for(&id, "failed").await;
    let (mut deepest, mut depth) = (run, 0);
    while let Some(kid) = children(&deepest, "a").first().cloned() {
        deepest = weft.run(&kid).await;
        depth += 1;
        assert_eq!(deepest["parent"]["depth"], depth);
    }
    assert_eq!(depth, 32, "runs 1..=32 are children");
    let error = deepest["nodes"]["a"]["error"].as_str().expect("error");
    assert!(error.contains("deeper than 32 levels"), "{error}");
    assert_eq!(deepest["status"], "failed");
}

#[tokio::test]
async fn saving_a_subflow_or_map_of_an_unknown_workflow_is_a_422() {
    let weft = Weft::fresh().await;
    weft.put_workflow(&doubler()).await;
    for (node, what) in [
        (
            json!({"type": "subflow", "workflow": "nope"}),
            "workflow `nope`",
        ),
        (
            json!({"type": "map", "items": "[]", "workflow": "nope"}),
            "workflow `nope`",
        ),
        (
            json!({"type": "subflow", "workflow": "double", "version": 2}),
            "version 2 of workflow `double`",
        ),
    ] {
        let (status, body) = weft
            .put("/api/workflows/p", &around("p", node.clone()))
            .await;
        assert_eq!(status, 422, "{node}: {body}");
        let d = &body["error"]["details"]["diagnostics"][0];
        assert_eq!(d["code"], "unknown_workflow", "{body}");
        assert_eq!(d["node"], "a");
        assert!(
            d["message"].as_str().expect("message").contains(what),
            "{body}"
        );
    }
    let (status, _) = weft.get("/api/workflows/p").await;
    assert_eq!(status, 404, "nothing was saved");
    let (status, body) = weft.delete("/api/workflows/double").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = weft
        .put(
            "/api/workflows/p",
            &around("p", json!({"type": "subflow", "workflow": "double"})),
        )
        .await;
    assert_eq!(status, 422, "an archived workflow is unknown: {body}");
}

#[tokio::test]
async fn a_map_keeps_item_order_and_links_every_child() {
    let weft = Weft::fresh().await;
    weft.put_workflow(&doubler()).await;
    weft.put_workflow(&mapper(
        "each",
        "double",
        json!({"input": {"n": "{{ item }}", "at": "{{ index }}"}, "max_concurrency": 2}),
    ))
    .await;
    let items = [5, 1, 4, 2, 3];
    let id = weft.start_run("each", json!({"items": items})).await;
    let run = weft.wait_for(&id, "completed").await;
    let got: Vec<i64> = run["output"]
        .as_array()
        .expect("array")
        .iter()
        .map(|o| o["n"].as_i64().expect("n"))
        .collect();
    assert_eq!(got, [10, 2, 8, 4, 6]);
    let kids = children(&run, "a");
    assert_eq!(kids.len(), 5);
    let progress = &run["nodes"]["a"]["progress"];
    assert_eq!(
        *progress,
        json!({"total": 5, "completed": 5, "failed": 0, "cancelled": 0, "running": 0})
    );
    for (k, kid) in kids.iter().enumerate() {
        assert_eq!(run["output"][k]["by"], kid.as_str());
        let child = weft.run(kid).await;
        assert_eq!(child["parent"]["index"], k);
        assert_eq!(child["input"], json!({"n": items[k], "at": k}));
    }
}

#[tokio::test]
async fn a_map_runs_at_most_max_concurrency_children_at_once_as_the_target_sees_it() {
    let target = Target::spawn().await;
    target.rule("/item", Rule::Slow(std::time::Duration::from_millis(150)));
    let weft = Weft::fresh().await;
    weft.put_workflow(&caller("slow", &target)).await;
    weft.put_workflow(&mapper("bounded", "slow", json!({"max_concurrency": 3})))
        .await;
    let items: Vec<i64> = (0..12).collect();
    let id = weft.start_run("bounded", json!({"items": items})).await;
    let run = weft.wait_for(&id, "completed").await;
    assert_eq!(target.seen_at("/item").len(), 12);
    let most = target.most_at_once();
    assert_eq!(most, 3, "at most 3 at once, and the bound is used");
    let got: Vec<Value> = run["output"]
        .as_array()
        .expect("array")
        .iter()
        .map(|o| o["got"].clone())
        .collect();
    assert_eq!(got, items.iter().map(|i| json!(i)).collect::<Vec<_>>());
}

#[tokio::test]
async fn an_empty_list_completes_at_once_and_a_value_that_is_not_a_list_fails() {
    let weft = Weft::fresh().await;
    weft.put_workflow(&doubler()).await;
    weft.put_workflow(&mapper("m", "double", json!({}))).await;
    let id = weft.start_run("m", json!({"items": []})).await;
    let run = weft.wait_for(&id, "completed").await;
    assert_eq!(run["output"], json!([]));
    assert!(children(&run, "a").is_empty());

    let id = weft.start_run("m", json!({"items": {"a": 1}})).await;
    let run = weft.wait_for(&id, "failed").await;
    let error = run["nodes"]["a"]["error"].as_str().expect("error");
    assert!(
        error.contains("must give a JSON array, but gave an object"),
        "{error}"
    );
}

/// A child that fails for odd items (its `http` node answers 500 once and is not retried).
fn picky(target: &Target) -> Value {
    target.rule("/odd", Rule::Always(500));
    json!({
        "name": "picky",
        "nodes": [{"id": "start", "type": "start"},
                  {"id": "odd", "type": "condition", "expr": "input % 2 == 1"},
                  {"id": "boom", "type": "http", "retry": {"max_attempts": 1},
                   "request": {"method": "POST", "url": target.url("/odd")}},
                  {"id": "join", "type": "join"},
                  {"id": "end", "type": "end", "output": "{{ input }}"}],
        "edges": [{"from": "start", "to": "odd"},
                  {"from": "odd", "to": "boom", "port": "true"},
                  {"from": "odd", "to": "join", "port": "false"},
                  {"from": "boom", "to": "join"},
                  {"from": "join", "to": "end"}]
    })
}

#[tokio::test]
async fn tolerated_failures_leave_nulls_and_one_more_fails_the_node_listing_the_items() {
    let target = Target::spawn().await;
    let weft = Weft::fresh().await;
    weft.put_workflow(&picky(&target)).await;
    weft.put_workflow(&mapper(
        "tolerant",
        "picky",
        json!({"tolerated_failures": 2, "max_concurrency": 1}),
    ))
    .await;
    let id = weft
        .start_run("tolerant", json!({"items": [0, 1, 2, 3]}))
        .await;
    let run = weft.wait_for(&id, "completed").await;
    assert_eq!(run["output"], json!([0, null, 2, null]));
    assert_eq!(run["nodes"]["a"]["progress"]["failed"], 2);

    weft.put_workflow(&mapper(
        "strict",
        "picky",
        json!({"tolerated_failures": 1, "max_concurrency": 1}),
    ))
    .await;
    let id = weft
        .start_run("strict", json!({"items": [0, 1, 2, 3, 4, 5]}))
        .await;
    let run = weft.wait_for(&id, "failed").await;
    let kids = children(&run, "a");
    assert_eq!(kids.len(), 4, "the fourth item's failure stops the map");
    let error = run["nodes"]["a"]["error"].as_str().expect("error");
    assert!(
        error.starts_with("2 of 4 started items failed, more than the 1 tolerated:"),
        "{error}"
    );
    assert!(
        error.contains(&format!("item 1 (run `{}`)", kids[1])),
        "{error}"
    );
    assert!(
        error.contains(&format!("item 3 (run `{}`)", kids[3])),
        "{error}"
    );
    assert!(!error.contains("item 2 "), "{error}");
}

#[tokio::test]
async fn a_subflow_past_its_timeout_fails_and_its_child_is_cancelled() {
    let weft = Weft::simulated().await;
    let mut slowpoke = around("slowpoke", json!({"type": "approval", "prompt": "wait"}));
    slowpoke["edges"][1]["port"] = json!("approved");
    weft.put_workflow(&slowpoke).await;
    weft.put_workflow(&around(
        "impatient",
        json!({"type": "subflow", "workflow": "slowpoke", "timeout": "1m"}),
    ))
    .await;
    let id = weft.start_run("impatient", json!({})).await;
    let run = weft.wait_node(&id, "a", "running").await;
    let kid = children(&run, "a").remove(0);
    weft.wait_node(&kid, "a", "waiting").await;
    weft.advance("2m").await;
    let run = weft.wait_for(&id, "failed").await;
    let error = run["nodes"]["a"]["error"].as_str().expect("error");
    assert!(error.contains("timed out after 1m"), "{error}");
    weft.wait_for(&kid, "cancelled").await;
}

#[tokio::test]
async fn a_kill_9_in_the_middle_of_a_map_starts_each_child_once_and_completes_it() {
    const ITEMS: usize = 20;
    let target = Target::spawn().await;
    target.rule("/item", Rule::Slow(std::time::Duration::from_millis(100)));
    let dir = tempfile::tempdir().expect("dir");
    let mut weft = spawn_weft(dir.path()).await;
    weft.put_workflow(&caller("slow", &target)).await;
    weft.put_workflow(&mapper("crashy", "slow", json!({"max_concurrency": 4})))
        .await;
    let id = weft
        .start_run("crashy", json!({"items": (0..ITEMS).collect::<Vec<_>>()}))
        .await;
    // Kill once some children are done and others are in flight.
    let deadline = std::time::Instant::now() + crate::helpers::WAIT;
    while target.seen_at("/item").len() < 6 {
        assert!(
            std::time::Instant::now() < deadline,
            "the map never got going"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    weft.kill9();
    let before = target.seen_at("/item").len();
    weft.restart().await;
    let run = weft.wait_for(&id, "completed").await;
    let got: Vec<Value> = run["output"]
        .as_array()
        .expect("output")
        .iter()
        .map(|o| o["got"].clone())
        .collect();
    assert_eq!(got, (0..ITEMS).map(|i| json!(i)).collect::<Vec<_>>());
    let kids = children(&run, "a");
    assert_eq!(kids.len(), ITEMS);
    let (status, list) = weft.get("/api/runs?workflow=slow&limit=500").await;
    assert_eq!(status, 200);
    assert_eq!(
        list["runs"].as_array().expect("runs").len(),
        ITEMS,
        "one child per item"
    );
    // Each item's side effect once, but for attempts in flight at the kill (sent again
    // under the same key by the restarted server).
    let mut per_key: HashMap<String, usize> = HashMap::new();
    for s in target.seen_at("/item") {
        *per_key.entry(s.key.expect("key")).or_default() += 1;
    }
    assert_eq!(per_key.len(), ITEMS, "{per_key:?}");
    let repeated = per_key.values().filter(|n| **n > 1).count();
    assert!(
        per_key.values().all(|n| *n <= 2) && repeated <= 4,
        "only attempts in flight at the kill (at most 4) repeat: {per_key:?}"
    );
    assert!(
        target.seen_at("/item").len() <= ITEMS + 4 && before < ITEMS,
        "the kill came mid-map"
    );
    for kid in &kids {
        assert!(per_key.contains_key(&format!("{kid}/call")), "{kid}");
    }
    assert_index_matches_log(weft.database()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: runs with WEFT_TEST_STORE=postgres -- --include-ignored"]
async fn maps_driven_by_three_processes_start_each_child_once_across_a_kill_9() {
    const MAPS: usize = 4;
    const ITEMS: usize = 15;
    let (_dirs, mut nodes) = crate::cluster::cluster("map cluster test").await;
    let target = Target::spawn().await;
    target.rule("/item", Rule::Slow(std::time::Duration::from_millis(60)));
    nodes[0].put_workflow(&caller("slow", &target)).await;
    nodes[1]
        .put_workflow(&mapper("spread", "slow", json!({"max_concurrency": 5})))
        .await;
    let mut ids = Vec::new();
    for m in 0..MAPS {
        let items: Vec<usize> = (0..ITEMS).map(|i| m * 100 + i).collect();
        ids.push(
            nodes[m % nodes.len()]
                .start_run("spread", json!({"items": items}))
                .await,
        );
    }
    let deadline = std::time::Instant::now() + crate::helpers::WAIT;
    while target.seen_at("/item").len() < MAPS * ITEMS / 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "the maps never got going"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    nodes[0].kill9();
    let survivor = &nodes[1];
    for (m, id) in ids.iter().enumerate() {
        let run = survivor.wait_for(id, "completed").await;
        let got: Vec<Value> = run["output"]
            .as_array()
            .expect("output")
            .iter()
            .map(|o| o["got"].clone())
            .collect();
        let want: Vec<Value> = (0..ITEMS).map(|i| json!(m * 100 + i)).collect();
        assert_eq!(got, want, "map {id}");
        assert_eq!(children(&run, "a").len(), ITEMS);
        let events = survivor.events(id).await;
        let started = events
            .iter()
            .filter(|e| e["type"] == "child_started")
            .count();
        let finished = events
            .iter()
            .filter(|e| e["type"] == "child_finished")
            .count();
        assert_eq!((started, finished), (ITEMS, ITEMS), "map {id}");
    }
    let (status, list) = survivor.get("/api/runs?workflow=slow&limit=500").await;
    assert_eq!(status, 200);
    let kids = list["runs"].as_array().expect("runs");
    assert_eq!(
        kids.len(),
        MAPS * ITEMS,
        "one child per item across processes"
    );
    assert!(kids.iter().all(|k| k["status"] == "completed"));
    let mut per_key: HashMap<String, usize> = HashMap::new();
    for s in target.seen_at("/item") {
        *per_key.entry(s.key.expect("key")).or_default() += 1;
    }
    assert_eq!(per_key.len(), MAPS * ITEMS);
    assert!(
        per_key.values().all(|n| *n <= 2),
        "only attempts in flight at the kill repeat: {per_key:?}"
    );
    assert_index_matches_log(survivor.database()).await;
}

#[tokio::test]
async fn a_map_whose_outputs_together_pass_the_value_limit_fails_naming_it() {
    let weft = Weft::fresh().await;
    weft.put_workflow(&around(
        "wide",
        json!({"type": "transform", "output": "{{ 'x' * 1000 }}"}),
    ))
    .await;
    weft.put_workflow(&mapper("widemap", "wide", json!({"max_concurrency": 50})))
        .await;
    let id = weft
        .start_run("widemap", json!({"items": (0..300).collect::<Vec<_>>()}))
        .await;
    let run = weft.wait_for(&id, "failed").await;
    let error = run["nodes"]["a"]["error"].as_str().expect("error");
    assert!(error.starts_with("output_too_large"), "{error}");
    assert_eq!(run["nodes"]["a"]["progress"]["completed"], 300);
}
