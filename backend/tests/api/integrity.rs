//! The engine's integrity under the conditions that used to wedge runs: a fan-out whose
//! branches end at the same moment, a group commit that fails, a timer or a taken-over
//! attempt whose run cannot be read, and approvals decided on one process for runs another
//! process moved on. Every test ends by checking each `runs` row against its log.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::helpers::{Rule, Target, WAIT, Weft, node_events, spawn_on};
use crate::sim::{HOOKS, assert_index_matches_log};

/// A service whose three branch endpoints answer only once all three requests of a run have
/// arrived, all at the same moment: `fail` in the body makes them answer 400 (not retried).
struct Barrier {
    base: String,
    _server: tokio::task::JoinHandle<()>,
}

#[derive(Default)]
struct Arrivals {
    count: Mutex<HashMap<String, usize>>,
    all_in: Notify,
}

impl Barrier {
    async fn spawn() -> Barrier {
        async fn branch(State(a): State<Arc<Arrivals>>, body: axum::Json<Value>) -> StatusCode {
            let run = body["run"].as_str().unwrap_or_default().to_owned();
            let ready = {
                let mut c = a.count.lock().expect("count");
                let n = c.entry(run.clone()).or_default();
                *n += 1;
                *n >= 3
            };
            if ready {
                a.all_in.notify_waiters();
            } else {
                loop {
                    let notified = a.all_in.notified();
                    tokio::pin!(notified);
                    notified.as_mut().enable();
                    if a.count.lock().expect("count")[&run] >= 3 {
                        break;
                    }
                    notified.await;
                }
            }
            if body["fail"] == json!(true) {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::OK
            }
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind barrier");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let app = Router::new()
            .route("/{branch}", post(branch))
            .with_state(Arc::new(Arrivals::default()));
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("barrier serves");
        });
        Barrier {
            base,
            _server: server,
        }
    }
}

