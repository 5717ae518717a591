//! Leases on `http` attempts in flight (PostgreSQL). An attempt started here is leased in
//! the commit that starts it (see `Cluster::prepare`); [`maintain`] renews this process's
//! leases every third of their life, takes over the leases that lapsed (their process died)
//! with `for update skip locked` and has the driver send those attempts again if the log
//! says they are still current, and ends task leases whose worker ran out of time. All
//! timing is on the server's clock.

use std::time::Duration;

use crate::engine::decide::ActivityError;
use crate::engine::driver::Link;
use crate::engine::tasks;
use crate::store::Postgres;
use crate::store::postgres::LEASE_MS;

/// How often leases are renewed: a third of their life, so one slow round does not lose them.
const RENEW: Duration = Duration::from_millis(LEASE_MS as u64 / 3);

/// Renews this process's leases, takes over lapsed ones and ends task leases that ran out.
pub(super) async fn maintain(pg: Postgres, link: Link) {
    loop {
        let now = link.clock.now();
        if let Err(e) = pg.renew_leases(now).await {
            tracing::warn!(error = %e, "renewing leases");
        }
        match pg.claim_lapsed_leases(now, 500).await {
            Ok(leases) => {
                if !leases.is_empty() {
                    tracing::info!(
                        count = leases.len(),
                        "took over attempts of a process that stopped"
                    );
                }
                for l in leases {
                    if link.resume(l.run_id, l.node, l.attempt).await.is_err() {
                        return;
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "taking over leases"),
        }
        match pg.expired_tasks(now).await {
            Ok(expired) => {
                for t in expired {
                    let why = if t.worker_until.is_some_and(|w| w <= now) {
                        tasks::timed_out(Duration::from_millis(t.timeout_ms as u64))
                    } else {
                        tasks::no_heartbeat(Duration::from_millis(
                            t.heartbeat_ms.unwrap_or_default() as u64,
                        ))
                    };
                    let result = Err(ActivityError {
                        message: why,
                        retryable: true,
                    });
                    let link = link.clone();
                    tokio::spawn(async move {
                        let _ = link
                            .report_durably(&t.run_id, &t.node, t.attempt, result)
                            .await;
                    });
                }
            }
            Err(e) => tracing::warn!(error = %e, "ending task leases"),
        }
        // Sleep until the next renewal, or sooner if a lease or a task lease runs out; an
        // absolute time, so a clock that moves meanwhile wakes us.
        let mut until = now + RENEW.as_millis() as i64;
        if let Ok(Some(at)) = pg.next_expiry().await {
            until = until.min((at + 1).max(now + 1));
        }
        link.clock.sleep_until(until).await;
        if !link.is_alive() {
            return;
        }
    }
}
