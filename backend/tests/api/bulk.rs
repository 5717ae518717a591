//! Bulk actions (SPEC §6): a filter's dry-run count, the refusal of a filter that matches
//! everything by accident, cancel / pause / resume / redrive as batches with progress, each
//! run acted on once — also across a kill -9 in the middle of a batch.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{WAIT, Weft, node_events};
use crate::sim::assert_index_matches_log;

/// `start → ok (approval) → end`: a run that waits for a person.
fn held(name: &str) -> Value {
    json!({
        "name": name,
        "nodes": [{"id": "start", "type": "start"}, {"id": "ok", "type": "approval", "prompt": "go?"},
                  {"id": "end", "type": "end"}],
        "edges": [{"from": "start", "to": "ok"}, {"from": "ok", "to": "end", "port": "approved"}]
    })
}

async fn start_many(weft: &Weft, workflow: &str, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for chunk in (0..n).collect::<Vec<_>>().chunks(64) {
        let started = join_all(chunk.iter().map(|_| weft.start_run(workflow, json!({})))).await;
        ids.extend(started);
    }
    for id in &ids {
        weft.wait_node(id, "ok", "waiting").await;
    }
    ids
}

async fn bulk(weft: &Weft, body: Value) -> (u16, Value) {
    weft.post("/api/runs/bulk", &body).await
}

