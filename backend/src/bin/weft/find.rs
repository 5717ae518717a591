//! S1 of `weft bench` (issue 18): finding runs among 100,000 (SPEC §6 "Finding runs"), on
//! SQLite (a database of its own) or on the PostgreSQL database `--database` names.
//!
//! It starts 100,000 runs whose inputs name a customer (1,000 of them), an amount and a
//! region, 1 % of them waiting at an approval, then times each kind of search through the
//! API (`GET /api/runs`, one page of 50 and its `total`) 50 times with varying values, and
//! prints each kind's p50 and p99.

use std::time::Instant;

use serde_json::{Value, json};

use crate::bench::{fan, put, start_server_with, tempfile_dir};

const RUNS: usize = 100_000;
/// One run in this many waits for a person.
const WAITING_EVERY: usize = 100;
const SAMPLES: usize = 50;

/// A kind of search: the query string of its `k`th sample.
type Query = Box<dyn Fn(usize) -> String>;

/// S1 on a fresh SQLite database.
pub(crate) async fn s1_sqlite(c: &reqwest::Client) -> anyhow::Result<()> {
    let dir = tempfile_dir()?;
    let result = s1(c, &format!("sqlite://{}/s1.db", dir.display())).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// S1 on `database` (PostgreSQL: it should be empty, or runs of earlier S1s add up).
pub(crate) async fn s1(c: &reqwest::Client, database: &str) -> anyhow::Result<()> {
    let server = start_server_with(database, None).await?;
    let base = server.base.clone();
    let stamp = uuid::Uuid::now_v7().simple().to_string();
    let (quick, waits) = (format!("s1-{stamp}"), format!("s1w-{stamp}"));
    put(
        c,
        &base,
        &json!({"name": quick, "nodes": [
        {"id": "start", "type": "start"}, {"id": "end", "type": "end"}],
        "edges": [{"from": "start", "to": "end"}]}),
    )
    .await?;
    put(
        c,
        &base,
        &json!({"name": waits, "nodes": [
        {"id": "start", "type": "start"}, {"id": "ok", "type": "approval", "prompt": "go?"},
        {"id": "end", "type": "end"}],
        "edges": [{"from": "start", "to": "ok"}, {"from": "ok", "to": "end", "port": "approved"}]}),
    )
    .await?;

    let t = Instant::now();
    let (c2, b2, q2, w2, s2) = (
        c.clone(),
        base.clone(),
        quick.clone(),
        waits.clone(),
        stamp.clone(),
    );
    fan(128, RUNS, move |i| {
        let (c, base, quick, waits, stamp) =
            (c2.clone(), b2.clone(), q2.clone(), w2.clone(), s2.clone());
        async move {
            let wf = if i % WAITING_EVERY == 0 { waits } else { quick };
            let r = c
                .post(format!("{base}/api/workflows/{wf}/runs"))
                .json(&json!({"run_id": format!("{stamp}-{i:06}"), "input": input(i)}))
                .send()
                .await?;
            anyhow::ensure!(r.status().is_success(), "start: {}", r.status());
            Ok(())
        }
    })
    .await?;
    println!(
        "S1  {RUNS} runs started in {:.1} s ({} of them waiting for a person)",
        t.elapsed().as_secs_f64(),
        RUNS / WAITING_EVERY
    );
    let first: Value = c
        .get(format!("{base}/api/runs?limit=1"))
        .send()
        .await?
        .json()
        .await?;
    let newest = first["runs"][0]["created_at"].as_i64().unwrap_or_default();
    let span = newest - first_created(c, &base, &stamp).await?;

    let kinds: Vec<(&str, Query)> = vec![
        ("newest page", Box::new(|_| String::new())),
        (
            "workflow + status",
            Box::new(move |_| format!("workflow={quick}&status=completed")),
        ),
        ("id prefix (~10)", {
            let stamp = stamp.clone();
            Box::new(move |k| format!("id_prefix={stamp}-{:05}", k * 7 % 10_000))
        }),
        (
            "input field (~100)",
            Box::new(|k| format!("input.customer.id=c-{}", k * 13 % 1000)),
        ),
        (
            "two input fields",
            Box::new(|k| format!("input.region=eu&input.amount={}", k % 500)),
        ),
        ("needs a person", Box::new(|_| "needs=person".into())),
        (
            "created range (10 %)",
            Box::new(move |k| {
                let from = newest - span + span / 20 * (k % 18) as i64;
                format!("created_after={from}&created_before={}", from + span / 10)
            }),
        ),
    ];
    for (name, query) in &kinds {
        let mut took = Vec::with_capacity(SAMPLES);
        let mut total = 0;
        for k in 0..SAMPLES {
            let t = Instant::now();
            let r = c
                .get(format!("{base}/api/runs?limit=50&{}", query(k)))
                .send()
                .await?;
            anyhow::ensure!(r.status().is_success(), "{name}: {}", r.text().await?);
            let page: Value = r.json().await?;
            took.push(t.elapsed().as_secs_f64() * 1000.0);
            total = page["total"].as_u64().unwrap_or_default();
        }
        took.sort_by(f64::total_cmp);
        println!(
            "S1  {name:<22} p50 {:>7.2} ms  p99 {:>7.2} ms  (total of the last: {total})",
            took[SAMPLES / 2],
            took[SAMPLES * 99 / 100]
        );
    }
    server.stop().await;
    Ok(())
}

/// Run `i`'s input: a customer of 1,000, an amount of 500, a region of 3.
fn input(i: usize) -> Value {
    let region = ["eu", "us", "ap"][i % 3];
    json!({
        "customer": {"id": format!("c-{}", i % 1000)},
        "amount": i % 500,
        "region": region,
    })
}

/// When the first run of this S1 was created.
async fn first_created(c: &reqwest::Client, base: &str, stamp: &str) -> anyhow::Result<i64> {
    let page: Value = c
        .get(format!("{base}/api/runs?id_prefix={stamp}-000000"))
        .send()
        .await?
        .json()
        .await?;
    page["runs"][0]["created_at"]
        .as_i64()
        .ok_or_else(|| anyhow::anyhow!("the first run is not found: {page}"))
}
