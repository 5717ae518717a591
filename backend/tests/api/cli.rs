//! `weft validate FILE…`: the shipped examples pass; a broken definition exits 1 with findings
//! that name the file, the code and the node. `weft migrate` creates the tables of the store
//! this pass runs on, twice in a row, and refuses an unknown URL.

use std::process::Command;

fn weft(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(args)
        .output()
        .expect("runs weft");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn the_examples_are_valid() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples");
    let files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .filter(|p| p.ends_with(".json"))
        .collect();
    assert!(files.len() >= 5);
    let args: Vec<&str> = std::iter::once("validate")
        .chain(files.iter().map(String::as_str))
        .collect();
    let (code, out) = weft(&args);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        out.lines().filter(|l| l.ends_with(": ok")).count(),
        files.len(),
        "{out}"
    );
}

#[test]
fn a_broken_definition_exits_1_and_points_at_its_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.json");
    let def = serde_json::json!({
        "name": "broken",
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "pay", "type": "http", "request": {"method": "POST", "url": "http://x"}, "retry": {"max_attempts": 0}},
            {"id": "orphan", "type": "end"},
            {"id": "done", "type": "end"}
        ],
        "edges": [{"from": "start", "to": "pay"}, {"from": "pay", "to": "done"}]
    });
    std::fs::write(&path, def.to_string()).unwrap();
    let (code, out) = weft(&["validate", path.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("error [retry_max_attempts] node pay:"),
        "{out}"
    );
    assert!(out.contains("error [unreachable] node orphan:"), "{out}");
    assert!(
        out.lines().all(|l| l.starts_with(path.to_str().unwrap())),
        "{out}"
    );
    std::fs::write(&path, "{ not json").unwrap();
    let (code, out) = weft(&["validate", path.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("malformed JSON"), "{out}");
}

/// SIGTERM stops the server cleanly (exit 0, the engine stops after committing) and a restart
/// on the same file finds the waiting run where it was.
#[tokio::test]
async fn sigterm_shuts_down_gracefully_and_loses_nothing() {
    use crate::helpers::Weft;
    let mut weft = Weft::fresh().await;
    let def = serde_json::json!({"name": "gate", "nodes": [
        {"id": "start", "type": "start"}, {"id": "ask", "type": "approval", "prompt": "ok?"}, {"id": "end", "type": "end"}],
        "edges": [{"from": "start", "to": "ask"}, {"from": "ask", "to": "end", "port": "approved"}]});
    assert_eq!(weft.put("/api/workflows/gate", &def).await.0, 201);
    let (status, run) = weft
        .post(
            "/api/workflows/gate/runs",
            &serde_json::json!({"input": {}}),
        )
        .await;
    assert_eq!(status, 201, "{run}");
    let id = run["id"].as_str().unwrap().to_owned();
    assert_eq!(weft.terminate(), Some(0), "log:\n{}", weft.log());
    assert!(
        weft.log().contains("engine stopped"),
        "log:\n{}",
        weft.log()
    );
    weft.restart().await;
    let (status, body) = weft
        .post(
            &format!("/api/runs/{id}/approvals/ask"),
            &serde_json::json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    weft.wait_for(&id, "completed").await;
}

#[tokio::test]
async fn migrate_creates_the_tables_and_can_run_again() {
    let dir = tempfile::tempdir().unwrap();
    let url = crate::pg::database_for(dir.path()).await;
    for _ in 0..2 {
        let (code, out) = weft(&["migrate", "--database", &url]);
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("migrations applied"), "{out}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(["migrate", "--database", "mysql://nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported database URL"));
}
