//! Operating runs (SPEC §6): redrive a finished run (reusing what it completed, counted at
//! the activity target), its dry run and refusals, and pausing a run (in-flight attempts
//! finish, nothing new starts, due timers wait, across a restart).

use serde_json::{Value, json};

use crate::helpers::{Rule, Target, Weft, node_events};
use crate::sim::{HOOKS, assert_index_matches_log};

/// `start → charge (http) → approve → ship (http, one attempt) → end`.
fn order(target: &Target, ship_path: &str) -> Value {
    json!({
        "name": "order",
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "charge", "type": "http", "request": {"method": "POST", "url": target.url("/charge"), "body": {"n": "{{ input.n }}"}}},
            {"id": "approve", "type": "approval", "prompt": "ship order {{ input.n }}?"},
            {"id": "ship", "type": "http", "retry": {"max_attempts": 1},
             "request": {"method": "POST", "url": target.url(ship_path)}},
            {"id": "end", "type": "end", "output": {"charged": "{{ nodes.charge.output.body.echo.n }}", "shipped": "{{ nodes.ship.output.status }}"}}
        ],
        "edges": [
            {"from": "start", "to": "charge"}, {"from": "charge", "to": "approve"},
            {"from": "approve", "to": "ship", "port": "approved"}, {"from": "ship", "to": "end"}
        ]
    })
}

