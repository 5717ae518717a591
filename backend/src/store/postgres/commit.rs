//! The PostgreSQL group commit: lock the batch's `runs` rows, write nothing if one moved since
//! it was read ([`Error::Conflict`]), else append the log, the index rows, timers, leases and
//! task rows in one transaction, and announce it with `NOTIFY` (delivered on commit).

use std::collections::HashMap;

use sqlx::QueryBuilder;

use super::{
    Appended, EVENTS, EventsNotice, LEASE_MS, MAX_PARAMS, NOTICE_BYTES, Postgres, TASKS, TIMERS,
    append_log, is_race, write_bulk_done, write_timers,
};
use crate::store::{Batch, Error, Result};

impl Postgres {
    pub(in crate::store) async fn commit(&self, b: &Batch) -> Result<()> {
        if b.is_empty() {
            return Ok(());
        }
        match self.try_commit(b).await {
            Err(Error::Db(e)) if is_race(&e) => Err(Error::Conflict(
                b.runs.iter().map(|w| w.row.id.clone()).collect(),
            )),
            other => other,
        }
    }

    async fn try_commit(&self, b: &Batch) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        if !b.runs.is_empty() {
            let expected: HashMap<&str, i64> = b
                .runs
                .iter()
                .map(|w| (w.row.id.as_str(), w.expected))
                .collect();
            let mut ids: Vec<String> = expected.keys().map(|id| (*id).to_owned()).collect();
            ids.sort();
            let rows: Vec<(String, i64)> = sqlx::query_as(
                "select id, last_seq from runs where id = any($1) order by id for update",
            )
            .bind(&ids)
            .fetch_all(&mut *tx)
            .await?;
            let found: HashMap<String, i64> = rows.into_iter().collect();
            let moved: Vec<String> = ids
                .into_iter()
                .filter(|id| found.get(id).copied().unwrap_or(0) != expected[id.as_str()])
                .collect();
            if !moved.is_empty() {
                return Err(Error::Conflict(moved));
            }
        }
        append_log(&mut tx, b, MAX_PARAMS).await?;
        write_timers(
            &mut tx,
            b,
            MAX_PARAMS,
            "attempt = excluded.attempt, due_at = excluded.due_at, claimed_until = null",
        )
        .await?;
        write_bulk_done(&mut tx, b).await?;
        for (run, node) in &b.clear_leases {
            let q = match node {
                Some(n) => sqlx::query("delete from leases where run_id = $1 and node = $2")
                    .bind(run)
                    .bind(n),
                None => sqlx::query("delete from leases where run_id = $1").bind(run),
            };
            q.execute(&mut *tx).await?;
        }
        let expires = b.now + LEASE_MS;
        for chunk in b.leases.chunks(MAX_PARAMS / 5) {
            let mut q =
                QueryBuilder::new("insert into leases (run_id, node, attempt, owner, expires_at) ");
            q.push_values(chunk, |mut row, l| {
                row.push_bind(l.run_id.clone())
                    .push_bind(l.node.clone())
                    .push_bind(l.attempt as i64)
                    .push_bind(self.owner.clone())
                    .push_bind(expires);
            });
            q.push(" on conflict (run_id, node) do update set attempt = excluded.attempt, owner = excluded.owner, expires_at = excluded.expires_at");
            q.build().execute(&mut *tx).await?;
        }
        for (run, node) in &b.clear_tasks {
            sqlx::query("delete from tasks where run_id = $1 and node = $2")
                .bind(run)
                .bind(node)
                .execute(&mut *tx)
                .await?;
        }
        for chunk in b.tasks.chunks(MAX_PARAMS / 8) {
            let mut q = QueryBuilder::new(
                "insert into tasks (run_id, node, attempt, queue, activity, timeout_ms, heartbeat_ms, enqueued_at) ",
            );
            q.push_values(chunk, |mut row, t| {
                row.push_bind(t.run_id.clone())
                    .push_bind(t.node.clone())
                    .push_bind(t.attempt as i64)
                    .push_bind(t.queue.clone())
                    .push_bind(t.activity.clone())
                    .push_bind(t.timeout_ms)
                    .push_bind(t.heartbeat_ms)
                    .push_bind(t.enqueued_at);
            });
            q.push(
                " on conflict (run_id, node) do update set attempt = excluded.attempt, queue = excluded.queue, \
                 activity = excluded.activity, timeout_ms = excluded.timeout_ms, heartbeat_ms = excluded.heartbeat_ms, \
                 enqueued_at = excluded.enqueued_at, worker_until = null, heartbeat_until = null, token_hash = null",
            );
            q.build().execute(&mut *tx).await?;
        }
        // Delivered only if (and when) the transaction commits.
        for payload in self.events_notices(b) {
            notify(&mut tx, EVENTS, &payload).await?;
        }
        if !b.set_timers.is_empty() {
            notify(&mut tx, TIMERS, "").await?;
        }
        let mut queues: Vec<&str> = b.tasks.iter().map(|t| t.queue.as_str()).collect();
        queues.sort_unstable();
        queues.dedup();
        for q in queues {
            notify(&mut tx, TASKS, q).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The batch's events as notices, each under the payload limit.
    fn events_notices(&self, b: &Batch) -> Vec<String> {
        let by_run = b.runs.iter().filter_map(|w| {
            Some(Appended {
                run_id: w.row.id.clone(),
                workflow: w.row.workflow.clone(),
                status: w.row.status.clone(),
                needs_person: w.row.needs_person,
                test: w.row.test,
                from: w.events.first()?.seq,
                to: w.events.last()?.seq,
            })
        });
        let mut out = Vec::new();
        let mut chunk = Vec::new();
        let mut size = 0;
        for a in by_run {
            size += a.run_id.len() + a.workflow.len() + 80;
            chunk.push(a);
            if size > NOTICE_BYTES {
                out.push(self.notice(std::mem::take(&mut chunk)));
                size = 0;
            }
        }
        if !chunk.is_empty() {
            out.push(self.notice(chunk));
        }
        out
    }

    fn notice(&self, runs: Vec<Appended>) -> String {
        serde_json::to_string(&EventsNotice {
            origin: self.owner.clone(),
            runs,
        })
        .expect("notice serialises")
    }
}

async fn notify(tx: &mut sqlx::PgConnection, channel: &str, payload: &str) -> Result<()> {
    sqlx::query("select pg_notify($1, $2)")
        .bind(channel)
        .bind(payload)
        .execute(tx)
        .await?;
    Ok(())
}
