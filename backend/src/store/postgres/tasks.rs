//! The shared task queue's SQL: claim the oldest queued attempt of a queue, end a handed-out
//! task's lease, move its heartbeat deadline, collect leases that ran out, count queues.
//! A handed-out task is found by the SHA-256 of its token (`token_hash`), never by the
//! attempt it names, so only the worker holding the token can end or extend its lease.

use sqlx::Row;
use sqlx::postgres::PgRow;

use super::Postgres;
use crate::clock::Millis;
use crate::store::{Result, TaskRow};

impl Postgres {
    /// Hands the oldest queued task of `queue` to a worker, starting its lease under the
    /// token whose SHA-256 is `token_hash`.
    pub async fn claim_task(
        &self,
        queue: &str,
        now: Millis,
        token_hash: &[u8],
    ) -> Result<Option<TaskRow>> {
        let row = sqlx::query(
            "update tasks t set worker_until = $2 + t.timeout_ms, \
               heartbeat_until = case when t.heartbeat_ms is null then null else $2 + t.heartbeat_ms end, token_hash = $3 \
             from (select run_id, node from tasks where queue = $1 and worker_until is null order by enqueued_at limit 1 for update skip locked) d \
             where t.run_id = d.run_id and t.node = d.node returning t.*",
        )
        .bind(queue)
        .bind(now)
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(task_row).transpose()
    }

    /// Ends the lease of the task handed out under the token hashed to `token_hash` (the
    /// worker reports); `None` if no task has it (a stale or a made-up token).
    pub async fn take_task(&self, token_hash: &[u8]) -> Result<Option<TaskRow>> {
        let row = sqlx::query("delete from tasks where token_hash = $1 returning *")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        row.map(task_row).transpose()
    }

    /// Moves the heartbeat deadline of the task handed out under the token hashed to
    /// `token_hash`; false if no task has it.
    pub async fn heartbeat_task(&self, token_hash: &[u8], now: Millis) -> Result<bool> {
        let r = sqlx::query(
            "update tasks set heartbeat_until = case when heartbeat_ms is null then null else $2 + heartbeat_ms end \
             where token_hash = $1",
        )
        .bind(token_hash)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() > 0)
    }

    /// Removes handed-out tasks whose lease ran out and returns them, to be reported failed.
    pub async fn expired_tasks(&self, now: Millis) -> Result<Vec<TaskRow>> {
        let rows = sqlx::query(
            "delete from tasks t using (select run_id, node from tasks \
               where worker_until < $1 or heartbeat_until < $1 limit 200 for update skip locked) d \
             where t.run_id = d.run_id and t.node = d.node returning t.*",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(task_row).collect()
    }

    /// Tasks waiting for a worker, per queue.
    pub async fn queue_depths(&self) -> Result<Vec<(String, i64)>> {
        Ok(sqlx::query_as(
            "select queue, count(*) from tasks where worker_until is null group by queue",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}

fn task_row(r: PgRow) -> Result<TaskRow> {
    Ok(TaskRow {
        run_id: r.try_get("run_id")?,
        node: r.try_get("node")?,
        attempt: r.try_get::<i64, _>("attempt")? as u32,
        queue: r.try_get("queue")?,
        activity: r.try_get("activity")?,
        timeout_ms: r.try_get("timeout_ms")?,
        heartbeat_ms: r.try_get("heartbeat_ms")?,
        enqueued_at: r.try_get("enqueued_at")?,
        worker_until: r.try_get("worker_until")?,
        heartbeat_until: r.try_get("heartbeat_until")?,
    })
}
