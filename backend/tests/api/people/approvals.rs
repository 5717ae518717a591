//! Approvals that know who decides (SPEC §7): `approvers` by user and role, escalation at its
//! time on the test clock with its `notify` POST, the self-approval rule, the form's `422`,
//! the default decision at the timeout, `by` in every decision, and the inbox per caller.
//! The escalation's notice survives a kill -9 between its POST and its record.

use serde_json::{Value, json};

use super::{Caller, add_user, closed, login, make_key};
use crate::helpers::{Target, Weft, node_events, types};
use crate::sim::HOOKS;

/// `start → pay (approval) → done`, the approval's extra fields from `fields`; a `rejected`
/// edge to `no` (an `end`).
fn pay(name: &str, fields: Value) -> Value {
    let mut node = json!({"id": "pay", "type": "approval", "prompt": "Pay {{ input.amount }}?"});
    for (k, v) in fields.as_object().expect("fields") {
        node[k] = v.clone();
    }
    json!({
        "name": name,
        "nodes": [
            {"id": "start", "type": "start"},
            node,
            {"id": "done", "type": "end", "output": "{{ nodes.pay.output }}"},
            {"id": "no", "type": "end", "output": "{{ nodes.pay.output }}"}
        ],
        "edges": [
            {"from": "start", "to": "pay"},
            {"from": "pay", "to": "done", "port": "approved"},
            {"from": "pay", "to": "no", "port": "rejected"}
        ]
    })
}

/// Signs each `(name, role)` in (password `pw-<name>-123`); their session callers in order.
async fn people(weft: &Weft, who: &[(&str, &str)]) -> Vec<Caller> {
    let mut out = Vec::new();
    for (name, role) in who {
        let password = format!("pw-{name}-123");
        add_user(weft, name, role, &password).await;
        out.push(Caller::Session(login(weft, name, &password).await.0));
    }
    out
}

/// Starts a run of `workflow` as `caller`; its id once the approval waits.
async fn start_as(weft: &Weft, caller: &Caller, workflow: &str) -> String {
    let answer = caller
        .post(
            weft,
            &format!("/api/workflows/{workflow}/runs"),
            &json!({"input": {"amount": 120}}),
        )
        .await;
    assert_eq!(answer.status, 201, "start: {}", answer.body);
    let id = answer.body["id"].as_str().expect("id").to_owned();
    weft.wait_node(&id, "pay", "waiting").await;
    id
}

async fn decide(weft: &Weft, caller: &Caller, run: &str, body: Value) -> (u16, Value, String) {
    let a = caller
        .post(weft, &format!("/api/runs/{run}/approvals/pay"), &body)
        .await;
    let message = a.message().to_owned();
    (a.status, a.body, message)
}

