//! The PostgreSQL store: the same tables and answers as SQLite, for one process or several
//! sharing the work.
//!
//! Several processes append to one log, so a commit locks the rows of the runs it appends to
//! (`for update`, in id order) and writes nothing if any moved since it was read
//! ([`Error::Conflict`]); the driver then reads those runs again and decides anew. Due timers,
//! `http` attempts in flight ([`LeaseRow`](crate::store::LeaseRow)) and task attempts are claimed with `for update
//! skip locked` and an expiry, so a process that dies loses them to the others. Commits
//! announce themselves with `NOTIFY` (delivered when they commit), which wakes the other
//! processes' timers, task polls and live streams: see [`Notice`].
//!
//! Here: connecting, workflows, reading runs, logs and timers. `commit` writes a batch,
//! `notices` listens, `leases` keeps attempt leases, `tasks` is the shared queue's SQL,
//! `schedules` claims due schedules.

mod commit;
mod leases;
mod notices;
mod schedules;
mod tasks;

use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{PgPool, Row};

use super::{
    Error, Result, RunFilter, RunRow, SaveNote, StoredWorkflow, TimerRow, VersionRow,
    WorkflowSummary, json_text, parse_json,
};
use crate::clock::Millis;
use shared::event::Recorded;

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
    /// The run waits for a person after the commit (absent in a notice of an older process).
    #[serde(default)]
    pub needs_person: bool,
    /// A test run (the runs feed leaves it out unless asked).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub test: bool,
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
        note: SaveNote<'_>,
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
            "insert into workflows (name, version, definition, created_at, saved_by, message) values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(name)
        .bind(version)
        .bind(json_text(definition))
        .bind(now)
        .bind(note.by)
        .bind(note.message)
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

    pub(super) async fn save_test_definition(
        &self,
        name: &str,
        definition: &Value,
        now: Millis,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "insert into workflows (name, version, definition, created_at) values ($1, 1, $2, $3)",
        )
        .bind(name)
        .bind(json_text(definition))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("insert into workflow_names (name, latest, archived) values ($1, 1, 1)")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
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

    pub(super) async fn versions(
        &self,
        name: &str,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Option<Vec<VersionRow>>> {
        let known: Option<i64> =
            sqlx::query_scalar("select latest from workflow_names where name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
        if known.is_none() {
            return Ok(None);
        }
        let rows = sqlx::query(
            "select version, created_at, saved_by, message, \
               coalesce(json_array_length(definition::json -> 'nodes'), 0)::bigint as nodes \
             from workflows where name = $1 and ($2::bigint is null or version < $2) order by version desc limit $3",
        )
        .bind(name)
        .bind(before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(version_row)
            .collect::<Result<Vec<_>>>()
            .map(Some)
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

    pub(super) async fn redrives_of(&self, id: &str) -> Result<Vec<String>> {
        let rows =
            sqlx::query_scalar("select id from runs where redrive_of = $1 order by created_at, id")
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows)
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

    pub(super) async fn total_runs(&self, f: &RunFilter) -> Result<u64> {
        let mut q = count_runs_query(f);
        let n: i64 = q.build_query_scalar().fetch_one(&self.pool).await?;
        Ok(n.max(0) as u64)
    }

    pub(super) async fn unfinished_runs(&self) -> Result<Vec<RunRow>> {
        let rows = sqlx::query("select * from runs where status in ('running', 'paused')")
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(run_row).collect()
    }

    pub(super) async fn events_of_unfinished(&self) -> Result<Vec<(String, Recorded)>> {
        let rows = sqlx::query(
            "select e.run_id, e.seq, e.type, e.node, e.at, e.data from events e join runs r on r.id = e.run_id \
             where r.status in ('running', 'paused') order by e.run_id, e.seq",
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
}

/// A unique violation (another process created the same run), a deadlock or a serialisation
/// failure: the batch may succeed when decided again.
fn is_race(e: &sqlx::Error) -> bool {
    e.as_database_error().is_some_and(|d| {
        d.is_unique_violation() || matches!(d.code().as_deref(), Some("40P01" | "40001"))
    })
}

super::common::common_sql!(sqlx::Postgres, PgRow, sqlx::PgConnection);

/// `id` starts with `prefix`: `like` on the `text_pattern_ops` index (`runs_by_id_pattern`),
/// which follows byte order whatever the database's collation.
fn push_id_prefix(q: &mut sqlx::QueryBuilder<sqlx::Postgres>, prefix: &str) {
    let escaped: String = prefix
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    q.push(" and id like ")
        .push_bind(format!("{escaped}%"))
        .push(" escape '\\'");
}

/// The input's field at `m.path` equals `m.value` as `jsonb` (numbers by value, objects
/// whatever their key order). The containment test first is what the GIN index
/// `runs_by_input` answers; the equality after it rules out what containment lets through
/// (an array that merely contains the value).
fn push_input_match(q: &mut sqlx::QueryBuilder<sqlx::Postgres>, m: &super::InputMatch) {
    let contained = m
        .path
        .iter()
        .rev()
        .fold(m.value.clone(), |v, k| serde_json::json!({ k.as_str(): v }));
    q.push(" and input::jsonb @> ")
        .push_bind(contained.to_string())
        .push("::jsonb and input::jsonb #> ")
        .push_bind(m.path.clone())
        .push(" = ")
        .push_bind(m.value.to_string())
        .push("::jsonb");
}
super::bulk::bulk_sql!(Postgres, sqlx::Postgres, begin_tx, true);
super::retention::retention_sql!(Postgres, sqlx::Postgres, begin_tx);
impl Postgres {
    /// Where audit rows are written: the one pool.
    fn audit_pool(&self) -> &PgPool {
        &self.pool
    }
}

super::people::people_sql!(Postgres, sqlx::Postgres, PgRow, begin_tx);

impl Postgres {
    /// Nothing to do: PostgreSQL's autovacuum reuses the space of deleted rows.
    pub(super) async fn compact(&self) -> Result<()> {
        Ok(())
    }
}
