//! A run's history as a live stream: the history then live events, resumed after
//! `Last-Event-ID`, and ended after the final event.

use std::time::Duration;

use serde_json::{Value, json};

use super::{approval_wf, decide, wf};
use crate::helpers::Weft;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_sends_the_history_and_resumes_after_last_event_id() {
    let weft = Weft::fresh().await;
    weft.put_workflow(&approval_wf("streamed", false)).await;
    let id = weft.start_run("streamed", json!({"order": 1})).await;
    weft.wait_node(&id, "gate", "waiting").await;

    // Live: the stream is open while the approval arrives, and ends after the final event.
    let (opened, open) = tokio::sync::oneshot::channel();
    let (live, ()) = tokio::join!(weft.stream_telling(&id, None, Some(opened)), async {
        open.await.expect("the stream sent its first event");
        let (status, body) = decide(&weft, &id, "gate", json!({"decision": "approve"})).await;
        assert_eq!(status, 200, "{body}");
    });
    let events = weft.events(&id).await;
    assert!(events.len() > 4, "{events:#?}");
    let ids: Vec<i64> = live.iter().map(|(i, _)| *i).collect();
    assert_eq!(ids, (1..=events.len() as i64).collect::<Vec<_>>());
    let data: Vec<Value> = live.iter().map(|(_, d)| d.clone()).collect();
    assert_eq!(
        data, events,
        "the stream carries the same events as /events"
    );

    let resumed = weft.stream(&id, Some(3)).await;
    assert_eq!(resumed.first().map(|(i, _)| *i), Some(4), "{resumed:?}");
    let data: Vec<Value> = resumed.iter().map(|(_, d)| d.clone()).collect();
    assert_eq!(data, events[3..].to_vec());
    // A new `EventSource` cannot set the header: it resumes with `?last_event_id=`.
    let by_query = weft.stream_query(&id, "last_event_id=3").await;
    assert_eq!(by_query, resumed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resuming_after_the_final_event_ends_the_stream() {
    let weft = Weft::fresh().await;
    let quick = wf(
        "quick",
        json!([{"id": "start", "type": "start"}, {"id": "done", "type": "end"}]),
        json!([{"from": "start", "to": "done"}]),
    );
    weft.put_workflow(&quick).await;
    let id = weft.start_run("quick", json!({})).await;
    weft.wait_for(&id, "completed").await;
    let last = weft.events(&id).await.len() as i64;
    // A finished run has nothing more to send: the stream ends instead of idling forever.
    let ended = tokio::time::timeout(Duration::from_secs(5), weft.stream(&id, Some(last))).await;
    assert_eq!(
        ended.ok(),
        Some(Vec::new()),
        "the stream stayed open after the final event"
    );
}
