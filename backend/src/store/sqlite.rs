//! The SQLite store: WAL mode, many readers, one writer at a time. One process owns the
//! file, and its only writer of runs is the engine's group commit, so a batch's `expected`
//! versions hold by construction and timers need no claims.
//!
//! Saves and archives of workflows write beside the group commit. Every write transaction
//! therefore begins `immediate` ([`Sqlite::write`]): it takes the write lock before it reads,
//! waiting its turn on the busy timeout, instead of reading first and then failing with
//! `database is locked` when it tries to upgrade while a commit holds the lock.

use std::str::FromStr;
use std::time::Duration;

use serde_json::Value;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, SqlitePool};

use super::{
    Batch, Error, Result, RunFilter, RunRow, SaveNote, StoredWorkflow, TimerRow, VersionRow,
    WorkflowSummary, json_text, parse_json,
};
use crate::clock::Millis;
use shared::event::Recorded;

/// SQLite's limit on bound parameters per statement, with room to spare.
const MAX_PARAMS: usize = 30_000;

#[derive(Clone)]
pub struct Sqlite {
    pool: SqlitePool,
    /// One connection for audit rows, with `synchronous=NORMAL`: in WAL mode its commits
    /// survive the process being killed (they are in the file, which the OS writes out), and
    /// the next commit of `pool`, which syncs the WAL, makes them survive a power cut too. So
    /// a change's audit row costs no fsync of its own, which a run's start would otherwise
    /// wait for (L1).
    audit: SqlitePool,
}

