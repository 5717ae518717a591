//! `GET /api/runs/stream`: the live feed of run changes that the runs page listens to.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::Weft;

fn gate(name: &str) -> Value {
    json!({"name": name, "nodes": [
        {"id": "start", "type": "start"}, {"id": "ask", "type": "approval", "prompt": "ok?"}, {"id": "end", "type": "end"}],
        "edges": [{"from": "start", "to": "ask"}, {"from": "ask", "to": "end", "port": "approved"}]})
}

/// Reads `run` events from the feed until `done` says enough, or 10 s pass.
pub(crate) async fn read_feed(
    mut resp: reqwest::Response,
    mut done: impl FnMut(&[Value]) -> bool,
) -> Vec<Value> {
    let mut buf = String::new();
    let mut out = Vec::new();
    let read = async {
        while let Some(chunk) = resp.chunk().await.expect("feed chunk") {
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buf.find("\n\n") {
                let block: String = buf.drain(..end + 2).collect();
                if block.lines().any(|l| l == "event: run")
                    && let Some(data) = block.lines().find_map(|l| l.strip_prefix("data: "))
                {
                    out.push(serde_json::from_str(data).expect("JSON data"));
                }
            }
            if done(&out) {
                return;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(10), read).await;
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_shows_runs_of_the_filtered_workflow_as_they_change() {
    let weft = Weft::fresh().await;
    weft.put_workflow(&gate("watched")).await;
    weft.put_workflow(&gate("other")).await;
    let resp = weft
        .client
        .get(weft.url("/api/runs/stream?workflow=watched"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let other = weft.start_run("other", json!({})).await;
    let id = weft.start_run("watched", json!({})).await;
    assert_eq!(
        weft.post(
            &format!("/api/runs/{id}/approvals/ask"),
            &json!({"decision": "approve"})
        )
        .await
        .0,
        200
    );
    let seen = read_feed(resp, |s| s.iter().any(|e| e["status"] == "completed")).await;
    assert!(
        seen.iter()
            .all(|e| e["id"] != json!(other) && e["workflow"] == "watched"),
        "{seen:#?}"
    );
    let statuses: Vec<&str> = seen.iter().map(|e| e["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, vec!["running", "completed"], "{seen:#?}");
    assert!(
        seen[0]["created_at"].is_i64(),
        "a new run carries created_at: {seen:#?}"
    );
    assert!(seen[1]["last_seq"].as_i64() > seen[0]["last_seq"].as_i64());
    // Waiting at the approval, it needed a person; approved and done, no more.
    let needs: Vec<&Value> = seen.iter().map(|e| &e["needs_person"]).collect();
    assert_eq!(needs, [&json!(true), &json!(false)], "{seen:#?}");
}
