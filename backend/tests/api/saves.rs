//! Saving definitions under concurrency: saves of one workflow racing each other get one
//! version each (different bodies, numbered without gaps) or share one (identical bodies),
//! and saves and archives never fail because other clients are starting runs — never a 5xx.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use serde_json::{Value, json};

use crate::helpers::Weft;

/// How many saves race in the concurrent-save tests.
const RACERS: usize = 20;

/// `start → done`, told apart by `tag` in its description.
fn flow(name: &str, tag: &str) -> Value {
    json!({
        "name": name,
        "description": tag,
        "nodes": [{"id": "start", "type": "start"}, {"id": "done", "type": "end"}],
        "edges": [{"from": "start", "to": "done"}]
    })
}

/// Sends one `PUT /api/workflows/{name}` per body, all at once; returns each answer in the
/// order of `bodies`.
async fn race(weft: &Arc<Weft>, name: &str, bodies: Vec<Value>) -> Vec<(u16, Value)> {
    let path = format!("/api/workflows/{name}");
    let saves: Vec<_> = bodies
        .into_iter()
        .map(|body| {
            let (weft, path) = (weft.clone(), path.clone());
            tokio::spawn(async move { weft.put(&path, &body).await })
        })
        .collect();
    let mut answers = Vec::new();
    for s in saves {
        answers.push(s.await.expect("a save task"));
    }
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn identical_concurrent_saves_share_one_version() {
    let weft = Arc::new(Weft::fresh().await);
    let answers = race(&weft, "same", vec![flow("same", "one"); RACERS]).await;
    let statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    let failed: Vec<&(u16, Value)> = answers
        .iter()
        .filter(|(s, _)| *s != 200 && *s != 201)
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {RACERS} saves did not answer 200/201: {failed:?}",
        failed.len()
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "one save created the version, the others found it unchanged: {statuses:?}"
    );
    assert!(
        answers.iter().all(|(_, b)| b["version"] == 1),
        "{answers:#?}"
    );
    let (status, body) = weft.get("/api/workflows/same/versions/2").await;
    assert_eq!(status, 404, "no second version: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn different_concurrent_saves_get_distinct_gap_free_versions() {
    let weft = Arc::new(Weft::fresh().await);
    let bodies: Vec<Value> = (0..RACERS)
        .map(|i| flow("many", &format!("body {i}")))
        .collect();
    let answers = race(&weft, "many", bodies).await;
    let failed: Vec<&(u16, Value)> = answers.iter().filter(|(s, _)| *s != 201).collect();
    assert!(
        failed.is_empty(),
        "{} of {RACERS} saves made no version: {failed:?}",
        failed.len()
    );
    let mut versions: Vec<i64> = answers
        .iter()
        .map(|(_, b)| b["version"].as_i64().expect("version"))
        .collect();
    // Each answer's version holds the body that save sent.
    for (i, v) in versions.iter().enumerate() {
        let stored = weft
            .get_ok(&format!("/api/workflows/many/versions/{v}"))
            .await;
        assert_eq!(
            stored["definition"]["description"],
            format!("body {i}"),
            "version {v}"
        );
    }
    versions.sort_unstable();
    assert_eq!(versions, (1..=RACERS as i64).collect::<Vec<_>>());
    assert_eq!(
        weft.get_ok("/api/workflows/many").await["version"],
        RACERS as i64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn saves_and_archives_never_fail_while_clients_start_runs() {
    const STARTERS: usize = 6;
    const SAVERS: usize = 3;
    const ROUNDS: usize = 40;
    let weft = Arc::new(Weft::fresh().await);
    weft.put_workflow(&flow("busy", "runs")).await;

    // Clients start runs in a loop until the saves are over; the first run of each tells.
    let over = Arc::new(AtomicBool::new(false));
    let saving = Arc::new(AtomicBool::new(false));
    let during = Arc::new(AtomicUsize::new(0));
    let mut starters = Vec::new();
    let mut first_runs = Vec::new();
    for _ in 0..STARTERS {
        let (weft, over, saving, during) =
            (weft.clone(), over.clone(), saving.clone(), during.clone());
        let (started, first) = tokio::sync::oneshot::channel();
        first_runs.push(first);
        starters.push(tokio::spawn(async move {
            let mut started = Some(started);
            let mut refused = Vec::new();
            while !over.load(Ordering::SeqCst) {
                let (status, body) = weft
                    .post("/api/workflows/busy/runs", &json!({"input": {}}))
                    .await;
                if status != 201 {
                    refused.push((status, body));
                    continue;
                }
                if saving.load(Ordering::SeqCst) {
                    during.fetch_add(1, Ordering::SeqCst);
                }
                if let Some(s) = started.take() {
                    let _ = s.send(());
                }
            }
            refused
        }));
    }
    for first in first_runs {
        first.await.expect("every client started a run");
    }

    saving.store(true, Ordering::SeqCst);
    let mut savers = Vec::new();
    for s in 0..SAVERS {
        let weft = weft.clone();
        savers.push(tokio::spawn(async move {
            let name = format!("saver{s}");
            let path = format!("/api/workflows/{name}");
            let mut answers = Vec::new();
            for round in 1..=ROUNDS {
                let def = flow(&name, &format!("round {round}"));
                // A new version, the same again (unchanged), and now and then an archive.
                answers.push(("new", weft.put(&path, &def).await));
                answers.push(("unchanged", weft.put(&path, &def).await));
                if round % 10 == 0 {
                    answers.push(("archive", weft.delete(&path).await));
                }
            }
            answers
        }));
    }
    let mut failed = Vec::new();
    let mut versions = vec![Vec::new(); SAVERS];
    for (s, saver) in savers.into_iter().enumerate() {
        for (what, (status, body)) in saver.await.expect("a saver") {
            let want = match what {
                "new" => 201,
                _ => 200,
            };
            if status != want {
                failed.push(format!("saver{s} {what}: {status} {body}"));
            }
            if what == "new" {
                versions[s].push(body["version"].as_i64().unwrap_or(-1));
            }
        }
    }
    saving.store(false, Ordering::SeqCst);
    over.store(true, Ordering::SeqCst);
    let mut refused = Vec::new();
    for s in starters {
        refused.extend(s.await.expect("a starter"));
    }

    assert!(
        failed.is_empty(),
        "{} of {} saves and archives failed:\n{}",
        failed.len(),
        SAVERS * (2 * ROUNDS + ROUNDS / 10),
        failed.join("\n")
    );
    assert!(refused.is_empty(), "starts refused: {refused:#?}");
    for v in &versions {
        assert_eq!(*v, (1..=ROUNDS as i64).collect::<Vec<_>>());
    }
    assert!(
        during.load(Ordering::SeqCst) > 0,
        "runs were started while the saves went on"
    );
}