/// The approvals `caller` sees (`mine`: only those they may decide).
async fn inbox(weft: &Weft, caller: &Caller, mine: bool) -> Vec<Value> {
    let a = caller
        .get(weft, &format!("/api/approvals?mine={mine}"))
        .await;
    assert_eq!(a.status, 200, "inbox: {}", a.body);
    a.body["approvals"].as_array().expect("approvals").clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn named_approvers_decide_escalation_adds_more_and_notifies_and_the_form_is_checked() {
    let target = Target::spawn().await;
    let weft = closed(&[HOOKS]).await;
    let form = json!({
        "type": "object",
        "required": ["cost_centre"],
        "properties": {"cost_centre": {"type": "string", "minLength": 2}}
    });
    weft.put_workflow(&pay(
        "pay",
        json!({
            "approvers": {"users": ["fin"]},
            "escalate": [{"after": "1h", "approvers": {"roles": ["admin"]},
                          "notify": target.url("/escalated")}],
            "timeout": "4h",
            "form": form,
        }),
    ))
    .await;
    let callers = people(
        &weft,
        &[
            ("ops", "operator"),
            ("fin", "approver"),
            ("ann", "approver"),
            ("val", "viewer"),
            ("root", "admin"),
        ],
    )
    .await;
    let [ops, fin, ann, val, root] = &callers[..] else {
        unreachable!()
    };
    let run = start_as(&weft, ops, "pay").await;
    let approve = json!({"decision": "approve", "data": {"cost_centre": "CC-7"}});

    // Below the route's role, not named, an admin before the escalation: each a 403 saying why.
    let (status, _, why) = decide(&weft, val, &run, approve.clone()).await;
    assert_eq!((status, why.contains("`approver`")), (403, true), "{why}");
    let (status, _, why) = decide(&weft, ann, &run, approve.clone()).await;
    assert_eq!(status, 403, "{why}");
    assert!(
        why.contains("user `fin`") && why.contains("escalation"),
        "{why}"
    );
    let (status, _, why) = decide(&weft, root, &run, approve.clone()).await;
    assert_eq!(status, 403, "{why}");

    // The inbox: fin may decide it; ann and root see it and why not; `mine` keeps fin's.
    let fins = inbox(&weft, fin, true).await;
    assert_eq!(fins.len(), 1, "{fins:?}");
    let item = &fins[0];
    assert_eq!(
        (
            item["run_id"].as_str(),
            item["node"].as_str(),
            item["prompt"].as_str(),
            item["started_by"].as_str(),
            item["can_decide"].as_bool(),
            item["users"].clone(),
            item["escalated"].as_u64(),
            item["escalations"].as_u64(),
        ),
        (
            Some(run.as_str()),
            Some("pay"),
            Some("Pay 120?"),
            Some("ops"),
            Some(true),
            json!(["fin"]),
            Some(0),
            Some(1),
        )
    );
    assert_eq!(item["input"], json!({"amount": 120}));
    assert_eq!(item["form"], form);
    assert!(item["until"].as_i64().is_some(), "{item}");
    assert!(inbox(&weft, ann, true).await.is_empty());
    assert!(inbox(&weft, root, true).await.is_empty());
    let seen = inbox(&weft, root, false).await;
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["can_decide"], json!(false));
    assert!(
        seen[0]["why_not"]
            .as_str()
            .is_some_and(|w| w.contains("fin"))
    );

    // An hour on the test clock: the escalation lets admins decide, and its URL gets a POST.
    weft.advance("1h").await;
    let events = wait_event(&weft, &run, "approval_notified").await;
    let escalated = node_events(&events, "approval_escalated", "pay");
    assert_eq!(escalated.len(), 1, "{events:?}");
    assert_eq!(
        escalated[0]["data"]["approvers"],
        json!({"roles": ["admin"]})
    );
    let notified = node_events(&events, "approval_notified", "pay");
    assert_eq!(notified[0]["data"]["status"], json!(200), "{notified:?}");
    let posts = target.seen_at("/escalated");
    assert_eq!(posts.len(), 1);
    assert_eq!(
        posts[0].key.as_deref(),
        Some(format!("{run}/pay/escalate/0").as_str())
    );
    assert_eq!(
        (
            posts[0].body["event"].clone(),
            posts[0].body["run_id"].clone()
        ),
        (json!("approval.escalated"), json!(run))
    );
    let roots = inbox(&weft, root, true).await;
    assert_eq!(roots.len(), 1, "after the escalation root may decide");
    assert_eq!(roots[0]["roles"], json!(["admin"]));
    assert_eq!(roots[0]["escalated"], json!(1));

    // The form: missing or wrong data is a 422 naming the path, and nothing is recorded.
    let (status, body, _) = decide(&weft, root, &run, json!({"decision": "approve"})).await;
    assert_eq!(status, 422, "{body}");
    let (status, body, _) = decide(
        &weft,
        root,
        &run,
        json!({"decision": "approve", "data": {"cost_centre": 7}}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["details"]["errors"]["/cost_centre"].is_string(),
        "{body}"
    );
    assert_eq!(
        weft.run(&run).await["nodes"]["pay"]["status"],
        json!("waiting")
    );

    let (status, body, _) = decide(&weft, root, &run, approve.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["by"], json!("root"));
    let done = weft.wait_for(&run, "completed").await;
    assert_eq!(
        done["output"],
        json!({"decision": "approve", "by": "root", "comment": null, "data": {"cost_centre": "CC-7"}})
    );
    let events = weft.events(&run).await;
    let decided = node_events(&events, "approval_decided", "pay");
    assert_eq!(decided.len(), 1);
    assert_eq!(
        (
            decided[0]["data"]["by"].clone(),
            decided[0]["data"]["decision"].clone()
        ),
        (json!("root"), json!("approve"))
    );
    assert_eq!(run_started_by(&events), Some("ops".to_owned()));
    // A second decision is refused: it is not waiting any more.
    let (status, _, _) = decide(&weft, fin, &run, approve).await;
    assert_eq!(status, 409);
    assert!(inbox(&weft, fin, false).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whoever_started_a_run_may_not_decide_it_unless_allowed() {
    let weft = closed(&[]).await;
    weft.put_workflow(&pay("strict", json!({}))).await;
    weft.put_workflow(&pay("relaxed", json!({"allow_self_approval": true})))
        .await;
    let callers = people(&weft, &[("sam", "operator"), ("ann", "approver")]).await;
    let [sam, ann] = &callers[..] else {
        unreachable!()
    };
    let yes = json!({"decision": "approve", "comment": "mine"});

    let run = start_as(&weft, sam, "strict").await;
    let (status, _, why) = decide(&weft, sam, &run, yes.clone()).await;
    assert_eq!(status, 403, "{why}");
    assert!(why.contains("self-approval"), "{why}");
    let bad = sam.get(&weft, "/api/approvals?mine=yes").await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    let bad = sam.get(&weft, "/api/approvals?owner=sam").await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    let item = &inbox(&weft, sam, false).await[0];
    assert_eq!(item["can_decide"], json!(false));
    assert!(inbox(&weft, sam, true).await.is_empty());
    let (status, _, _) = decide(&weft, ann, &run, yes.clone()).await;
    assert_eq!(status, 200);

    let run = start_as(&weft, sam, "relaxed").await;
    let (status, body, _) = decide(&weft, sam, &run, yes.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        weft.wait_for(&run, "completed").await["output"]["by"],
        json!("sam")
    );

    // A key is one caller too: what it starts, it may not decide; the shared token is nobody
    // in particular and may.
    let (key, _) = make_key(&weft, "ci", "operator").await;
    let ci = Caller::Bearer(key);
    let run = start_as(&weft, &ci, "strict").await;
    let (status, _, why) = decide(&weft, &ci, &run, yes.clone()).await;
    assert_eq!((status, why.contains("key:ci")), (403, true), "{why}");
    let (status, _, _) = decide(&weft, &Caller::Bearer(super::TOKEN.into()), &run, yes).await;
    assert_eq!(status, 200);
    let events = weft.events(&run).await;
    assert_eq!(run_started_by(&events), Some("key:ci".to_owned()));
    assert_eq!(
        node_events(&events, "approval_decided", "pay")[0]["data"]["by"],
        json!("token")
    );
}

/// A run started on a person's behalf is theirs for the self-approval rule: a bulk redrive
/// they asked for, a schedule they triggered, a child of a run they started.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_started_on_someones_behalf_are_theirs_for_self_approval() {
    let weft = closed(&[]).await;
    weft.put_workflow(&pay("strict", json!({}))).await;
    let mut yearly = pay("yearly", json!({}));
    yearly["triggers"] = json!({"schedules": [{"cron": "0 0 1 1 *", "input": {"amount": 3}}]});
    weft.put_workflow(&yearly).await;
    weft.put_workflow(&json!({
        "name": "outer",
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "child", "type": "subflow", "workflow": "strict", "input": {"amount": 9}},
            {"id": "done", "type": "end"}
        ],
        "edges": [{"from": "start", "to": "child"}, {"from": "child", "to": "done"}]
    }))
    .await;
    let callers = people(&weft, &[("sam", "operator"), ("ann", "approver")]).await;
    let [sam, ann] = &callers[..] else {
        unreachable!()
    };
    let yes = json!({"decision": "approve"});
    let refused = |(status, _, why): (u16, Value, String)| {
        assert_eq!(status, 403, "{why}");
        assert!(why.contains("self-approval"), "{why}");
    };

    // A bulk redrive sam asked for: the new run is his.
    let first = start_as(&weft, sam, "strict").await;
    let cancelled = sam
        .post(&weft, &format!("/api/runs/{first}/cancel"), &json!({}))
        .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    weft.wait_for(&first, "cancelled").await;
    let batch = sam
        .post(
            &weft,
            "/api/runs/bulk",
            &json!({"action": "redrive", "filter": {"ids": [first]}}),
        )
        .await;
    assert_eq!(batch.status, 202, "{}", batch.body);
    let redriven = run_at(&weft, &first, "/redriven_by/0").await;
    weft.wait_node(&redriven, "pay", "waiting").await;
    assert_eq!(
        run_started_by(&weft.events(&redriven).await).as_deref(),
        Some("sam")
    );
    refused(decide(&weft, sam, &redriven, yes.clone()).await);

    // "Trigger now" by sam.
    let fired = sam
        .post(
            &weft,
            "/api/workflows/yearly/schedules/0/trigger",
            &json!({}),
        )
        .await;
    assert_eq!(fired.status, 201, "{}", fired.body);
    let fired = fired.body["run_id"].as_str().expect("run_id").to_owned();
    weft.wait_node(&fired, "pay", "waiting").await;
    refused(decide(&weft, sam, &fired, yes.clone()).await);

    // A child of sam's run: the approval inside it is his request too.
    let outer = sam
        .post(&weft, "/api/workflows/outer/runs", &json!({"input": {}}))
        .await;
    assert_eq!(outer.status, 201, "{}", outer.body);
    let outer = outer.body["id"].as_str().expect("id").to_owned();
    let child = run_at(&weft, &outer, "/nodes/child/children/0/run").await;
    weft.wait_node(&child, "pay", "waiting").await;
    assert_eq!(
        run_started_by(&weft.events(&child).await).as_deref(),
        Some("sam")
    );
    refused(decide(&weft, sam, &child, yes.clone()).await);

    // Someone else decides each of them.
    for run in [&redriven, &fired, &child] {
        let (status, body, _) = decide(&weft, ann, run, yes.clone()).await;
        assert_eq!(status, 200, "{run}: {body}");
    }
    weft.wait_for(&outer, "completed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_decision_is_taken_at_the_timeout() {
    let weft = closed(&[HOOKS]).await;
    weft.put_workflow(&pay(
        "lapse",
        json!({"timeout": "2h", "default_decision": "reject"}),
    ))
    .await;
    let run = weft.start_run("lapse", json!({"amount": 5})).await;
    weft.wait_node(&run, "pay", "waiting").await;
    weft.advance("1h").await;
    assert_eq!(
        weft.run(&run).await["nodes"]["pay"]["status"],
        json!("waiting")
    );
    weft.advance("1h").await;
    let done = weft.wait_for(&run, "completed").await;
    assert_eq!(done["nodes"]["no"]["status"], json!("completed"));
    assert_eq!(
        done["output"],
        json!({"decision": "reject", "by": null, "comment": null, "data": null})
    );
    let events = weft.events(&run).await;
    let decided = node_events(&events, "approval_decided", "pay");
    assert_eq!(decided.len(), 1);
    assert_eq!(decided[0]["data"]["default"], json!(true));
    assert_eq!(
        decided[0]["data"].get("by"),
        Some(&Value::Null),
        "{:?}",
        decided[0]
    );
    assert!(!types(&events).contains(&"node_failed"));
}

/// Two escalation steps with notices, both past due at once: each step's notice goes out under
/// its own key, a 503 is tried again after its backoff, and each is recorded once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_escalation_step_sends_its_notice_retried_until_answered() {
    let target = Target::spawn().await;
    target.rule("/first", crate::helpers::Rule::FailFirst(2, 503));
    let weft = closed(&[HOOKS]).await;
    weft.put_workflow(&pay(
        "steps",
        json!({
            "timeout": "6h",
            "escalate": [
                {"after": "1h", "approvers": {"roles": ["admin"]}, "notify": target.url("/first")},
                {"after": "2h", "approvers": {"users": ["ann"]}, "notify": target.url("/second")}
            ]
        }),
    ))
    .await;
    let run = weft.start_run("steps", json!({"amount": 1})).await;
    weft.wait_node(&run, "pay", "waiting").await;
    // Each answer is recorded (its retry due from the clock of then) before the clock moves.
    let notices = |n: usize| {
        move |events: &[Value]| node_events(events, "approval_notified", "pay").len() == n
    };
    weft.advance("3h").await;
    wait_posts(&target, "/first", 1).await;
    loop_until(&weft, &run, notices(1)).await;
    weft.advance("2s").await;
    wait_posts(&target, "/first", 2).await;
    loop_until(&weft, &run, notices(2)).await;
    weft.advance("4s").await;
    wait_posts(&target, "/second", 1).await;
    let events = loop_until(&weft, &run, notices(4)).await;
    let notices: Vec<(u64, Option<u64>, bool)> = node_events(&events, "approval_notified", "pay")
        .iter()
        .map(|e| {
            (
                e["data"]["step"].as_u64().expect("step"),
                e["data"]["status"].as_u64(),
                e["data"]["again"].is_i64(),
            )
        })
        .collect();
    assert_eq!(
        notices,
        vec![
            (0, Some(503), true),
            (0, Some(503), true),
            (0, Some(200), false),
            (1, Some(200), false)
        ]
    );
    assert_eq!(node_events(&events, "approval_escalated", "pay").len(), 2);
    let keys = |path| {
        target
            .seen_at(path)
            .iter()
            .map(|s| s.key.clone().unwrap_or_default())
            .collect::<Vec<_>>()
    };
    assert_eq!(keys("/first"), vec![format!("{run}/pay/escalate/0"); 3]);
    assert_eq!(keys("/second"), vec![format!("{run}/pay/escalate/1")]);
    assert_eq!(
        weft.run(&run).await["nodes"]["pay"]["status"],
        json!("waiting")
    );
}

