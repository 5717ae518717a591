//! Every shipped example (`examples/*.json`) runs to completion, not only validates: its
//! `http` nodes call a local [`Target`] (their `http://127.0.0.1:9000` is rewritten to it),
//! this test is the worker of its task queues, approves its approvals and sends its signals,
//! starts it through its webhook when it has one, and checks each run's output.
//!
//! A new example fails here until it has a [`case`]: its inputs and expected outputs.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{Target, WAIT, Weft};
use crate::hooks::{deliver, sign};

/// Where the examples' `http` nodes point, for someone trying them by hand.
const EXAMPLE_TARGET: &str = "http://127.0.0.1:9000";

/// The runs of one example: each input, and the output its run must end with. `target` is
/// the example's own [`Target`] (its request counters start at zero); outputs of task nodes
/// are what [`work`] answers.
struct Case {
    inputs: Vec<Value>,
    expect: fn(run: usize, input: &Value) -> Value,
    /// Extra checks on what the target received.
    check: fn(&Target, &[Value]),
}

/// An `http` node's output for the `n`-th request to `path` (the target echoes the body).
fn answer(path: &str, n: u32, echo: Value) -> Value {
    json!({"path": path, "n": n, "echo": echo})
}

/// What [`work`] answers for a task.
fn task_output(run: &str, node: &str, activity: &str, input: &Value) -> Value {
    json!({"activity": activity, "input": input, "artifact": format!("{run}-{node}.tar")})
}

fn no_check(_: &Target, _: &[Value]) {}

fn case(name: &str) -> Option<Case> {
    Some(match name {
        "enrichment-fanout" => Case {
            inputs: vec![json!({"email": "ada+weft@example.com"})],
            expect: |_, input| {
                let email = &input["email"];
                json!({
                    "email": email,
                    "company": answer("/company", 1, Value::Null),
                    "geo": answer("/geo", 1, Value::Null),
                    "risk": answer("/risk", 1, json!({"email": email})),
                })
            },
            check: |target, _| {
                for path in ["/company", "/geo"] {
                    let seen = target.seen_at(path);
                    assert_eq!(seen.len(), 1, "{path}");
                    assert_eq!(
                        seen[0].query.as_deref(),
                        Some("email=ada%2Bweft%40example.com"),
                        "{path}: the email is urlencoded"
                    );
                }
            },
        },
        "expense-approval" => Case {
            // Small: paid at once. Large: paid once a manager approves.
            inputs: vec![
                json!({"employee": "ada", "amount": 120}),
                json!({"employee": "bob", "amount": 900, "note": "conference"}),
            ],
            expect: |run, input| {
                let body = json!({"employee": input["employee"], "amount": input["amount"]});
                json!({"paid": true, "receipt": answer("/payouts", run as u32 + 1, body)})
            },
            check: no_check,
        },
        "order-process" => Case {
            inputs: vec![json!({"order_id": "O-1", "amount": 42})],
            expect: |_, input| {
                let body = json!({"order": input["order_id"], "amount": input["amount"]});
                json!({"order": input["order_id"], "charge": answer("/charge", 1, body)})
            },
            check: |target, _| {
                let paths: Vec<String> = target.seen().into_iter().map(|s| s.path).collect();
                assert_eq!(paths, ["/charge", "/fulfil", "/confirm", "/inventory"]);
            },
        },
        "order-worker" => Case {
            inputs: vec![json!({"order_id": "O-2", "amount": 7})],
            expect: |_, input| {
                let run = "order-worker-0";
                let charge = task_output(
                    run,
                    "charge",
                    "chargeCard",
                    &json!({"order": input["order_id"], "amount": input["amount"]}),
                );
                let shipment = task_output(
                    run,
                    "fulfil",
                    "fulfillOrder",
                    &json!({"order": input["order_id"], "charge": charge}),
                );
                json!({"charge": charge, "shipment": shipment})
            },
            check: no_check,
        },
        "webhook-deploy" => Case {
            inputs: vec![json!({"commit": "0123456789abcdef", "branch": "main"})],
            expect: |_, _| {
                let artifact = "webhook-deploy-0-build.tar";
                json!({"deployment": answer("/deployments", 1, json!({"artifact": artifact}))})
            },
            check: |target, inputs| {
                let deploy = target.seen_at("/deployments");
                assert_eq!(deploy.len(), 1);
                assert_eq!(
                    deploy[0].headers.get("authorization").map(String::as_str),
                    Some(format!("Bearer {}", secret_value("DEPLOY_TOKEN")).as_str()),
                    "the secret is rendered into the request"
                );
                let chat = target.seen_at("/chat");
                assert_eq!(chat.len(), 1, "announced once, no failure report");
                assert_eq!(
                    chat[0].body,
                    json!({"text": format!("Deployed {}", inputs[0]["commit"].as_str().unwrap())})
                );
            },
        },
        _ => return None,
    })
}

