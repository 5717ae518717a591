//! Several `weft serve` processes on one PostgreSQL database (SPEC §4): they share the work,
//! a live stream on one shows what another executes, and when one is killed the others take
//! its work over. These run in the suite's PostgreSQL pass only (SQLite is one process's file):
//! they are `#[ignore]`d with that reason, so the SQLite pass lists them as ignored rather than
//! passed, and `scripts/test.sh` runs them with `--include-ignored` on PostgreSQL.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::http::Method;
use serde_json::{Value, json};

use crate::helpers::{Rule, Target, Weft, assert_gap_free, node_events, spawn_on, types};

const PROCESSES: usize = 3;
const RUNS: usize = 300;
const HTTP_NODES: [&str; 4] = ["a", "b", "c", "d"];

/// Three servers on one fresh database, each with its own port, log and temp dir. Fails on
/// SQLite, where several processes cannot share a database.
pub(crate) async fn cluster(test: &str) -> (Vec<tempfile::TempDir>, Vec<Weft>) {
    assert!(
        crate::pg::enabled(),
        "{test} needs PostgreSQL: run it with WEFT_TEST_STORE=postgres"
    );
    let dirs: Vec<_> = (0..PROCESSES)
        .map(|_| tempfile::tempdir().expect("dir"))
        .collect();
    let database = crate::pg::database_for(dirs[0].path()).await;
    let mut nodes = Vec::new();
    for d in &dirs {
        nodes.push(spawn_on(d.path(), database.clone(), &[]).await);
    }
    (dirs, nodes)
}

