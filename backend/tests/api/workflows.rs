//! Workflow definitions over HTTP: versioned saves (201 new, 200 unchanged), reading the
//! latest and one version, the list, archiving (runs keep their version), 422 with
//! diagnostics for an invalid definition, and `POST /api/validate`.

use serde_json::{Value, json};

use crate::helpers::Weft;

/// `start → gate (approval) → done`, whose output says which version ran.
fn gated(name: &str, tag: &str) -> Value {
    json!({
        "name": name,
        "description": format!("gated {tag}"),
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "gate", "type": "approval", "prompt": "go?"},
            {"id": "done", "type": "end", "output": {"version": tag}}
        ],
        "edges": [
            {"from": "start", "to": "gate"},
            {"from": "gate", "to": "done", "port": "approved"}
        ]
    })
}

fn diagnostics(body: &Value) -> Vec<Value> {
    body["error"]["details"]["diagnostics"]
        .as_array()
        .unwrap_or_else(|| panic!("no error.details.diagnostics in {body:#}"))
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saves_new_versions_and_reads_them_back() {
    let weft = Weft::fresh().await;
    let v1 = gated("orders", "one");

    let (status, body) = weft.put("/api/workflows/orders", &v1).await;
    assert_eq!(
        (status, &body["name"], &body["version"]),
        (201, &json!("orders"), &json!(1)),
        "{body}"
    );

    let (status, body) = weft.put("/api/workflows/orders", &v1).await;
    assert_eq!(
        (status, &body["version"]),
        (200, &json!(1)),
        "unchanged: {body}"
    );

    // The same definition with keys in another order is unchanged too.
    let reordered: Value = serde_json::from_str(
        r#"{"edges": [{"to": "gate", "from": "start"}, {"port": "approved", "to": "done", "from": "gate"}],
            "nodes": [{"type": "start", "id": "start"}, {"prompt": "go?", "type": "approval", "id": "gate"},
                      {"output": {"version": "one"}, "type": "end", "id": "done"}],
            "description": "gated one", "name": "orders"}"#,
    )
    .expect("json");
    let (status, body) = weft.put("/api/workflows/orders", &reordered).await;
    assert_eq!(
        (status, &body["version"]),
        (200, &json!(1)),
        "reordered: {body}"
    );

    let v2 = gated("orders", "two");
    let (status, body) = weft.put("/api/workflows/orders", &v2).await;
    assert_eq!(
        (status, &body["version"]),
        (201, &json!(2)),
        "changed: {body}"
    );

    let latest = weft.get_ok("/api/workflows/orders").await;
    assert_eq!(latest["version"], 2);
    assert_eq!(latest["definition"]["description"], "gated two");

    let first = weft.get_ok("/api/workflows/orders/versions/1").await;
    assert_eq!(first["version"], 1);
    assert_eq!(first["definition"]["nodes"][2]["output"]["version"], "one");
    let second = weft.get_ok("/api/workflows/orders/versions/2").await;
    assert_eq!(second["definition"]["nodes"][2]["output"]["version"], "two");

    let (status, body) = weft.get("/api/workflows/orders/versions/3").await;
    assert_eq!(status, 404, "{body}");

    weft.put_workflow(&gated("billing", "b")).await;
    let list = weft.get_ok("/api/workflows").await;
    let items = list["workflows"].as_array().expect("workflows");
    let names: Vec<&str> = items
        .iter()
        .map(|w| w["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(names, ["billing", "orders"], "{list:#}");
    let orders = &items[1];
    assert_eq!(orders["version"], 2);
    assert_eq!(orders["description"], "gated two");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archiving_hides_a_workflow_and_runs_keep_their_version() {
    let weft = Weft::fresh().await;
    assert_eq!(weft.put_workflow(&gated("orders", "one")).await, 1);
    let old = weft.start_run("orders", json!({})).await;
    weft.wait_node(&old, "gate", "waiting").await;
    assert_eq!(weft.put_workflow(&gated("orders", "two")).await, 2);
    let new = weft.start_run("orders", json!({})).await;

    let (status, body) = weft.delete("/api/workflows/orders").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = weft.get("/api/workflows/orders").await;
    assert_eq!(status, 404, "archived: {body}");
    let list = weft.get_ok("/api/workflows").await;
    assert_eq!(list["workflows"], json!([]), "{list:#}");
    let (status, body) = weft
        .post("/api/workflows/orders/runs", &json!({"input": {}}))
        .await;
    assert_eq!(status, 404, "start after archive: {body}");

    // Runs that exist go on, each on the version it started with.
    for (run, version, tag) in [(&old, 1, "one"), (&new, 2, "two")] {
        weft.wait_node(run, "gate", "waiting").await;
        let (status, body) = weft
            .post(
                &format!("/api/runs/{run}/approvals/gate"),
                &json!({"decision": "approve"}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let done = weft.wait_for(run, "completed").await;
        assert_eq!(done["version"], version, "{done:#}");
        assert_eq!(done["output"], json!({"version": tag}), "{done:#}");
    }

    let (status, body) = weft.delete("/api/workflows/nope").await;
    assert_eq!(status, 404, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_definition_is_422_with_diagnostics_naming_the_node() {
    let weft = Weft::fresh().await;
    let bad = json!({
        "name": "broken",
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "fetch", "type": "http", "request": {"method": "GET", "url": "http://127.0.0.1:1/x"},
             "retry": {"max_attempts": 0}},
            {"id": "done", "type": "end"}
        ],
        "edges": [
            {"from": "start", "to": "fetch"},
            {"from": "fetch", "to": "done"},
            {"from": "fetch", "to": "ghost"}
        ]
    });
    let (status, body) = weft.put("/api/workflows/broken", &bad).await;
    assert_eq!(status, 422, "{body:#}");
    assert!(crate::helpers::is_json_error(&body), "{body:#}");
    let diags = diagnostics(&body);
    assert!(
        diags.iter().any(|d| d["node"] == "fetch"
            && d["severity"] == "error"
            && d["code"] == "retry_max_attempts"),
        "{diags:#?}"
    );
    assert!(
        diags.iter().any(|d| d["code"] == "unknown_edge_node"),
        "{diags:#?}"
    );

    let unknown_type = json!({
        "name": "broken",
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "weird", "type": "teleport"},
            {"id": "done", "type": "end"}
        ],
        "edges": [{"from": "start", "to": "weird"}, {"from": "weird", "to": "done"}]
    });
    let (status, body) = weft.put("/api/workflows/broken", &unknown_type).await;
    assert_eq!(status, 422, "{body:#}");
    assert!(
        diagnostics(&body).iter().any(|d| d["node"] == "weird"),
        "{body:#}"
    );

    // Nothing was stored.
    let (status, _) = weft.get("/api/workflows/broken").await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_reports_findings_and_stores_nothing() {
    let weft = Weft::fresh().await;
    let (status, body) = weft.post("/api/validate", &gated("fine", "x")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["valid"], true, "{body:#}");
    assert_eq!(body["diagnostics"], json!([]), "{body:#}");

    let cyclic = json!({
        "name": "loop",
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "a", "type": "transform", "output": 1},
            {"id": "b", "type": "transform", "output": 2},
            {"id": "done", "type": "end"}
        ],
        "edges": [
            {"from": "start", "to": "a"},
            {"from": "a", "to": "b"},
            {"from": "b", "to": "a"},
            {"from": "b", "to": "done"}
        ]
    });
    let (status, body) = weft.post("/api/validate", &cyclic).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["valid"], false, "{body:#}");
    let cycle = body["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .find(|d| d["code"] == "cycle")
        .unwrap_or_else(|| panic!("no cycle finding: {body:#}"))
        .clone();
    let words: Vec<&str> = cycle["message"]
        .as_str()
        .unwrap_or_default()
        .split(|c: char| !c.is_alphanumeric())
        .collect();
    assert!(
        words.contains(&"a") && words.contains(&"b"),
        "names its nodes: {cycle}"
    );

    let list = weft.get_ok("/api/workflows").await;
    assert_eq!(list["workflows"], json!([]));
}
