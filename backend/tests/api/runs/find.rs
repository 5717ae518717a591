//! Finding runs (SPEC §6): id prefix, creation range, `needs=person`, fields of the input,
//! and `total`, on whichever store the suite runs on (`WEFT_TEST_STORE`).

use serde_json::{Value, json};

use super::{approval_wf, decide, wf};
use crate::helpers::{Weft, is_json_error};

/// Starts `workflow` with the caller's `run_id`.
async fn start_as(weft: &Weft, workflow: &str, run_id: &str, input: Value) {
    let (status, body) = weft
        .post(
            &format!("/api/workflows/{workflow}/runs"),
            &json!({ "run_id": run_id, "input": input }),
        )
        .await;
    assert_eq!(status, 201, "start {run_id}: {body:#}");
}

/// The ids a search answers, in order, and its total.
async fn found(weft: &Weft, query: &str) -> (Vec<String>, u64) {
    let page = weft.get_ok(&format!("/api/runs?{query}")).await;
    let ids = page["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect();
    (ids, page["total"].as_u64().expect("total"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_are_found_by_id_prefix_time_input_field_and_waiting_for_a_person() {
    let weft = Weft::simulated().await;
    weft.put_workflow(&approval_wf("orders", false)).await;
    weft.put_workflow(&wf(
        "quick",
        json!([{"id": "start", "type": "start"}, {"id": "done", "type": "end"}]),
        json!([{"from": "start", "to": "done"}]),
    ))
    .await;
    weft.put_workflow(&wf(
        "waits",
        json!([
            {"id": "start", "type": "start"},
            {"id": "nap", "type": "timer", "duration": "1h"},
            {"id": "done", "type": "end"}
        ]),
        json!([{"from": "start", "to": "nap"}, {"from": "nap", "to": "done"}]),
    ))
    .await;
    weft.put_workflow(&wf(
        "hears",
        json!([
            {"id": "start", "type": "start"},
            {"id": "ack", "type": "signal", "signal": "ack"},
            {"id": "done", "type": "end"}
        ]),
        json!([{"from": "start", "to": "ack"}, {"from": "ack", "to": "done"}]),
    ))
    .await;

    let t0 = weft.advance("1s").await;
    let orders = [
        (
            "ord-1001",
            json!({"order": "a", "customer": {"id": "c-17"}, "amount": 42, "vip": true}),
        ),
        (
            "ord-1002",
            json!({"order": "b", "customer": {"id": "c-18"}, "amount": "42", "vip": false}),
        ),
        (
            "ord_1003",
            json!({"order": "c", "customer": {"id": "c-17"}, "amount": 42.0, "tags": ["x", "y"]}),
        ),
    ];
    for (id, input) in &orders {
        start_as(&weft, "orders", id, input.clone()).await;
        weft.advance("1s").await;
    }
    let t1 = weft.advance("1h").await;
    start_as(&weft, "quick", "q-1", json!({"customer": {"id": "c-17"}})).await;
    start_as(&weft, "waits", "w-1", json!({})).await;
    start_as(&weft, "hears", "s-1", json!({})).await;
    weft.wait_for("q-1", "completed").await;
    for id in ["ord-1001", "ord-1002", "ord_1003"] {
        weft.wait_node(id, "gate", "waiting").await;
    }
    weft.wait_node("w-1", "nap", "waiting").await;
    weft.wait_node("s-1", "ack", "waiting").await;

    // An id prefix: `_` is a character here, not a wildcard; a whole id finds its run.
    assert_eq!(
        found(&weft, "id_prefix=ord-").await,
        (vec!["ord-1002".into(), "ord-1001".into()], 2)
    );
    assert_eq!(
        found(&weft, "id_prefix=ord_").await,
        (vec!["ord_1003".into()], 1)
    );
    assert_eq!(
        found(&weft, "id_prefix=ord-1001").await,
        (vec!["ord-1001".into()], 1)
    );
    assert_eq!(found(&weft, "id_prefix=zzz").await, (vec![], 0));

    // Fields of the input, by JSON type: 42 is not "42", but 42.0 is 42.
    assert_eq!(
        found(&weft, "input.amount=42").await,
        (vec!["ord_1003".into(), "ord-1001".into()], 2)
    );
    assert_eq!(
        found(&weft, "input.amount=%2242%22").await,
        (vec!["ord-1002".into()], 1)
    );
    assert_eq!(
        found(&weft, "input.vip=true").await,
        (vec!["ord-1001".into()], 1)
    );
    assert_eq!(
        found(&weft, "input.customer.id=c-17").await,
        (vec!["q-1".into(), "ord_1003".into(), "ord-1001".into()], 3)
    );
    assert_eq!(
        found(
            &weft,
            "input.customer.id=c-17&workflow=orders&input.amount=42"
        )
        .await,
        (vec!["ord_1003".into(), "ord-1001".into()], 2)
    );
    // An array equals only the same array, not one element of it.
    assert_eq!(found(&weft, "input.tags=%22x%22").await, (vec![], 0));
    assert_eq!(
        found(&weft, "input.tags=%5B%22x%22%2C%22y%22%5D").await,
        (vec!["ord_1003".into()], 1)
    );

    // A creation range: at or after, and before; RFC 3339 or milliseconds.
    assert_eq!(
        found(&weft, &format!("created_after={t1}")).await.1,
        3,
        "the three started after the hour"
    );
    let before = format!("created_before={}", t0 + 2_000);
    assert_eq!(
        found(&weft, &before).await,
        (vec!["ord-1002".into(), "ord-1001".into()], 2)
    );
    assert_eq!(
        found(
            &weft,
            "created_after=1970-01-01T00:00:00Z&created_before=1970-01-01T00:00:01%2B00:00"
        )
        .await,
        (vec![], 0)
    );

    // Waiting for a person: the approvals and the signal, not the timer or the finished run.
    let (needs, total) = found(&weft, "needs=person").await;
    assert_eq!(total, 4, "{needs:?}");
    assert_eq!(needs, ["s-1", "ord_1003", "ord-1002", "ord-1001"]);
    let summary = weft.get_ok("/api/runs?id_prefix=w-1").await;
    assert_eq!(summary["runs"][0]["needs_person"], json!(false));
    let summary = weft.get_ok("/api/runs?id_prefix=s-1").await;
    assert_eq!(summary["runs"][0]["needs_person"], json!(true));
    let (status, body) = decide(&weft, "ord-1001", "gate", json!({"decision": "approve"})).await;
    assert_eq!(status, 200, "{body:#}");
    weft.wait_for("ord-1001", "completed").await;
    let (needs, total) = found(&weft, "needs=person").await;
    assert_eq!((needs.len(), total), (3, 3), "{needs:?}");
    assert!(!needs.contains(&"ord-1001".to_owned()));

    // `total` counts every page.
    let page = weft.get_ok("/api/runs?limit=2").await;
    assert_eq!(page["runs"].as_array().map(Vec::len), Some(2));
    assert_eq!(page["total"], json!(6));
    assert!(page["next_cursor"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_search_is_a_400_naming_the_parameter() {
    let weft = Weft::fresh().await;
    for (query, says) in [
        ("input.a..b=1", "input.a..b"),
        ("input.a%20b=1", "input.a b"),
        ("needs=robot", "needs must be `person`"),
        ("created_after=yesterday", "created_after must be RFC 3339"),
        ("created_before=", "created_before must be RFC 3339"),
        ("limit=501", "limit must be between 1 and 500"),
        ("id_prefix=", "id_prefix must be 1 to"),
        ("sort=id", "unknown parameter `sort`"),
        ("status=stuck", "unknown status `stuck`"),
    ] {
        let (status, body) = weft.get(&format!("/api/runs?{query}")).await;
        assert_eq!(status, 400, "{query}: {body:#}");
        assert!(is_json_error(&body), "{query}: {body:#}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{query}: {message}");
    }
}