/// Polls the batch until it is done; returns it.
async fn wait_batch(weft: &Weft, id: &str) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let b = weft.get_ok(&format!("/api/batches/{id}")).await;
        if b["status"] == "done" {
            return b;
        }
        assert!(Instant::now() < deadline, "batch never finished: {b:#}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn statuses(runs: &[Value]) -> Vec<&str> {
    runs.iter().map(|r| r["status"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn a_bulk_cancel_counts_first_refuses_a_filter_that_matches_everything_and_acts_once() {
    let weft = Weft::fresh().await;
    weft.put_workflow(&held("hold")).await;
    weft.put_workflow(&held("other")).await;
    let ids = start_many(&weft, "hold", 30).await;
    let others = start_many(&weft, "other", 5).await;

    let (status, body) = bulk(&weft, json!({"action": "cancel", "filter": {}})).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("\"all\": true"),
        "{body}"
    );
    let (status, body) = bulk(
        &weft,
        json!({"action": "cancel", "filter": {"status": "asleep"}}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = bulk(
        &weft,
        json!({"action": "cancel", "filter": {"created_after": "last week"}}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = bulk(&weft, json!({"action": "delete", "filter": {"all": true}})).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = bulk(
        &weft,
        json!({"action": "cancel", "filter": {"all": true}, "dry_run": true}),
    )
    .await;
    assert_eq!(
        (status, body["matched"].clone()),
        (200, json!(35)),
        "{body}"
    );

    let filter = json!({"workflow": "hold", "status": "running", "created_after": 0,
                        "created_before": "2999-01-01T00:00:00+02:00"});
    let (status, body) = bulk(
        &weft,
        json!({"action": "cancel", "filter": filter, "dry_run": true}),
    )
    .await;
    assert_eq!(
        (status, body["matched"].clone()),
        (200, json!(30)),
        "{body}"
    );
    assert!(
        body.get("batch_id").is_none(),
        "a dry run makes no batch: {body}"
    );
    let listed = weft.get_ok("/api/runs?workflow=hold&limit=100").await;
    assert_eq!(
        statuses(listed["runs"].as_array().unwrap()),
        vec!["running"; 30],
        "nothing acted"
    );

    let (status, body) = bulk(&weft, json!({"action": "cancel", "filter": filter})).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["matched"], 30);
    let batch = wait_batch(&weft, body["batch_id"].as_str().unwrap()).await;
    assert_eq!(
        (batch["done"].clone(), batch["failed"].clone()),
        (json!(30), json!(0)),
        "{batch:#}"
    );
    assert_eq!(batch["action"], "cancel");
    for id in &ids {
        let run = weft.wait_for(id, "cancelled").await;
        assert!(
            run["error"].as_str().unwrap().contains("bulk batch"),
            "{run:#}"
        );
    }
    for id in &others {
        assert_eq!(
            weft.run(id).await["status"],
            "running",
            "outside the filter"
        );
    }

    // The same runs again, by id: each is refused, and says why.
    let (status, body) = bulk(
        &weft,
        json!({"action": "cancel", "filter": {"ids": ids[..3]}}),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let batch = wait_batch(&weft, body["batch_id"].as_str().unwrap()).await;
    assert_eq!(
        (batch["done"].clone(), batch["failed"].clone()),
        (json!(0), json!(3)),
        "{batch:#}"
    );
    assert!(
        batch["errors"][0]["error"]
            .as_str()
            .unwrap()
            .contains("already cancelled"),
        "{batch:#}"
    );
    let (status, _) = weft.get("/api/batches/nope").await;
    assert_eq!(status, 404);
    assert_index_matches_log(weft.database()).await;
}

#[tokio::test]
async fn bulk_pause_resume_and_redrive_act_on_what_they_match() {
    let weft = Weft::fresh().await;
    weft.put_workflow(&held("hold")).await;
    let ids = start_many(&weft, "hold", 6).await;
    let (status, body) = bulk(
        &weft,
        json!({"action": "pause", "filter": {"workflow": "hold"}}),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    wait_batch(&weft, body["batch_id"].as_str().unwrap()).await;
    let paused = weft.get_ok("/api/runs?status=paused").await;
    assert_eq!(paused["runs"].as_array().unwrap().len(), 6);
    let (status, body) = bulk(
        &weft,
        json!({"action": "resume", "filter": {"status": "paused"}}),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let batch = wait_batch(&weft, body["batch_id"].as_str().unwrap()).await;
    assert_eq!(batch["done"], 6, "{batch:#}");

    // Reject two: they fail at `ok`, and a bulk redrive asks for them again.
    for id in &ids[..2] {
        let (status, body) = weft
            .post(
                &format!("/api/runs/{id}/approvals/ok"),
                &json!({"decision": "reject"}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        weft.wait_for(id, "failed").await;
    }
    let (status, body) = bulk(
        &weft,
        json!({"action": "redrive", "filter": {"status": "failed"}}),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let batch = wait_batch(&weft, body["batch_id"].as_str().unwrap()).await;
    assert_eq!(
        (batch["done"].clone(), batch["failed"].clone()),
        (json!(2), json!(0)),
        "{batch:#}"
    );
    for id in &ids[..2] {
        let original = weft.run(id).await;
        let redrives = original["redriven_by"]
            .as_array()
            .expect("redriven")
            .clone();
        assert_eq!(redrives.len(), 1, "{original:#}");
        let again = weft
            .wait_node(redrives[0].as_str().unwrap(), "ok", "waiting")
            .await;
        assert_eq!(again["redrive_of"]["from"], json!(["ok"]));
        assert_eq!(again["nodes"]["start"]["reused"], true);
    }
    assert_index_matches_log(weft.database()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_cancel_killed_midway_acts_on_every_run_exactly_once() {
    const RUNS: usize = 600;
    let mut weft = Weft::fresh().await;
    weft.put_workflow(&held("many")).await;
    let ids = start_many(&weft, "many", RUNS).await;
    let (status, body) = bulk(
        &weft,
        json!({"action": "cancel", "filter": {"workflow": "many"}}),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let batch_id = body["batch_id"].as_str().unwrap().to_owned();
    // Kill it once some of the runs, but not all, are cancelled.
    let deadline = Instant::now() + WAIT;
    loop {
        let b = weft.get_ok(&format!("/api/batches/{batch_id}")).await;
        if b["done"].as_i64().unwrap() > 0 {
            assert!(
                b["done"].as_i64().unwrap() < RUNS as i64,
                "too late to kill: {b:#}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "the batch never started: {b:#}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    weft.kill9();
    weft.restart().await;
    let batch = wait_batch(&weft, &batch_id).await;
    assert_eq!(
        (batch["done"].clone(), batch["failed"].clone()),
        (json!(RUNS), json!(0)),
        "a run acted on before the kill was taken again: {batch:#}"
    );
    for id in &ids {
        weft.wait_for(id, "cancelled").await;
        let events = weft.events(id).await;
        let cancels: Vec<&Value> = events
            .iter()
            .filter(|e| e["type"] == "cancel_requested")
            .collect();
        assert_eq!(cancels.len(), 1, "{id}: {events:#?}");
        assert!(
            node_events(&events, "node_cancelled", "ok").len() == 1,
            "{events:#?}"
        );
    }
    assert_index_matches_log(weft.database()).await;
}