/// Runs `order` to its failure at `ship`: the card is charged once and the order approved.
async fn failed_order(weft: &Weft, target: &Target) -> String {
    target.rule("/ship", Rule::Always(503));
    weft.put_workflow(&order(target, "/ship")).await;
    let id = weft.start_run("order", json!({"n": 7})).await;
    weft.wait_node(&id, "approve", "waiting").await;
    let (status, body) = weft
        .post(
            &format!("/api/runs/{id}/approvals/approve"),
            &json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let run = weft.wait_for(&id, "failed").await;
    assert_eq!(run["nodes"]["ship"]["status"], "failed", "{run:#}");
    id
}

async fn run_count(weft: &Weft) -> usize {
    let body = weft.get_ok("/api/runs?workflow=order&limit=500").await;
    body["runs"].as_array().expect("runs").len()
}

#[tokio::test]
async fn a_redrive_onto_a_fixed_version_reuses_what_completed_and_acts_only_from_the_failure() {
    let target = Target::spawn().await;
    let weft = Weft::fresh().await;
    let original = failed_order(&weft, &target).await;
    assert_eq!(target.seen_at("/charge").len(), 1);

    // The fix: version 2 ships through a service that works.
    let v2 = weft.put_workflow(&order(&target, "/ship-v2")).await;
    assert_eq!(v2, 2);
    let runs_before = run_count(&weft).await;
    let (status, preview) = weft
        .post(
            &format!("/api/runs/{original}/redrive"),
            &json!({"version": "latest", "dry_run": true}),
        )
        .await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(preview["version"], 2);
    assert_eq!(preview["from"], json!(["ship"]), "default: the failed node");
    assert_eq!(preview["reuse"], json!(["start", "charge", "approve"]));
    assert_eq!(preview["rerun"], json!(["ship", "end"]));
    assert_eq!(preview["side_effects"], json!([]), "ship never completed");
    assert_eq!(
        run_count(&weft).await,
        runs_before,
        "a dry run starts nothing"
    );

    let (status, body) = weft
        .post(
            &format!("/api/runs/{original}/redrive"),
            &json!({"version": "latest"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let redrive = body["run_id"].as_str().expect("run_id").to_owned();
    // No approval is asked again: the run completes on its own.
    let run = weft.wait_for(&redrive, "completed").await;
    assert_eq!(run["version"], 2);
    assert_eq!(
        run["output"]["charged"], 7,
        "the charge's recorded output: {run:#}"
    );
    assert_eq!(run["output"]["shipped"], 200);
    assert_eq!(
        run["redrive_of"],
        json!({"run": original, "from": ["ship"]})
    );
    for node in ["start", "charge", "approve"] {
        assert_eq!(run["nodes"][node]["reused"], true, "{node}: {run:#}");
    }
    assert!(run["nodes"]["ship"].get("reused").is_none(), "{run:#}");

    // Counted at the target, by the key each attempt sends: one charge, ever.
    let charges = target.seen_at("/charge");
    assert_eq!(charges.len(), 1, "the card was charged again: {charges:#?}");
    assert_eq!(target.seen_at("/ship-v2").len(), 1);
    let events = weft.events(&redrive).await;
    assert!(node_events(&events, "node_started", "charge").is_empty());
    assert!(node_events(&events, "node_waiting", "approve").is_empty());
    let reused = node_events(&events, "node_completed", "approve");
    assert_eq!(reused.len(), 1);
    assert_eq!(
        reused[0]["data"]["reused_from"],
        original.as_str(),
        "{events:#?}"
    );
    assert_eq!(reused[0]["data"]["output"]["decision"], "approve");

    let first = weft.run(&original).await;
    assert_eq!(first["redriven_by"], json!([redrive]));
    assert_eq!(first["status"], "failed", "the original is left as it was");
    assert_index_matches_log(weft.database()).await;
}

#[tokio::test]
async fn a_redrive_from_a_completed_node_names_its_side_effect_and_refusals_are_precise() {
    let target = Target::spawn().await;
    let weft = Weft::fresh().await;
    let original = failed_order(&weft, &target).await;
    let url = |id: &str| format!("/api/runs/{id}/redrive");

    let (status, preview) = weft
        .post(
            &url(&original),
            &json!({"from": ["charge"], "dry_run": true}),
        )
        .await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(preview["reuse"], json!(["start"]));
    assert_eq!(
        preview["rerun"],
        json!(["charge", "approve", "ship", "end"])
    );
    assert_eq!(preview["side_effects"], json!(["charge"]));

    let (status, body) = weft
        .post(&url(&original), &json!({"from": ["nope", "charge"]}))
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`nope`"),
        "{body}"
    );
    let (status, body) = weft.post(&url(&original), &json!({"version": 9})).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no version 9"),
        "{body}"
    );
    let (status, body) = weft.post(&url("no-such-run"), &json!({})).await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = weft.post(&url(&original), &json!({"from": "ship"})).await;
    assert_eq!(status, 400, "from must be a list: {body}");

    // A run still going cannot be redriven.
    target.rule("/ship", Rule::Always(200));
    let running = weft.start_run("order", json!({"n": 1})).await;
    weft.wait_node(&running, "approve", "waiting").await;
    let (status, body) = weft.post(&url(&running), &json!({})).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("running"),
        "{body}"
    );

    // A completed run has nothing to default to.
    weft.post(
        &format!("/api/runs/{running}/approvals/approve"),
        &json!({"decision": "approve"}),
    )
    .await;
    weft.wait_for(&running, "completed").await;
    let (status, body) = weft.post(&url(&running), &json!({})).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`from`"),
        "{body}"
    );
    assert_eq!(weft.run(&running).await.get("redriven_by"), None);
    assert_index_matches_log(weft.database()).await;
}

