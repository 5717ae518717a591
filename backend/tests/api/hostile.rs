//! Hostile and oversized input (issue 13): what an attacker or a careless author sends, under
//! the 1 MiB body cap, gets a precise answer or fails its own node, and never stalls anyone
//! else. Each test runs its hostile work beside [`probe`]: `/healthz` must answer and an
//! ordinary run must complete while the hostile requests are being processed.
//!
//! The rows of the table that concern the API's edges (content types, origins,
//! hosts, body shapes, ids, signals, panics) are in `edges.rs`; saves under load and task
//! tokens in `workflows.rs` and `tasks.rs`; the limits of the validator itself in the shared
//! crate's tests.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Rule, Target, Weft, node_events};
use crate::sim::assert_index_matches_log;

/// `start → n transforms → done`, each transform reading the one before it.
fn chain(name: &str, n: usize) -> Value {
    let mut nodes = vec![json!({"id": "start", "type": "start"})];
    let mut edges = Vec::new();
    let mut prev = "start".to_owned();
    for k in 0..n {
        let id = format!("t{k}");
        let output = if k == 0 {
            json!({"k": 0})
        } else {
            json!({"k": format!("{{{{ nodes.{prev}.output.k + 1 }}}}")})
        };
        nodes.push(json!({"id": id, "type": "transform", "output": output}));
        edges.push(json!({"from": prev, "to": id}));
        prev = id;
    }
    nodes.push(
        json!({"id": "done", "type": "end", "output": format!("{{{{ nodes.{prev}.output }}}}")}),
    );
    edges.push(json!({"from": prev, "to": "done"}));
    json!({"name": name, "nodes": nodes, "edges": edges})
}

/// `start → one node → done`, the node's failure failing the run.
fn single(name: &str, node: Value) -> Value {
    let id = node["id"].clone();
    json!({
        "name": name,
        "nodes": [{"id": "start", "type": "start"}, node, {"id": "done", "type": "end"}],
        "edges": [{"from": "start", "to": id}, {"from": id, "to": "done"}]
    })
}

/// A template that loops 10^10 times without the budget.
const LOOPS: &str =
    "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}";

/// While `hostile` runs, `/healthz` answers 200 and an ordinary run starts and completes;
/// returns what `hostile` returned.
async fn probe<T>(weft: &Weft, hostile: impl std::future::Future<Output = T>) -> T {
    let ordinary = async {
        let (status, body) = weft.get("/healthz").await;
        assert_eq!(
            status, 200,
            "/healthz while hostile input is processed: {body}"
        );
        let id = weft.start_run("ordinary", json!({})).await;
        weft.wait_for(&id, "completed").await;
    };
    let (out, ()) = tokio::join!(hostile, ordinary);
    out
}

async fn server() -> Weft {
    let weft = Weft::fresh().await;
    weft.put_workflow(&single(
        "ordinary",
        json!({"id": "t", "type": "transform", "output": {"ok": true}}),
    ))
    .await;
    weft
}

