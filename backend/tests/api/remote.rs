//! `weft runs …` and `weft apply …` (SPEC §6) against a real server: each command's effect is
//! read back through the API (not from the command's own output), errors exit 1 with the
//! server's words on standard error, and `apply` saves nothing when any file is invalid.

use serde_json::{Value, json};

use crate::helpers::{Rule, Target, Weft};

/// What one `weft` invocation did.
struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", self.stdout, self.stderr))
    }

    fn ok(self) -> Out {
        assert_eq!(
            self.code, 0,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }
}

/// Runs `weft ARGS --server <weft>` with no server or token from the test's environment.
async fn weft_cli(weft: &Weft, args: &[&str]) -> Out {
    cli(&weft.base, None, args).await
}

async fn cli(server: &str, token: Option<&str>, args: &[&str]) -> Out {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_weft"));
    cmd.args(args)
        .arg("--server")
        .arg(server)
        .env_remove("WEFT_SERVER")
        .env_remove("WEFT_API_TOKEN");
    if let Some(t) = token {
        cmd.env("WEFT_API_TOKEN", t);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("runs weft"))
        .await
        .expect("joined");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `start → approve → end`, the end echoing the input.
fn approval() -> Value {
    json!({
        "name": "ask",
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "approve", "type": "approval", "prompt": "ship {{ input.n }}?"},
            {"id": "end", "type": "end", "output": {"n": "{{ input.n }}"}},
            {"id": "no", "type": "end"}
        ],
        "edges": [
            {"from": "start", "to": "approve"},
            {"from": "approve", "to": "end", "port": "approved"},
            {"from": "approve", "to": "no", "port": "rejected"}
        ]
    })
}

