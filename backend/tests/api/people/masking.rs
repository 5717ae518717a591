//! Secrets stay secret with workers too (SPEC §7): a `task` node's input carries the secret
//! it reads to the worker, and a worker that echoes it back in its output or its failure
//! message has `***` recorded instead, in the node's output and error, the events, the
//! stream and the server's log. The designer may learn the secrets' names, never a value.

use serde_json::{Value, json};

use crate::helpers::Weft;

const SECRET: &str = "tk-9f3a-worker-secret";

fn tasked() -> Value {
    json!({
        "name": "echoing",
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "work", "type": "task", "queue": "mask", "activity": "echo",
             "input": {"auth": "Bearer {{ secrets.TOKEN }}"},
             "retry": {"max_attempts": 2, "initial_interval": "1ms"}},
            {"id": "done", "type": "end", "output": "{{ nodes.work.output }}"}
        ],
        "edges": [{"from": "start", "to": "work"}, {"from": "work", "to": "done"}]
    })
}

/// Polls the queue once; the task's token and input.
async fn poll(weft: &Weft) -> (String, Value) {
    let (status, task) = weft
        .post("/api/queues/mask/poll", &json!({"wait": "10s"}))
        .await;
    assert_eq!(status, 200, "poll: {task}");
    (
        task["task_token"].as_str().expect("token").to_owned(),
        task["input"].clone(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_that_echoes_a_secret_has_it_masked_everywhere() {
    let weft = Weft::fresh_with(&[("WEFT_SECRET_TOKEN", SECRET)]).await;
    weft.put_workflow(&tasked()).await;
    let id = weft.start_run("echoing", json!({})).await;

    // The worker gets the secret, as it must, and fails echoing it.
    let (token, input) = poll(&weft).await;
    assert_eq!(input["auth"], json!(format!("Bearer {SECRET}")));
    let (status, body) = weft
        .post(
            &format!("/api/tasks/{token}/fail"),
            &json!({"error": format!("upstream refused {SECRET}"), "retryable": true}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // Then completes echoing it in a value, a key and a nested string.
    let (token, _) = poll(&weft).await;
    let output = json!({"seen": input["auth"], "nested": [{"k": SECRET}], SECRET: 1});
    let (status, body) = weft
        .post(
            &format!("/api/tasks/{token}/complete"),
            &json!({ "output": output }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let run = weft.wait_for(&id, "completed").await;

    assert_eq!(run["output"]["seen"], json!("Bearer ***"));
    assert_eq!(run["output"]["nested"], json!([{"k": "***"}]));
    assert_eq!(run["output"]["***"], json!(1));
    let events = weft.events(&id).await;
    let failed = events
        .iter()
        .find(|e| e["type"] == "attempt_failed")
        .expect("the first attempt failed");
    assert_eq!(failed["data"]["error"], json!("upstream refused ***"));
    let everything = format!(
        "{run}{}{:?}",
        Value::Array(events.clone()),
        weft.stream(&id, None).await
    );
    assert!(
        !everything.contains(SECRET),
        "the secret leaked: {everything}"
    );
    assert!(everything.contains("***"));
    assert!(
        !weft.log().contains(SECRET),
        "the secret is in the server's log"
    );
}

/// The designer offers `secrets.NAME` from `GET /api/secrets`: the names, sorted, to an
/// editor; never a value, and nothing to a viewer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_editor_reads_the_secrets_names_and_never_their_values() {
    let weft = super::closed(&[
        ("WEFT_SECRET_TOKEN", SECRET),
        ("WEFT_SECRET_API_KEY", "second-secret-value"),
        ("WEFT_HOOK_SECRET_ORDERS", "a-webhook-key"),
    ])
    .await;
    let editor = super::make_key(&weft, "designer", "editor").await.0;
    let got = super::Caller::Bearer(editor)
        .get(&weft, "/api/secrets")
        .await;
    assert_eq!(got.status, 200, "{}", got.body);
    // Webhook keys are no template's to read, so they are not offered.
    assert_eq!(got.body, json!({"names": ["API_KEY", "TOKEN"]}));
    let viewer = super::make_key(&weft, "reader", "viewer").await.0;
    let got = super::Caller::Bearer(viewer)
        .get(&weft, "/api/secrets")
        .await;
    assert_eq!(got.status, 403, "{}", got.body);
    assert!(got.message().contains("`editor`"), "{}", got.body);
}
