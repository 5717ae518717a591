//! Operations: `/metrics` parses as Prometheus text and its counters, the queue depth and the
//! SSE client gauge move with what the server does.

use prometheus_parse::{Scrape, Value as Metric};
use serde_json::json;

use crate::helpers::Weft;

pub(crate) async fn scrape(weft: &Weft) -> Scrape {
    let resp = weft.client.get(weft.url("/metrics")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    let lines = text.lines().map(|l| Ok(l.to_owned()));
    Scrape::parse(lines).expect("Prometheus text format")
}

/// The value of a counter or gauge with the given labels (0 when absent).
pub(crate) fn value(s: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    s.samples
        .iter()
        .filter(|x| x.metric == name && labels.iter().all(|(k, v)| x.labels.get(k) == Some(*v)))
        .map(|x| match x.value {
            Metric::Counter(v) | Metric::Gauge(v) | Metric::Untyped(v) => v,
            _ => 0.0,
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_runs_attempts_queues_and_streams() {
    let weft = Weft::fresh().await;
    let before = scrape(&weft).await;
    assert_eq!(value(&before, "weft_runs_started_total", &[]), 0.0);

    let def = json!({"name": "ops", "nodes": [
        {"id": "start", "type": "start"}, {"id": "t", "type": "transform", "output": 1},
        {"id": "work", "type": "task", "queue": "opsq", "activity": "x"}, {"id": "end", "type": "end"}],
        "edges": [{"from": "start", "to": "t"}, {"from": "t", "to": "work"}, {"from": "work", "to": "end"}]});
    weft.put_workflow(&def).await;
    let id = weft.start_run("ops", json!({})).await;
    let mid = scrape(&weft).await;
    assert_eq!(value(&mid, "weft_runs_started_total", &[]), 1.0);
    assert_eq!(
        value(&mid, "weft_task_queue_depth", &[("queue", "opsq")]),
        1.0
    );

    // An open stream counts as an SSE client.
    let stream = weft
        .client
        .get(weft.url(&format!("/api/runs/{id}/stream")))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    assert_eq!(value(&scrape(&weft).await, "weft_sse_clients", &[]), 1.0);
    drop(stream);

    let (_, task) = weft
        .post("/api/queues/opsq/poll", &json!({"wait": "5s"}))
        .await;
    let token = task["task_token"].as_str().unwrap();
    weft.post(
        &format!("/api/tasks/{token}/complete"),
        &json!({"output": 1}),
    )
    .await;
    weft.wait_for(&id, "completed").await;
    let after = scrape(&weft).await;
    assert_eq!(
        value(
            &after,
            "weft_runs_finished_total",
            &[("status", "completed")]
        ),
        1.0
    );
    assert_eq!(
        value(&after, "weft_attempts_total", &[("outcome", "succeeded")]),
        1.0
    );
    assert_eq!(
        value(&after, "weft_task_queue_depth", &[("queue", "opsq")]),
        0.0
    );
    let steps = after.samples.iter().any(|s| {
        s.metric == "weft_step_duration_seconds_count" || s.metric == "weft_step_duration_seconds"
    });
    assert!(steps, "a step latency histogram is exported");
}
