//! Test runs (SPEC §6 "Test runs"): `POST /api/test-runs` runs an unsaved definition; a
//! stubbed node sends nothing (checked at a local target) and its stub flows on, an
//! unstubbed one really acts, `until` stops the run, test runs stay out of lists and the feed
//! unless asked, go a day after they began (by the server's clock), survive a restart with
//! their stubs, and bad requests and low roles are refused.

use serde_json::{Value, json};

use crate::feed::read_feed;
use crate::helpers::{Target, Weft, is_json_error, node_events, types};
use crate::people::{Caller, closed, make_key};
use crate::sim::{HOOKS, assert_index_matches_log};

/// `start → charge (http) → notify (http, posts charge's id) → end (notify's echo)`.
fn order(target: &Target) -> Value {
    json!({"name": "order", "nodes": [
        {"id": "start", "type": "start"},
        {"id": "charge", "type": "http",
         "request": {"method": "POST", "url": target.url("/charge"), "body": {"amount": "{{ input.amount }}"}}},
        {"id": "notify", "type": "http",
         "request": {"method": "POST", "url": target.url("/notify"), "body": {"charge": "{{ nodes.charge.output.id }}"}}},
        {"id": "end", "type": "end", "output": "{{ nodes.notify.output.body.echo }}"}],
      "edges": [{"from": "start", "to": "charge"}, {"from": "charge", "to": "notify"},
                {"from": "notify", "to": "end"}]})
}

/// Starts a test run that must be created; returns its id.
async fn test_run(weft: &Weft, body: Value) -> String {
    let (status, answer) = weft.post("/api/test-runs", &body).await;
    assert_eq!(status, 201, "{answer:#}");
    answer["run_id"].as_str().expect("run_id").to_owned()
}

