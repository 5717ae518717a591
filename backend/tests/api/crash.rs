//! Crash tests (SPEC §1 "Durability"). The big one: ~40 runs of a workflow with http steps,
//! a timer and an approval; the server is killed with SIGKILL three times at different
//! moments and restarted on the same SQLite file, while a background task approves. In the
//! end every run is completed, every step's side effect happened under one Idempotency-Key,
//! a step was repeated only by a server process that came after a kill, no step was sent
//! after it was recorded as completed, no node completed twice, and every history is
//! gap-free. A small one: retry, timer and approval-deadline timers that fall due while the
//! server is down fire on restart.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{BaseUrl, Rule, Target, Weft, node_events, spawn_weft};
use crate::sim::assert_index_matches_log;

const RUNS: usize = 40;
const HTTP_NODES: [&str; 4] = ["a", "b", "c", "d"];
/// How long the target takes to answer each step, so kills find attempts in flight.
const LATENCY_MS: [u64; 4] = [100, 200, 150, 150];
/// The pause between starting two runs, so the runs are at different steps at each kill.
const STAGGER_MS: u64 = 15;
const ALL_NODES: [&str; 8] = ["start", "a", "b", "nap", "c", "gate", "d", "done"];
/// How long to let the server work before each kill (after the previous (re)start).
const KILL_AFTER_MS: [u64; 3] = [150, 450, 350];

fn step(id: &str, target: &Target) -> Value {
    json!({
        "id": id, "type": "http",
        "request": {"method": "POST", "url": target.url(&format!("/{id}")),
                    "body": {"run": "{{ run.id }}", "node": id}},
        "timeout": "5s",
        "retry": {"max_attempts": 5, "initial_interval": "50ms"}
    })
}

