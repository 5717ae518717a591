//! Retention (SPEC §6): `--retention 30d` prunes finished runs (with their children) whose
//! last change is older than that, at start and then every minute by the server's clock.
//!
//! Each transaction deletes at most [`BATCH`] top-level runs (and their trees), so the
//! engine's group commit waits for one small write at a time, never for a sweep; the
//! service yields between batches. After pruning, the store gives the space back
//! (`Store::compact`: SQLite's incremental vacuum and a passive WAL checkpoint), so the file
//! stops growing under a steady load. `weft_runs_pruned_total` counts what went.

use std::time::Duration;

use crate::clock::Clock;
use crate::store::Store;

/// Top-level runs per transaction.
const BATCH: i64 = 200;
/// Between passes.
const EVERY: Duration = Duration::from_secs(60);

/// Starts pruning runs older than `keep` on `store`, on `clock`; it stops when the process
/// does.
pub fn start(store: Store, clock: Clock, keep: Duration) {
    tokio::spawn(async move {
        loop {
            let now = clock.now();
            match pass(&store, now.saturating_sub(keep.as_millis() as i64)).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(pruned = n, "retention pruned finished runs"),
                Err(e) => {
                    tracing::warn!(error = %e, "retention: pruning failed; trying again later")
                }
            }
            clock
                .sleep_until(now.saturating_add(EVERY.as_millis() as i64))
                .await;
        }
    });
}

/// Prunes every finished run last changed before `before`, a batch at a time; how many.
async fn pass(store: &Store, before: i64) -> Result<u64, crate::store::Error> {
    let mut total = 0;
    loop {
        let n = store.prune(before, BATCH).await?;
        if n == 0 {
            return Ok(total);
        }
        total += n;
        crate::metrics::pruned(n);
        store.compact().await?;
        tokio::task::yield_now().await;
    }
}
