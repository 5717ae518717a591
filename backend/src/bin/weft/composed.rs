//! W4 of `weft bench`: one run whose `map` node runs a 3-step child workflow for each of
//! 10,000 items, at most 100 at once (issue 14's target: under 10 s and 300 MB here). It
//! measures what a map costs the engine: children started, decided and reported in their
//! parent's commits, a parent that holds 10,000 children's results, and refills past a
//! round's budget.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::bench::{chain, put, rss_mb, start};

const ITEMS: usize = 10_000;

/// Runs W4 against `base` and prints its line.
pub(crate) async fn w4(c: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    put(
        c,
        base,
        &chain(
            "w4-child",
            3,
            |k| json!({"type": "transform", "output": {"k": k, "item": "{{ input }}"}}),
        ),
    )
    .await?;
    let mut parent = chain(
        "w4",
        1,
        |_| json!({"type": "map", "items": "{{ input.items }}", "workflow": "w4-child", "max_concurrency": 100}),
    );
    parent["nodes"][2]["output"] = json!("{{ nodes.s0.output | length }}");
    put(c, base, &parent).await?;
    let before = rss_mb();
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let done = done.clone();
        tokio::spawn(async move {
            let mut peak = 0f64;
            while !done.load(Ordering::Relaxed) {
                peak = peak.max(rss_mb());
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            peak
        })
    };
    let t = Instant::now();
    let run = start(
        c,
        base,
        "w4",
        json!({"items": (0..ITEMS).collect::<Vec<_>>()}),
    )
    .await?;
    let id = run["id"].as_str().unwrap_or_default().to_owned();
    let run = loop {
        let run: serde_json::Value = c
            .get(format!("{base}/api/runs/{id}"))
            .send()
            .await?
            .json()
            .await?;
        if run["status"] != "running" {
            break run;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let wall = t.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    let peak = sampler.await?.max(rss_mb());
    anyhow::ensure!(
        run["status"] == "completed" && run["output"] == json!(ITEMS),
        "W4's map did not complete with {ITEMS} outputs: {} {}",
        run["status"],
        run["error"]
    );
    println!(
        "W4  one map of {ITEMS} items × a 3-step child, 100 at once: {wall:.2} s, {:.0} child runs/s; RSS {before:.0} MB before, peak {peak:.0} MB",
        ITEMS as f64 / wall,
    );
    Ok(())
}
