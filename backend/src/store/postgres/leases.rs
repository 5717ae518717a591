//! Leases on `http` attempts in flight: renewed by their owner, taken over (`for update skip
//! locked`) when they lapse, and the next expiry the keeper must wake for.

use sqlx::Row;

use super::{LEASE_MS, Postgres};
use crate::clock::Millis;
use crate::store::{LeaseRow, Result};

impl Postgres {
    /// Pushes the expiry of every lease this process holds forward.
    pub async fn renew_leases(&self, now: Millis) -> Result<u64> {
        let r = sqlx::query("update leases set expires_at = $1 where owner = $2")
            .bind(now + LEASE_MS)
            .bind(&self.owner)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected())
    }

    /// Takes over leases that lapsed (their process died): this process now owns them.
    pub async fn claim_lapsed_leases(&self, now: Millis, limit: i64) -> Result<Vec<LeaseRow>> {
        let rows = sqlx::query(
            "update leases l set owner = $1, expires_at = $2 \
             from (select run_id, node from leases where expires_at < $3 order by expires_at limit $4 for update skip locked) d \
             where l.run_id = d.run_id and l.node = d.node returning l.run_id, l.node, l.attempt",
        )
        .bind(&self.owner)
        .bind(now + LEASE_MS)
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(LeaseRow {
                    run_id: r.try_get("run_id")?,
                    node: r.try_get("node")?,
                    attempt: r.try_get::<i64, _>("attempt")? as u32,
                })
            })
            .collect()
    }

    /// When the next lease held by another process, or the next task lease, runs out.
    pub async fn next_expiry(&self) -> Result<Option<Millis>> {
        Ok(sqlx::query_scalar(
            "select min(t) from (select min(expires_at) as t from leases where owner <> $1 \
             union all select min(least(worker_until, coalesce(heartbeat_until, worker_until))) from tasks where worker_until is not null) x",
        )
        .bind(&self.owner)
        .fetch_one(&self.pool)
        .await?)
    }
}