fn fan_out(barrier: &Barrier) -> Value {
    let branch = |id: &str| {
        json!({"id": id, "type": "http", "timeout": "10s", "retry": {"max_attempts": 1},
               "request": {"method": "POST", "url": format!("{}/{id}", barrier.base),
                           "body": {"run": "{{ run.id }}", "fail": "{{ input.fail }}"}}})
    };
    json!({
        "name": "together",
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "split", "type": "parallel"},
            branch("a"), branch("b"), branch("c"),
            {"id": "meet", "type": "join"},
            {"id": "done", "type": "end"}
        ],
        "edges": [
            {"from": "start", "to": "split"},
            {"from": "split", "to": "a"}, {"from": "split", "to": "b"}, {"from": "split", "to": "c"},
            {"from": "a", "to": "meet"}, {"from": "b", "to": "meet"}, {"from": "c", "to": "meet"},
            {"from": "meet", "to": "done"}
        ]
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn branches_that_end_at_the_same_moment_never_wedge_a_run() {
    let (weft, barrier) = (Weft::fresh().await, Barrier::spawn().await);
    weft.put_workflow(&fan_out(&barrier)).await;
    let mut runs = Vec::new();
    for i in 0..40 {
        let fail = i % 2 == 0;
        let (status, body) = weft
            .post(
                "/api/workflows/together/runs",
                &json!({"input": {"fail": fail}}),
            )
            .await;
        assert_eq!(status, 201, "start {i}: {body}");
        runs.push((body["id"].as_str().expect("id").to_owned(), fail));
    }
    for (id, fail) in &runs {
        let run = weft
            .wait_for(id, if *fail { "failed" } else { "completed" })
            .await;
        for branch in ["a", "b", "c"] {
            let want = if *fail { "failed" } else { "completed" };
            let got = &run["nodes"][branch]["status"];
            // A failing run cancels the branches still running when the first one fails.
            assert!(
                got == want || (*fail && got == "cancelled"),
                "{id} {branch}: {run:#}"
            );
        }
    }
    assert!(
        !weft.log().contains("group commit failed"),
        "{}",
        weft.log()
    );
    assert_eq!(assert_index_matches_log(weft.database()).await, 40);
}

fn quick(name: &str) -> Value {
    json!({
        "name": name,
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "shape", "type": "transform", "output": {"n": "{{ input.n }}"}},
            {"id": "done", "type": "end", "output": "{{ nodes.shape.output }}"}
        ],
        "edges": [{"from": "start", "to": "shape"}, {"from": "shape", "to": "done"}]
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_group_commit_refuses_nothing_it_can_write_again() {
    let weft = Weft::simulated().await;
    weft.put_workflow(&quick("quick")).await;
    weft.faults(json!({"fail_commits": 1})).await;
    let starts = (0..20).map(|n| {
        let weft = &weft;
        async move {
            weft.post("/api/workflows/quick/runs", &json!({"input": {"n": n}}))
                .await
        }
    });
    let answers = futures_util::future::join_all(starts).await;
    assert_eq!(weft.armed().await["fail_commits"], 0, "the fault fired");
    for (n, (status, body)) in answers.iter().enumerate() {
        assert_eq!(*status, 201, "start {n}: {body}");
        let run = weft
            .wait_for(body["id"].as_str().expect("id"), "completed")
            .await;
        assert_eq!(run["output"], json!({"n": n}), "{run:#}");
    }
    assert_eq!(assert_index_matches_log(weft.database()).await, 20);
}

/// Advances the simulated clock in steps until the run has `status`: a fault's retry waits
/// on the clock too, so time must move for it.
async fn advance_until(weft: &Weft, id: &str, status: &str, step: &str) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        weft.advance(step).await;
        let run = weft.run(id).await;
        if run["status"] == status {
            return run;
        }
        assert!(
            Instant::now() < deadline,
            "run {id} never became {status}: {run:#}\nlog:\n{}",
            weft.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timer_whose_run_cannot_be_read_stays_and_fires_later() {
    let weft = Weft::simulated().await;
    weft.put_workflow(&json!({
        "name": "nap",
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "nap", "type": "timer", "duration": "1m"},
            {"id": "done", "type": "end", "output": "rested"}
        ],
        "edges": [{"from": "start", "to": "nap"}, {"from": "nap", "to": "done"}]
    }))
    .await;
    let id = weft.start_run("nap", json!({})).await;
    weft.wait_node(&id, "nap", "waiting").await;
    // The next read of a run's log fails: the one the timer's firing makes.
    weft.faults(json!({"fail_reads": 1})).await;
    weft.advance("61s").await;
    let deadline = Instant::now() + WAIT;
    while weft.armed().await["fail_reads"] != 0 {
        assert!(
            Instant::now() < deadline,
            "the timer never fired; log:\n{}",
            weft.log()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let run = advance_until(&weft, &id, "completed", "2s").await;
    assert_eq!(run["output"], "rested", "{run:#}");
    assert!(
        weft.log().contains("a timer could not fire"),
        "{}",
        weft.log()
    );
    let events = weft.events(&id).await;
    assert_eq!(node_events(&events, "node_completed", "nap").len(), 1);
    assert_eq!(assert_index_matches_log(weft.database()).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attempt_resumed_after_a_restart_is_sent_even_when_reading_its_run_fails() {
    let mut weft = Weft::simulated().await;
    let target = Target::spawn().await;
    // The first attempt hangs on the process that is killed; the one sent after the restart
    // answers at once.
    target.rule("/hold", Rule::SlowFirst(1, Duration::from_secs(60)));
    weft.put_workflow(&held(&target)).await;
    let id = weft.start_run("held", json!({})).await;
    seen(&target, 1, None, "the first attempt was never sent").await;
    weft.kill9();
    // Recovery's read of the run fails once; the attempt must still be sent again.
    weft.set_env("WEFT_TEST_FAIL_READS", "1");
    weft.restart().await;
    let why = "the recovered attempt was never sent again";
    seen(&target, 2, Some((&weft, "2s")), why).await;
    assert_eq!(weft.armed().await["fail_reads"], 0, "the fault fired");
    let run = weft.wait_for(&id, "completed").await;
    assert_eq!(run["output"], 200, "{run:#}");
    assert_eq!(assert_index_matches_log(weft.database()).await, 1);
}

/// Waits until `target` has seen `n` requests at `/hold`; with `clock`, moves that server's
/// clock by its step before each look (a lease or a retry waits on it).
async fn seen(target: &Target, n: usize, clock: Option<(&Weft, &str)>, why: &str) {
    let deadline = Instant::now() + WAIT;
    while target.seen_at("/hold").len() < n {
        if let Some((weft, step)) = clock {
            weft.advance(step).await;
        }
        if Instant::now() >= deadline {
            let log = clock.map(|(w, _)| w.log()).unwrap_or_default();
            panic!("{why}; log:\n{log}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn held(target: &Target) -> Value {
    json!({
        "name": "held",
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "call", "type": "http", "timeout": "2m",
             "request": {"method": "POST", "url": target.url("/hold")}},
            {"id": "done", "type": "end", "output": "{{ nodes.call.output.status }}"}
        ],
        "edges": [{"from": "start", "to": "call"}, {"from": "call", "to": "done"}]
    })
}

/// Two servers with simulated clocks on one fresh PostgreSQL database.
async fn pair(hooks: bool) -> (Vec<tempfile::TempDir>, Vec<Weft>) {
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().expect("dir")).collect();
    let database = crate::pg::database_for(dirs[0].path()).await;
    let envs: &[(&str, &str)] = if hooks { &[HOOKS] } else { &[] };
    let mut nodes = Vec::new();
    for d in &dirs {
        nodes.push(spawn_on(d.path(), database.clone(), envs).await);
    }
    (dirs, nodes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: runs in the PostgreSQL pass (WEFT_TEST_STORE=postgres)"]
async fn a_taken_over_attempt_is_sent_again_even_when_reading_its_run_fails() {
    let (_dirs, mut nodes) = pair(true).await;
    let target = Target::spawn().await;
    // The first attempt hangs on the process that is killed; the retry answers at once.
    target.rule("/hold", Rule::SlowFirst(1, Duration::from_secs(60)));
    nodes[0].put_workflow(&held(&target)).await;
    let id = nodes[0].start_run("held", json!({})).await;
    seen(&target, 1, None, "the first attempt was never sent").await;
    nodes[0].kill9();
    let survivor = &nodes[1];
    // The takeover's read of the run fails once; the attempt must still be sent again.
    survivor.faults(json!({"fail_reads": 1})).await;
    let why = "the taken-over attempt was never sent again";
    seen(&target, 2, Some((survivor, "7s")), why).await;
    assert_eq!(survivor.armed().await["fail_reads"], 0, "the fault fired");
    let run = survivor.wait_for(&id, "completed").await;
    assert_eq!(run["output"], 200, "{run:#}");
    let keys: Vec<_> = target
        .seen_at("/hold")
        .iter()
        .map(|s| s.key.clone())
        .collect();
    assert!(
        keys.iter().all(|k| *k == keys[0]),
        "one Idempotency-Key: {keys:?}"
    );
    assert_eq!(assert_index_matches_log(survivor.database()).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: runs in the PostgreSQL pass (WEFT_TEST_STORE=postgres)"]
async fn approvals_through_alternating_processes_never_meet_a_stale_view() {
    let (_dirs, nodes) = pair(false).await;
    nodes[0]
        .put_workflow(&json!({
            "name": "handoff",
            "nodes": [
                {"id": "start", "type": "start"},
                {"id": "work", "type": "task", "queue": "handoff", "activity": "prepare"},
                {"id": "ok", "type": "approval", "prompt": "ship?"},
                {"id": "done", "type": "end", "output": "{{ nodes.work.output }}"}
            ],
            "edges": [{"from": "start", "to": "work"}, {"from": "work", "to": "ok"},
                      {"from": "ok", "to": "done", "port": "approved"}]
        }))
        .await;
    const RUNS: usize = 200;
    for i in 0..RUNS {
        // Started (and its task queued) on one process, the task done through the other, the
        // approval decided on the first: the first holds the run in memory from the start.
        let (here, there) = (&nodes[i % 2], &nodes[(i + 1) % 2]);
        let id = here.start_run("handoff", json!({"i": i})).await;
        let (status, task) = there
            .post("/api/queues/handoff/poll", &json!({"wait": "5s"}))
            .await;
        assert_eq!(status, 200, "run {i}: no task: {task}");
        assert_eq!(task["run_id"], json!(id));
        let token = task["task_token"].as_str().expect("token");
        let (status, body) = there
            .post(
                &format!("/api/tasks/{token}/complete"),
                &json!({"output": i}),
            )
            .await;
        assert_eq!(status, 200, "run {i}: {body}");
        let events = here.events(&id).await;
        assert!(
            !node_events(&events, "node_waiting", "ok").is_empty(),
            "run {i}: the log shows the approval waiting once the report returned: {events:#?}"
        );
        let (status, body) = here
            .post(
                &format!("/api/runs/{id}/approvals/ok"),
                &json!({"decision": "approve"}),
            )
            .await;
        assert_eq!(
            status, 200,
            "run {i}: approving a node the log shows waiting: {body}"
        );
        let run = there.wait_for(&id, "completed").await;
        assert_eq!(run["output"], json!(i), "{run:#}");
    }
    assert_eq!(assert_index_matches_log(nodes[0].database()).await, RUNS);
}
