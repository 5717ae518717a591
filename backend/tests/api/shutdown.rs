//! SIGTERM with live streams open: each stream gets a last `shutdown` event and ends, so the
//! graceful shutdown, which waits for every connection, completes within seconds.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::Weft;
use crate::ops::{scrape, value};

/// Reads a stream until the server ends it; its whole text.
async fn read_all(url: String) -> String {
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let mut resp = client.get(url).send().await.expect("open stream");
    assert_eq!(resp.status(), 200);
    let mut text = String::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_50_open_streams_and_exits_within_seconds() {
    let mut weft = Weft::fresh().await;
    weft.put_workflow(&json!({
        "name": "held",
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "gate", "type": "approval", "prompt": "Go?"},
            {"id": "done", "type": "end"}
        ],
        "edges": [{"from": "start", "to": "gate"}, {"from": "gate", "to": "done", "port": "approved"}]
    }))
    .await;
    let id = weft.start_run("held", json!({})).await;
    weft.wait_node(&id, "gate", "waiting").await;

    // 25 streams of the waiting run and 25 of the runs feed: none would end by itself.
    let streams: Vec<_> = (0..50)
        .map(|i| {
            let url = if i % 2 == 0 {
                weft.url(&format!("/api/runs/{id}/stream"))
            } else {
                weft.url("/api/runs/stream")
            };
            tokio::spawn(read_all(url))
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    while value(&scrape(&weft).await, "weft_sse_clients", &[]) < 50.0 {
        assert!(Instant::now() < deadline, "the 50 streams did not open");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let asked = Instant::now();
    let code = tokio::task::block_in_place(|| weft.terminate());
    let took = asked.elapsed();
    assert_eq!(code, Some(0), "weft did not exit cleanly:\n{}", weft.log());
    // The bound: shutdown completes within a few seconds with streams open.
    assert!(took < Duration::from_secs(5), "exit took {took:?}");
    for s in streams {
        let text = tokio::time::timeout(Duration::from_secs(5), s)
            .await
            .expect("the stream ended")
            .expect("the reader");
        assert!(
            text.contains("event: shutdown"),
            "no shutdown event before the end: {text}"
        );
    }
}
