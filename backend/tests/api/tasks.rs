//! Task queues: a worker written here completes, fails, heartbeats and goes silent; tokens
//! of timed-out or cancelled attempts, and tokens nobody was handed (guessed, or built from
//! a run id), are refused (409) and change nothing; concurrent pollers never get the same
//! task; a restart hands in-flight tasks out again, under a new token.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::helpers::{Weft, node_events};

/// start → one task node (with the given settings) → end; `error` edge when `handled`.
fn task_flow(name: &str, settings: Value, handled: bool) -> Value {
    let mut task = json!({"id": "work", "type": "task", "queue": name, "activity": "doIt",
        "input": {"order": "{{ input.order }}", "n": "{{ input.n }}"}});
    for (k, v) in settings.as_object().unwrap() {
        task[k] = v.clone();
    }
    let mut nodes = vec![
        json!({"id": "start", "type": "start"}),
        task,
        json!({"id": "end", "type": "end", "output": "{{ nodes.work.output }}"}),
    ];
    let mut edges = vec![
        json!({"from": "start", "to": "work"}),
        json!({"from": "work", "to": "end"}),
    ];
    if handled {
        nodes.push(json!({"id": "oops", "type": "end", "output": "{{ nodes.work.output.error }}"}));
        edges.push(json!({"from": "work", "to": "oops", "port": "error"}));
    }
    json!({"name": name, "nodes": nodes, "edges": edges})
}