/// The shipped definitions, by file name.
fn examples() -> Vec<(String, Value)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples");
    let mut out: Vec<(String, Value)> = std::fs::read_dir(dir)
        .expect("examples/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("read example");
            let def = serde_json::from_str(&text).expect("example is JSON");
            (p.file_name().unwrap().to_string_lossy().into_owned(), def)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Every string of `value` with `from` replaced by `to`.
fn rewrite(value: &mut Value, from: &str, to: &str) {
    match value {
        Value::String(s) => *s = s.replace(from, to),
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite(v, from, to)),
        Value::Object(map) => map.values_mut().for_each(|v| rewrite(v, from, to)),
        _ => {}
    }
}

/// The `NAME`s of `secrets.NAME` the definitions read and of their webhook secrets.
fn secret_names(defs: &[(String, Value)]) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (_, def) in defs {
        let text = def.to_string();
        for (at, _) in text.match_indices("secrets.") {
            let name: String = text[at + "secrets.".len()..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            names.insert(name);
        }
        if let Some(s) = def["triggers"]["webhook"]["secret"].as_str() {
            names.insert(s.to_owned());
        }
    }
    names
}

fn secret_value(name: &str) -> String {
    format!("test-secret-{}", name.to_ascii_lowercase())
}

/// The worker of `queues`: long-polls each and completes every task with [`task_output`],
/// until `stop`.
fn work(
    weft: &Weft,
    queues: BTreeSet<String>,
    stop: Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    queues
        .into_iter()
        .map(|queue| {
            let (client, base, stop) = (weft.client.clone(), weft.base.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let resp = client
                        .post(format!("{base}/api/queues/{queue}/poll"))
                        .json(&json!({"wait": "200ms"}))
                        .send()
                        .await
                        .expect("poll");
                    if resp.status() == 204 {
                        continue;
                    }
                    assert_eq!(resp.status(), 200, "poll {queue}");
                    let task: Value = resp.json().await.expect("task");
                    let output = task_output(
                        task["run_id"].as_str().expect("run_id"),
                        task["node"].as_str().expect("node"),
                        task["activity"].as_str().expect("activity"),
                        &task["input"],
                    );
                    let token = task["task_token"].as_str().expect("token");
                    let done = client
                        .post(format!("{base}/api/tasks/{token}/complete"))
                        .json(&json!({ "output": output }))
                        .send()
                        .await
                        .expect("complete");
                    assert_eq!(done.status(), 200, "complete {task}");
                }
            })
        })
        .collect()
}