fn ids(list: &Value) -> Vec<&str> {
    list["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .map(|r| r["id"].as_str().expect("id"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stubbed_http_node_sends_nothing_and_its_stub_flows_to_the_next_node() {
    let weft = Weft::fresh().await;
    let target = Target::spawn().await;
    let id = test_run(
        &weft,
        json!({"definition": order(&target), "input": {"amount": 5},
               "stubs": {"charge": {"id": "ch_1"}}}),
    )
    .await;
    let run = weft.wait_for(&id, "completed").await;

    assert!(
        target.seen_at("/charge").is_empty(),
        "a stubbed node sent a request"
    );
    let notified = target.seen_at("/notify");
    assert_eq!(notified.len(), 1, "the unstubbed node runs once");
    assert_eq!(notified[0].body, json!({"charge": "ch_1"}));
    assert_eq!(run["output"], json!({"charge": "ch_1"}));
    assert_eq!(run["test"], true);
    assert_eq!(run["nodes"]["charge"]["stubbed"], true);
    assert_eq!(run["nodes"]["charge"]["attempts"], 0);
    assert_eq!(run["nodes"]["charge"]["output"], json!({"id": "ch_1"}));
    assert!(run["nodes"]["notify"].get("stubbed").is_none());

    let events = weft.events(&id).await;
    assert!(node_events(&events, "node_started", "charge").is_empty());
    let done = node_events(&events, "node_completed", "charge");
    assert_eq!(done.len(), 1, "{events:#?}");
    assert_eq!(done[0]["data"]["stubbed"], true);
    assert_eq!(
        events[0]["data"]["test"],
        json!({"stubs": {"charge": {"id": "ch_1"}}}),
        "run_started records the stubs"
    );
    // The run page reads its definition like any run's: the hidden version is there.
    let workflow = run["workflow"].as_str().expect("workflow");
    assert!(workflow.starts_with("order~test~"), "{workflow}");
    let version = weft
        .get_ok(&format!("/api/workflows/{workflow}/versions/1"))
        .await;
    assert_eq!(version["definition"]["nodes"][1]["id"], "charge");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn until_stops_the_run_after_that_node() {
    let weft = Weft::fresh().await;
    let target = Target::spawn().await;
    // Unstubbed: `charge` really runs, then the run stops before `notify`.
    let id = test_run(
        &weft,
        json!({"definition": order(&target), "input": {"amount": 5}, "until": "charge"}),
    )
    .await;
    let run = weft.wait_for(&id, "completed").await;
    assert_eq!(target.seen_at("/charge").len(), 1);
    assert!(
        target.seen_at("/notify").is_empty(),
        "the run went past `until`"
    );
    assert_eq!(run["nodes"]["notify"]["status"], "pending");
    assert_eq!(run["output"], run["nodes"]["charge"]["output"]);
    let events = weft.events(&id).await;
    let last = events.last().expect("events");
    assert_eq!(last["type"], "run_completed");
    assert_eq!(last["data"]["until"], "charge");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_runs_stay_out_of_lists_and_the_feed_unless_asked() {
    let weft = Weft::fresh().await;
    let target = Target::spawn().await;
    weft.put_workflow(&order(&target)).await;
    let everything = weft
        .client
        .get(weft.url("/api/runs/stream?test=true"))
        .send()
        .await
        .unwrap();
    let plain = weft
        .client
        .get(weft.url("/api/runs/stream"))
        .send()
        .await
        .unwrap();
    let test = test_run(
        &weft,
        json!({"definition": order(&target), "input": {"amount": 1},
               "stubs": {"charge": {}, "notify": {"body": {"echo": 1}}}}),
    )
    .await;
    weft.wait_for(&test, "completed").await;
    let normal = weft.start_run("order", json!({"amount": 2})).await;
    weft.wait_for(&normal, "completed").await;

    let list = weft.get_ok("/api/runs").await;
    assert_eq!(ids(&list), [normal.as_str()]);
    assert_eq!(list["total"], 1);
    let all = weft.get_ok("/api/runs?test=true").await;
    assert_eq!(ids(&all), [normal.as_str(), test.as_str()]);
    assert_eq!(all["total"], 2);
    assert_eq!(all["runs"][1]["test"], true);
    assert!(all["runs"][0].get("test").is_none());
    let (status, body) = weft.get("/api/runs?test=maybe").await;
    assert_eq!(status, 400, "{body}");
    // A bulk action's filter leaves them out too, unless it names them by id.
    for (filter, matched) in [
        (json!({"status": "completed"}), 1),
        (json!({"ids": [test]}), 1),
        (json!({"ids": [test, normal]}), 2),
    ] {
        let (status, dry) = weft
            .post(
                "/api/runs/bulk",
                &json!({"action": "cancel", "filter": filter, "dry_run": true}),
            )
            .await;
        assert_eq!(status, 200, "{dry}");
        assert_eq!(dry["matched"], matched, "{filter}");
    }

    // The hidden definition is no workflow anyone lists or starts.
    let workflows = weft.get_ok("/api/workflows").await;
    let names: Vec<&str> = workflows["workflows"]
        .as_array()
        .expect("workflows")
        .iter()
        .map(|w| w["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["order"]);
    let hidden = weft.run(&test).await["workflow"]
        .as_str()
        .expect("workflow")
        .to_owned();
    assert_eq!(weft.get(&format!("/api/workflows/{hidden}")).await.0, 404);
    let (status, _) = weft
        .post(&format!("/api/workflows/{hidden}/runs"), &json!({}))
        .await;
    assert_eq!(status, 404);

    let plain_seen = read_feed(plain, |s| {
        s.iter()
            .any(|e| e["id"] == json!(normal) && e["status"] == "completed")
    })
    .await;
    assert!(
        plain_seen.iter().all(|e| e["id"] != json!(test)),
        "{plain_seen:#?}"
    );
    let all_seen = read_feed(everything, |s| {
        s.iter()
            .any(|e| e["id"] == json!(normal) && e["status"] == "completed")
    })
    .await;
    assert!(
        all_seen
            .iter()
            .any(|e| e["id"] == json!(test) && e["test"] == true),
        "{all_seen:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_runs_are_pruned_a_day_after_they_began_with_their_definition() {
    let weft = Weft::fresh_with(&[HOOKS]).await;
    let target = Target::spawn().await;
    weft.put_workflow(&order(&target)).await;
    let stubs = json!({"charge": {"id": "c"}, "notify": {"body": {"echo": "n"}}});
    let test = test_run(
        &weft,
        json!({"definition": order(&target), "input": {"amount": 1}, "stubs": stubs}),
    )
    .await;
    weft.wait_for(&test, "completed").await;
    let hidden = weft.run(&test).await["workflow"]
        .as_str()
        .expect("workflow")
        .to_owned();
    let normal = weft.start_run("order", json!({"amount": 2})).await;
    weft.wait_for(&normal, "completed").await;
    // One still going after a day (waiting for a person) is cancelled, then pruned too.
    let mut waits = order(&target);
    waits["nodes"][3] = json!({"id": "end", "type": "approval", "prompt": "ok?"});
    waits["nodes"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": "done", "type": "end"}));
    waits["edges"]
        .as_array_mut()
        .unwrap()
        .push(json!({"from": "end", "to": "done", "port": "approved"}));
    let waiting = test_run(
        &weft,
        json!({"definition": waits, "input": {"amount": 1}, "stubs": stubs}),
    )
    .await;
    weft.wait_node(&waiting, "end", "waiting").await;

    weft.advance("23h").await;
    weft.advance("30m").await;
    assert_eq!(weft.get(&format!("/api/runs/{test}")).await.0, 200);
    assert_eq!(weft.run(&waiting).await["status"], "running");

    weft.advance("1h").await;
    weft.wait_metric("weft_runs_pruned_total", 2.0).await;
    let (status, body) = weft.get(&format!("/api/runs/{test}")).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(weft.get(&format!("/api/runs/{waiting}")).await.0, 404);
    assert!(is_json_error(&body));
    let (status, _) = weft
        .get(&format!("/api/workflows/{hidden}/versions/1"))
        .await;
    assert_eq!(status, 404, "the hidden definition went with its run");
    // Without `--retention`, an ordinary run stays.
    assert_eq!(weft.get(&format!("/api/runs/{normal}")).await.0, 200);
    assert_eq!(weft.get_ok("/api/runs?test=true").await["total"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_run_with_stubs_resumes_after_a_restart() {
    let mut weft = Weft::fresh().await;
    let target = Target::spawn().await;
    let mut def = order(&target);
    // `charge → gate (approval) → notify`: the run waits across the restart.
    def["nodes"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": "gate", "type": "approval", "prompt": "go?"}));
    def["edges"] = json!([{"from": "start", "to": "charge"}, {"from": "charge", "to": "gate"},
                          {"from": "gate", "to": "notify", "port": "approved"},
                          {"from": "notify", "to": "end"}]);
    let id = test_run(
        &weft,
        json!({"definition": def, "input": {"amount": 3},
               "stubs": {"charge": {"id": "c1"}, "notify": {"body": {"echo": "stubbed"}}}}),
    )
    .await;
    weft.wait_node(&id, "gate", "waiting").await;
    weft.kill9();
    weft.restart().await;
    let (status, body) = weft
        .post(
            &format!("/api/runs/{id}/approvals/gate"),
            &json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let run = weft.wait_for(&id, "completed").await;
    assert_eq!(run["output"], "stubbed");
    assert_eq!(run["nodes"]["notify"]["stubbed"], true);
    assert!(target.seen().is_empty(), "{:?}", target.seen());
    let events = weft.events(&id).await;
    for node in ["charge", "notify"] {
        assert_eq!(node_events(&events, "node_completed", node).len(), 1);
        assert!(node_events(&events, "node_started", node).is_empty());
    }
    assert_eq!(types(&events).last(), Some(&"run_completed"));
    assert_eq!(assert_index_matches_log(weft.database()).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_test_runs_are_refused_and_leave_nothing() {
    let weft = Weft::fresh().await;
    let target = Target::spawn().await;
    let def = order(&target);
    let refuse = |body: Value, status: u16, needle: &'static str| {
        let weft = &weft;
        async move {
            let (got, answer) = weft.post("/api/test-runs", &body).await;
            assert_eq!(got, status, "{body} → {answer:#}");
            assert!(is_json_error(&answer), "{answer}");
            assert!(
                answer.to_string().contains(needle),
                "{needle} not in {answer:#}"
            );
            answer
        }
    };
    let mut broken = def.clone();
    broken["edges"] = json!([]);
    let answer = refuse(json!({"definition": broken}), 422, "diagnostics").await;
    assert!(
        !answer["error"]["details"]["diagnostics"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let answer = refuse(
        json!({"definition": def, "stubs": {"nope": {}}}),
        422,
        "`nope`",
    )
    .await;
    assert_eq!(answer["error"]["details"]["node"], "nope");
    refuse(json!({"definition": def, "until": "gone"}), 422, "`gone`").await;
    refuse(
        json!({"definition": def, "stubs": {"end": 1}}),
        422,
        "`end`",
    )
    .await;
    let mut typed = def.clone();
    typed["input_schema"] = json!({"type": "object", "required": ["amount"]});
    refuse(
        json!({"definition": typed, "input": {}}),
        422,
        "input_schema",
    )
    .await;
    let mut child = def.clone();
    child["nodes"][1] = json!({"id": "charge", "type": "subflow", "workflow": "missing"});
    refuse(
        json!({"definition": child.clone()}),
        422,
        "unknown_workflow",
    )
    .await;
    refuse(json!({"definition": def, "extra": 1}), 400, "extra").await;
    refuse(json!({"input": {}}), 400, "definition").await;

    // A stubbed subflow starts no child, so its workflow need not exist.
    let id = test_run(
        &weft,
        json!({"definition": child, "input": {"amount": 1},
               "stubs": {"charge": {"id": "s"}, "notify": {"body": {"echo": 0}}}}),
    )
    .await;
    weft.wait_for(&id, "completed").await;
    assert_eq!(weft.get_ok("/api/runs?test=true").await["total"], 1);
    assert!(target.seen().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_run_needs_an_editor_and_is_audited() {
    let weft = closed(&[]).await;
    let target = Target::spawn().await;
    let body = json!({"definition": order(&target), "input": {"amount": 1},
                      "stubs": {"charge": {}, "notify": {"body": {"echo": 1}}}});
    for role in ["viewer", "operator"] {
        let key = make_key(&weft, &format!("k-{role}"), role).await.0;
        let got = Caller::Bearer(key)
            .post(&weft, "/api/test-runs", &body)
            .await;
        assert_eq!(got.status, 403, "{role}: {}", got.body);
        assert!(got.message().contains("`editor`"), "{}", got.body);
    }
    let key = make_key(&weft, "k-editor", "editor").await.0;
    let got = Caller::Bearer(key)
        .post(&weft, "/api/test-runs", &body)
        .await;
    assert_eq!(got.status, 201, "{}", got.body);
    let id = got.body["run_id"].as_str().expect("run_id").to_owned();
    let audit = weft.get_ok("/api/audit?action=test_run.started").await;
    let rows = audit["entries"].as_array().expect("entries");
    assert_eq!(rows.len(), 1, "{audit:#}");
    assert_eq!(rows[0]["target"], format!("run:{id}"));
    assert_eq!(rows[0]["actor"], "key:k-editor");
    assert_eq!(rows[0]["details"]["test"], true);
}
