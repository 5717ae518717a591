//! The shared task queue's SQL: claim the oldest queued attempt of a queue, end a handed-out
//! task's lease, move its heartbeat deadline, collect leases that ran out, count queues.

use sqlx::Row;
use sqlx::postgres::PgRow;

use super::Postgres;
use crate::clock::Millis;
use crate::store::{Result, TaskRow};

impl Postgres {
    /// Hands the oldest queued task of `queue` to a worker, starting its lease.
    pub async fn claim_task(&self, queue: &str, now: Millis) -> Result<Option<TaskRow>> {
        let row = sqlx::query(
            "update tasks t set worker_until = $2 + t.timeout_ms, \
               heartbeat_until = case when t.heartbeat_ms is null then null else $2 + t.heartbeat_ms end \
             from (select run_id, node from tasks where queue = $1 and worker_until is null order by enqueued_at limit 1 for update skip locked) d \
             where t.run_id = d.run_id and t.node = d.node returning t.*",
        )
        .bind(queue)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(task_row).transpose()
    }

    /// Ends a handed-out task's lease (the worker reports); `None` if the token is stale.
    pub async fn take_task(&self, run: &str, node: &str, attempt: u32) -> Result<Option<TaskRow>> {
        let row = sqlx::query(
            "delete from tasks where run_id = $1 and node = $2 and attempt = $3 and worker_until is not null returning *",
        )
        .bind(run)
        .bind(node)
        .bind(attempt as i64)
        .fetch_optional(&self.pool)
        .await?;
        row.map(task_row).transpose()
    }

    /// Moves a handed-out task's heartbeat deadline; false if the token is stale.
    pub async fn heartbeat_task(
        &self,
        run: &str,
        node: &str,
        attempt: u32,
        now: Millis,
    ) -> Result<bool> {
        let r = sqlx::query(
            "update tasks set heartbeat_until = case when heartbeat_ms is null then null else $4 + heartbeat_ms end \
             where run_id = $1 and node = $2 and attempt = $3 and worker_until is not null",
        )
        .bind(run)
        .bind(node)
        .bind(attempt as i64)
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
