//! The PostgreSQL store: the same tables and answers as SQLite, for one process or several
//! sharing the work.
//!
//! Several processes append to one log, so a commit locks the rows of the runs it appends to
//! (`for update`, in id order) and writes nothing if any moved since it was read
//! ([`Error::Conflict`]); the driver then reads those runs again and decides anew. Due timers,
//! `http` attempts in flight ([`LeaseRow`]) and task attempts are claimed with `for update
//! skip locked` and an expiry, so a process that dies loses them to the others. Commits
//! announce themselves with `NOTIFY` (delivered when they commit), which wakes the other
//! processes' timers, task polls and live streams: see [`Notice`].

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions, PgRow};
use sqlx::{PgPool, QueryBuilder, Row};

use super::{
    Batch, Error, LeaseRow, Result, RunFilter, RunRow, StoredWorkflow, TaskRow, TimerRow,
    WorkflowSummary, json_text, parse_json,
};
use crate::clock::Millis;
use crate::engine::event::Recorded;

/// PostgreSQL's limit on bound parameters per statement, with room to spare.
const MAX_PARAMS: usize = 60_000;
/// How long a process holds a due timer it took to fire.
const TIMER_CLAIM_MS: Millis = 10_000;
/// How long an `http` attempt's lease lasts without renewal.
pub const LEASE_MS: Millis = 6_000;
/// `NOTIFY` payloads must stay under 8000 bytes.
const NOTICE_BYTES: usize = 7_000;

/// The channels every process listens on.
const EVENTS: &str = "weft_events";
const TIMERS: &str = "weft_timers";
const TASKS: &str = "weft_tasks";

#[derive(Clone)]
pub struct Postgres {
    pool: PgPool,
    /// This process, as the owner of leases and the origin of notices.
    owner: String,
}

/// A run's new events, announced by the process that committed them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Appended {
    pub run_id: String,
    pub workflow: String,
    pub status: String,
    /// The first and last `seq` of the commit.
    pub from: i64,
    pub to: i64,
}

#[derive(Debug, Serialize, Deserialize)]
struct EventsNotice {
    origin: String,
    runs: Vec<Appended>,
}

/// What another process (or this one) announced.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// Another process committed these events.
    Events(Vec<Appended>),
    /// A timer was set: the earliest due time may have moved.
    Timers,
    /// A task joined this queue.
    Task(String),
}