#[tokio::test]
async fn runs_start_list_show_approve_and_cancel_act_on_the_server() {
    let weft = Weft::fresh().await;
    weft.put_workflow(&approval()).await;

    let started = weft_cli(
        &weft,
        &["runs", "start", "ask", "--input", r#"{"n": 5}"#, "--json"],
    )
    .await
    .ok()
    .json();
    let id = started["id"].as_str().expect("an id").to_owned();
    assert_eq!(weft.run(&id).await["input"], json!({"n": 5}));
    weft.wait_node(&id, "approve", "waiting").await;

    let listed = weft_cli(&weft, &["runs", "list", "--workflow", "ask", "--json"])
        .await
        .ok()
        .json();
    let ids: Vec<&str> = listed["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .map(|r| r["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, vec![id.as_str()]);

    // The table a person reads: the full id, and the waiting node with its prompt.
    let table = weft_cli(&weft, &["runs", "list"]).await.ok().stdout;
    assert!(table.contains(&id) && table.contains("running"), "{table}");
    let shown = weft_cli(&weft, &["runs", "show", &id]).await.ok().stdout;
    assert!(shown.contains("workflow: ask v1"), "{shown}");
    let approve_row = shown
        .lines()
        .find(|l| l.contains(" approve "))
        .unwrap_or_else(|| panic!("no approve row in\n{shown}"));
    assert!(
        approve_row.contains("waiting") && approve_row.contains("ship 5?"),
        "{shown}"
    );

    weft_cli(
        &weft,
        &["runs", "approve", &id, "approve", "--comment", "ok"],
    )
    .await
    .ok();
    let done = weft.wait_for(&id, "completed").await;
    assert_eq!(done["output"], json!({"n": 5}));
    let shown = weft_cli(&weft, &["runs", "show", &id, "--json"])
        .await
        .ok()
        .json();
    assert_eq!(shown["status"], "completed");

    // A second run rejected, a third cancelled.
    let second = weft_cli(&weft, &["runs", "start", "ask", "--json"])
        .await
        .ok()
        .json();
    let second = second["id"].as_str().expect("id").to_owned();
    weft.wait_node(&second, "approve", "waiting").await;
    weft_cli(&weft, &["runs", "approve", &second, "approve", "--reject"])
        .await
        .ok();
    let rejected = weft.wait_for(&second, "completed").await;
    assert_eq!(
        rejected["nodes"]["no"]["status"], "completed",
        "{rejected:#}"
    );

    let third = weft_cli(&weft, &["runs", "start", "ask", "--id", "third-run"])
        .await
        .ok();
    assert!(
        third.stdout.contains("started third-run"),
        "{}",
        third.stdout
    );
    weft.wait_node("third-run", "approve", "waiting").await;
    weft_cli(
        &weft,
        &["runs", "cancel", "third-run", "--reason", "not needed"],
    )
    .await
    .ok();
    weft.wait_for("third-run", "cancelled").await;

    // Refusals: the server's status, code and message on stderr, exit 1, nothing changed.
    let again = weft_cli(&weft, &["runs", "cancel", "third-run"]).await;
    assert_eq!(again.code, 1);
    assert!(again.stderr.contains("409"), "{}", again.stderr);
    let missing = weft_cli(&weft, &["runs", "show", "no-such-run"]).await;
    assert_eq!(missing.code, 1);
    assert!(missing.stderr.contains("404"), "{}", missing.stderr);
    let bad_input = weft_cli(&weft, &["runs", "start", "ask", "--input", "{nope"]).await;
    assert_eq!(bad_input.code, 1);
    assert!(
        bad_input.stderr.contains("input is not JSON"),
        "{}",
        bad_input.stderr
    );
    let all = weft.get_ok("/api/runs?workflow=ask").await;
    assert_eq!(all["runs"].as_array().expect("runs").len(), 3, "{all:#}");
}

#[tokio::test]
async fn runs_pause_resume_and_redrive_from_the_command_line() {
    let target = Target::spawn().await;
    target.rule("/ship", Rule::Always(503));
    let weft = Weft::fresh().await;
    let def = json!({
        "name": "order",
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "approve", "type": "approval", "prompt": "go?"},
            {"id": "charge", "type": "http", "request": {"method": "POST", "url": target.url("/charge")}},
            {"id": "ship", "type": "http", "retry": {"max_attempts": 1},
             "request": {"method": "POST", "url": target.url("/ship")}},
            {"id": "end", "type": "end"}
        ],
        "edges": [
            {"from": "start", "to": "approve"},
            {"from": "approve", "to": "charge", "port": "approved"},
            {"from": "charge", "to": "ship"}, {"from": "ship", "to": "end"}
        ]
    });
    weft.put_workflow(&def).await;
    let id = weft.start_run("order", json!({})).await;
    weft.wait_node(&id, "approve", "waiting").await;

    weft_cli(&weft, &["runs", "pause", &id]).await.ok();
    assert_eq!(weft.run(&id).await["status"], "paused");
    // Decided while paused: recorded, but charge does not start until the resume.
    weft_cli(&weft, &["runs", "approve", &id, "approve"])
        .await
        .ok();
    assert_eq!(weft.run(&id).await["nodes"]["charge"]["status"], "pending");
    weft_cli(&weft, &["runs", "resume", &id]).await.ok();
    weft.wait_for(&id, "failed").await;
    assert_eq!(target.seen_at("/charge").len(), 1);

    let plan = weft_cli(&weft, &["runs", "redrive", &id, "--dry-run", "--json"])
        .await
        .ok()
        .json();
    assert_eq!(plan["rerun"], json!(["ship", "end"]), "{plan:#}");
    assert!(
        plan["reuse"]
            .as_array()
            .expect("reuse")
            .contains(&json!("charge")),
        "{plan:#}"
    );
    let human = weft_cli(
        &weft,
        &["runs", "redrive", &id, "--from", "charge", "--dry-run"],
    )
    .await
    .ok()
    .stdout;
    assert!(
        human.contains("act again (side effects): charge"),
        "{human}"
    );
    assert!(
        weft.run(&id).await["redriven_by"].is_null(),
        "a dry run starts nothing"
    );

    target.rule("/ship", Rule::Always(200));
    let redrive = weft_cli(&weft, &["runs", "redrive", &id, "--json"])
        .await
        .ok()
        .json();
    let new = redrive["run_id"].as_str().expect("run_id").to_owned();
    weft.wait_for(&new, "completed").await;
    assert_eq!(
        target.seen_at("/charge").len(),
        1,
        "charge was reused, not called"
    );
    let shown = weft_cli(&weft, &["runs", "show", &new]).await.ok().stdout;
    assert!(
        shown.contains(&format!("redrive of: {id} from ship")),
        "{shown}"
    );
    assert!(shown.contains("reused from the original run"), "{shown}");

    let refused = weft_cli(&weft, &["runs", "redrive", &id, "--from", "nope"]).await;
    assert_eq!(refused.code, 1);
    assert!(refused.stderr.contains("422"), "{}", refused.stderr);
    let bad_version = weft_cli(&weft, &["runs", "redrive", &id, "--version", "newest"]).await;
    assert_eq!(bad_version.code, 1);
    assert!(
        bad_version.stderr.contains("--version"),
        "{}",
        bad_version.stderr
    );
}

/// A child workflow and a parent that maps over it: the parent's file sorts first, so apply
/// must save the child before it.
fn child(note: &str) -> Value {
    json!({
        "name": "line",
        "description": note,
        "nodes": [{"id": "start", "type": "start"}, {"id": "end", "type": "end"}],
        "edges": [{"from": "start", "to": "end"}]
    })
}

fn parent() -> Value {
    json!({
        "name": "lines",
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "each", "type": "map", "workflow": "line", "items": "{{ input.lines }}"},
            {"id": "end", "type": "end"}
        ],
        "edges": [{"from": "start", "to": "each"}, {"from": "each", "to": "end"}]
    })
}

fn write(dir: &std::path::Path, file: &str, def: &Value) {
    std::fs::write(dir.join(file), serde_json::to_string_pretty(def).unwrap()).unwrap();
}

