//! Cron schedules (SPEC §5): fires on the simulated clock, pause and resume (also across a
//! restart), trigger now, backfill (once per fire time, however often asked), the overlap
//! policies `skip` and `buffer_one`, catch-up after downtime within `catchup_window` (older
//! fire times skipped and counted), validation on save, rows that follow saves and archives,
//! and three processes on one PostgreSQL starting each fire time's run exactly once.
//!
//! Time only moves when a test moves it (`POST /_test/clock`); a test waits for what the
//! scheduler records (a run, a schedule's row), never for a guessed delay.

use std::collections::BTreeSet;
use std::time::Instant;

use serde_json::{Value, json};

use crate::helpers::{WAIT, Weft, spawn_on};
use crate::sim::HOOKS;

/// A workflow that completes as soon as it starts, with `schedules`.
fn quick(name: &str, schedules: Value) -> Value {
    json!({
        "name": name,
        "triggers": {"schedules": schedules},
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "done", "type": "end", "output": {"got": "{{ input }}"}}
        ],
        "edges": [{"from": "start", "to": "done"}]
    })
}

/// A workflow whose runs wait for an approval, so they stay running until a test approves.
fn gated(name: &str, schedules: Value) -> Value {
    json!({
        "name": name,
        "triggers": {"schedules": schedules},
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "ask", "type": "approval", "prompt": "go?"},
            {"id": "done", "type": "end"}
        ],
        "edges": [{"from": "start", "to": "ask"}, {"from": "ask", "to": "done", "port": "approved"}]
    })
}

fn run_id(workflow: &str, index: u32, at: i64) -> String {
    format!("sched-{workflow}-{index}-{at}")
}

/// The fire times of "every `step` ms" (aligned to the epoch, as a UTC cron on seconds is)
/// with `after < t <= until`.
fn every(step: i64, after: i64, until: i64) -> Vec<i64> {
    let first = (after / step + 1) * step;
    (0..)
        .map(|i| first + i * step)
        .take_while(|t| *t <= until)
        .collect()
}

impl Weft {
    async fn now(&self) -> i64 {
        self.get_ok("/_test/clock").await["now"]
            .as_i64()
            .expect("now")
    }

    async fn schedules(&self) -> Vec<Value> {
        self.get_ok("/api/schedules").await["schedules"]
            .as_array()
            .expect("schedules")
            .clone()
    }

    async fn schedule(&self, workflow: &str, index: u32) -> Value {
        self.schedules()
            .await
            .into_iter()
            .find(|s| s["workflow"] == workflow && s["index"] == index)
            .unwrap_or_else(|| panic!("no schedule {workflow}/{index}"))
    }

