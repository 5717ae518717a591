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
//!
//! Test runs (SPEC §6 "Test runs") are pruned whatever the retention: [`start_tests`] removes
//! each one a day ([`TEST_RUNS_KEEP`]) after it began, with its hidden definition; one still
//! going then (waiting at an approval, say) is cancelled first, through the engine like any
//! cancel, so its log says why it ended.

use std::time::Duration;

use crate::clock::Clock;
use crate::engine::decide::Input;
use crate::engine::driver::Link;
use crate::store::Store;

/// Top-level runs per transaction.
const BATCH: i64 = 200;
/// Between passes, at most.
const EVERY: Duration = Duration::from_secs(60);

/// How long to wait between passes for a retention of `keep`.
fn interval(keep: Duration) -> Duration {
    (keep / 10).clamp(Duration::from_secs(1), EVERY)
}

/// How long a test run is kept after it began.
pub const TEST_RUNS_KEEP: Duration = Duration::from_secs(86_400);

/// Starts pruning runs older than `keep` on `store`, on `clock`; it stops when the process
/// does.
pub fn start(store: Store, clock: Clock, keep: Duration) {
    spawn(store, clock, keep, None);
}

/// Starts pruning test runs begun more than [`TEST_RUNS_KEEP`] ago, every minute; `link`
/// cancels those still going (a weak handle: the engine still stops when the server does).
pub fn start_tests(store: Store, clock: Clock, link: Link) {
    spawn(store, clock, TEST_RUNS_KEEP, Some(link));
}

/// `expire`: the pass is over test runs, and cancels those still going through it.
fn spawn(store: Store, clock: Clock, keep: Duration, expire: Option<Link>) {
    let every = interval(keep).as_millis() as i64;
    let tests = expire.is_some();
    tokio::spawn(async move {
        loop {
            let now = clock.now();
            if let Some(link) = &expire {
                if !link.is_alive() {
                    return;
                }
                cancel_expired(&store, link, now.saturating_sub(keep.as_millis() as i64)).await;
            }
            match pass(&store, now.saturating_sub(keep.as_millis() as i64), tests).await {
                Ok(0) => {}
                Ok(n) if tests => tracing::info!(pruned = n, "pruned test runs a day old"),
                Ok(n) => tracing::info!(pruned = n, "retention pruned finished runs"),
                Err(e) => {
                    tracing::warn!(error = %e, "retention: pruning failed; trying again later")
                }
            }
            clock.sleep_until(now.saturating_add(every)).await;
        }
    });
}

/// Cancels the test runs begun before `before` that are still going, so the pass after can
/// prune them; a run that ends meanwhile refuses the cancel, which is fine.
async fn cancel_expired(store: &Store, link: &Link, before: i64) {
    let ids = match store.expired_tests(before, BATCH).await {
        Ok(ids) => ids,
        Err(e) => {
            tracing::warn!(error = %e, "listing expired test runs failed; trying again later");
            return;
        }
    };
    for id in ids {
        let reason = Some("a test run is kept a day; this one expired".to_owned());
        if let Err(e) = link.input(&id, Input::Cancel { reason }).await {
            tracing::debug!(run = %id, error = %e, "an expired test run took no cancel");
        }
    }
}

/// Prunes every finished run last changed before `before` (`tests`: every test run begun
/// before it), a batch at a time; how many.
async fn pass(store: &Store, before: i64, tests: bool) -> Result<u64, crate::store::Error> {
    let mut total = 0;
    loop {
        let n = store.prune(before, BATCH, tests).await?;
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
