//! B1 and R2 of `weft bench` (issue 15), each on a database of its own.
//!
//! B1: 10,000 runs waiting on an approval, cancelled by one bulk batch; the time from the
//! `POST /api/runs/bulk` to the batch's `done`. R2: W1's workload of 100,000 runs on a server
//! whose retention (1 s) prunes them as they finish, with the SQLite file's size (database
//! plus WAL) sampled at the start, its peak and the end; then the same W1 on a server that
//! prunes nothing, for the cost of pruning as a ratio of steps/s.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::bench::{put, start, start_server_with, tempfile_dir, w1};

const B1_RUNS: usize = 10_000;
const R2_RUNS: usize = 100_000;

/// B1: a bulk cancel of 10,000 waiting runs.
pub(crate) async fn b1(c: &reqwest::Client) -> anyhow::Result<()> {
    let dir = tempfile_dir()?;
    let server = start_server_with(&format!("sqlite://{}/b1.db", dir.display()), None).await?;
    let base = server.base.clone();
    put(
        c,
        &base,
        &json!({"name": "b1", "nodes": [
            {"id": "start", "type": "start"}, {"id": "ok", "type": "approval", "prompt": "go?"},
            {"id": "end", "type": "end"}],
            "edges": [{"from": "start", "to": "ok"}, {"from": "ok", "to": "end", "port": "approved"}]}),
    )
    .await?;
    let next = Arc::new(AtomicU64::new(0));
    let mut clients = Vec::new();
    for _ in 0..64 {
        let (c, base, next) = (c.clone(), base.clone(), next.clone());
        clients.push(tokio::spawn(async move {
            while (next.fetch_add(1, Ordering::Relaxed) as usize) < B1_RUNS {
                start(&c, &base, "b1", json!({})).await?;
            }
            Ok::<(), anyhow::Error>(())
        }));
    }
    for t in clients {
        t.await??;
    }
    let t = Instant::now();
    let accepted: Value = c
        .post(format!("{base}/api/runs/bulk"))
        .json(&json!({"action": "cancel", "filter": {"workflow": "b1", "status": "running"}}))
        .send()
        .await?
        .json()
        .await?;
    let id = accepted["batch_id"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no batch: {accepted}"))?;
    let batch = loop {
        let b: Value = c
            .get(format!("{base}/api/batches/{id}"))
            .send()
            .await?
            .json()
            .await?;
        if b["status"] == "done" {
            break b;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let took = t.elapsed().as_secs_f64();
    anyhow::ensure!(
        batch["done"] == B1_RUNS && batch["failed"] == 0,
        "B1 batch: {batch}"
    );
    println!(
        "B1  bulk cancel of {B1_RUNS} waiting runs: {took:.2} s until the batch is done ({:.0} runs/s), matched {}, failed {}",
        B1_RUNS as f64 / took,
        batch["matched"],
        batch["failed"]
    );
    server.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// The size of a SQLite database with its WAL, in MB.
fn file_mb(db: &Path) -> f64 {
    let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
    let wal = db.with_extension("db-wal");
    (size(db) + size(&wal)) as f64 / 1e6
}

/// R2: 100,000 runs with retention pruning them, then without.
pub(crate) async fn r2(c: &reqwest::Client) -> anyhow::Result<()> {
    let mut steps = Vec::new();
    for prune in [true, false] {
        let dir = tempfile_dir()?;
        let file = dir.join("r2.db");
        let retention = prune.then_some(Duration::from_secs(1));
        let server = start_server_with(&format!("sqlite://{}", file.display()), retention).await?;
        let start_mb = file_mb(&file);
        let done = Arc::new(AtomicBool::new(false));
        let sampler = {
            let (done, file) = (done.clone(), file.clone());
            tokio::spawn(async move {
                let mut peak: f64 = 0.0;
                while !done.load(Ordering::Relaxed) {
                    peak = peak.max(file_mb(&file));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                peak
            })
        };
        let per_s = w1(c, std::slice::from_ref(&server.base), "r2", R2_RUNS).await?;
        done.store(true, Ordering::Relaxed);
        let peak = sampler.await?.max(file_mb(&file));
        let end_mb = file_mb(&file);
        server.stop().await;
        println!(
            "R2  {R2_RUNS} runs × 10 transform steps, {}: {per_s:.0} steps/s; file {start_mb:.1} MB at the start, {peak:.1} MB at the peak, {end_mb:.1} MB at the end",
            if prune {
                "retention 1 s pruning"
            } else {
                "no retention"
            },
        );
        steps.push(per_s);
        let _ = std::fs::remove_dir_all(&dir);
    }
    println!(
        "R2  W1 with pruning / without: {:.2} ({:+.1} %)",
        steps[0] / steps[1],
        (steps[0] / steps[1] - 1.0) * 100.0
    );
    Ok(())
}