/// Starts a run of `def` with id `id`: through its webhook (signed, if it has a secret) when
/// it has one, else through the API.
async fn start(weft: &Weft, def: &Value, id: &str, input: &Value) {
    let name = def["name"].as_str().expect("name");
    let webhook = &def["triggers"]["webhook"];
    let (status, body) = if webhook.is_object() {
        let raw = serde_json::to_vec(input).expect("input");
        let signature = webhook["secret"]
            .as_str()
            .map(|s| sign(&secret_value(s), &raw));
        let mut headers = vec![("Idempotency-Key", id)];
        if let Some(sig) = &signature {
            headers.push(("X-Weft-Signature", sig));
        }
        deliver(weft, name, &raw, &headers).await
    } else {
        weft.post(
            &format!("/api/workflows/{name}/runs"),
            &json!({"input": input, "run_id": id}),
        )
        .await
    };
    assert!(
        status == 201 || status == 202,
        "start {name}: {status} {body}"
    );
    assert_eq!(body["run_id"], id, "{body}");
}

/// Drives run `id` of `def` to its end: approves each approval and sends each signal the
/// run waits for. Returns the finished run.
async fn drive(weft: &Weft, def: &Value, id: &str) -> Value {
    let deadline = Instant::now() + WAIT;
    let mut answered = BTreeSet::new();
    loop {
        let run = weft.run(id).await;
        if run["status"] != "running" {
            return run;
        }
        for node in def["nodes"].as_array().expect("nodes") {
            let node_id = node["id"].as_str().expect("id");
            if run["nodes"][node_id]["status"] != "waiting" || answered.contains(node_id) {
                continue;
            }
            let (path, body) = match node["type"].as_str() {
                Some("approval") => (
                    format!("/api/runs/{id}/approvals/{node_id}"),
                    json!({"decision": "approve", "comment": "examples test"}),
                ),
                Some("signal") => (
                    format!(
                        "/api/runs/{id}/signals/{}",
                        node["signal"].as_str().unwrap()
                    ),
                    json!({"payload": {"from": "examples test"}}),
                ),
                _ => continue,
            };
            let (status, body) = weft.post(&path, &body).await;
            assert_eq!(status, 200, "{path}: {body}");
            answered.insert(node_id.to_owned());
        }
        assert!(
            Instant::now() < deadline,
            "run {id} still running after {WAIT:?}: {run:#}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_example_runs_to_completion() {
    let defs = examples();
    assert!(defs.len() >= 5, "expected the five shipped examples");
    let envs: Vec<(String, String)> = secret_names(&defs)
        .into_iter()
        .flat_map(|n| {
            // Templates' secrets and webhook keys come from two sets of variables.
            [
                (format!("WEFT_SECRET_{n}"), secret_value(&n)),
                (format!("WEFT_HOOK_SECRET_{n}"), secret_value(&n)),
            ]
        })
        .collect();
    let envs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let weft = Weft::fresh_with(&envs).await;
    for (file, mut def) in defs {
        let name = def["name"].as_str().expect("name").to_owned();
        let case = case(&name).unwrap_or_else(|| {
            panic!("examples/{file} has no case in backend/tests/api/examples.rs: add its inputs and outputs")
        });
        let target = Target::spawn().await;
        rewrite(&mut def, EXAMPLE_TARGET, &target.base);
        weft.put_workflow(&def).await;
        let queues: BTreeSet<String> = def["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .filter(|n| n["type"] == "task")
            .map(|n| n["queue"].as_str().expect("queue").to_owned())
            .collect();
        let stop = Arc::new(AtomicBool::new(false));
        let workers = work(&weft, queues, stop.clone());
        for (i, input) in case.inputs.iter().enumerate() {
            let id = format!("{name}-{i}");
            start(&weft, &def, &id, input).await;
            let run = drive(&weft, &def, &id).await;
            assert_eq!(
                run["status"], "completed",
                "examples/{file}, run {i}: {run:#}"
            );
            assert_eq!(
                run["output"],
                (case.expect)(i, input),
                "examples/{file}, run {i}: {run:#}"
            );
        }
        stop.store(true, Ordering::Relaxed);
        for w in workers {
            w.await.expect("worker");
        }
        (case.check)(&target, &case.inputs);
    }
}