fn error_code(body: &Value) -> Vec<String> {
    body["error"]["details"]["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["code"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_as_long_as_allowed_runs_and_a_longer_one_is_refused() {
    let weft = server().await;
    // Start and end plus the transforms: exactly the node limit.
    let longest = shared::limits::MAX_NODES - 2;
    weft.put_workflow(&chain("long", longest)).await;
    let id = probe(&weft, weft_start(&weft, "long")).await;
    let run = weft.wait_for(&id, "completed").await;
    assert_eq!(
        run["output"],
        json!({"k": longest - 1}),
        "every transform ran in order"
    );

    for n in [3_000, 5_000] {
        let (status, body) = weft.put("/api/workflows/longer", &chain("longer", n)).await;
        assert_eq!(status, 422, "{n} nodes: {body}");
        assert_eq!(error_code(&body), ["too_many_nodes"], "{n} nodes: {body}");
    }
    let (status, _) = weft.get("/api/workflows/longer").await;
    assert_eq!(status, 404, "nothing of a refused definition is stored");
}

async fn weft_start(weft: &Weft, name: &str) -> String {
    weft.start_run(name, json!({})).await
}

/// `start → parallel → parallel → … → done`: 10,000 nodes, 612 KiB.
fn parallel_chain(n: usize) -> Value {
    let mut nodes = vec![json!({"id": "start", "type": "start"})];
    let mut edges = Vec::new();
    let mut prev = "start".to_owned();
    for k in 0..n {
        let id = format!("p{k}");
        nodes.push(json!({"id": id, "type": "parallel"}));
        edges.push(json!({"from": prev, "to": id}));
        prev = id;
    }
    nodes.push(json!({"id": "done", "type": "end"}));
    edges.push(json!({"from": prev, "to": "done"}));
    json!({"name": "wide", "nodes": nodes, "edges": edges})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validating_huge_definitions_stalls_nobody() {
    let weft = server().await;
    let huge = parallel_chain(10_000);
    assert!(huge.to_string().len() < 1024 * 1024, "under the body cap");
    let validate = async {
        let (a, b) = tokio::join!(
            weft.post("/api/validate", &huge),
            weft.post("/api/validate", &huge)
        );
        [a, b]
    };
    for (status, body) in probe(&weft, validate).await {
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["valid"], false, "{body}");
        let codes: Vec<&str> = body["diagnostics"]
            .as_array()
            .expect("diagnostics")
            .iter()
            .filter_map(|d| d["code"].as_str())
            .collect();
        assert!(
            codes.contains(&"too_many_nodes") && codes.iter().all(|c| c.starts_with("too_many_")),
            "only the size limits are reported: {body}"
        );
    }
    // The largest allowed one validates in full, and is valid.
    let allowed = parallel_chain(shared::limits::MAX_NODES - 2);
    let (status, body) = probe(&weft, weft.post("/api/validate", &allowed)).await;
    assert_eq!((status, &body["valid"]), (200, &json!(true)), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_that_would_loop_for_hours_fails_its_node_and_stalls_nobody() {
    let weft = server().await;
    let target = Target::spawn().await;
    let nodes = [
        (
            "transform",
            json!({"id": "x", "type": "transform", "output": {"v": LOOPS}}),
        ),
        (
            "condition",
            json!({"id": "x", "type": "condition", "expr": "range(100000) | map('string') | join | length > 0 and range(100000) | map('string') | join | length > 0"}),
        ),
        (
            "approval",
            json!({"id": "x", "type": "approval", "prompt": LOOPS}),
        ),
        (
            "http",
            json!({"id": "x", "type": "http", "request": {"method": "POST", "url": target.url("/x"), "body": {"v": LOOPS}}}),
        ),
    ];
    let mut ids = Vec::new();
    for (kind, node) in nodes {
        let mut def = single(&format!("loop-{kind}"), node);
        if kind == "approval" {
            def["edges"][1]["port"] = json!("approved");
        }
        if kind == "condition" {
            def["edges"][1]["port"] = json!("true");
            def["edges"]
                .as_array_mut()
                .expect("edges")
                .push(json!({"from": "x", "to": "done", "port": "false"}));
        }
        weft.put_workflow(&def).await;
        ids.push((
            kind,
            weft.start_run(&format!("loop-{kind}"), json!({})).await,
        ));
    }
    // An end node's output is the same kind of template.
    let mut def = single(
        "loop-end",
        json!({"id": "x", "type": "transform", "output": 1}),
    );
    def["nodes"][2]["output"] = json!(LOOPS);
    weft.put_workflow(&def).await;
    ids.push(("end", weft.start_run("loop-end", json!({})).await));

    let all_fail = async {
        let mut out = Vec::new();
        for (kind, id) in &ids {
            out.push((*kind, weft.wait_for(id, "failed").await));
        }
        out
    };
    for (kind, run) in probe(&weft, all_fail).await {
        let node = if kind == "end" { "done" } else { "x" };
        let error = run["nodes"][node]["error"].as_str().unwrap_or_default();
        assert!(
            error.contains("budget"),
            "{kind}: the node's error names the budget: {run:#}"
        );
    }
    assert!(target.seen_at("/x").is_empty(), "no request was sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_over_the_size_limit_fail_their_node_and_are_not_stored() {
    let weft = server().await;
    let target = Target::spawn().await;
    let big = shared::limits::MAX_VALUE_BYTES + 1;
    target.rule("/big", Rule::Bytes(big));
    let cases = [
        (
            "repeat",
            json!({"id": "x", "type": "transform", "output": "{{ 'x' * 20000000 }}"}),
            "",
        ),
        (
            "rendered",
            json!({"id": "x", "type": "transform", "output": format!("{{{{ 'x' * {big} }}}}")}),
            "",
        ),
        (
            "response",
            json!({"id": "x", "type": "http", "request": {"method": "GET", "url": target.url("/big")}}),
            "response body",
        ),
    ];
    let mut ids = Vec::new();
    for (name, node, _) in &cases {
        weft.put_workflow(&single(&format!("big-{name}"), node.clone()))
            .await;
        ids.push(weft.start_run(&format!("big-{name}"), json!({})).await);
    }
    let done = async {
        let mut runs = Vec::new();
        for id in &ids {
            runs.push(weft.wait_for(id, "failed").await);
        }
        runs
    };
    let runs = probe(&weft, done).await;
    for ((name, _, says), run) in cases.iter().zip(runs) {
        let error = run["nodes"]["x"]["error"].as_str().unwrap_or_default();
        assert!(
            error.contains("limit") || error.contains("budget"),
            "{name}: the error names the limit: {run:#}"
        );
        assert!(error.contains(says), "{name}: {error}");
        let page = run.to_string().len();
        assert!(page < 64 * 1024, "{name}: the run page is {page} bytes");
    }
    assert_eq!(
        target.seen_at("/big").len(),
        1,
        "a too-large answer is not retried"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_completion_over_the_size_limit_fails_the_node() {
    let weft = server().await;
    weft.put_workflow(&single(
        "worked",
        json!({"id": "x", "type": "task", "queue": "q", "activity": "a"}),
    ))
    .await;
    let id = weft.start_run("worked", json!({})).await;
    let (status, task) = weft.post("/api/queues/q/poll", &json!({})).await;
    assert_eq!(status, 200, "{task}");
    let token = task["task_token"].as_str().expect("token");
    let output = "y".repeat(shared::limits::MAX_VALUE_BYTES + 1);
    let (status, body) = weft
        .post(
            &format!("/api/tasks/{token}/complete"),
            &json!({"output": output}),
        )
        .await;
    assert_eq!(status, 200, "the worker's call itself is fine: {body}");
    let run = weft.wait_for(&id, "failed").await;
    let error = run["nodes"]["x"]["error"].as_str().unwrap_or_default();
    assert!(error.contains("output_too_large"), "{run:#}");
    assert!(
        run.to_string().len() < 64 * 1024,
        "the output was not stored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_read_secrets_by_name_only_and_never_webhook_keys() {
    let weft = Weft::fresh_with(&[
        ("WEFT_SECRET_TOKEN", "template-secret"),
        ("WEFT_HOOK_SECRET_HOOK", "hmac-key"),
    ])
    .await;
    let target = Target::spawn().await;
    for (name, body) in [
        ("whole", json!({"all": "{{ secrets }}"})),
        ("dump", json!({"all": "{{ secrets | tojson }}"})),
        (
            "iterate",
            json!("{% for k, v in secrets | items %}{{ v }}{% endfor %}"),
        ),
        ("indexed", json!("{{ secrets[input.k] }}")),
    ] {
        let def = single(
            name,
            json!({"id": "x", "type": "http", "request": {"method": "POST", "url": target.url("/s"), "body": body}}),
        );
        let (status, resp) = weft.put(&format!("/api/workflows/{name}"), &def).await;
        assert_eq!(status, 422, "{name}: {resp}");
        assert!(
            error_code(&resp).contains(&"secrets_whole".to_owned()),
            "{name}: {resp}"
        );
    }
    let reads = single(
        "reads",
        json!({"id": "x", "type": "http", "request": {"method": "POST", "url": target.url("/s"),
               "body": {"token": "{{ secrets.TOKEN }}", "hook": "{{ secrets.HOOK }}"}}}),
    );
    weft.put_workflow(&reads).await;
    let id = weft.start_run("reads", json!({})).await;
    weft.wait_for(&id, "completed").await;
    let seen = target.seen_at("/s");
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].body,
        json!({"token": "template-secret", "hook": null}),
        "a webhook's key is not among the templates' secrets"
    );
}

/// Saves `def` (`start → gate (approval) → x …`), approves the gate so `x` starts, makes
/// every later commit fail so `x`'s attempt stays in flight in the log, then kills the server
/// with SIGKILL and restarts it. Returns the restarted server and the run.
async fn killed_with_x_in_flight(def: &Value) -> (Weft, String) {
    let mut weft = Weft::simulated().await;
    weft.put_workflow(def).await;
    let name = def["name"].as_str().expect("name");
    let id = weft.start_run(name, json!({})).await;
    weft.wait_node(&id, "gate", "waiting").await;
    // The approval's commit goes through; whatever the engine writes after it fails, and
    // with the simulated clock standing still its retries wait.
    weft.faults(json!({"spare_commits": 1, "fail_commits": 1000}))
        .await;
    let (status, body) = weft
        .post(
            &format!("/api/runs/{id}/approvals/gate"),
            &json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // The attempt's result has met a failing commit: it is in flight in the log.
    let deadline = std::time::Instant::now() + crate::helpers::WAIT;
    while weft.armed().await["fail_commits"] == 1000 {
        assert!(
            std::time::Instant::now() < deadline,
            "the result was never written"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let run = weft.run(&id).await;
    assert_eq!(run["nodes"]["x"]["status"], "running", "{run:#}");

    weft.kill9();
    weft.restart().await;
    // On PostgreSQL the dead process's lease on the attempt must lapse first (on SQLite the
    // attempt is resumed at start, and there is no timer to fire).
    weft.advance("10s").await;
    (weft, id)
}

/// `x` failed on its budget after the restart, its one attempt never repeated, and the
/// server still works.
async fn assert_x_failed_on_its_budget(weft: &Weft, id: &str, run: &Value) {
    let why = run["nodes"]["x"]["error"].as_str().unwrap_or_default();
    assert!(
        why.contains("budget"),
        "the node failed on its budget: {run:#}"
    );
    let events = weft.events(id).await;
    assert_eq!(
        node_events(&events, "node_started", "x").len(),
        1,
        "{events:#?}"
    );
    let (status, _) = weft.get("/healthz").await;
    assert_eq!(status, 200);
    assert_index_matches_log(weft.database()).await;
}

/// An `http` attempt whose body would loop for hours is in flight (its result cannot be
/// written) when the server is killed; every restart used to send it again and hang. Now
/// the recovered attempt runs out of budget, the node fails, and the run moves on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_attempt_in_flight_at_a_kill_fails_its_node_after_the_restart() {
    let target = Target::spawn().await;
    let def = json!({
        "name": "brick",
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "gate", "type": "approval", "prompt": "go?"},
            {"id": "x", "type": "http", "request": {"method": "POST", "url": target.url("/x"), "body": {"v": LOOPS}}},
            {"id": "failed", "type": "end", "output": {"via": "error"}},
            {"id": "done", "type": "end"}
        ],
        "edges": [
            {"from": "start", "to": "gate"},
            {"from": "gate", "to": "x", "port": "approved"},
            {"from": "x", "to": "done"},
            {"from": "x", "to": "failed", "port": "error"}
        ]
    });
    let (weft, id) = killed_with_x_in_flight(&def).await;
    let run = weft.wait_for(&id, "completed").await;
    assert_eq!(run["output"], json!({"via": "error"}), "{run:#}");
    assert_x_failed_on_its_budget(&weft, &id, &run).await;
    assert!(target.seen_at("/x").is_empty(), "nothing was sent");
}

/// The same for a `transform` whose template loops: it renders apart, as a render attempt
/// (`engine::render`), which is in flight at the kill and recovered like any attempt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_render_in_flight_at_a_kill_fails_its_node_after_the_restart() {
    let def = json!({
        "name": "brick-render",
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "gate", "type": "approval", "prompt": "go?"},
            {"id": "x", "type": "transform", "output": {"v": LOOPS}},
            {"id": "done", "type": "end"}
        ],
        "edges": [
            {"from": "start", "to": "gate"},
            {"from": "gate", "to": "x", "port": "approved"},
            {"from": "x", "to": "done"}
        ]
    });
    let (weft, id) = killed_with_x_in_flight(&def).await;
    let run = weft.wait_for(&id, "failed").await;
    assert_x_failed_on_its_budget(&weft, &id, &run).await;
}

/// A run's input and a signal's payload become what a run keeps: nested deeper than the
/// log can read back, or over the size limit, they are refused and nothing is recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inputs_and_payloads_over_the_limits_are_refused() {
    let weft = server().await;
    weft.put_workflow(&json!({
        "name": "waits",
        "nodes": [{"id": "start", "type": "start"}, {"id": "s", "type": "signal", "signal": "go"}, {"id": "done", "type": "end"}],
        "edges": [{"from": "start", "to": "s"}, {"from": "s", "to": "done"}]
    }))
    .await;
    let deep = (0..100).fold(json!(1), |v, _| json!([v]));
    let big = json!("z".repeat(shared::limits::MAX_VALUE_BYTES));
    for (what, input) in [("deep", &deep), ("big", &big)] {
        let (status, body) = weft
            .post("/api/workflows/waits/runs", &json!({"input": input}))
            .await;
        assert_eq!(status, 413, "{what} input: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .starts_with("the input"),
            "{body}"
        );
    }
    let (_, runs) = weft.get("/api/runs?workflow=waits").await;
    assert_eq!(runs["runs"], json!([]), "no run was started");

    let id = weft.start_run("waits", json!({})).await;
    for (what, payload) in [("deep", &deep), ("big", &big)] {
        let (status, body) = weft
            .post(
                &format!("/api/runs/{id}/signals/go"),
                &json!({"payload": payload}),
            )
            .await;
        assert_eq!(status, 413, "{what} payload: {body}");
    }
    let events = weft.events(&id).await;
    assert!(
        node_events(&events, "signal_received", "s").is_empty()
            && !events.iter().any(|e| e["type"] == "signal_received"),
        "no signal was recorded: {events:#?}"
    );
    let (status, _) = weft
        .post(
            &format!("/api/runs/{id}/signals/go"),
            &json!({"payload": {"ok": 1}}),
        )
        .await;
    assert_eq!(status, 200);
    weft.wait_for(&id, "completed").await;
}
