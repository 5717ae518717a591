//! Starting and ending runs: cancel with `on_cancel` and with an attempt in flight, idempotent
//! starts by `run_id`, `input_schema`, and the list with filters and cursor paging.

use std::time::Duration;

use serde_json::{Value, json};

use super::{approval_wf, decide, http, one_call, wf};
use crate::helpers::{Rule, Target, Weft, node_events, types};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_runs_the_on_cancel_path_then_the_run_is_cancelled() {
    let (weft, target) = (Weft::fresh().await, Target::spawn().await);
    let mut def = approval_wf("refundable", false);
    def["on_cancel"] = json!("refund");
    def["nodes"].as_array_mut().expect("nodes").extend([
        json!({"id": "refund", "type": "http",
               "request": {"method": "POST", "url": target.url("/refund"), "body": {"order": "{{ input.order }}"}}}),
        json!({"id": "refunded", "type": "end"}),
    ]);
    def["edges"]
        .as_array_mut()
        .expect("edges")
        .push(json!({"from": "refund", "to": "refunded"}));
    weft.put_workflow(&def).await;

    let id = weft.start_run("refundable", json!({"order": "A-9"})).await;
    weft.wait_node(&id, "gate", "waiting").await;
    assert!(
        target.seen_at("/refund").is_empty(),
        "the cancel path waits for a cancel"
    );
    let (status, body) = weft
        .post(
            &format!("/api/runs/{id}/cancel"),
            &json!({"reason": "customer asked"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let run = weft.wait_for(&id, "cancelled").await;
    assert_eq!(run["nodes"]["gate"]["status"], "cancelled", "{run:#}");
    assert_eq!(run["nodes"]["refund"]["status"], "completed", "{run:#}");
    let seen = target.seen_at("/refund");
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].body, json!({"order": "A-9"}));
    assert_eq!(
        seen[0].key.as_deref(),
        Some(format!("{id}/refund").as_str())
    );

    let (status, body) = weft
        .post(&format!("/api/runs/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(status, 409, "cancel of a cancelled run: {body}");
    let (status, body) = decide(&weft, &id, "gate", json!({"decision": "approve"})).await;
    assert_eq!(status, 409, "approve after cancel: {body}");
    let events = weft.events(&id).await;
    assert_eq!(types(&events).last(), Some(&"run_cancelled"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_abandons_an_attempt_in_flight() {
    let (weft, target) = (Weft::fresh().await, Target::spawn().await);
    target.rule("/slow", Rule::Slow(Duration::from_millis(400)));
    let call = http("call", &target.url("/slow"), json!({"timeout": "5s"}));
    weft.put_workflow(&one_call("slowpoke", call)).await;
    let id = weft.start_run("slowpoke", json!({})).await;
    weft.wait_node(&id, "call", "running").await;
    let (status, body) = weft
        .post(&format!("/api/runs/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    weft.wait_for(&id, "cancelled").await;
    // The abandoned attempt's late answer arrives and is decided; it must change nothing.
    weft.wait_metric("weft_late_results_total", 1.0).await;
    let run = weft.run(&id).await;
    assert_eq!(run["status"], "cancelled", "{run:#}");
    assert_eq!(run["nodes"]["call"]["status"], "cancelled", "{run:#}");
    let events = weft.events(&id).await;
    assert!(
        node_events(&events, "node_completed", "call").is_empty(),
        "{events:#?}"
    );
    assert_eq!(types(&events).last(), Some(&"run_cancelled"));
    assert_eq!(target.seen_at("/slow").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starting_is_idempotent_by_run_id() {
    let weft = Weft::fresh().await;
    weft.put_workflow(&approval_wf("once", false)).await;
    let start = |input: Value| {
        let weft = &weft;
        async move {
            weft.post(
                "/api/workflows/once/runs",
                &json!({"run_id": "order-1", "input": input}),
            )
            .await
        }
    };
    let (status, first) = start(json!({"order": 1})).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["run_id"], "order-1");
    let (status, again) = start(json!({"order": 1})).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["run_id"], "order-1");
    assert_eq!(again["created_at"], first["created_at"]);
    let (status, body) = start(json!({"order": 2})).await;
    assert_eq!(status, 409, "{body}");
    assert!(crate::helpers::is_json_error(&body), "{body}");

    let list = weft.get_ok("/api/runs").await;
    assert_eq!(list["runs"].as_array().map(Vec::len), Some(1), "{list:#}");
    let run = weft.run("order-1").await;
    assert_eq!(run["input"], json!({"order": 1}));
    let events = weft.events("order-1").await;
    assert_eq!(
        node_events(&events, "node_waiting", "gate").len(),
        1,
        "started once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_input_not_matching_input_schema_is_422_with_paths() {
    let weft = Weft::fresh().await;
    let mut def = approval_wf("typed", false);
    def["input_schema"] = json!({
        "type": "object", "required": ["order"],
        "properties": {"order": {"type": "string"}, "amount": {"type": "number", "minimum": 0}}
    });
    weft.put_workflow(&def).await;

    let (status, body) = weft
        .post(
            "/api/workflows/typed/runs",
            &json!({"input": {"amount": "ten"}}),
        )
        .await;
    assert_eq!(status, 422, "{body:#}");
    let errors = body["error"]["details"]["errors"].clone();
    assert!(errors.get("/amount").is_some(), "names /amount: {body:#}");
    assert!(
        errors.to_string().contains("order"),
        "names the missing `order`: {body:#}"
    );

    let (status, body) = weft
        .post(
            "/api/workflows/typed/runs",
            &json!({"input": {"order": "x", "amount": -1}}),
        )
        .await;
    assert_eq!(status, 422, "{body:#}");
    assert!(
        body["error"]["details"]["errors"].get("/amount").is_some(),
        "{body:#}"
    );

    let list = weft.get_ok("/api/runs").await;
    assert_eq!(list["runs"], json!([]), "nothing started: {list:#}");
    weft.start_run("typed", json!({"order": "x", "amount": 3}))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_list_filters_and_pages_newest_first() {
    let (weft, target) = (Weft::simulated().await, Target::spawn().await);
    target.rule("/bad", Rule::Always(400));
    let quick = wf(
        "quick",
        json!([{"id": "start", "type": "start"}, {"id": "done", "type": "end"}]),
        json!([{"from": "start", "to": "done"}]),
    );
    weft.put_workflow(&quick).await;
    weft.put_workflow(&one_call(
        "doomed",
        http("call", &target.url("/bad"), json!({})),
    ))
    .await;
    let mut created = Vec::new();
    for _ in 0..5 {
        created.push(weft.start_run("quick", json!({})).await);
        weft.advance("5ms").await;
    }
    let doomed = weft.start_run("doomed", json!({})).await;
    for id in &created {
        weft.wait_for(id, "completed").await;
    }
    weft.wait_for(&doomed, "failed").await;

    let mut seen = Vec::new();
    let mut pages = 0;
    let mut path = "/api/runs?workflow=quick&limit=2".to_owned();
    loop {
        pages += 1;
        assert!(pages <= 5, "paging does not end");
        let page = weft.get_ok(&path).await;
        let runs = page["runs"].as_array().expect("runs");
        assert!(runs.len() <= 2, "{page:#}");
        seen.extend(
            runs.iter()
                .map(|r| r["id"].as_str().expect("id").to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/runs?workflow=quick&limit=2&cursor={c}"),
            None => break,
        }
    }
    let newest_first: Vec<String> = created.iter().rev().cloned().collect();
    assert_eq!(seen, newest_first, "every run exactly once, newest first");

    let failed = weft.get_ok("/api/runs?status=failed").await;
    let ids: Vec<&Value> = failed["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .map(|r| &r["id"])
        .collect();
    assert_eq!(ids, [&json!(doomed)]);
    let none = weft
        .get_ok("/api/runs?workflow=doomed&status=completed")
        .await;
    assert_eq!(none["runs"], json!([]));
    let all = weft.get_ok("/api/runs").await;
    assert_eq!(all["runs"].as_array().map(Vec::len), Some(6));
    assert_eq!(all["runs"][0]["id"], json!(doomed), "newest first");
}
