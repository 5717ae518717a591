//! Bad requests get a fitting status and SPEC §3's JSON error body, and change nothing:
//! malformed JSON and wrong types (400), unknown workflow/run/node (404), a decision for a
//! node that is not waiting and a cancel of a finished run (409), bodies over 1 MiB (413),
//! unknown `/api` paths (JSON 404, not the SPA's HTML). Afterwards the store reads the same
//! as before and `/healthz` is ok.

use axum::http::Method;
use serde_json::{Value, json};

use crate::helpers::{Checks, Weft, snapshot};

/// `start → gate (approval) → done`.
fn gated(name: &str) -> Value {
    json!({
        "name": name,
        "input_schema": {"type": "object", "required": ["order"]},
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "gate", "type": "approval", "prompt": "ok?"},
            {"id": "done", "type": "end"}
        ],
        "edges": [
            {"from": "start", "to": "gate"},
            {"from": "gate", "to": "done", "port": "approved"}
        ]
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_json_errors_and_change_nothing() {
    let weft = Weft::fresh().await;
    weft.put_workflow(&gated("gated")).await;
    let waiting = weft.start_run("gated", json!({"order": 1})).await;
    weft.wait_node(&waiting, "gate", "waiting").await;
    let done = weft.start_run("gated", json!({"order": 2})).await;
    weft.wait_node(&done, "gate", "waiting").await;
    let (status, body) = weft
        .post(
            &format!("/api/runs/{done}/approvals/gate"),
            &json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    weft.wait_for(&done, "completed").await;
    let before = snapshot(&weft, &[&waiting, &done], &["gated"]).await;
    let mut c = Checks::default();

    // 400: malformed JSON, wrong types, unknown fields, bad names and queries.
    let garbage = b"{\"input\": {\"order\": 1".to_vec();
    c.check(
        "truncated JSON",
        weft.raw(Method::POST, "/api/workflows/gated/runs", garbage)
            .await,
        400,
    );
    c.check(
        "not JSON",
        weft.raw(Method::PUT, "/api/workflows/gated", b"nodes: []".to_vec())
            .await,
        400,
    );
    let approve_path = format!("/api/runs/{waiting}/approvals/gate");
    c.check(
        "garbage decision",
        weft.raw(Method::POST, &approve_path, b"{decision".to_vec())
            .await,
        400,
    );
    c.check(
        "run_id of the wrong type",
        weft.post(
            "/api/workflows/gated/runs",
            &json!({"input": {"order": 1}, "run_id": 5}),
        )
        .await,
        400,
    );
    c.check(
        "unknown field",
        weft.post(
            "/api/workflows/gated/runs",
            &json!({"input": {"order": 1}, "runid": "x"}),
        )
        .await,
        400,
    );
    c.check(
        "run_id with a slash",
        weft.post(
            "/api/workflows/gated/runs",
            &json!({"input": {"order": 1}, "run_id": "a/b"}),
        )
        .await,
        400,
    );
    c.check(
        "decision of the wrong type",
        weft.post(&approve_path, &json!({"decision": true})).await,
        400,
    );
    c.check(
        "unknown decision",
        weft.post(&approve_path, &json!({"decision": "maybe"}))
            .await,
        400,
    );
    c.check(
        "reason of the wrong type",
        weft.post(
            &format!("/api/runs/{waiting}/cancel"),
            &json!({"reason": 5}),
        )
        .await,
        400,
    );
    c.check(
        "a definition that is an array",
        weft.put("/api/workflows/gated", &json!([1, 2])).await,
        400,
    );
    let mut renamed = gated("gated");
    renamed["name"] = json!("other");
    c.check(
        "name differs from the path",
        weft.put("/api/workflows/gated", &renamed).await,
        400,
    );
    c.check(
        "bad workflow name",
        weft.put("/api/workflows/Bad%20Name", &gated("Bad Name"))
            .await,
        400,
    );
    c.check(
        "unknown status filter",
        weft.get("/api/runs?status=sleeping").await,
        400,
    );
    c.check(
        "malformed cursor",
        weft.get("/api/runs?cursor=nonsense").await,
        400,
    );
    c.check(
        "limit that is not a number",
        weft.get("/api/runs?limit=many").await,
        400,
    );
    c.check(
        "version that is not a number",
        weft.get("/api/workflows/gated/versions/latest").await,
        400,
    );

    // 422: invalid definitions and inputs are refused whole.
    let mut invalid = gated("gated");
    invalid["nodes"][1]["type"] = json!("teleport");
    c.check(
        "invalid new version",
        weft.put("/api/workflows/gated", &invalid).await,
        422,
    );
    invalid["name"] = json!("fresh");
    c.check(
        "invalid new workflow",
        weft.put("/api/workflows/fresh", &invalid).await,
        422,
    );
    c.check(
        "input against the schema",
        weft.post(
            "/api/workflows/gated/runs",
            &json!({"input": {"amount": 1}}),
        )
        .await,
        422,
    );

    // 404: unknown workflow, run, node, path.
    c.check(
        "unknown workflow",
        weft.get("/api/workflows/nope").await,
        404,
    );
    c.check(
        "unknown version",
        weft.get("/api/workflows/gated/versions/9").await,
        404,
    );
    c.check(
        "start an unknown workflow",
        weft.post("/api/workflows/nope/runs", &json!({"input": {}}))
            .await,
        404,
    );
    c.check(
        "archive an unknown workflow",
        weft.delete("/api/workflows/nope").await,
        404,
    );
    c.check("unknown run", weft.get("/api/runs/nope").await, 404);
    c.check(
        "events of an unknown run",
        weft.get("/api/runs/nope/events").await,
        404,
    );
    c.check(
        "stream of an unknown run",
        weft.get("/api/runs/nope/stream").await,
        404,
    );
    c.check(
        "approve in an unknown run",
        weft.post(
            "/api/runs/nope/approvals/gate",
            &json!({"decision": "approve"}),
        )
        .await,
        404,
    );
    c.check(
        "approve an unknown node",
        weft.post(
            &format!("/api/runs/{waiting}/approvals/ghost"),
            &json!({"decision": "approve"}),
        )
        .await,
        404,
    );
    c.check(
        "cancel an unknown run",
        weft.post("/api/runs/nope/cancel", &json!({})).await,
        404,
    );
    c.check(
        "signal an unknown run",
        weft.post("/api/runs/nope/signals/go", &json!({})).await,
        404,
    );
    c.check("unknown API path", weft.get("/api/nope").await, 404);
    c.check(
        "unknown API subpath",
        weft.get(&format!("/api/runs/{waiting}/whatever/else"))
            .await,
        404,
    );
    c.check(
        "unknown API path, POST",
        weft.post("/api/frobnicate", &json!({})).await,
        404,
    );

    // 405: a path that exists, with a method it does not serve.
    c.check(
        "wrong method",
        weft.raw(Method::PATCH, "/api/workflows/gated", b"{}".to_vec())
            .await,
        405,
    );

    // 409: not waiting, finished, conflicting start.
    c.check(
        "approve a node that is not waiting",
        weft.post(
            &format!("/api/runs/{waiting}/approvals/done"),
            &json!({"decision": "approve"}),
        )
        .await,
        409,
    );
    c.check(
        "approve in a finished run",
        weft.post(
            &format!("/api/runs/{done}/approvals/gate"),
            &json!({"decision": "approve"}),
        )
        .await,
        409,
    );
    c.check(
        "cancel a finished run",
        weft.post(&format!("/api/runs/{done}/cancel"), &json!({}))
            .await,
        409,
    );
    c.check(
        "same run_id, other input",
        weft.post(
            "/api/workflows/gated/runs",
            &json!({"run_id": done, "input": {"order": 3}}),
        )
        .await,
        409,
    );

    // 413: over 1 MiB, for a definition and for a run's input.
    let big = "x".repeat(1024 * 1024 + 10);
    let mut huge = gated("gated");
    huge["description"] = json!(big);
    c.check(
        "a definition over 1 MiB",
        weft.put("/api/workflows/gated", &huge).await,
        413,
    );
    c.check(
        "an input over 1 MiB",
        weft.post(
            "/api/workflows/gated/runs",
            &json!({"input": {"order": big}}),
        )
        .await,
        413,
    );

    let after = snapshot(&weft, &[&waiting, &done], &["gated"]).await;
    if before != after {
        c.0.push(format!(
            "bad requests changed the store:\nbefore {before:#}\nafter {after:#}"
        ));
    }
    c.assert_none();
    let health = weft
        .client
        .get(weft.url("/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.expect("body").trim(), "ok");

    // The waiting run still works after all that.
    let (status, body) = weft
        .post(&approve_path, &json!({"decision": "approve"}))
        .await;
    assert_eq!(status, 200, "{body}");
    weft.wait_for(&waiting, "completed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_spa_is_served_outside_api() {
    let weft = Weft::fresh().await;
    for path in ["/", "/workflows/some/page"] {
        let resp = weft.client.get(weft.url(path)).send().await.expect("get");
        assert_eq!(resp.status(), 200, "{path}");
        let text = resp.text().await.expect("body");
        assert!(text.contains("<title>weft</title>"), "{path}: {text}");
    }
}
