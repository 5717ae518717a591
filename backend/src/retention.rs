//! Retention (SPEC §6): `--retention 30d` prunes finished runs (with their children) whose
//! last change is older than that, at start and then every minute by the server's clock (a
//! tenth of the retention when that is shorter, at least every second: a short retention
//! under load must keep up).
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
/// Between passes, at most.
const EVERY: Duration = Duration::from_secs(60);

/// How long to wait between passes for a retention of `keep`.
fn interval(keep: Duration) -> Duration {
    (keep / 10).clamp(Duration::from_secs(1), EVERY)
}

/// Starts pruning runs older than `keep` on `store`, on `clock`; it stops when the process
/// does.
pub fn start(store: Store, clock: Clock, keep: Duration) {
    let every = interval(keep).as_millis() as i64;
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
            clock.sleep_until(now.saturating_add(every)).await;
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::interval;

    #[test]
    fn passes_come_every_minute_or_a_tenth_of_a_short_retention() {
        let s = Duration::from_secs;
        assert_eq!(interval(s(30 * 86_400)), s(60));
        assert_eq!(interval(s(300)), s(30));
        assert_eq!(interval(s(1)), s(1));
    }
}