async fn poll(weft: &Weft, queue: &str, wait: &str) -> Option<Value> {
    let (status, body) = weft
        .post(&format!("/api/queues/{queue}/poll"), &json!({"wait": wait}))
        .await;
    match status {
        200 => Some(body),
        204 => None,
        other => panic!("poll: {other} {body}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_completes_a_task_with_its_rendered_input() {
    let weft = Weft::fresh().await;
    weft.put_workflow(&task_flow("q1", json!({}), false)).await;
    let id = weft.start_run("q1", json!({"order": "A-1", "n": 3})).await;
    let task = poll(&weft, "q1", "5s").await.expect("a task");
    assert_eq!(
        (
            task["run_id"].as_str(),
            task["node"].as_str(),
            task["activity"].as_str()
        ),
        (Some(id.as_str()), Some("work"), Some("doIt"))
    );
    assert_eq!(task["input"], json!({"order": "A-1", "n": 3}));
    assert_eq!(task["attempt"], 1);
    let token = task["task_token"].as_str().unwrap();
    let (status, body) = weft
        .post(
            &format!("/api/tasks/{token}/complete"),
            &json!({"output": {"shipped": true}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let run = weft.wait_for(&id, "completed").await;
    assert_eq!(run["output"], json!({"shipped": true}));
    // The token is spent.
    assert_eq!(
        weft.post(
            &format!("/api/tasks/{token}/complete"),
            &json!({"output": 1})
        )
        .await
        .0,
        409
    );
    assert!(
        poll(&weft, "q1", "100ms").await.is_none(),
        "nothing left in the queue"
    );
}

/// Every way to report on task `work` of `run` without the token a poll handed out: the
/// pre-issue-13 format built from the run id, a well-formed random one, and `real` with its
/// last character changed.
fn guesses(run: &str, real: Option<&str>) -> Vec<String> {
    let mut out = vec![
        format!("1.work.{run}"),
        format!("{}{}", "0f".repeat(16), "a1".repeat(16)),
    ];
    if let Some(real) = real {
        let (head, last) = real.split_at(real.len() - 1);
        out.push(format!("{head}{}", if last == "0" { "1" } else { "0" }));
    }
    out
}

/// Sends complete, fail and heartbeat with each of `tokens`; every one must be a 409.
async fn assert_refused(weft: &Weft, tokens: &[String]) {
    for tok in tokens {
        for (verb, body) in [
            ("complete", json!({"output": "forged"})),
            ("fail", json!({"error": "forged", "retryable": false})),
            ("heartbeat", json!({})),
        ] {
            let (status, answer) = weft.post(&format!("/api/tasks/{tok}/{verb}"), &body).await;
            assert_eq!(status, 409, "{verb} with {tok}: {answer}");
            assert!(crate::helpers::is_json_error(&answer), "{answer}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_nobody_was_handed_is_refused_and_changes_nothing() {
    let weft = Weft::fresh().await;
    weft.put_workflow(&task_flow("q8", json!({}), false)).await;
    let id = weft.start_run("q8", json!({"order": "G"})).await;
    weft.wait_node(&id, "work", "running").await;
    // Queued, not yet polled: nobody holds a token.
    assert_refused(&weft, &guesses(&id, None)).await;

    let task = poll(&weft, "q8", "5s")
        .await
        .expect("the task is still queued");
    assert_eq!(task["attempt"], 1);
    let token = task["task_token"].as_str().unwrap().to_owned();
    // Handed out: still only its holder may report.
    assert_refused(&weft, &guesses(&id, Some(&token))).await;
    assert!(
        token.len() >= 32 && token.bytes().all(|b| b.is_ascii_hexdigit()),
        "at least 128 bits, in hex: {token}"
    );
    assert!(
        !token.contains(&id),
        "the token does not name the run: {token}"
    );

    let run = weft.run(&id).await;
    assert_eq!(
        (
            &run["status"],
            &run["nodes"]["work"]["status"],
            &run["nodes"]["work"]["attempts"]
        ),
        (&json!("running"), &json!("running"), &json!(1)),
        "{run:#}"
    );
    let events = weft.events(&id).await;
    assert!(
        node_events(&events, "attempt_failed", "work").is_empty(),
        "{events:#?}"
    );
    let (status, body) = weft
        .post(
            &format!("/api/tasks/{token}/complete"),
            &json!({"output": "real"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (
            &body["run_id"],
            &body["node"],
            &body["attempt"],
            &body["status"]
        ),
        (&json!(id), &json!("work"), &json!(1), &json!("completed")),
        "{body}"
    );
    assert_eq!(
        weft.wait_for(&id, "completed").await["output"],
        json!("real")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retryable_failure_is_retried_and_a_final_one_takes_the_error_port() {
    let weft = Weft::fresh().await;
    let retry = json!({"retry": {"max_attempts": 3, "initial_interval": "50ms"}});
    weft.put_workflow(&task_flow("q2", retry, true)).await;
    let id = weft.start_run("q2", json!({"order": "B"})).await;
    let t1 = poll(&weft, "q2", "5s").await.unwrap();
    let tok1 = t1["task_token"].as_str().unwrap().to_owned();
    assert_eq!(
        weft.post(
            &format!("/api/tasks/{tok1}/fail"),
            &json!({"error": "card declined, try later"})
        )
        .await
        .0,
        200
    );
    let t2 = poll(&weft, "q2", "5s").await.expect("the retry");
    assert_eq!(t2["attempt"], 2);
    assert_ne!(t2["task_token"], t1["task_token"]);
    assert_eq!(
        weft.post(&format!("/api/tasks/{tok1}/complete"), &json!({}))
            .await
            .0,
        409,
        "old token is stale"
    );
    let tok2 = t2["task_token"].as_str().unwrap();
    assert_eq!(
        weft.post(
            &format!("/api/tasks/{tok2}/fail"),
            &json!({"error": "card stolen", "retryable": false})
        )
        .await
        .0,
        200
    );
    let run = weft.wait_for(&id, "completed").await;
    assert_eq!(run["output"], json!("card stolen"), "{run:#}");
    assert_eq!(run["nodes"]["work"]["status"], "failed");
    assert_eq!(run["nodes"]["work"]["attempts"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_keep_a_task_and_silence_loses_it() {
    let weft = Weft::simulated().await;
    let s = json!({"heartbeat_timeout": "400ms", "timeout": "1m", "retry": {"max_attempts": 2, "initial_interval": "10ms"}});
    weft.put_workflow(&task_flow("q3", s, false)).await;
    let id = weft.start_run("q3", json!({})).await;
    let t1 = poll(&weft, "q3", "5s").await.unwrap();
    let tok1 = t1["task_token"].as_str().unwrap().to_owned();
    // Heartbeats every 300 ms of the server's clock for 1.8 s: well past one heartbeat_timeout.
    for _ in 0..6 {
        weft.advance("300ms").await;
        let (status, body) = weft
            .post(&format!("/api/tasks/{tok1}/heartbeat"), &json!({}))
            .await;
        assert_eq!(status, 200, "{body}");
    }
    // Then the worker goes silent: the task is lost and, after its backoff, handed out again.
    weft.advance("401ms").await;
    weft.wait_node(&id, "work", "retrying").await;
    weft.advance("10ms").await;
    let t2 = poll(&weft, "q3", "5s")
        .await
        .expect("retried after the heartbeat was missed");
    assert_eq!(t2["attempt"], 2);
    assert_eq!(
        weft.post(
            &format!("/api/tasks/{tok1}/complete"),
            &json!({"output": "late"})
        )
        .await
        .0,
        409
    );
    assert_eq!(
        weft.post(&format!("/api/tasks/{tok1}/heartbeat"), &json!({}))
            .await
            .0,
        409
    );
    let tok2 = t2["task_token"].as_str().unwrap();
    weft.post(
        &format!("/api/tasks/{tok2}/complete"),
        &json!({"output": "on time"}),
    )
    .await;
    let run = weft.wait_for(&id, "completed").await;
    assert_eq!(run["output"], json!("on time"));
    let events = weft.events(&id).await;
    let failed = node_events(&events, "attempt_failed", "work");
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0]["data"]["error"]
            .as_str()
            .unwrap()
            .contains("no heartbeat"),
        "{failed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_attempt_timeout_loses_the_task() {
    let weft = Weft::fresh().await;
    let s = json!({"timeout": "300ms", "retry": {"max_attempts": 1}});
    weft.put_workflow(&task_flow("q4", s, false)).await;
    let id = weft.start_run("q4", json!({})).await;
    let t = poll(&weft, "q4", "5s").await.unwrap();
    let run = weft.wait_for(&id, "failed").await;
    assert!(
        run["error"].as_str().unwrap().contains("timed out"),
        "{run:#}"
    );
    let tok = t["task_token"].as_str().unwrap();
    assert_eq!(
        weft.post(&format!("/api/tasks/{tok}/complete"), &json!({}))
            .await
            .0,
        409
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_the_run_makes_the_token_stale() {
    let weft = Weft::fresh().await;
    weft.put_workflow(&task_flow("q5", json!({}), false)).await;
    let id = weft.start_run("q5", json!({})).await;
    let t = poll(&weft, "q5", "5s").await.unwrap();
    assert_eq!(
        weft.post(&format!("/api/runs/{id}/cancel"), &json!({}))
            .await
            .0,
        200
    );
    weft.wait_for(&id, "cancelled").await;
    let tok = t["task_token"].as_str().unwrap();
    assert_eq!(
        weft.post(&format!("/api/tasks/{tok}/complete"), &json!({}))
            .await
            .0,
        409
    );
    assert_eq!(weft.run(&id).await["status"], "cancelled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_pollers_get_distinct_tasks_and_an_idle_poll_returns_204() {
    let weft = std::sync::Arc::new(Weft::fresh().await);
    weft.put_workflow(&task_flow("q6", json!({}), false)).await;
    assert!(poll(&weft, "q6", "200ms").await.is_none());
    // Eight pollers wait first, then twenty tasks arrive.
    let mut pollers = Vec::new();
    for _ in 0..8 {
        let w = weft.clone();
        pollers.push(tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(t) = poll(&w, "q6", "1s").await {
                let tok = t["task_token"].as_str().unwrap().to_owned();
                assert_eq!(
                    w.post(&format!("/api/tasks/{tok}/complete"), &json!({"output": 1}))
                        .await
                        .0,
                    200
                );
                got.push(tok);
            }
            got
        }));
    }
    let mut ids = Vec::new();
    for n in 0..20 {
        ids.push(weft.start_run("q6", json!({"n": n})).await);
    }
    let mut all = Vec::new();
    for p in pollers {
        all.extend(p.await.unwrap());
    }
    let distinct: HashSet<&String> = all.iter().collect();
    assert_eq!(
        (all.len(), distinct.len()),
        (20, 20),
        "each task handed out exactly once"
    );
    for id in ids {
        weft.wait_for(&id, "completed").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_hands_an_in_flight_task_out_again_or_keeps_its_lease() {
    let mut weft = Weft::fresh().await;
    weft.put_workflow(&task_flow("q7", json!({}), false)).await;
    let id = weft.start_run("q7", json!({"order": "C"})).await;
    let before = poll(&weft, "q7", "5s").await.unwrap();
    weft.kill9();
    weft.restart().await;
    if crate::pg::enabled() {
        // The shared queue is durable: the worker keeps its lease across a server restart
        // (another process may be serving it) and completes with the token it holds.
        assert!(
            poll(&weft, "q7", "200ms").await.is_none(),
            "handed out twice"
        );
        let tok = before["task_token"].as_str().unwrap();
        let (status, body) = weft
            .post(
                &format!("/api/tasks/{tok}/complete"),
                &json!({"output": "done"}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            weft.wait_for(&id, "completed").await["output"],
            json!("done")
        );
        return;
    }
    let after = poll(&weft, "q7", "5s")
        .await
        .expect("re-enqueued from the log");
    assert_ne!(after["task_token"], before["task_token"], "handed out anew");
    let old = before["task_token"].as_str().unwrap();
    assert_eq!(
        weft.post(
            &format!("/api/tasks/{old}/complete"),
            &json!({"output": "old"})
        )
        .await
        .0,
        409,
        "the token of the hand-out before the restart is stale"
    );
    assert_eq!(
        (
            after["run_id"].clone(),
            after["attempt"].clone(),
            after["input"].clone()
        ),
        (
            before["run_id"].clone(),
            before["attempt"].clone(),
            before["input"].clone()
        )
    );
    let tok = after["task_token"].as_str().unwrap();
    weft.post(
        &format!("/api/tasks/{tok}/complete"),
        &json!({"output": "done"}),
    )
    .await;
    assert_eq!(
        weft.wait_for(&id, "completed").await["output"],
        json!("done")
    );
}
