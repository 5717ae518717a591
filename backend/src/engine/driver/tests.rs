//! The driver's rounds, driven directly: several inputs for one run in one round, which the
//! API can only make likely, never certain.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Value, json};

use super::round::Outcome;
use super::{Command, Coordinator, Engine, Started};
use crate::clock::Clock;
use crate::engine::activity::Secrets;
use crate::engine::decide::{ActivityError, Input};
use crate::engine::effect::Effect;
use crate::engine::state::RunState;
use crate::store::{Batch, Store};

/// One process with nothing to coordinate (no task nodes here).
struct Alone;

impl Coordinator for Alone {
    fn prepare(&self, _: &mut Batch, _: &[(String, Effect)], _: &HashMap<String, RunState>) {}
    fn perform(&self, _: &RunState, _: &Effect) {}
}

fn fan_out() -> Value {
    // The branches call a port nothing listens on; the test feeds their results itself.
    let branch = |id: &str| {
        json!({"id": id, "type": "http", "retry": {"max_attempts": 1},
                                   "request": {"method": "POST", "url": "http://127.0.0.1:9/x"}})
    };
    json!({
        "name": "fan",
        "nodes": [
            {"id": "start", "type": "start"}, {"id": "split", "type": "parallel"},
            branch("a"), branch("b"), branch("c"),
            {"id": "meet", "type": "join"}, {"id": "done", "type": "end"}
        ],
        "edges": [
            {"from": "start", "to": "split"},
            {"from": "split", "to": "a"}, {"from": "split", "to": "b"}, {"from": "split", "to": "c"},
            {"from": "a", "to": "meet"}, {"from": "b", "to": "meet"}, {"from": "c", "to": "meet"},
            {"from": "meet", "to": "done"}
        ]
    })
}

fn result(node: &str, ok: bool) -> Command {
    let result = if ok {
        Ok(json!({"status": 200}))
    } else {
        Err(ActivityError {
            message: "HTTP 400".into(),
            retryable: false,
        })
    };
    Command::Input {
        run_id: "r1".into(),
        input: Input::AttemptFinished {
            node: node.into(),
            attempt: 1,
            result,
            exchange: None,
        },
        reply: None,
    }
}

/// Starts run `r1` of the fan-out and returns the driver, with its store.
async fn started(dir: &tempfile::TempDir) -> (super::Driver, Store) {
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("w.db").display());
    let store = Store::open(&url).await.expect("store");
    store
        .save_workflow("fan", &fan_out(), 0, Default::default())
        .await
        .expect("save");
    let (_engine, link, pending): (Engine, _, _) = Engine::new(store.clone(), Clock::sim(1_000));
    let plan = link.plans.get("fan", 1).await.expect("plan").expect("v1");
    let (mut driver, _rx) = pending.driver(Arc::new(Alone), Secrets::default());
    let (reply, done) = tokio::sync::oneshot::channel();
    let start = Command::Start {
        run_id: "r1".into(),
        plan,
        input: json!({}),
        trigger: None,
        reply,
        redrive: None,
        by: None,
        test: None,
    };
    let outcomes = driver.round(std::slice::from_ref(&start)).await;
    assert!(matches!(
        outcomes.as_slice(),
        [Outcome::Start(Ok(Started::Created(_)))]
    ));
    drop((start, done));
    (driver, store)
}

async fn assert_log_and_row_agree(store: &Store, status: &str) {
    let events = store.events("r1", 0).await.expect("events");
    let seqs: Vec<i64> = events.iter().map(|r| r.seq).collect();
    assert_eq!(
        seqs,
        (1..=events.len() as i64).collect::<Vec<_>>(),
        "gap-free"
    );
    let row = store.run("r1").await.expect("row").expect("r1");
    assert_eq!(
        (row.status.as_str(), row.last_seq),
        (status, events.len() as i64)
    );
}

#[tokio::test]
async fn three_failures_of_one_fan_out_in_one_round_are_decided_in_turn() {
    let dir = tempfile::tempdir().expect("dir");
    let (mut driver, store) = started(&dir).await;
    let round = [result("a", false), result("b", false), result("c", false)];
    let outcomes = driver.round(&round).await;
    assert_eq!(outcomes.len(), 3);
    assert_log_and_row_agree(&store, "failed").await;
    // The first result was decided first and is in the log; the later two found the run
    // finished and changed nothing.
    let kinds: Vec<(String, Option<String>)> = store
        .events("r1", 0)
        .await
        .expect("events")
        .iter()
        .skip_while(|r| !matches!(r.event, crate::engine::event::Event::AttemptFailed { .. }))
        .map(|r| {
            let (ty, node, _) = r.event.split();
            (ty, node)
        })
        .collect();
    let want = [
        ("attempt_failed", Some("a")),
        ("node_failed", Some("a")),
        ("node_cancelled", Some("b")),
        ("node_cancelled", Some("c")),
        ("run_failed", None),
    ];
    let want: Vec<(String, Option<String>)> = want
        .iter()
        .map(|(t, n)| ((*t).to_owned(), n.map(str::to_owned)))
        .collect();
    assert_eq!(kinds, want);
}

#[tokio::test]
async fn three_successes_of_one_fan_out_in_one_round_complete_the_run() {
    let dir = tempfile::tempdir().expect("dir");
    let (mut driver, store) = started(&dir).await;
    let round = [result("a", true), result("b", true), result("c", true)];
    driver.round(&round).await;
    assert_log_and_row_agree(&store, "completed").await;
}
