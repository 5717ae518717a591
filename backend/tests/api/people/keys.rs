//! API keys: shown once, stored hashed, revoked for good; a worker's key polls and completes
//! tasks, a viewer's may not.

use serde_json::json;

use super::{Caller, closed, make_key};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_is_shown_once_and_stored_hashed() {
    let weft = closed(&[]).await;
    let (key, id) = make_key(&weft, "ci", "operator").await;
    assert!(key.starts_with("weft_") && key.len() > 40, "{key}");
    let listed = weft.get_ok("/api/keys").await;
    let listed = listed["keys"].as_array().expect("a list");
    assert_eq!(listed.len(), 1, "{listed:?}");
    let entry = &listed[0];
    assert_eq!(entry["id"], id.as_str());
    assert_eq!(entry["role"], "operator");
    assert_eq!(entry["created_by"], "token");
    let prefix = entry["prefix"].as_str().expect("prefix");
    assert!(key.starts_with(prefix) && prefix.len() < 20, "{prefix}");
    assert!(
        !entry.to_string().contains(&key),
        "the list shows the key: {entry}"
    );
    let me = Caller::Bearer(key.clone()).get(&weft, "/api/auth/me").await;
    assert_eq!(me.body["user"], "key:ci", "{}", me.body);
    assert_eq!(me.body["role"], "operator");

    // The store holds only its hash.
    let store = backend::store::Store::open(weft.database())
        .await
        .expect("open the store");
    let rows = store.keys().await.expect("keys");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].key_hash, backend::access::secret::digest(&key));
    assert!(!format!("{:?}", rows[0]).contains(&key[5..]));
    if let Some(path) = weft.database().strip_prefix("sqlite://") {
        for file in [path.to_owned(), format!("{path}-wal")] {
            let bytes = std::fs::read(&file).unwrap_or_default();
            let found = bytes
                .windows(key.len() - 5)
                .any(|w| w == &key.as_bytes()[5..]);
            assert!(!found, "{file} holds the key in clear");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_key_is_refused() {
    let weft = closed(&[]).await;
    let (key, id) = make_key(&weft, "old", "viewer").await;
    let caller = Caller::Bearer(key);
    assert_eq!(caller.get(&weft, "/api/runs").await.status, 200);
    let (status, body) = weft.delete(&format!("/api/keys/{id}")).await;
    assert_eq!(status, 204, "{body}");
    let refused = caller.get(&weft, "/api/runs").await;
    assert_eq!((refused.status, refused.message()), (401, "key revoked"));
    // `me` is open to anyone, but a key sent on purpose hears it is dead.
    let me = caller.get(&weft, "/api/auth/me").await;
    assert_eq!((me.status, me.message()), (401, "key revoked"));
    let (again, _) = weft.delete(&format!("/api/keys/{id}")).await;
    assert_eq!(again, 404);
    let listed = weft.get_ok("/api/keys").await;
    assert!(listed["keys"][0]["revoked_at"].is_i64(), "{listed}");
    let unknown = Caller::Bearer("weft_0123".into())
        .get(&weft, "/api/runs")
        .await;
    assert_eq!(
        (unknown.status, unknown.message()),
        (401, "unknown API key")
    );
}

/// `start → work (task on queue "people") → done`.
fn tasked() -> serde_json::Value {
    json!({
        "name": "tasked",
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "work", "type": "task", "queue": "people", "activity": "doIt"},
            {"id": "done", "type": "end"}
        ],
        "edges": [{"from": "start", "to": "work"}, {"from": "work", "to": "done"}]
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_key_polls_and_completes() {
    let weft = closed(&[]).await;
    let (key, _) = make_key(&weft, "worker", "operator").await;
    weft.put_workflow(&tasked()).await;
    let run = weft.start_run("tasked", json!({})).await;
    let worker = Caller::Bearer(key);
    let task = worker
        .post(&weft, "/api/queues/people/poll", &json!({"wait": "10s"}))
        .await;
    assert_eq!(task.status, 200, "{}", task.body);
    let token = task.body["task_token"].as_str().expect("task_token");
    let done = worker
        .post(
            &weft,
            &format!("/api/tasks/{token}/complete"),
            &json!({"output": {"ok": true}}),
        )
        .await;
    assert!(done.status < 300, "{}", done.body);
    weft.wait_for(&run, "completed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_key_cannot_poll() {
    let weft = closed(&[]).await;
    let (key, _) = make_key(&weft, "peek", "viewer").await;
    let refused = Caller::Bearer(key)
        .post(&weft, "/api/queues/people/poll", &json!({"wait": "1ms"}))
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(
        refused.message(),
        "this needs the role `operator`; you (key:peek) are `viewer`"
    );
}