    /// Polls `GET /api/schedules` until `ok` holds for schedule `index` of `workflow`.
    async fn wait_schedule(
        &self,
        workflow: &str,
        index: u32,
        what: &str,
        ok: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let s = self.schedule(workflow, index).await;
            if ok(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "schedule {workflow}/{index} never got {what}: {s:#}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Polls until the run exists; returns it.
    async fn wait_run(&self, id: &str) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let (status, body) = self.get(&format!("/api/runs/{id}")).await;
            if status == 200 {
                return body;
            }
            assert!(
                Instant::now() < deadline,
                "run {id} never started: {status} {body}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    async fn exists(&self, id: &str) -> bool {
        self.get(&format!("/api/runs/{id}")).await.0 == 200
    }

    /// The ids of every run of `workflow`.
    async fn run_ids(&self, workflow: &str) -> BTreeSet<String> {
        let body = self
            .get_ok(&format!("/api/runs?workflow={workflow}&limit=500"))
            .await;
        body["runs"]
            .as_array()
            .expect("runs")
            .iter()
            .map(|r| r["id"].as_str().expect("id").to_owned())
            .collect()
    }

    /// Restarts the server on the same database with its simulated clock at `at`.
    async fn restart_at(&mut self, at: i64) {
        self.set_env("WEFT_TEST_CLOCK_START", &at.to_string());
        self.restart().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seconds_cron_fires_once_per_fire_time_as_the_clock_moves() {
    let weft = Weft::simulated().await;
    let t0 = weft.now().await;
    weft.put_workflow(&quick(
        "tick",
        json!([{"cron": "*/5 * * * * *", "input": {"n": 1}}]),
    ))
    .await;
    let s = weft.schedule("tick", 0).await;
    assert_eq!(s["cron"], "*/5 * * * * *");
    assert_eq!(s["timezone"], "UTC");
    assert_eq!(s["overlap"], "skip");
    assert_eq!(s["catchup_window"], "1m");
    assert_eq!(s["paused"], false);
    assert_eq!(s["next_fire_at"], (t0 / 5_000 + 1) * 5_000, "{s:#}");
    assert_eq!(s["last_run"], Value::Null);

    let t1 = weft.advance("5s").await;
    let first = every(5_000, t0, t1);
    assert_eq!(first.len(), 1);
    let run = weft.wait_run(&run_id("tick", 0, first[0])).await;
    assert_eq!(
        run["trigger"],
        json!({"schedule": 0, "at": first[0]}),
        "{run:#}"
    );
    assert_eq!(run["input"], json!({"n": 1}));
    let run = weft
        .wait_for(run["id"].as_str().unwrap(), "completed")
        .await;
    assert_eq!(run["output"], json!({"got": {"n": 1}}));
    // The trigger is in the run's history too.
    let events = weft.events(run["id"].as_str().unwrap()).await;
    assert_eq!(
        events[0]["data"]["trigger"],
        json!({"schedule": 0, "at": first[0]})
    );

    let t2 = weft.advance("10s").await;
    let all = every(5_000, t0, t2);
    assert_eq!(all.len(), 3);
    for t in &all {
        weft.wait_run(&run_id("tick", 0, *t)).await;
    }
    let s = weft
        .wait_schedule("tick", 0, "its third fire recorded", |s| {
            s["last_fire_at"] == all[2]
        })
        .await;
    assert_eq!(s["last_run"], run_id("tick", 0, all[2]));
    assert_eq!(s["next_fire_at"], all[2] + 5_000);
    assert_eq!(s["skipped"], 0);
    let want: BTreeSet<String> = all.iter().map(|t| run_id("tick", 0, *t)).collect();
    assert_eq!(
        weft.run_ids("tick").await,
        want,
        "one run per fire time, no more"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_schedule_stays_paused_across_a_restart_and_a_save_and_resume_skips_what_it_missed()
 {
    let mut weft = Weft::simulated().await;
    // Schedule 1 keeps firing beside the paused one: once its fire is recorded, the pass that
    // would have handled schedule 0 is over.
    let def = quick(
        "nap",
        json!([{"cron": "* * * * * *"}, {"cron": "* * * * * *"}]),
    );
    weft.put_workflow(&def).await;
    let (status, paused) = weft
        .post("/api/workflows/nap/schedules/0/pause", &json!({}))
        .await;
    assert_eq!(status, 200, "{paused}");
    assert_eq!(paused["paused"], true);
    assert_eq!(paused["next_fire_at"], Value::Null);

    let t1 = weft.advance("3s").await;
    weft.wait_schedule("nap", 1, "a fire at the new time", |s| {
        s["last_fire_at"] == (t1 / 1000) * 1000
    })
    .await;

    weft.restart_at(t1).await;
    assert_eq!(
        weft.schedule("nap", 0).await["paused"],
        true,
        "a restart resumed it"
    );
    // A save that changes the workflow keeps the schedule paused too.
    let mut changed = def.clone();
    changed["description"] = json!("changed");
    weft.put_workflow(&changed).await;
    assert_eq!(
        weft.schedule("nap", 0).await["paused"],
        true,
        "a save resumed it"
    );

    let t2 = weft.advance("2s").await;
    weft.wait_schedule("nap", 1, "a fire after the restart", |s| {
        s["last_fire_at"] == (t2 / 1000) * 1000
    })
    .await;
    let of_0 = |ids: BTreeSet<String>| -> Vec<String> {
        ids.into_iter()
            .filter(|id| id.starts_with("sched-nap-0-"))
            .collect()
    };
    assert_eq!(
        of_0(weft.run_ids("nap").await),
        Vec::<String>::new(),
        "a paused schedule started runs"
    );

    let (status, resumed) = weft
        .post("/api/workflows/nap/schedules/0/resume", &json!({}))
        .await;
    assert_eq!(status, 200, "{resumed}");
    assert_eq!(resumed["paused"], false);
    assert_eq!(
        resumed["next_fire_at"],
        (t2 / 1000 + 1) * 1000,
        "resume counts from now"
    );
    let t3 = weft.advance("1s").await;
    let fire = (t3 / 1000) * 1000;
    weft.wait_run(&run_id("nap", 0, fire)).await;
    assert_eq!(
        of_0(weft.run_ids("nap").await),
        vec![run_id("nap", 0, fire)],
        "the paused fire times are not caught up"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trigger_now_starts_a_run_each_time_and_unknown_schedules_are_404() {
    let weft = Weft::simulated().await;
    // New Year only: nothing fires by itself during the test.
    weft.put_workflow(&quick(
        "yearly",
        json!([{"cron": "0 0 1 1 *", "input": {"k": "v"}}]),
    ))
    .await;
    let now = weft.now().await;
    let (status, run) = weft
        .post("/api/workflows/yearly/schedules/0/trigger", &json!({}))
        .await;
    assert_eq!(status, 201, "{run}");
    let id = run["run_id"].as_str().expect("run_id").to_owned();
    assert!(id.starts_with("sched-yearly-0-now-"), "{id}");
    let detail = weft.wait_for(&id, "completed").await;
    assert_eq!(detail["trigger"], json!({"schedule": 0, "at": now}));
    assert_eq!(detail["input"], json!({"k": "v"}));
    let s = weft.schedule("yearly", 0).await;
    assert_eq!(s["last_run"], id.as_str());
    assert_eq!(s["last_run_status"], "completed");
    assert_eq!(s["last_fire_at"], now);

    let (status, again) = weft
        .post("/api/workflows/yearly/schedules/0/trigger", &json!({}))
        .await;
    assert_eq!(status, 201, "{again}");
    assert_ne!(
        again["run_id"], run["run_id"],
        "each trigger is its own run"
    );
    assert_eq!(weft.run_ids("yearly").await.len(), 2);

    for path in [
        "/api/workflows/nope/schedules/0/trigger",
        "/api/workflows/yearly/schedules/1/trigger",
        "/api/workflows/yearly/schedules/7/pause",
        "/api/workflows/nope/schedules/0/resume",
        "/api/workflows/yearly/schedules/3/backfill",
    ] {
        let body = if path.ends_with("/backfill") {
            json!({"from": 0, "to": 1})
        } else {
            json!({})
        };
        let (status, answer) = weft.post(path, &body).await;
        assert_eq!(status, 404, "{path}: {answer}");
        assert_eq!(answer["error"]["code"], "not_found", "{path}: {answer}");
    }
    let (status, answer) = weft
        .post(
            "/api/workflows/yearly/schedules/0/pause",
            &json!({"now": true}),
        )
        .await;
    assert_eq!(status, 400, "an unknown field: {answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_starts_one_run_per_fire_time_once_however_often_asked() {
    let weft = Weft::simulated().await;
    weft.put_workflow(&quick(
        "hourly",
        json!([{"cron": "0 * * * *"}, {"cron": "* * * * * *"}]),
    ))
    .await;
    let range = json!({"from": "2026-01-01T00:00:00Z", "to": "2026-01-01T10:00:00Z"});
    let from = 1_767_225_600_000_i64; // 2026-01-01T00:00:00Z
    let fires: Vec<i64> = (0..10).map(|h| from + h * 3_600_000).collect();

    let mut dry = range.clone();
    dry["dry_run"] = json!(true);
    let (status, counted) = weft
        .post("/api/workflows/hourly/schedules/0/backfill", &dry)
        .await;
    assert_eq!(status, 200, "{counted}");
    assert_eq!(counted["fires"], 10);
    assert_eq!(counted["started"], 0);
    assert!(
        weft.run_ids("hourly").await.is_empty(),
        "a dry run started runs"
    );

    let (status, first) = weft
        .post("/api/workflows/hourly/schedules/0/backfill", &range)
        .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(
        (
            first["fires"].clone(),
            first["started"].clone(),
            first["existing"].clone()
        ),
        (json!(10), json!(10), json!(0))
    );
    let want: BTreeSet<String> = fires.iter().map(|t| run_id("hourly", 0, *t)).collect();
    assert_eq!(weft.run_ids("hourly").await, want);
    let third = weft.run(&run_id("hourly", 0, fires[3])).await;
    assert_eq!(third["trigger"], json!({"schedule": 0, "at": fires[3]}));

    // Asked again, over an overlapping range in epoch ms: the same runs, none new.
    let again = json!({"from": from - 3_600_000, "to": from + 10 * 3_600_000});
    let (status, second) = weft
        .post("/api/workflows/hourly/schedules/0/backfill", &again)
        .await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(
        (
            second["fires"].clone(),
            second["started"].clone(),
            second["existing"].clone()
        ),
        (json!(11), json!(1), json!(10))
    );
    assert_eq!(weft.run_ids("hourly").await.len(), 11);
    // A dry run over the same range counts the runs that are there.
    let mut dry_again = again.clone();
    dry_again["dry_run"] = json!(true);
    let (status, counted) = weft
        .post("/api/workflows/hourly/schedules/0/backfill", &dry_again)
        .await;
    assert_eq!(status, 200, "{counted}");
    assert_eq!(
        (
            counted["fires"].clone(),
            counted["started"].clone(),
            counted["existing"].clone()
        ),
        (json!(11), json!(0), json!(11))
    );
    // Two backfills audited; the two dry runs changed nothing and are not.
    let log = weft.get_ok("/api/audit?action=schedule.backfilled").await;
    assert_eq!(log["entries"].as_array().map(Vec::len), Some(2), "{log:#}");

    // Three hours of an every-second schedule is over the cap: refused, nothing started.
    let (status, refused) = weft
        .post(
            "/api/workflows/hourly/schedules/1/backfill",
            &json!({"from": "2026-01-01T00:00:00Z", "to": "2026-01-01T03:00:00Z"}),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("10000"),
        "{refused}"
    );
    assert_eq!(weft.run_ids("hourly").await.len(), 11);
    let (status, bad) = weft
        .post(
            "/api/workflows/hourly/schedules/0/backfill",
            &json!({"from": "yesterday", "to": 0}),
        )
        .await;
    assert_eq!(status, 400, "{bad}");
    let (status, bad) = weft
        .post(
            "/api/workflows/hourly/schedules/0/backfill",
            &json!({"from": 10, "to": 0}),
        )
        .await;
    assert_eq!(status, 400, "{bad}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlap_skip_drops_fires_and_buffer_one_keeps_one_until_the_run_ends() {
    let weft = Weft::simulated().await;
    let t0 = weft.now().await;
    weft.put_workflow(&gated(
        "gate",
        json!([
            {"cron": "*/10 * * * * *"},
            {"cron": "*/10 * * * * *", "overlap": "buffer_one"}
        ]),
    ))
    .await;
    let t1 = weft.advance("10s").await;
    let f1 = every(10_000, t0, t1)[0];
    for i in 0..2 {
        let id = run_id("gate", i, f1);
        weft.wait_run(&id).await;
        weft.wait_node(&id, "ask", "waiting").await;
    }
    // Two more fire times while both runs wait.
    let t2 = weft.advance("10s").await;
    let f2 = every(10_000, t1, t2)[0];
    weft.wait_schedule("gate", 0, "one skip", |s| s["skipped"] == 1)
        .await;
    weft.wait_schedule("gate", 1, "a buffered fire", |s| s["buffered_at"] == f2)
        .await;
    let t3 = weft.advance("10s").await;
    let f3 = every(10_000, t2, t3)[0];
    weft.wait_schedule("gate", 0, "two skips", |s| s["skipped"] == 2)
        .await;
    // buffer_one keeps the first buffered fire; the next is dropped.
    let s1 = weft
        .wait_schedule("gate", 1, "one drop", |s| s["skipped"] == 1)
        .await;
    assert_eq!(s1["buffered_at"], f2, "{s1:#}");
    for (i, t) in [(0, f2), (0, f3), (1, f2), (1, f3)] {
        assert!(
            !weft.exists(&run_id("gate", i, t)).await,
            "schedule {i} started a run at {t}"
        );
    }

    // The buffered fire starts when the run it waited for ends, with its own fire time.
    let (status, body) = weft
        .post(
            &format!("/api/runs/{}/approvals/ask", run_id("gate", 1, f1)),
            &json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let buffered = weft.wait_run(&run_id("gate", 1, f2)).await;
    assert_eq!(buffered["trigger"], json!({"schedule": 1, "at": f2}));
    let s1 = weft
        .wait_schedule("gate", 1, "the buffered run as its last", |s| {
            s["buffered_at"].is_null()
        })
        .await;
    assert_eq!(s1["last_run"], run_id("gate", 1, f2));
    assert!(
        !weft.exists(&run_id("gate", 1, f3)).await,
        "the dropped fire started"
    );

    // Once skip's run has ended, its next fire starts again.
    let (status, body) = weft
        .post(
            &format!("/api/runs/{}/approvals/ask", run_id("gate", 0, f1)),
            &json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    weft.wait_for(&run_id("gate", 0, f1), "completed").await;
    let t4 = weft.advance("10s").await;
    let f4 = every(10_000, t3, t4)[0];
    weft.wait_run(&run_id("gate", 0, f4)).await;
    assert_eq!(weft.schedule("gate", 0).await["skipped"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_downtime_fires_within_the_catchup_window_start_once_and_older_ones_are_counted() {
    let mut weft = Weft::simulated().await;
    let t0 = weft.now().await;
    weft.put_workflow(&quick(
        "catchup",
        json!([{"cron": "*/10 * * * * *", "catchup_window": "30s"}]),
    ))
    .await;
    // Down for 100 s of the clock: it never saw those fire times go by.
    let t2 = t0 + 100_000;
    weft.restart_at(t2).await;
    let missed = every(10_000, t0, t2);
    let (late, old): (Vec<i64>, Vec<i64>) = missed.iter().partition(|t| **t >= t2 - 30_000);
    assert!(late.len() >= 3 && old.len() >= 6, "{late:?} {old:?}");
    for t in &late {
        weft.wait_run(&run_id("catchup", 0, *t)).await;
    }
    let s = weft
        .wait_schedule("catchup", 0, "the catch-up done", |s| {
            s["next_fire_at"].as_i64() > Some(t2)
        })
        .await;
    assert_eq!(s["skipped"], old.len(), "{s:#}");
    assert_eq!(s["last_fire_at"], *late.last().unwrap());
    let want: BTreeSet<String> = late.iter().map(|t| run_id("catchup", 0, *t)).collect();
    assert_eq!(
        weft.run_ids("catchup").await,
        want,
        "older fire times started runs"
    );
    let scrape = crate::ops::scrape(&weft).await;
    assert_eq!(
        crate::ops::value(
            &scrape,
            "weft_schedule_fires_skipped_total",
            &[("reason", "missed")]
        ),
        old.len() as f64
    );

    // Restarted again at the same time: nothing is started twice.
    weft.restart_at(t2).await;
    let t3 = weft.advance("10s").await;
    let next = every(10_000, t2, t3)[0];
    weft.wait_run(&run_id("catchup", 0, next)).await;
    let mut want = want;
    want.insert(run_id("catchup", 0, next));
    assert_eq!(weft.run_ids("catchup").await, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_schedules_are_refused_on_save_and_rows_follow_saves_and_archives() {
    let weft = Weft::simulated().await;
    for (schedule, code) in [
        (json!({"cron": "* * * *"}), "invalid_cron"),
        (json!({"cron": "0 0 30 2 *"}), "invalid_cron"),
        (
            json!({"cron": "* * * * *", "timezone": "Mars/Olympus"}),
            "invalid_timezone",
        ),
        (
            json!({"cron": "* * * * *", "overlap": "queue"}),
            "invalid_overlap",
        ),
        (
            json!({"cron": "* * * * *", "catchup_window": "a while"}),
            "invalid_duration",
        ),
    ] {
        let def = quick("bad", json!([schedule]));
        let (status, body) = weft.put("/api/workflows/bad", &def).await;
        assert_eq!(status, 422, "{schedule}: {body}");
        let codes: Vec<&str> = body["error"]["details"]["diagnostics"]
            .as_array()
            .expect("diagnostics")
            .iter()
            .map(|d| d["code"].as_str().unwrap())
            .collect();
        assert!(codes.contains(&code), "{schedule}: {codes:?}");
        let (_, checked) = weft.post("/api/validate", &def).await;
        assert_eq!(checked["valid"], false, "{schedule}");
    }
    assert!(weft.schedules().await.is_empty());

    weft.put_workflow(&quick(
        "follow",
        json!([{"cron": "0 * * * *", "timezone": "Europe/Berlin"}, {"cron": "*/5 * * * * *"}]),
    ))
    .await;
    assert_eq!(weft.schedules().await.len(), 2);
    assert_eq!(
        weft.schedule("follow", 0).await["timezone"],
        "Europe/Berlin"
    );
    weft.post("/api/workflows/follow/schedules/0/pause", &json!({}))
        .await;
    // The second schedule removed: its row goes; the first keeps its pause.
    weft.put_workflow(&quick(
        "follow",
        json!([{"cron": "0 * * * *", "timezone": "Europe/Berlin"}]),
    ))
    .await;
    let all = weft.schedules().await;
    assert_eq!(all.len(), 1, "{all:#?}");
    assert_eq!(all[0]["paused"], true);
    let (status, _) = weft
        .post("/api/workflows/follow/schedules/1/trigger", &json!({}))
        .await;
    assert_eq!(status, 404);
    let (status, _) = weft.delete("/api/workflows/follow").await;
    assert_eq!(status, 200);
    assert!(
        weft.schedules().await.is_empty(),
        "an archived workflow's schedules stay"
    );
}

/// Three processes on one PostgreSQL, each with its own simulated clock, all moved second
/// by second: every fire time of an every-second schedule has exactly one run, with one
/// `run_started`, whichever process started it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: runs with WEFT_TEST_STORE=postgres -- --include-ignored"]
async fn three_processes_start_each_fire_time_once() {
    assert!(crate::pg::enabled(), "needs WEFT_TEST_STORE=postgres");
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().expect("dir")).collect();
    let database = crate::pg::database_for(dirs[0].path()).await;
    let mut nodes = Vec::new();
    for d in &dirs {
        nodes.push(spawn_on(d.path(), database.clone(), &[HOOKS]).await);
    }
    let saved_at = nodes[0].now().await;
    nodes[0]
        .put_workflow(&quick(
            "every",
            json!([{"cron": "* * * * * *"}, {"cron": "*/2 * * * * *"}]),
        ))
        .await;
    let mut nows = [0; 3];
    for _ in 0..15 {
        for (i, n) in nodes.iter().enumerate() {
            nows[i] = n.advance("1s").await;
        }
    }
    // Every process's clock has passed these fire times; the last few may be any process's.
    let settled = *nows.iter().min().unwrap();
    let mut want = BTreeSet::new();
    for t in every(1_000, saved_at, settled) {
        want.insert(run_id("every", 0, t));
    }
    for t in every(2_000, saved_at, settled) {
        want.insert(run_id("every", 1, t));
    }
    assert!(want.len() >= 15, "{want:?}");
    for id in &want {
        nodes[2].wait_run(id).await;
    }
    let ids = nodes[1].run_ids("every").await;
    assert!(
        ids.is_superset(&want),
        "missing: {:?}",
        want.difference(&ids).collect::<Vec<_>>()
    );
    let latest = *nows.iter().max().unwrap();
    for id in &ids {
        let run = nodes[0].run(id).await;
        let at = run["trigger"]["at"].as_i64().expect("a trigger");
        assert_eq!(
            id,
            &run_id(
                "every",
                run["trigger"]["schedule"].as_u64().unwrap() as u32,
                at
            )
        );
        assert!(
            at > saved_at && at <= latest,
            "{id} fired outside the clocks: {run:#}"
        );
        let events = nodes[0].events(id).await;
        let starts = events.iter().filter(|e| e["type"] == "run_started").count();
        assert_eq!(starts, 1, "{id} started {starts} times");
    }
}
