//! The audit log: a row for every change, with who, what, when and the target; filters and
//! pages; admins only.

use serde_json::{Value, json};

use super::{Caller, add_user, closed, login, make_key};
use crate::edges::gated;
use crate::helpers::Weft;
use crate::sim::HOOKS;

async fn ok(weft: &Weft, path: &str, body: Value) -> Value {
    let (status, answer) = weft.post(path, &body).await;
    assert!((200..300).contains(&status), "{path}: {status} {answer}");
    answer
}

async fn audit(weft: &Weft, query: &str) -> Value {
    weft.get_ok(&format!("/api/audit{query}")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_change_is_audited() {
    let weft = closed(&[HOOKS]).await;
    weft.put_workflow(&gated("g")).await;
    let run = weft.start_run("g", json!({})).await;
    weft.wait_node(&run, "gate", "waiting").await;
    ok(
        &weft,
        &format!("/api/runs/{run}/approvals/gate"),
        json!({"decision": "approve"}),
    )
    .await;
    weft.wait_node(&run, "sig", "waiting").await;
    ok(&weft, &format!("/api/runs/{run}/signals/go"), json!({})).await;
    weft.wait_for(&run, "completed").await;

    let other = weft.start_run("g", json!({})).await;
    weft.wait_node(&other, "gate", "waiting").await;
    ok(&weft, &format!("/api/runs/{other}/pause"), json!({})).await;
    ok(&weft, &format!("/api/runs/{other}/resume"), json!({})).await;
    ok(&weft, &format!("/api/runs/{other}/cancel"), json!({})).await;
    weft.wait_for(&other, "cancelled").await;
    // Dry runs change nothing, so they leave no row.
    ok(
        &weft,
        &format!("/api/runs/{other}/redrive"),
        json!({"dry_run": true}),
    )
    .await;
    ok(&weft, &format!("/api/runs/{other}/redrive"), json!({})).await;
    ok(
        &weft,
        "/api/runs/bulk",
        json!({"action": "cancel", "filter": {"workflow": "g"}, "dry_run": true}),
    )
    .await;
    ok(
        &weft,
        "/api/runs/bulk",
        json!({"action": "cancel", "filter": {"workflow": "g"}}),
    )
    .await;
    let (status, body) = weft.delete("/api/workflows/g").await;
    assert!(status < 300, "archive: {body}");

    let (_, key_id) = make_key(&weft, "ci", "operator").await;
    let (status, _) = weft.delete(&format!("/api/keys/{key_id}")).await;
    assert_eq!(status, 204);
    add_user(&weft, "alice", "viewer", "pw-alice").await;
    let changed = weft
        .client
        .patch(weft.url("/api/users/alice"))
        .json(&json!({"role": "approver"}))
        .send()
        .await
        .expect("patch");
    assert_eq!(changed.status().as_u16(), 200);
    let failed = Caller::Nobody
        .post(
            &weft,
            "/api/auth/login",
            &json!({"name": "alice", "password": "nope"}),
        )
        .await;
    assert_eq!(failed.status, 401);
    let (cookie, _) = login(&weft, "alice", "pw-alice").await;
    let out = Caller::Session(cookie)
        .post(&weft, "/api/auth/logout", &json!({}))
        .await;
    assert_eq!(out.status, 204);
    let (status, _) = weft.delete("/api/users/alice").await;
    assert_eq!(status, 204);

    let log = audit(&weft, "?limit=100").await;
    let rows = log["entries"].as_array().expect("entries");
    let find = |action: &str, outcome: &str| {
        rows.iter()
            .find(|r| r["action"] == action && r["outcome"] == outcome)
            .unwrap_or_else(|| panic!("no {action} ({outcome}) in {log:#}"))
            .clone()
    };
    let run_target = format!("run:{run}");
    let other_target = format!("run:{other}");
    let key_target = format!("key:{key_id}");
    let expected: Vec<(&str, &str, &str, &str)> = vec![
        ("workflow.saved", "ok", "token", "workflow:g"),
        // The newest of the two starts.
        ("run.started", "ok", "token", &other_target),
        ("approval.decided", "ok", "token", &run_target),
        ("run.signalled", "ok", "token", &run_target),
        ("run.paused", "ok", "token", &other_target),
        ("run.resumed", "ok", "token", &other_target),
        ("run.cancelled", "ok", "token", &other_target),
        ("run.redriven", "ok", "token", &other_target),
        ("runs.bulk", "ok", "token", "runs"),
        ("workflow.archived", "ok", "token", "workflow:g"),
        ("key.created", "ok", "token", &key_target),
        ("key.revoked", "ok", "token", &key_target),
        ("user.added", "ok", "token", "user:alice"),
        ("user.changed", "ok", "token", "user:alice"),
        ("login", "failed", "alice", "user:alice"),
        ("login", "ok", "alice", "user:alice"),
        ("logout", "ok", "alice", "user:alice"),
        ("user.removed", "ok", "token", "user:alice"),
    ];
    for (action, outcome, actor, target) in &expected {
        let row = find(action, outcome);
        assert_eq!(row["actor"], *actor, "{row}");
        assert_eq!(row["target"], *target, "{row}");
        assert!(row["at"].as_i64().is_some_and(|t| t > 0), "{row}");
    }
    // Each change once (no dry run), and the first run's start.
    assert_eq!(rows.len(), expected.len() + 1, "{log:#}");
    assert_eq!(find("key.created", "ok")["details"]["role"], "operator");
    assert_eq!(
        find("approval.decided", "ok")["details"],
        json!({"node": "gate", "decision": "approve"})
    );
    assert_eq!(find("run.started", "ok")["details"]["workflow"], "g");
    assert_eq!(find("login", "ok")["ip"], "127.0.0.1");
    // Newest first.
    assert_eq!(rows[0]["action"], "user.removed");
    assert_eq!(rows[rows.len() - 1]["action"], "workflow.saved");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_user_action_since() {
    let weft = closed(&[HOOKS]).await;
    add_user(&weft, "alice", "viewer", "pw-alice").await;
    add_user(&weft, "bob", "viewer", "pw-bob").await;
    let later = weft.advance("1h").await;
    login(&weft, "alice", "pw-alice").await;
    login(&weft, "bob", "pw-bob").await;
    add_user(&weft, "carol", "viewer", "pw-carol").await;

    let actions = |page: &Value| -> Vec<String> {
        page["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .map(|r| {
                format!(
                    "{} {}",
                    r["actor"].as_str().unwrap_or(""),
                    r["action"].as_str().unwrap_or("")
                )
            })
            .collect()
    };
    assert_eq!(
        actions(&audit(&weft, "?actor=alice").await),
        ["alice login"]
    );
    // SPEC §7 names the filter `user`.
    assert_eq!(actions(&audit(&weft, "?user=alice").await), ["alice login"]);
    assert_eq!(
        actions(&audit(&weft, "?action=user.added").await),
        ["token user.added", "token user.added", "token user.added"]
    );
    assert_eq!(
        actions(&audit(&weft, &format!("?since={later}")).await),
        ["token user.added", "bob login", "alice login"]
    );
    let first = audit(&weft, "?limit=2").await;
    assert_eq!(actions(&first), ["token user.added", "bob login"]);
    let cursor = first["next"].as_str().expect("a next page");
    let second = audit(&weft, &format!("?limit=2&cursor={cursor}")).await;
    assert_eq!(actions(&second), ["alice login", "token user.added"]);
    let (status, _) = weft.get("/api/audit?cursor=zz").await;
    assert_eq!(status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_admins_read_it() {
    let weft = closed(&[]).await;
    let (key, _) = make_key(&weft, "ops", "editor").await;
    let refused = Caller::Bearer(key).get(&weft, "/api/audit").await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(
        refused.message().contains("`admin`"),
        "{}",
        refused.message()
    );
    let (admin_key, _) = make_key(&weft, "root", "admin").await;
    assert_eq!(
        Caller::Bearer(admin_key)
            .get(&weft, "/api/audit")
            .await
            .status,
        200
    );
}