impl Sqlite {
    /// Opens (creating if missing) `sqlite://PATH` and applies the migrations.
    pub async fn open(url: &str) -> Result<Sqlite> {
        let opts = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit is on disk when it returns, so "recorded" means durable.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .pragma("cache_size", "-32000")
            // A WAL that grew under load is cut back to 64 MiB once checkpointed.
            .pragma("journal_size_limit", "67108864");
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts.clone())
            .await?;
        sqlx::migrate!("../migrations/sqlite")
            .run(&pool)
            .await
            .map_err(|e| Error::Db(e.into()))?;
        let audit = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts.synchronous(SqliteSynchronous::Normal))
            .await?;
        Ok(Sqlite { pool, audit })
    }

    /// Where audit rows are written (see the `audit` field).
    fn audit_pool(&self) -> &SqlitePool {
        &self.audit
    }

    /// A write transaction, holding the file's write lock from its start. Every write goes
    /// through here, also one that is a single statement today, so none can come to read
    /// before it writes.
    ///
    /// A deferred transaction (sqlx's `begin`) that reads first takes a snapshot and must
    /// upgrade to a writer later; in WAL mode SQLite refuses that upgrade at once with
    /// `SQLITE_BUSY` when another connection holds the write lock or committed since the
    /// snapshot, without waiting on `busy_timeout` (waiting could deadlock). `begin immediate`
    /// asks for the lock first, so it waits its turn on the busy timeout and then reads
    /// what every earlier writer committed.
    async fn write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        Ok(self.pool.begin_with("begin immediate").await?)
    }

    /// Saves a definition as the next version unless it equals the latest; returns the
    /// version and whether it is new.
    pub(super) async fn save_workflow(
        &self,
        name: &str,
        definition: &Value,
        now: Millis,
        note: SaveNote<'_>,
    ) -> Result<(i64, bool)> {
        let mut tx = self.write().await?;
        let latest: Option<(i64, String)> = sqlx::query_as(
            "select w.version, w.definition from workflow_names n join workflows w on w.name = n.name and w.version = n.latest where n.name = ?",
        )
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        let text = json_text(definition);
        if let Some((v, def)) = &latest
            && parse_json(Some(def.clone()))? == *definition
        {
            sqlx::query("update workflow_names set archived = 0 where name = ?")
                .bind(name)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok((*v, false));
        }
        let version = latest.map_or(1, |(v, _)| v + 1);
        sqlx::query(
            "insert into workflows (name, version, definition, created_at, saved_by, message) values (?, ?, ?, ?, ?, ?)",
        )
        .bind(name)
        .bind(version)
        .bind(&text)
        .bind(now)
        .bind(note.by)
        .bind(note.message)
        .execute(&mut *tx)
        .await?;
        sqlx::query("insert into workflow_names (name, latest, archived) values (?, ?, 0) on conflict (name) do update set latest = excluded.latest, archived = 0")
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
        let mut tx = self.write().await?;
        sqlx::query(
            "insert into workflows (name, version, definition, created_at) values (?, 1, ?, ?)",
        )
        .bind(name)
        .bind(json_text(definition))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("insert into workflow_names (name, latest, archived) values (?, 1, 1)")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// One version, or the latest with `None`.
    pub(super) async fn workflow(
        &self,
        name: &str,
        version: Option<i64>,
    ) -> Result<Option<StoredWorkflow>> {
        let row = sqlx::query(
            "select w.name, w.version, w.definition, w.created_at, n.archived from workflows w join workflow_names n on n.name = w.name \
             where w.name = ? and w.version = coalesce(?, n.latest)",
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
            sqlx::query_scalar("select latest from workflow_names where name = ?")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
        if known.is_none() {
            return Ok(None);
        }
        let rows = sqlx::query(
            "select version, created_at, saved_by, message, coalesce(json_array_length(definition, '$.nodes'), 0) as nodes \
             from workflows where name = ? and (? is null or version < ?) order by version desc limit ?",
        )
        .bind(name)
        .bind(before)
        .bind(before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(version_row)
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }

    /// Every workflow not archived, with its latest version and latest run.
    pub(super) async fn list_workflows(&self) -> Result<Vec<WorkflowSummary>> {
        let rows = sqlx::query(
            "select n.name, n.latest, w.definition, w.created_at, \
               (select status from runs r where r.workflow = n.name order by created_at desc, id desc limit 1) as last_status, \
               (select created_at from runs r where r.workflow = n.name order by created_at desc, id desc limit 1) as last_at \
             from workflow_names n join workflows w on w.name = n.name and w.version = n.latest where n.archived = 0 order by n.name",
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

    /// Archives a workflow; false if there is no such workflow.
    pub(super) async fn archive_workflow(&self, name: &str) -> Result<bool> {
        let mut tx = self.write().await?;
        let r = sqlx::query("update workflow_names set archived = 1 where name = ?")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(r.rows_affected() > 0)
    }

    pub(super) async fn redrives_of(&self, id: &str) -> Result<Vec<String>> {
        let rows =
            sqlx::query_scalar("select id from runs where redrive_of = ? order by created_at, id")
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows)
    }

    pub(super) async fn run(&self, id: &str) -> Result<Option<RunRow>> {
        let row = sqlx::query("select * from runs where id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(run_row).transpose()
    }

    /// The log of a run after `after` (0: all of it), in order.
    pub(super) async fn events(&self, run: &str, after: i64) -> Result<Vec<Recorded>> {
        let rows = sqlx::query("select seq, type, node, at, data from events where run_id = ? and seq > ? order by seq")
            .bind(run)
            .bind(after)
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

    /// Runs that are not finished, for recovery.
    pub(super) async fn unfinished_runs(&self) -> Result<Vec<RunRow>> {
        let rows = sqlx::query("select * from runs where status in ('running', 'paused')")
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(run_row).collect()
    }

    /// The logs of many runs at once (recovery), grouped by run in order.
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

    /// When the earliest timer is due.
    pub(super) async fn next_due(&self) -> Result<Option<Millis>> {
        Ok(sqlx::query_scalar("select min(due_at) from timers")
            .fetch_one(&self.pool)
            .await?)
    }

    pub(super) async fn due_timers(&self, now: Millis, limit: i64) -> Result<Vec<TimerRow>> {
        let rows = sqlx::query("select run_id, node, kind, attempt, due_at from timers where due_at <= ? order by due_at limit ?")
            .bind(now)
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

    /// Writes a group commit in one transaction.
    pub(super) async fn commit(&self, b: &Batch) -> Result<()> {
        if b.is_empty() {
            return Ok(());
        }
        let mut tx = self.write().await?;
        append_log(&mut tx, b, MAX_PARAMS).await?;
        write_timers(
            &mut tx,
            b,
            MAX_PARAMS,
            "attempt = excluded.attempt, due_at = excluded.due_at",
        )
        .await?;
        write_bulk_done(&mut tx, b).await?;
        tx.commit().await?;
        Ok(())
    }
}

super::common::common_sql!(sqlx::Sqlite, SqliteRow, sqlx::SqliteConnection);

/// `id` starts with `prefix`: a range of the primary key (SQLite compares text bytewise),
/// where `like` would ignore case and the index.
fn push_id_prefix(q: &mut sqlx::QueryBuilder<sqlx::Sqlite>, prefix: &str) {
    q.push(" and id >= ").push_bind(prefix.to_owned());
    q.push(" and id < ")
        .push_bind(format!("{prefix}\u{10FFFF}"));
}

/// The input's field at `m.path` equals `m.value`, by JSON type: `json_type` tells `1` from
/// `true` and `"1"`, which `json_extract` alone returns alike.
fn push_input_match(q: &mut sqlx::QueryBuilder<sqlx::Sqlite>, m: &super::InputMatch) {
    let path = std::iter::once("$".to_owned())
        .chain(m.path.iter().map(|k| format!(".\"{k}\"")))
        .collect::<String>();
    q.push(" and json_type(input, ").push_bind(path.clone());
    match &m.value {
        Value::Null => {
            q.push(") = 'null'");
        }
        Value::Bool(b) => {
            q.push(") = ").push_bind(if *b { "true" } else { "false" });
        }
        Value::Number(n) => {
            q.push(") in ('integer', 'real') and json_extract(input, ")
                .push_bind(path)
                .push(") = ");
            match n.as_i64() {
                Some(i) => q.push_bind(i),
                None => q.push_bind(n.as_f64().unwrap_or(f64::NAN)),
            };
        }
        Value::String(t) => {
            q.push(") = 'text' and json_extract(input, ")
                .push_bind(path)
                .push(") = ")
                .push_bind(t.clone());
        }
        Value::Array(_) | Value::Object(_) => {
            q.push(") in ('array', 'object') and json_extract(input, ")
                .push_bind(path)
                .push(") = json(")
                .push_bind(m.value.to_string())
                .push(")");
        }
    }
}
super::schedules::schedule_sql!(Sqlite, sqlx::Sqlite, SqliteRow, write);
super::bulk::bulk_sql!(Sqlite, sqlx::Sqlite, write, false);
super::retention::retention_sql!(Sqlite, sqlx::Sqlite, write);
super::people::people_sql!(Sqlite, sqlx::Sqlite, SqliteRow, write);

impl Sqlite {
    /// `VACUUM INTO file`: a compact, consistent copy of one snapshot (SQLite refuses a file
    /// that exists).
    pub(super) async fn backup(&self, file: &str) -> Result<()> {
        sqlx::query("vacuum into ?")
            .bind(file)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Returns up to 16 MiB of freed pages to the file system and checkpoints the WAL, so a
    /// file that pruning keeps small also stays small on disk. Both are short: the vacuum is
    /// bounded, and a passive checkpoint neither waits for readers nor blocks the writer (the
    /// WAL is cut back to `journal_size_limit` after a checkpoint that completes).
    pub(super) async fn compact(&self) -> Result<()> {
        sqlx::query("pragma incremental_vacuum(4096)")
            .execute(&self.pool)
            .await?;
        sqlx::query("pragma wal_checkpoint(passive)")
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

impl Sqlite {
    /// Schedules with a fire time due at `now` or a buffered fire, at most `limit`. One
    /// process owns the file, so there is nothing to claim; `_claim_until` is for
    /// PostgreSQL.
    pub(super) async fn due_schedules(
        &self,
        now: Millis,
        limit: i64,
        _claim_until: Millis,
    ) -> Result<Vec<super::ScheduleRow>> {
        let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new("select ");
        q.push(SCHEDULE_SELECT)
            .push(SCHEDULE_FROM)
            .push(" where s.paused = 0 and (s.next_fire_at <= ")
            .push_bind(now)
            .push(" or s.buffered_at is not null) order by s.next_fire_at limit ")
            .push_bind(limit);
        let rows = q.build().fetch_all(&self.pool).await?;
        rows.into_iter().map(schedule_row).collect()
    }
}