#[tokio::test]
async fn a_paused_run_finishes_its_attempt_in_flight_and_starts_nothing_until_resumed() {
    let target = Target::spawn().await;
    target.rule(
        "/slow",
        Rule::SlowFirst(1, std::time::Duration::from_millis(800)),
    );
    let weft = Weft::fresh().await;
    weft.put_workflow(&json!({
        "name": "slow",
        "nodes": [{"id": "start", "type": "start"},
                  {"id": "call", "type": "http", "request": {"method": "GET", "url": target.url("/slow")}},
                  {"id": "after", "type": "http", "request": {"method": "GET", "url": target.url("/after")}},
                  {"id": "end", "type": "end"}],
        "edges": [{"from": "start", "to": "call"}, {"from": "call", "to": "after"}, {"from": "after", "to": "end"}]
    }))
    .await;
    let id = weft.start_run("slow", json!({})).await;
    weft.wait_node(&id, "call", "running").await;
    let (status, body) = weft
        .post(
            &format!("/api/runs/{id}/pause"),
            &json!({"reason": "investigating"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "paused");
    let (status, body) = weft
        .post(&format!("/api/runs/{id}/pause"), &json!({}))
        .await;
    assert_eq!(status, 409, "{body}");

    // The attempt in flight finishes and is recorded; the next node does not start.
    let run = weft.wait_node(&id, "call", "completed").await;
    assert_eq!(run["status"], "paused", "{run:#}");
    assert_eq!(run["nodes"]["after"]["status"], "pending", "{run:#}");
    assert!(target.seen_at("/after").is_empty());
    let (status, runs) = weft.get("/api/runs?status=paused").await;
    assert_eq!(status, 200);
    assert!(
        runs["runs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == id.as_str())
    );

    let (status, body) = weft
        .post(&format!("/api/runs/{id}/resume"), &json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    let run = weft.wait_for(&id, "completed").await;
    assert_eq!(run["nodes"]["after"]["status"], "completed");
    assert_eq!(target.seen_at("/after").len(), 1);
    let (status, body) = weft
        .post(&format!("/api/runs/{id}/resume"), &json!({}))
        .await;
    assert_eq!(status, 409, "{body}");
    let (status, body) = weft
        .post(&format!("/api/runs/{id}/pause"), &json!({}))
        .await;
    assert_eq!(status, 409, "a finished run: {body}");
    let events = weft.events(&id).await;
    let types: Vec<&str> = events
        .iter()
        .filter_map(|e| e["type"].as_str())
        .filter(|t| t.starts_with("run_"))
        .collect();
    assert_eq!(
        types,
        ["run_started", "run_paused", "run_resumed", "run_completed"]
    );
    assert_index_matches_log(weft.database()).await;
}

/// Polls until the store holds no timer due at or before `now`: a due timer of a paused run
/// was taken by the timer service (and refused by the run).
async fn wait_no_due_timer(weft: &Weft, now: i64) {
    let store = backend::store::Store::open(weft.database())
        .await
        .expect("open the store under test");
    let deadline = std::time::Instant::now() + crate::helpers::WAIT;
    while store
        .next_due()
        .await
        .expect("next due")
        .is_some_and(|due| due <= now)
    {
        assert!(std::time::Instant::now() < deadline, "a due timer stayed");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_paused_run_holds_its_due_timer_across_a_restart_and_resume_fires_it() {
    let target = Target::spawn().await;
    let mut weft = Weft::fresh_with(&[HOOKS]).await;
    weft.put_workflow(&json!({
        "name": "nap",
        "nodes": [{"id": "start", "type": "start"},
                  {"id": "wait", "type": "timer", "duration": "10s"},
                  {"id": "call", "type": "http", "request": {"method": "GET", "url": target.url("/call")}},
                  {"id": "end", "type": "end"}],
        "edges": [{"from": "start", "to": "wait"}, {"from": "wait", "to": "call"}, {"from": "call", "to": "end"}]
    }))
    .await;
    let id = weft.start_run("nap", json!({})).await;
    weft.wait_node(&id, "wait", "waiting").await;
    let (status, body) = weft
        .post(&format!("/api/runs/{id}/pause"), &json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    let now = weft.advance("30s").await;
    wait_no_due_timer(&weft, now).await;
    let run = weft.run(&id).await;
    assert_eq!(run["status"], "paused", "{run:#}");
    assert_eq!(
        run["nodes"]["wait"]["status"], "waiting",
        "the due timer waits"
    );
    assert!(target.seen_at("/call").is_empty());

    weft.set_env("WEFT_TEST_CLOCK_START", &now.to_string());
    weft.restart().await;
    let run = weft.run(&id).await;
    assert_eq!(
        run["status"], "paused",
        "still paused after a restart: {run:#}"
    );
    assert!(target.seen_at("/call").is_empty());

    let (status, body) = weft
        .post(&format!("/api/runs/{id}/resume"), &json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    let run = weft.wait_for(&id, "completed").await;
    assert_eq!(run["nodes"]["wait"]["status"], "completed");
    assert_eq!(target.seen_at("/call").len(), 1);
    assert_index_matches_log(weft.database()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: runs with WEFT_TEST_STORE=postgres -- --include-ignored"]
async fn pause_resume_redrive_and_bulk_work_through_any_process() {
    let (_dirs, nodes) = crate::cluster::cluster("operate cluster test").await;
    let target = Target::spawn().await;
    target.rule(
        "/slow",
        Rule::SlowFirst(1, std::time::Duration::from_millis(800)),
    );
    nodes[0]
        .put_workflow(&json!({
            "name": "slow",
            "nodes": [{"id": "start", "type": "start"},
                      {"id": "call", "type": "http", "request": {"method": "GET", "url": target.url("/slow")}},
                      {"id": "after", "type": "http", "retry": {"max_attempts": 1},
                       "request": {"method": "GET", "url": target.url("/after")}},
                      {"id": "end", "type": "end"}],
            "edges": [{"from": "start", "to": "call"}, {"from": "call", "to": "after"}, {"from": "after", "to": "end"}]
        }))
        .await;
    // Started (and its attempt sent) by one process, paused through another.
    let id = nodes[0].start_run("slow", json!({})).await;
    nodes[1].wait_node(&id, "call", "running").await;
    let (status, body) = nodes[1]
        .post(&format!("/api/runs/{id}/pause"), &json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    let run = nodes[2].wait_node(&id, "call", "completed").await;
    assert_eq!(run["status"], "paused", "{run:#}");
    assert_eq!(run["nodes"]["after"]["status"], "pending", "{run:#}");
    target.rule("/after", Rule::Always(500));
    let (status, body) = nodes[2]
        .post(&format!("/api/runs/{id}/resume"), &json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    nodes[0].wait_for(&id, "failed").await;
    assert_eq!(target.seen_at("/slow").len(), 1);

    // Redriven through another process: `call` is reused, `after` runs again.
    target.rule("/after", Rule::Always(200));
    let (status, body) = nodes[1]
        .post(&format!("/api/runs/{id}/redrive"), &json!({}))
        .await;
    assert_eq!(status, 201, "{body}");
    let again = body["run_id"].as_str().unwrap().to_owned();
    let run = nodes[2].wait_for(&again, "completed").await;
    assert_eq!(run["nodes"]["call"]["reused"], true);
    assert_eq!(
        target.seen_at("/slow").len(),
        1,
        "the reused step was not called again"
    );

    // A bulk pause made on one process is worked through by the cluster.
    let mut held = Vec::new();
    for k in 0..9 {
        held.push(nodes[k % 3].start_run("slow", json!({})).await);
    }
    let (status, body) = nodes[2]
        .post(
            "/api/runs/bulk",
            &json!({"action": "cancel", "filter": {"ids": held}}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let batch = body["batch_id"].as_str().unwrap().to_owned();
    let deadline = std::time::Instant::now() + crate::helpers::WAIT;
    loop {
        let b = nodes[0].get_ok(&format!("/api/batches/{batch}")).await;
        if b["status"] == "done" {
            // A run may have completed before its cancel came: then the cancel is refused.
            assert_eq!(
                b["done"].as_i64().unwrap() + b["failed"].as_i64().unwrap(),
                9,
                "{b:#}"
            );
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{b:#}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    for id in &held {
        let run = nodes[1].run(id).await;
        let events = nodes[1].events(id).await;
        let cancels = events
            .iter()
            .filter(|e| e["type"] == "cancel_requested")
            .count();
        assert!(cancels <= 1, "{id}: {events:#?}");
        assert!(run["status"] != "running" || cancels == 1, "{run:#}");
    }
}
