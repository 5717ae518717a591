//! H1 of `weft bench`: the hostile series of issue 13, sent again and again to a running
//! server, measuring what the tests only check for: the process's RSS before and after
//! (it must come back within 50 MB), the slowest `/healthz` answer while the series runs
//! (a target of 100 ms), and the slowest ordinary run (10 quick transforms, started and
//! completed in one call) started meanwhile.
//!
//! The series: two validations of a 10,000-node definition at once, a 2,000-node chain run,
//! templates that would loop for hours (a transform and an `http` body), 20 MB strings, and
//! an HTTP answer over the size limit.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::bench::{chain, put, rss_mb, start};

const LOOPS: &str =
    "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}";

/// Answers `/big` with a body over the size limit, everything else with `{"ok": true}`.
async fn big_target() -> anyhow::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let body = "b".repeat(shared::limits::MAX_VALUE_BYTES * 4);
    let router = axum::Router::new()
        .route("/big", axum::routing::get(move || async move { body }))
        .fallback(|| async { axum::Json(json!({"ok": true})) });
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok(base)
}

/// Runs the series `rounds` times against `base` and prints H1's line.
pub(crate) async fn h1(c: &reqwest::Client, base: &str, rounds: usize) -> anyhow::Result<()> {
    let target = big_target().await?;
    let huge = chain("huge", 10_000, |_| json!({"type": "parallel"}));
    let defs = [
        chain(
            "h-chain",
            shared::limits::MAX_NODES - 2,
            |k| json!({"type": "transform", "output": {"k": k}}),
        ),
        chain(
            "h-loop",
            1,
            |_| json!({"type": "transform", "output": {"v": LOOPS}}),
        ),
        chain(
            "h-http-loop",
            1,
            |_| json!({"type": "http", "request": {"method": "POST", "url": format!("{target}/x"), "body": {"v": LOOPS}}}),
        ),
        chain(
            "h-repeat",
            1,
            |_| json!({"type": "transform", "output": "{{ 'x' * 20000000 }}"}),
        ),
        chain(
            "h-response",
            1,
            |_| json!({"type": "http", "request": {"method": "GET", "url": format!("{target}/big")}}),
        ),
    ];
    for def in &defs {
        put(c, base, def).await?;
    }
    let ordinary = chain(
        "h-ok",
        10,
        |i| json!({"type": "transform", "output": {"i": i, "n": "{{ input.n }}"}}),
    );
    put(c, base, &ordinary).await?;

    let before = rss_mb();
    let slowest = Arc::new(AtomicU64::new(0));
    let slowest_run = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let watch = {
        let (c, base) = (c.clone(), base.to_owned());
        let (slowest, slowest_run, stop) = (slowest.clone(), slowest_run.clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let ok = c
                    .get(format!("{base}/healthz"))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                let us = t.elapsed().as_micros() as u64;
                slowest.fetch_max(if ok { us } else { u64::MAX }, Ordering::Relaxed);
                let t = Instant::now();
                let done = start(&c, &base, "h-ok", json!({"n": 1}))
                    .await
                    .is_ok_and(|v| v["status"] == "completed");
                let us = t.elapsed().as_micros() as u64;
                slowest_run.fetch_max(if done { us } else { u64::MAX }, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    let t = Instant::now();
    for _ in 0..rounds {
        let validate = || async {
            let r = c
                .post(format!("{base}/api/validate"))
                .json(&huge)
                .send()
                .await?;
            anyhow::ensure!(r.status().is_success(), "validate: {}", r.status());
            Ok(())
        };
        let (a, b) = tokio::join!(validate(), validate());
        a?;
        b?;
        let mut runs = Vec::new();
        for def in &defs {
            let name = def["name"].as_str().unwrap_or_default();
            for _ in 0..4 {
                runs.push(start(c, base, name, json!({})).await?);
            }
        }
        for run in runs {
            let id = run["id"].as_str().unwrap_or_default().to_owned();
            wait_finished(c, base, &id).await?;
        }
    }
    let took = t.elapsed();
    stop.store(true, Ordering::Relaxed);
    watch.await?;
    let after = rss_mb();
    let slowest = slowest.load(Ordering::Relaxed);
    let slowest_run = slowest_run.load(Ordering::Relaxed);
    anyhow::ensure!(slowest != u64::MAX, "/healthz failed during the series");
    anyhow::ensure!(
        slowest_run != u64::MAX,
        "an ordinary run did not complete during the series"
    );
    println!(
        "H1  hostile series ×{rounds} in {:.1} s: RSS {before:.0} MB before, {after:.0} MB after ({:+.0} MB); slowest /healthz {:.1} ms, slowest ordinary run {:.1} ms",
        took.as_secs_f64(),
        after - before,
        slowest as f64 / 1000.0,
        slowest_run as f64 / 1000.0
    );
    Ok(())
}

async fn wait_finished(c: &reqwest::Client, base: &str, id: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let v: Value = c
            .get(format!("{base}/api/runs/{id}"))
            .send()
            .await?
            .json()
            .await?;
        if v["status"] != "running" {
            return Ok(());
        }
        anyhow::ensure!(Instant::now() < deadline, "run {id} still running: {v}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
