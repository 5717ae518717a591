//! Retention and backup (SPEC §6): `--retention` prunes finished runs with their child runs
//! once they are old enough by the server's clock, never an unfinished one (nor a finished
//! child whose parent still runs); a SQLite file uses incremental auto-vacuum; `weft backup`
//! copies a live SQLite database and points PostgreSQL users to `pg_dump`.

use std::process::Command;

use serde_json::{Value, json};
use sqlx::Connection;

use crate::helpers::Weft;
use crate::sim::{HOOKS, assert_index_matches_log};

fn quick() -> Value {
    json!({"name": "quick", "nodes": [{"id": "start", "type": "start"}, {"id": "end", "type": "end"}],
           "edges": [{"from": "start", "to": "end"}]})
}

fn hold() -> Value {
    json!({"name": "hold",
           "nodes": [{"id": "start", "type": "start"}, {"id": "ok", "type": "approval", "prompt": "go?"},
                     {"id": "end", "type": "end"}],
           "edges": [{"from": "start", "to": "ok"}, {"from": "ok", "to": "end", "port": "approved"}]})
}

/// `start → a (subflow of `child`) → end`.
fn parent(name: &str, child: &str) -> Value {
    json!({"name": name,
           "nodes": [{"id": "start", "type": "start"}, {"id": "a", "type": "subflow", "workflow": child},
                     {"id": "end", "type": "end"}],
           "edges": [{"from": "start", "to": "a"}, {"from": "a", "to": "end"}]})
}

async fn exists(weft: &Weft, id: &str) -> bool {
    weft.get(&format!("/api/runs/{id}")).await.0 == 200
}

#[tokio::test]
async fn retention_prunes_old_finished_runs_with_their_children_and_keeps_unfinished_ones() {
    let weft = Weft::fresh_with(&[HOOKS, ("WEFT_RETENTION", "1h")]).await;
    for def in [
        quick(),
        hold(),
        parent("nest", "quick"),
        parent("waits", "hold"),
    ] {
        weft.put_workflow(&def).await;
    }
    let mut old = Vec::new();
    for _ in 0..5 {
        let id = weft.start_run("quick", json!({})).await;
        weft.wait_for(&id, "completed").await;
        old.push(id);
    }
    let nest = weft.start_run("nest", json!({})).await;
    let nested = weft.wait_for(&nest, "completed").await;
    let nest_child = nested["nodes"]["a"]["children"][0]["run"]
        .as_str()
        .unwrap()
        .to_owned();
    let holding = weft.start_run("hold", json!({})).await;
    weft.wait_node(&holding, "ok", "waiting").await;
    let waits = weft.start_run("waits", json!({})).await;
    let waiting = weft.wait_node(&waits, "a", "running").await;
    let waits_child = waiting["nodes"]["a"]["children"][0]["run"]
        .as_str()
        .unwrap()
        .to_owned();
    weft.wait_node(&waits_child, "ok", "waiting").await;

    // Half an hour on: nothing is old enough yet.
    weft.advance("30m").await;
    weft.advance("2m").await;
    assert!(exists(&weft, &old[0]).await && exists(&weft, &nest_child).await);

    weft.advance("2h").await;
    weft.wait_metric("weft_runs_pruned_total", 7.0).await;
    for id in old.iter().chain([&nest, &nest_child]) {
        assert!(!exists(&weft, id).await, "{id} was kept");
        assert!(
            weft.events_status(id).await == 404,
            "{id}'s events were kept"
        );
    }
    for id in [&holding, &waits, &waits_child] {
        assert!(exists(&weft, id).await, "{id} is unfinished and was pruned");
    }
    let listed = weft.get_ok("/api/runs?workflow=quick").await;
    assert_eq!(listed["runs"].as_array().unwrap().len(), 0, "{listed:#}");
    // A finished run of the tree that still runs is kept with it: approve, finish it, and
    // it goes once it is old.
    let (status, body) = weft
        .post(
            &format!("/api/runs/{waits_child}/approvals/ok"),
            &json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    weft.wait_for(&waits, "completed").await;
    weft.advance("2h").await;
    weft.wait_metric("weft_runs_pruned_total", 9.0).await;
    assert!(!exists(&weft, &waits).await && !exists(&weft, &waits_child).await);
    assert!(exists(&weft, &holding).await);
    assert_index_matches_log(weft.database()).await;
}

impl Weft {
    async fn events_status(&self, id: &str) -> u16 {
        self.get(&format!("/api/runs/{id}/events")).await.0
    }
}

#[tokio::test]
async fn backup_copies_a_live_sqlite_database_that_uses_incremental_vacuum() {
    if crate::pg::enabled() {
        // The PostgreSQL half: the command says to use pg_dump and exits non-zero.
        let out = Command::new(env!("CARGO_BIN_EXE_weft"))
            .args([
                "backup",
                "--database",
                crate::pg::server_url(),
                "/tmp/never-written.db",
            ])
            .output()
            .expect("run weft backup");
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("pg_dump"),
            "{out:?}"
        );
        return;
    }
    let weft = Weft::fresh().await;
    weft.put_workflow(&quick()).await;
    let mut ids = Vec::new();
    for _ in 0..20 {
        ids.push(weft.start_run("quick", json!({})).await);
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let copy = dir.path().join("copy.db");
    let backup = |file: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_weft"))
            .args(["backup", "--database", weft.database()])
            .arg(file)
            .output()
            .expect("run weft backup")
    };
    let out = backup(&copy);
    assert!(out.status.success(), "{out:?}");
    let url = format!("sqlite://{}", copy.display());
    let n = assert_index_matches_log(&url).await;
    assert!((1..=20).contains(&n), "the copy holds {n} runs");
    let again = backup(&copy);
    assert!(!again.status.success(), "overwrote a file: {again:?}");
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("backup failed"),
        "{again:?}"
    );

    let mut conn = sqlx::SqliteConnection::connect(weft.database())
        .await
        .expect("open");
    let mode: i64 = sqlx::query_scalar("pragma auto_vacuum")
        .fetch_one(&mut conn)
        .await
        .expect("auto_vacuum");
    assert_eq!(mode, 2, "incremental auto-vacuum");
    for id in &ids {
        weft.wait_for(id, "completed").await;
    }
}