/// Approves every running run's `gate` until told to stop; errors (the server is down,
/// the gate is not waiting yet) just mean "try again".
async fn approver(base: BaseUrl, stop: Arc<AtomicBool>) -> usize {
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(2))
        .build()
        .expect("client");
    let mut approved: HashSet<String> = HashSet::new();
    while !stop.load(Ordering::Relaxed) {
        let base = base.get();
        let list = client
            .get(format!(
                "{base}/api/runs?workflow=crash&status=running&limit=500"
            ))
            .send()
            .await;
        let running: Vec<String> = match list {
            Ok(r) => match r.json::<Value>().await {
                Ok(v) => v["runs"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|r| r["id"].as_str().map(str::to_owned))
                    .collect(),
                Err(_) => Vec::new(),
            },
            Err(_) => Vec::new(),
        };
        for id in running {
            if approved.contains(&id) {
                continue;
            }
            let resp = client
                .post(format!("{base}/api/runs/{id}/approvals/gate"))
                .json(&json!({"decision": "approve", "comment": "crash test"}))
                .send()
                .await;
            if resp.is_ok_and(|r| r.status() == 200) {
                approved.insert(id);
            }
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    approved.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_three_times_and_every_run_completes_exactly_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let target = Target::spawn().await;
    for (node, ms) in HTTP_NODES.iter().zip(LATENCY_MS) {
        target.rule(&format!("/{node}"), Rule::Slow(Duration::from_millis(ms)));
    }
    let mut weft = spawn_weft(dir.path()).await;
    let def = json!({
        "name": "crash",
        "nodes": [
            {"id": "start", "type": "start"},
            step("a", &target),
            step("b", &target),
            {"id": "nap", "type": "timer", "duration": "300ms"},
            step("c", &target),
            {"id": "gate", "type": "approval", "prompt": "ship {{ run.id }}?"},
            step("d", &target),
            {"id": "done", "type": "end", "output": {"d": "{{ nodes.d.output.status }}"}}
        ],
        "edges": [
            {"from": "start", "to": "a"}, {"from": "a", "to": "b"}, {"from": "b", "to": "nap"},
            {"from": "nap", "to": "c"}, {"from": "c", "to": "gate"},
            {"from": "gate", "to": "d", "port": "approved"}, {"from": "d", "to": "done"}
        ]
    });
    weft.put_workflow(&def).await;

    let mut ids = Vec::with_capacity(RUNS);
    for i in 0..RUNS {
        ids.push(weft.start_run("crash", json!({"i": i})).await);
        tokio::time::sleep(Duration::from_millis(STAGGER_MS)).await;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let approvals = tokio::spawn(approver(weft.base_url(), stop.clone()));

    // When each server process after a kill was spawned: a request that arrived after
    // `spawned[k]` was sent by process k+1 or later.
    let mut spawned: Vec<Instant> = Vec::new();
    for (k, pause) in KILL_AFTER_MS.iter().enumerate() {
        tokio::time::sleep(Duration::from_millis(*pause)).await;
        if k == 0 {
            let running = weft.get_ok("/api/runs?status=running&limit=500").await;
            let n = running["runs"].as_array().map_or(0, Vec::len);
            assert!(
                n > 0,
                "every run finished before the first kill: the test kills nothing"
            );
        }
        weft.kill9();
        // Down for a while: timers fall due, in-flight requests are surely delivered.
        tokio::time::sleep(Duration::from_millis(100)).await;
        spawned.push(Instant::now());
        weft.restart().await;
    }
    let kills = spawned.len();

    let mut runs = Vec::new();
    for id in &ids {
        runs.push(weft.wait_for(id, "completed").await);
    }
    stop.store(true, Ordering::Relaxed);
    let approved = approvals.await.expect("approver");

    let seen = target.seen();
    let mut by_step: BTreeMap<(String, String), Vec<&crate::helpers::Seen>> = BTreeMap::new();
    for s in &seen {
        let run = s.body["run"].as_str().unwrap_or_default().to_owned();
        let node = s.path.trim_start_matches('/').to_owned();
        assert!(ids.contains(&run), "a request for an unknown run: {s:?}");
        by_step.entry((run, node)).or_default().push(s);
    }

    let mut repeated: BTreeMap<&str, usize> = BTreeMap::new();
    let mut problems = Vec::new();
    for (id, run) in ids.iter().zip(&runs) {
        assert_eq!(run["output"], json!({"d": 200}), "{run:#}");
        let events = weft.events(id).await;
        for node in ALL_NODES {
            let n = node_events(&events, "node_completed", node).len();
            if n != 1 {
                problems.push(format!("{id}: node {node} completed {n} times"));
            }
        }
        for node in HTTP_NODES {
            let Some(reqs) = by_step.get(&(id.clone(), node.to_owned())) else {
                problems.push(format!("{id}: {node} never reached the target"));
                continue;
            };
            *repeated.entry(node).or_default() += reqs.len() - 1;
            let keys: HashSet<Option<&str>> = reqs.iter().map(|r| r.key.as_deref()).collect();
            let want = format!("{id}/{node}");
            if keys != HashSet::from([Some(want.as_str())]) {
                problems.push(format!(
                    "{id}: {node} was sent with keys {keys:?}, want {want}"
                ));
            }
            if reqs.len() > 1 + kills {
                problems.push(format!(
                    "{id}: {node} sent {} times with {kills} kills",
                    reqs.len()
                ));
            }
            // One server process sends a step at most once (the target never fails here).
            let generations: Vec<usize> = reqs
                .iter()
                .map(|r| spawned.iter().filter(|&&s| s <= r.at).count())
                .collect();
            let distinct: HashSet<&usize> = generations.iter().collect();
            if distinct.len() != generations.len() {
                problems.push(format!(
                    "{id}: {node} was sent twice by one server process (processes {generations:?})"
                ));
            }
            // Nothing is sent for a step after its completion is recorded.
            let completed_at = node_events(&events, "node_completed", node)
                .first()
                .and_then(|e| e["at"].as_i64())
                .unwrap_or(i64::MAX);
            if let Some(late) = reqs.iter().find(|r| r.at_ms > completed_at) {
                problems.push(format!(
                    "{id}: {node} sent at {} after it completed at {completed_at}",
                    late.at_ms
                ));
            }
        }
    }
    println!(
        "crash test: {} runs, {kills} kills, {} requests, {} repeated requests {repeated:?}, {approved} approvals confirmed",
        ids.len(),
        seen.len(),
        repeated.values().sum::<usize>()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(assert_index_matches_log(weft.database()).await, RUNS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timers_that_fall_due_while_the_server_is_down_fire_on_restart() {
    let target = Target::spawn().await;
    target.rule("/flaky", Rule::FailFirst(1, 503));
    let mut weft = Weft::simulated().await;
    let retry = json!({
        "name": "retry-later",
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "call", "type": "http", "request": {"method": "POST", "url": target.url("/flaky")},
             "retry": {"max_attempts": 3, "initial_interval": "300ms"}},
            {"id": "done", "type": "end"}
        ],
        "edges": [{"from": "start", "to": "call"}, {"from": "call", "to": "done"}]
    });
    let nap = json!({
        "name": "nap",
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "nap", "type": "timer", "duration": "300ms"},
            {"id": "done", "type": "end"}
        ],
        "edges": [{"from": "start", "to": "nap"}, {"from": "nap", "to": "done"}]
    });
    let deadline = json!({
        "name": "deadline",
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "gate", "type": "approval", "prompt": "ok?", "timeout": "300ms"},
            {"id": "done", "type": "end", "output": "approved"},
            {"id": "late", "type": "end", "output": "timed out"}
        ],
        "edges": [
            {"from": "start", "to": "gate"},
            {"from": "gate", "to": "done", "port": "approved"},
            {"from": "gate", "to": "late", "port": "timeout"}
        ]
    });
    for def in [&retry, &nap, &deadline] {
        weft.put_workflow(def).await;
    }
    let r = weft.start_run("retry-later", json!({})).await;
    let n = weft.start_run("nap", json!({})).await;
    let d = weft.start_run("deadline", json!({})).await;
    weft.wait_node(&r, "call", "retrying").await;
    weft.wait_node(&n, "nap", "waiting").await;
    weft.wait_node(&d, "gate", "waiting").await;
    weft.kill9();
    weft.restart().await;
    // The restarted server's clock is a second past every timer's due time: they fell due
    // while it was down.
    weft.advance("1s").await;

    let run = weft.wait_for(&r, "completed").await;
    assert_eq!(run["nodes"]["call"]["attempts"], 2, "{run:#}");
    assert_eq!(target.seen_at("/flaky").len(), 2);
    weft.wait_for(&n, "completed").await;
    let run = weft.wait_for(&d, "completed").await;
    assert_eq!(run["output"], "timed out", "{run:#}");
    for id in [&r, &n, &d] {
        weft.events(id).await;
    }
    assert_eq!(assert_index_matches_log(weft.database()).await, 3);
}