/// Waits until `target` has had `n` requests at `path`.
async fn wait_posts(target: &Target, path: &str, n: usize) {
    let deadline = std::time::Instant::now() + crate::helpers::WAIT;
    while target.seen_at(path).len() < n {
        assert!(
            std::time::Instant::now() < deadline,
            "{path} had {} requests, not {n}",
            target.seen_at(path).len()
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// Waits until `run`'s history passes `done`; the history then.
async fn loop_until(weft: &Weft, run: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = std::time::Instant::now() + crate::helpers::WAIT;
    loop {
        let events = weft.events(run).await;
        if done(&events) {
            return events;
        }
        assert!(std::time::Instant::now() < deadline, "{events:?}");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_validator_checks_the_approval_fields() {
    let weft = closed(&[]).await;
    let bad = [
        (json!({"approvers": {}}), "no_approvers"),
        (json!({"form": {"type": "nope"}}), "invalid_form"),
        (
            json!({"escalate": [{"after": "1h", "approvers": {"roles": ["admin"]}, "notify": "ftp://x"}]}),
            "invalid_field",
        ),
        (
            json!({"escalate": [
                {"after": "2h", "approvers": {"roles": ["admin"]}},
                {"after": "1h", "approvers": {"roles": ["editor"]}}]}),
            "invalid_field",
        ),
    ];
    for (fields, code) in bad {
        let (status, body) = weft
            .put("/api/workflows/bad", &pay("bad", fields.clone()))
            .await;
        assert_eq!(status, 422, "{fields}: {body}");
        let codes: Vec<&str> = body["error"]["details"]["diagnostics"]
            .as_array()
            .map(|d| d.iter().filter_map(|x| x["code"].as_str()).collect())
            .unwrap_or_default();
        assert!(codes.contains(&code), "{fields}: {body}");
    }
    // An unknown role is an unknown value, not a silent default.
    let (status, body) = weft
        .put(
            "/api/workflows/bad",
            &pay("bad", json!({"approvers": {"roles": ["boss"]}})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("boss"), "{body}");
}

/// Kill -9 after the escalation's POST and before its record: the restarted server sends it
/// again under the same key and records the escalation and the notice once each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_escalation_notice_survives_a_kill_and_is_recorded_once() {
    let target = Target::spawn().await;
    target.rule(
        "/slow",
        crate::helpers::Rule::SlowFirst(1, std::time::Duration::from_secs(30)),
    );
    let mut weft = closed(&[HOOKS]).await;
    weft.put_workflow(&pay(
        "esc",
        json!({"escalate": [{"after": "1h", "approvers": {"roles": ["admin"]},
                             "notify": target.url("/slow")}]}),
    ))
    .await;
    let run = weft.start_run("esc", json!({"amount": 1})).await;
    weft.wait_node(&run, "pay", "waiting").await;
    let now = weft.advance("1h").await;
    let deadline = std::time::Instant::now() + crate::helpers::WAIT;
    while target.seen_at("/slow").is_empty() {
        assert!(std::time::Instant::now() < deadline, "no notice was sent");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    // The first POST is held for 30 s: the kill comes before its answer could be recorded.
    weft.kill9();
    // Past the 10 s for which a PostgreSQL process claims a due timer.
    weft.set_env("WEFT_TEST_CLOCK_START", &(now + 11_000).to_string());
    weft.restart().await;
    super::admin(&mut weft);
    let events = wait_event(&weft, &run, "approval_notified").await;
    assert_eq!(node_events(&events, "approval_escalated", "pay").len(), 1);
    assert_eq!(node_events(&events, "approval_notified", "pay").len(), 1);
    let posts = target.seen_at("/slow");
    assert_eq!(posts.len(), 2, "sent again after the kill");
    assert!(
        posts
            .iter()
            .all(|p| p.key.as_deref() == Some(format!("{run}/pay/escalate/0").as_str()))
    );
    let (status, _) = weft
        .post(
            &format!("/api/runs/{run}/approvals/pay"),
            &json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(status, 200);
    weft.wait_for(&run, "completed").await;
}

/// Waits until `run`'s detail has a string at `pointer` (a run id it links to); that string.
async fn run_at(weft: &Weft, run: &str, pointer: &str) -> String {
    let deadline = std::time::Instant::now() + crate::helpers::WAIT;
    loop {
        let detail = weft.run(run).await;
        if let Some(id) = detail.pointer(pointer).and_then(Value::as_str) {
            return id.to_owned();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "nothing at {pointer} in {detail:#}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// Waits until `run`'s history has an event of type `ty`; the history then.
async fn wait_event(weft: &Weft, run: &str, ty: &str) -> Vec<Value> {
    let deadline = std::time::Instant::now() + crate::helpers::WAIT;
    loop {
        let events = weft.events(run).await;
        if types(&events).contains(&ty) {
            return events;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no {ty} in {events:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

fn run_started_by(events: &[Value]) -> Option<String> {
    events
        .iter()
        .find(|e| e["type"] == "run_started")
        .and_then(|e| e["data"]["by"].as_str())
        .map(str::to_owned)
}