impl Postgres {
    /// Connects and applies `migrations/postgres` (sqlx takes an advisory lock, so processes
    /// starting together migrate once).
    pub async fn open(url: &str) -> Result<Postgres> {
        let opts = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(12)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(opts)
            .await?;
        sqlx::migrate!("../migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| Error::Db(e.into()))?;
        Ok(Postgres {
            pool,
            owner: uuid::Uuid::now_v7().to_string(),
        })
    }

    pub(super) async fn save_workflow(
        &self,
        name: &str,
        definition: &Value,
        now: Millis,
    ) -> Result<(i64, bool)> {
        let mut tx = self.pool.begin().await?;
        // Serialises saves of one name across processes.
        sqlx::query("select pg_advisory_xact_lock(hashtext($1))")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        let latest: Option<(i64, String)> = sqlx::query_as(
            "select w.version, w.definition from workflow_names n join workflows w on w.name = n.name and w.version = n.latest where n.name = $1",
        )
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((v, def)) = &latest
            && parse_json(Some(def.clone()))? == *definition
        {
            sqlx::query("update workflow_names set archived = 0 where name = $1")
                .bind(name)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok((*v, false));
        }
        let version = latest.map_or(1, |(v, _)| v + 1);
        sqlx::query(
            "insert into workflows (name, version, definition, created_at) values ($1, $2, $3, $4)",
        )
        .bind(name)
        .bind(version)
        .bind(json_text(definition))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("insert into workflow_names (name, latest, archived) values ($1, $2, 0) on conflict (name) do update set latest = excluded.latest, archived = 0")
            .bind(name)
            .bind(version)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok((version, true))
    }

    pub(super) async fn workflow(
        &self,
        name: &str,
        version: Option<i64>,
    ) -> Result<Option<StoredWorkflow>> {
        let row = sqlx::query(
            "select w.name, w.version, w.definition, w.created_at, n.archived from workflows w join workflow_names n on n.name = w.name \
             where w.name = $1 and w.version = coalesce($2, n.latest)",
        )
        .bind(name)
        .bind(version)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(StoredWorkflow {
                name: r.try_get("name")?,
                version: r.try_get("version")?,
                definition: parse_json(r.try_get("definition")?)?,
                created_at: r.try_get("created_at")?,
                archived: r.try_get::<i64, _>("archived")? != 0,
            })
        })
        .transpose()
    }

    pub(super) async fn list_workflows(&self) -> Result<Vec<WorkflowSummary>> {
        let rows = sqlx::query(
            "select n.name, n.latest, w.definition, w.created_at, l.status as last_status, l.created_at as last_at \
             from workflow_names n join workflows w on w.name = n.name and w.version = n.latest \
             left join lateral (select status, created_at from runs r where r.workflow = n.name order by created_at desc, id desc limit 1) l on true \
             where n.archived = 0 order by n.name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                let def = parse_json(r.try_get("definition")?)?;
                Ok(WorkflowSummary {
                    name: r.try_get("name")?,
                    version: r.try_get("latest")?,
                    description: def
                        .get("description")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    updated_at: r.try_get("created_at")?,
                    last_run_status: r.try_get("last_status")?,
                    last_run_at: r.try_get("last_at")?,
                })
            })
            .collect()
    }

    pub(super) async fn archive_workflow(&self, name: &str) -> Result<bool> {
        let r = sqlx::query("update workflow_names set archived = 1 where name = $1")
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() > 0)
    }

    pub(super) async fn run(&self, id: &str) -> Result<Option<RunRow>> {
        let row = sqlx::query("select * from runs where id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(run_row).transpose()
    }

    pub(super) async fn events(&self, run: &str, after: i64) -> Result<Vec<Recorded>> {
        self.events_between(run, after + 1, i64::MAX).await
    }

    /// Events `from..=to` of a run: what a notice announced.
    pub async fn events_between(&self, run: &str, from: i64, to: i64) -> Result<Vec<Recorded>> {
        let rows = sqlx::query(
            "select seq, type, node, at, data from events where run_id = $1 and seq between $2 and $3 order by seq",
        )
        .bind(run)
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(recorded).collect()
    }

    pub(super) async fn list_runs(&self, f: &RunFilter) -> Result<Vec<RunRow>> {
        let mut q = list_runs_query(f);
        let rows = q.build().fetch_all(&self.pool).await?;
        rows.into_iter().map(run_row).collect()
    }

    pub(super) async fn unfinished_runs(&self) -> Result<Vec<RunRow>> {
        let rows = sqlx::query("select * from runs where status = 'running'")
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(run_row).collect()
    }

    pub(super) async fn events_of_unfinished(&self) -> Result<Vec<(String, Recorded)>> {
        let rows = sqlx::query(
            "select e.run_id, e.seq, e.type, e.node, e.at, e.data from events e join runs r on r.id = e.run_id \
             where r.status = 'running' order by e.run_id, e.seq",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| Ok((r.try_get("run_id")?, recorded(r)?)))
            .collect()
    }

    /// A claimed timer counts as due when its claim lapses.
    pub(super) async fn next_due(&self) -> Result<Option<Millis>> {
        Ok(sqlx::query_scalar(
            "select min(greatest(due_at, coalesce(claimed_until, 0))) from timers",
        )
        .fetch_one(&self.pool)
        .await?)
    }

    pub(super) async fn due_timers(&self, now: Millis, limit: i64) -> Result<Vec<TimerRow>> {
        let rows = sqlx::query(
            "update timers t set claimed_until = $2 \
             from (select run_id, node, kind from timers where due_at <= $1 and (claimed_until is null or claimed_until < $1) \
                   order by due_at limit $3 for update skip locked) d \
             where t.run_id = d.run_id and t.node = d.node and t.kind = d.kind \
             returning t.run_id, t.node, t.kind, t.attempt, t.due_at",
        )
        .bind(now)
        .bind(now + TIMER_CLAIM_MS)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(TimerRow {
                    run_id: r.try_get("run_id")?,
                    node: r.try_get("node")?,
                    kind: r.try_get("kind")?,
                    attempt: r.try_get::<i64, _>("attempt")? as u32,
                    due_at: r.try_get("due_at")?,
                })
            })
            .collect()
    }

    pub(super) async fn commit(&self, b: &Batch) -> Result<()> {
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
        for (run, node) in &b.clear_timers {
            let q = match node {
                Some(n) => sqlx::query("delete from timers where run_id = $1 and node = $2")
                    .bind(run)
                    .bind(n),
                None => sqlx::query("delete from timers where run_id = $1").bind(run),
            };
            q.execute(&mut *tx).await?;
        }
        for t in &b.fired {
            sqlx::query(
                "delete from timers where run_id = $1 and node = $2 and kind = $3 and attempt = $4 and due_at = $5",
            )
            .bind(&t.run_id)
            .bind(&t.node)
            .bind(&t.kind)
            .bind(t.attempt as i64)
            .bind(t.due_at)
            .execute(&mut *tx)
            .await?;
        }
        for chunk in b.set_timers.chunks(MAX_PARAMS / 5) {
            let mut q =
                QueryBuilder::new("insert into timers (run_id, node, kind, attempt, due_at) ");
            q.push_values(chunk, |mut row, t| {
                row.push_bind(t.run_id.clone())
                    .push_bind(t.node.clone())
                    .push_bind(t.kind.clone())
                    .push_bind(t.attempt as i64)
                    .push_bind(t.due_at);
            });
            q.push(" on conflict (run_id, node, kind) do update set attempt = excluded.attempt, due_at = excluded.due_at, claimed_until = null");
            q.build().execute(&mut *tx).await?;
        }
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
                 enqueued_at = excluded.enqueued_at, worker_until = null, heartbeat_until = null",
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

    /// Listens on the engine's channels; see [`Postgres::recv`].
    pub async fn listen(&self) -> Result<PgListener> {
        let mut l = PgListener::connect_with(&self.pool).await?;
        l.listen_all([EVENTS, TIMERS, TASKS]).await?;
        Ok(l)
    }

    /// The next notice that concerns this process (its own event notices are skipped).
    pub async fn recv(&self, l: &mut PgListener) -> Result<Notice> {
        loop {
            let n = l.recv().await?;
            match n.channel() {
                EVENTS => {
                    let Ok(notice) = serde_json::from_str::<EventsNotice>(n.payload()) else {
                        continue;
                    };
                    if notice.origin != self.owner {
                        return Ok(Notice::Events(notice.runs));
                    }
                }
                TIMERS => return Ok(Notice::Timers),
                TASKS => return Ok(Notice::Task(n.payload().to_owned())),
                _ => {}
            }
        }
    }

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

async fn notify(tx: &mut sqlx::PgConnection, channel: &str, payload: &str) -> Result<()> {
    sqlx::query("select pg_notify($1, $2)")
        .bind(channel)
        .bind(payload)
        .execute(tx)
        .await?;
    Ok(())
}

/// A unique violation (another process created the same run), a deadlock or a serialisation
/// failure: the batch may succeed when decided again.
fn is_race(e: &sqlx::Error) -> bool {
    e.as_database_error().is_some_and(|d| {
        d.is_unique_violation() || matches!(d.code().as_deref(), Some("40P01" | "40001"))
    })
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

super::common::common_sql!(sqlx::Postgres, PgRow, sqlx::PgConnection);