fn step(id: &str, target: &Target) -> Value {
    json!({"id": id, "type": "http", "timeout": "5s",
           "retry": {"max_attempts": 5, "initial_interval": "100ms"},
           "request": {"method": "POST", "url": target.url(&format!("/{id}")), "body": {"run": "{{ run.id }}"}}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: runs with WEFT_TEST_STORE=postgres -- --include-ignored"]
async fn a_stream_on_one_process_shows_a_run_driven_through_the_others() {
    let (_dirs, nodes) = cluster("cluster test").await;
    let target = Target::spawn().await;
    let def = json!({
        "name": "gate",
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "ask", "type": "approval", "prompt": "ok {{ run.id }}?"},
            step("a", &target),
            {"id": "done", "type": "end"}
        ],
        "edges": [{"from": "start", "to": "ask"}, {"from": "ask", "to": "a", "port": "approved"}, {"from": "a", "to": "done"}]
    });
    // Saved through one process, started through another, watched on the third.
    nodes[0].put_workflow(&def).await;
    let run = nodes[1].start_run("gate", json!({})).await;
    nodes[2].wait_node(&run, "ask", "waiting").await;
    let (opened, open) = tokio::sync::oneshot::channel();
    let watcher = {
        let client = nodes[2].client.clone();
        let url = nodes[2].url(&format!("/api/runs/{run}/stream"));
        tokio::spawn(async move {
            let mut resp = client.get(url).send().await.expect("stream");
            let mut text = String::new();
            let mut opened = Some(opened);
            while let Ok(Some(chunk)) = resp.chunk().await {
                text.push_str(&String::from_utf8_lossy(&chunk));
                // The history has arrived: the stream is live from here on.
                if text.contains("node_waiting")
                    && let Some(o) = opened.take()
                {
                    let _ = o.send(());
                }
                if text.contains("run_completed") {
                    break;
                }
            }
            text
        })
    };
    tokio::time::timeout(Duration::from_secs(20), open)
        .await
        .expect("the stream sent the history")
        .expect("watcher");
    let (status, body) = nodes[0]
        .post(
            &format!("/api/runs/{run}/approvals/ask"),
            &json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let text = tokio::time::timeout(Duration::from_secs(20), watcher)
        .await
        .expect("the stream on the third process saw the run complete")
        .expect("watcher");
    for ty in ["node_completed", "node_started", "run_completed"] {
        assert!(text.contains(ty), "stream lacks {ty}: {text}");
    }
    // A second approval through yet another process: the node is no longer waiting.
    let (status, _) = nodes[1]
        .post(
            &format!("/api/runs/{run}/approvals/ask"),
            &json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(status, 409);
    let events = nodes[1].events(&run).await;
    assert_gap_free(&events);
    assert_eq!(target.seen_at("/a").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: runs with WEFT_TEST_STORE=postgres -- --include-ignored"]
async fn webhooks_tasks_and_cancels_work_through_any_process() {
    let (_dirs, nodes) = cluster("cluster test").await;
    let def = json!({
        "name": "hooked",
        "triggers": {"webhook": {}},
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "work", "type": "task", "queue": "shared-q", "activity": "pack",
             "input": {"order": "{{ input.order }}"}},
            {"id": "wait", "type": "signal", "signal": "go"},
            {"id": "done", "type": "end", "output": "{{ nodes.work.output }}"}
        ],
        "edges": [{"from": "start", "to": "work"}, {"from": "work", "to": "wait"}, {"from": "wait", "to": "done"}]
    });
    nodes[0].put_workflow(&def).await;
    // Started by a webhook on process 2 …
    let resp = nodes[2]
        .client
        .post(nodes[2].url("/hooks/hooked"))
        .header("Idempotency-Key", "hook-1")
        .json(&json!({"order": "X1"}))
        .send()
        .await
        .expect("hook");
    assert_eq!(resp.status(), 202);
    // … its task polled on process 1 and completed through process 0 …
    let (status, task) = nodes[1]
        .post("/api/queues/shared-q/poll", &json!({"wait": "10s"}))
        .await;
    assert_eq!(status, 200, "{task}");
    assert_eq!(task["run_id"], "hook-1");
    assert_eq!(task["input"], json!({"order": "X1"}));
    let token = task["task_token"].as_str().expect("token");
    // A token built from the run id is no token on any process.
    let (status, body) = nodes[2]
        .post("/api/tasks/1.work.hook-1/complete", &json!({"output": {}}))
        .await;
    assert_eq!(status, 409, "{body}");
    let (status, body) = nodes[0]
        .post(
            &format!("/api/tasks/{token}/complete"),
            &json!({"output": {"packed": true}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // The token is spent everywhere.
    let (status, _) = nodes[2]
        .post(
            &format!("/api/tasks/{token}/complete"),
            &json!({"output": {}}),
        )
        .await;
    assert_eq!(status, 409);
    // … and its signal sent through process 2.
    nodes[1].wait_node("hook-1", "wait", "waiting").await;
    let (status, body) = nodes[2]
        .post("/api/runs/hook-1/signals/go", &json!({"payload": {}}))
        .await;
    assert_eq!(status, 200, "{body}");
    let run = nodes[0].wait_for("hook-1", "completed").await;
    assert_eq!(run["output"], json!({"packed": true}));

    // A second run, cancelled through another process than the one that started it.
    let (status, body) = nodes[0]
        .raw(
            Method::POST,
            "/hooks/hooked",
            br#"{"order": "X2"}"#.to_vec(),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let id = body["run_id"].as_str().expect("run_id").to_owned();
    nodes[2].wait_node(&id, "work", "running").await;
    let (status, body) = nodes[1]
        .post(
            &format!("/api/runs/{id}/cancel"),
            &json!({"reason": "test"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    nodes[2].wait_for(&id, "cancelled").await;
    // The cancelled attempt's task is gone from the shared queue.
    let (status, _) = nodes[0]
        .post("/api/queues/shared-q/poll", &json!({"wait": "300ms"}))
        .await;
    assert_eq!(status, 204);
    let (status, _) = nodes[2]
        .post(&format!("/api/runs/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(status, 409);
    assert_gap_free(&nodes[1].events(&id).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: runs with WEFT_TEST_STORE=postgres -- --include-ignored"]
async fn kill_9_one_of_three_processes_and_the_others_finish_every_run() {
    let (_dirs, mut nodes) = cluster("cluster fault test").await;
    let target = Target::spawn().await;
    for (i, node) in HTTP_NODES.iter().enumerate() {
        target.rule(
            &format!("/{node}"),
            Rule::Slow(Duration::from_millis(40 + 20 * i as u64)),
        );
    }
    let def = json!({
        "name": "shared",
        "nodes": [
            {"id": "start", "type": "start"},
            step("a", &target), step("b", &target),
            {"id": "nap", "type": "timer", "duration": "200ms"},
            step("c", &target), step("d", &target),
            {"id": "done", "type": "end"}
        ],
        "edges": [
            {"from": "start", "to": "a"}, {"from": "a", "to": "b"}, {"from": "b", "to": "nap"},
            {"from": "nap", "to": "c"}, {"from": "c", "to": "d"}, {"from": "d", "to": "done"}
        ]
    });
    nodes[0].put_workflow(&def).await;

    // Starts spread over the three processes, 30 at a time.
    let bases: Arc<Vec<(String, reqwest::Client)>> = Arc::new(
        nodes
            .iter()
            .map(|n| (n.base.clone(), n.client.clone()))
            .collect(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let mut starters = Vec::new();
    for _ in 0..30 {
        let (bases, next) = (bases.clone(), next.clone());
        starters.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= RUNS {
                    return ids;
                }
                let (base, client) = &bases[i % PROCESSES];
                let resp = client
                    .post(format!("{base}/api/workflows/shared/runs"))
                    .json(&json!({"input": {"i": i}}))
                    .send()
                    .await
                    .expect("start");
                assert_eq!(resp.status(), 201);
                let body: Value = resp.json().await.expect("json");
                ids.push(body["run_id"].as_str().expect("run_id").to_owned());
            }
        }));
    }
    let mut ids = Vec::new();
    for s in starters {
        ids.extend(s.await.expect("starter"));
    }
    assert_eq!(ids.len(), RUNS);

    // Kill process 0 while it has attempts in flight: once the target has seen a good share
    // of the steps, and before it has seen them all.
    let deadline = Instant::now() + Duration::from_secs(60);
    while target.seen().len() < RUNS {
        assert!(Instant::now() < deadline, "the runs never got going");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let kill_ms = now_ms();
    let killed_at = Instant::now();
    nodes[0].kill9();
    // The killed process may still have sent requests until `kill9` returned.
    let dead_ms = now_ms();

    let survivor = &nodes[1];
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let page = survivor
            .get_ok("/api/runs?workflow=shared&status=running&limit=1")
            .await;
        if page["runs"].as_array().is_some_and(Vec::is_empty) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "runs still running 90 s after the kill"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let all_done = killed_at.elapsed();

    let mut repeated = 0;
    let mut takeover_ms: Vec<i64> = Vec::new();
    let seen = target.seen();
    let mut by_key: HashMap<String, Vec<i64>> = HashMap::new();
    for s in &seen {
        if let Some(k) = &s.key {
            by_key.entry(k.clone()).or_default().push(s.at_ms);
        }
    }
    for id in &ids {
        let run = survivor.run(id).await;
        assert_eq!(run["status"], "completed", "run {id}: {run}");
        let events = survivor.events(id).await;
        assert_gap_free(&events);
        assert_eq!(types(&events).last(), Some(&"run_completed"));
        for node in HTTP_NODES {
            let completed = node_events(&events, "node_completed", node);
            assert_eq!(
                completed.len(),
                1,
                "{id}/{node} completed {} times",
                completed.len()
            );
            let done_at = completed[0]["at"].as_i64().expect("at");
            let sent = by_key
                .get(&format!("{id}/{node}"))
                .cloned()
                .unwrap_or_default();
            assert!(!sent.is_empty(), "{id}/{node} never reached the target");
            // A completed step is never sent again.
            assert!(
                sent.iter().all(|at| *at <= done_at),
                "{id}/{node} was sent after it completed: {sent:?} vs {done_at}"
            );
            if sent.len() > 1 {
                repeated += 1;
                // Only an attempt in flight at the kill is sent twice: once before, once after.
                assert_eq!(sent.len(), 2, "{id}/{node} sent {} times", sent.len());
                assert!(
                    sent[0] <= dead_ms && sent[1] >= dead_ms,
                    "{id}/{node}: {sent:?} (killed {kill_ms}..{dead_ms})"
                );
                takeover_ms.push(sent[1] - kill_ms);
            }
        }
    }
    takeover_ms.sort_unstable();
    eprintln!(
        "cluster fault test: {RUNS} runs on {PROCESSES} processes, process 0 killed; \
         {repeated} attempts in flight there were sent again by the others, \
         {} ms (first) to {} ms (last) after the kill; every run completed {} ms after the kill; \
         {} requests in all",
        takeover_ms.first().copied().unwrap_or(-1),
        takeover_ms.last().copied().unwrap_or(-1),
        all_done.as_millis(),
        seen.len()
    );
    assert!(
        repeated > 0,
        "no attempt was in flight on the killed process: the test proved nothing"
    );
    assert_eq!(
        crate::sim::assert_index_matches_log(survivor.database()).await,
        RUNS
    );
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