async fn latest(weft: &Weft, name: &str) -> Option<i64> {
    let (status, body) = weft.get(&format!("/api/workflows/{name}")).await;
    (status == 200).then(|| body["version"].as_i64().expect("version"))
}

#[tokio::test]
async fn apply_saves_a_folder_in_dependency_order_and_keeps_unchanged_versions() {
    let weft = Weft::fresh().await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "a_lines.json", &parent());
    write(d, "b_line.json", &child("one"));
    std::fs::write(d.join("README.md"), "not a definition").unwrap();
    let path = d.to_str().unwrap();

    let first = weft_cli(&weft, &["apply", path]).await.ok().stdout;
    assert!(first.contains("b_line.json: line created (v1)"), "{first}");
    assert!(
        first.contains("a_lines.json: lines created (v1)"),
        "{first}"
    );
    assert_eq!(
        (latest(&weft, "line").await, latest(&weft, "lines").await),
        (Some(1), Some(1))
    );

    let second = weft_cli(&weft, &["apply", path, "--json"])
        .await
        .ok()
        .json();
    let changes: Vec<&str> = second
        .as_array()
        .expect("a list")
        .iter()
        .map(|a| a["change"].as_str().expect("change"))
        .collect();
    assert_eq!(changes, vec!["unchanged", "unchanged"], "{second:#}");

    // A change: the dry run says so and saves nothing; the apply saves v2 of that one only.
    write(d, "b_line.json", &child("two"));
    let plan = weft_cli(&weft, &["apply", "--dry-run", path])
        .await
        .ok()
        .stdout;
    assert!(
        plan.contains("b_line.json: line would update: v1 → v2"),
        "{plan}"
    );
    assert!(
        plan.contains("a_lines.json: lines unchanged (v1)"),
        "{plan}"
    );
    assert_eq!(latest(&weft, "line").await, Some(1));
    let third = weft_cli(&weft, &["apply", path]).await.ok().stdout;
    assert!(
        third.contains("b_line.json: line updated: v1 → v2"),
        "{third}"
    );
    assert!(
        third.contains("a_lines.json: lines unchanged (v1)"),
        "{third}"
    );
    assert_eq!(
        (latest(&weft, "line").await, latest(&weft, "lines").await),
        (Some(2), Some(1))
    );

    // One broken file: named with its finding, exit 1, and nothing saved, not even the
    // valid new one beside it.
    write(
        d,
        "c_new.json",
        &json!({"name": "new", "nodes": [{"id": "start", "type": "start"}, {"id": "end", "type": "end"}], "edges": [{"from": "start", "to": "end"}]}),
    );
    std::fs::write(d.join("d_broken.json"), r#"{"name": "broken", "nodes": ["#).unwrap();
    write(
        d,
        "e_bad.json",
        &json!({"name": "bad", "nodes": [{"id": "start", "type": "start"}], "edges": []}),
    );
    let broken = weft_cli(&weft, &["apply", path]).await;
    assert_eq!(broken.code, 1, "{}", broken.stdout);
    assert!(
        broken.stderr.contains("d_broken.json: malformed JSON"),
        "{}",
        broken.stderr
    );
    assert!(
        broken.stderr.contains("e_bad.json: error ["),
        "{}",
        broken.stderr
    );
    assert_eq!(
        latest(&weft, "new").await,
        None,
        "nothing is saved when a file is invalid"
    );

    // A subflow naming a workflow that exists nowhere: the server's 422, naming the file.
    std::fs::remove_file(d.join("d_broken.json")).unwrap();
    std::fs::remove_file(d.join("e_bad.json")).unwrap();
    let mut orphan = parent();
    orphan["name"] = json!("orphan");
    orphan["nodes"][1]["workflow"] = json!("nowhere");
    write(d, "f_orphan.json", &orphan);
    let refused = weft_cli(&weft, &["apply", path]).await;
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains("f_orphan.json: 422")
            && refused.stderr.contains("unknown_workflow"),
        "{}",
        refused.stderr
    );
    assert_eq!(latest(&weft, "orphan").await, None);
}

#[tokio::test]
async fn the_command_line_sends_the_token_and_says_when_it_cannot_reach_the_server() {
    let weft = Weft::fresh_with(&[("WEFT_API_TOKEN", "cli-token")]).await;
    let without = cli(&weft.base, None, &["runs", "list"]).await;
    assert_eq!(without.code, 1);
    assert!(without.stderr.contains("401"), "{}", without.stderr);
    let with = cli(&weft.base, Some("cli-token"), &["runs", "list", "--json"])
        .await
        .ok();
    assert_eq!(with.json()["runs"], json!([]));
    let flag = cli(&weft.base, None, &["runs", "list", "--token", "cli-token"]).await;
    assert_eq!(flag.code, 0, "{}", flag.stderr);

    let nowhere = cli("http://127.0.0.1:9", None, &["runs", "list"]).await;
    assert_eq!(nowhere.code, 1);
    assert!(
        nowhere.stderr.contains("cannot reach http://127.0.0.1:9"),
        "{}",
        nowhere.stderr
    );
}
