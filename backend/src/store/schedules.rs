//! The `schedules` table (SPEC §5): one row per schedule of each workflow's latest version,
//! with what the scheduler needs across restarts (paused, the next fire time not yet handled,
//! the last fire and its run, a buffered fire, the skipped count).
//!
//! The SQL is the same on both databases except how due rows are taken: SQLite has one
//! process, which just reads them; PostgreSQL claims them (`for update skip locked`, then
//! `claimed_until`) so that several processes do not all handle the same fires. The claim
//! only saves work: a fire's run id is derived from the fire, so the `runs` primary key
//! makes a fire handled twice start one run. [`schedule_sql!`] stamps the shared methods out
//! for each database, like `common_sql!`.

use crate::clock::Millis;

/// One schedule's row.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleRow {
    pub workflow: String,
    pub index: u32,
    /// The version of the workflow whose definition the row follows.
    pub version: i64,
    pub cron: String,
    pub timezone: String,
    pub paused: bool,
    pub next_fire_at: Option<Millis>,
    pub last_fire_at: Option<Millis>,
    pub last_run: Option<String>,
    /// The status of `last_run` when the row was read (list and due reads only).
    pub last_run_status: Option<String>,
    pub buffered_at: Option<Millis>,
    pub skipped: i64,
}

/// A schedule of a version being saved: what the row must say.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleSpec {
    pub cron: String,
    pub timezone: String,
    /// The next fire time after the save, for a new row or one whose cron or zone changed
    /// (a row that keeps both keeps its own).
    pub next_fire_at: Option<Millis>,
}

/// What handling a row's due fires changed; written together for a pass.
#[derive(Debug, Clone, PartialEq)]
pub struct FiredUpdate {
    pub workflow: String,
    pub index: u32,
    pub next_fire_at: Option<Millis>,
    pub last_fire_at: Option<Millis>,
    pub last_run: Option<String>,
    pub buffered_at: Option<Millis>,
    /// Added to `skipped`.
    pub skipped: i64,
}

/// Defines the `schedules` methods both databases share on `$store`, whose write transactions
/// begin with `self.$begin()`.
macro_rules! schedule_sql {
    ($store:ty, $db:ty, $row:ty, $begin:ident) => {
        fn schedule_row(r: $row) -> crate::store::Result<crate::store::ScheduleRow> {
            use sqlx::Row;
            Ok(crate::store::ScheduleRow {
                workflow: r.try_get("workflow")?,
                index: r.try_get::<i64, _>("idx")? as u32,
                version: r.try_get("version")?,
                cron: r.try_get("cron")?,
                timezone: r.try_get("timezone")?,
                paused: r.try_get::<i64, _>("paused")? != 0,
                next_fire_at: r.try_get("next_fire_at")?,
                last_fire_at: r.try_get("last_fire_at")?,
                last_run: r.try_get("last_run")?,
                last_run_status: r.try_get("last_run_status")?,
                buffered_at: r.try_get("buffered_at")?,
                skipped: r.try_get("skipped")?,
            })
        }

        /// The columns of a row (as `s`) with its last run's status (`r`).
        const SCHEDULE_SELECT: &str = "s.workflow, s.idx, s.version, s.cron, s.timezone, s.paused, \
             s.next_fire_at, s.last_fire_at, s.last_run, s.buffered_at, s.skipped, r.status as last_run_status";
        /// The rows with their last runs.
        const SCHEDULE_FROM: &str = " from schedules s left join runs r on r.id = s.last_run";

        impl $store {
            /// Makes `workflow`'s rows those of `specs` (index by index): new rows start
            /// unpaused, rows past the end go, the rest keep `paused`, their last fire and
            /// (when cron and zone are the same) their next fire time.
            pub(in crate::store) async fn sync_schedules(
                &self,
                workflow: &str,
                version: i64,
                specs: &[crate::store::ScheduleSpec],
            ) -> crate::store::Result<()> {
                let mut tx = self.$begin().await?;
                let mut q = sqlx::QueryBuilder::<$db>::new("delete from schedules where workflow = ");
                q.push_bind(workflow.to_owned())
                    .push(" and idx >= ")
                    .push_bind(specs.len() as i64);
                q.build().execute(&mut *tx).await?;
                for (i, s) in specs.iter().enumerate() {
                    let mut q = sqlx::QueryBuilder::<$db>::new(
                        "insert into schedules (workflow, idx, version, cron, timezone, next_fire_at) values (",
                    );
                    q.push_bind(workflow.to_owned())
                        .push(", ")
                        .push_bind(i as i64)
                        .push(", ")
                        .push_bind(version)
                        .push(", ")
                        .push_bind(s.cron.clone())
                        .push(", ")
                        .push_bind(s.timezone.clone())
                        .push(", ")
                        .push_bind(s.next_fire_at)
                        .push(
                            ") on conflict (workflow, idx) do update set version = excluded.version, \
                             next_fire_at = case when schedules.cron = excluded.cron and schedules.timezone = excluded.timezone \
                               then schedules.next_fire_at else excluded.next_fire_at end, \
                             buffered_at = case when schedules.cron = excluded.cron and schedules.timezone = excluded.timezone \
                               then schedules.buffered_at else null end, \
                             cron = excluded.cron, timezone = excluded.timezone",
                        );
                    q.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            /// Every schedule, by workflow and index; or one.
            pub(in crate::store) async fn schedules(
                &self,
                one: Option<(&str, u32)>,
            ) -> crate::store::Result<Vec<crate::store::ScheduleRow>> {
                let mut q = sqlx::QueryBuilder::<$db>::new("select ");
                q.push(SCHEDULE_SELECT).push(SCHEDULE_FROM);
                if let Some((w, i)) = one {
                    q.push(" where s.workflow = ")
                        .push_bind(w.to_owned())
                        .push(" and s.idx = ")
                        .push_bind(i as i64);
                }
                q.push(" order by s.workflow, s.idx");
                let rows = q.build().fetch_all(&self.pool).await?;
                rows.into_iter().map(schedule_row).collect()
            }

            /// Pauses or resumes a schedule; resuming sets its next fire time (fires while
            /// paused are not caught up). False if there is no such row.
            pub(in crate::store) async fn set_paused(
                &self,
                workflow: &str,
                index: u32,
                paused: bool,
                next_fire_at: Option<crate::clock::Millis>,
            ) -> crate::store::Result<bool> {
                let mut tx = self.$begin().await?;
                let mut q = sqlx::QueryBuilder::<$db>::new("update schedules set paused = ");
                q.push_bind(paused as i64);
                if !paused {
                    q.push(", next_fire_at = ").push_bind(next_fire_at);
                }
                q.push(", buffered_at = null where workflow = ")
                    .push_bind(workflow.to_owned())
                    .push(" and idx = ")
                    .push_bind(index as i64);
                let done = q.build().execute(&mut *tx).await?.rows_affected() > 0;
                tx.commit().await?;
                Ok(done)
            }

            /// Records a run a schedule started outside its fires (trigger now) as its last.
            pub(in crate::store) async fn set_last_run(
                &self,
                workflow: &str,
                index: u32,
                run: &str,
                at: crate::clock::Millis,
            ) -> crate::store::Result<()> {
                let mut tx = self.$begin().await?;
                let mut q = sqlx::QueryBuilder::<$db>::new("update schedules set last_run = ");
                q.push_bind(run.to_owned())
                    .push(", last_fire_at = ")
                    .push_bind(at)
                    .push(" where workflow = ")
                    .push_bind(workflow.to_owned())
                    .push(" and idx = ")
                    .push_bind(index as i64);
                q.build().execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(())
            }

            /// Writes what a pass of the scheduler did, in one transaction, and ends its claims.
            pub(in crate::store) async fn update_fired(
                &self,
                updates: &[crate::store::FiredUpdate],
            ) -> crate::store::Result<()> {
                if updates.is_empty() {
                    return Ok(());
                }
                let mut tx = self.$begin().await?;
                for u in updates {
                    let mut q = sqlx::QueryBuilder::<$db>::new("update schedules set next_fire_at = ");
                    q.push_bind(u.next_fire_at)
                        .push(", last_fire_at = ")
                        .push_bind(u.last_fire_at)
                        .push(", last_run = ")
                        .push_bind(u.last_run.clone())
                        .push(", buffered_at = ")
                        .push_bind(u.buffered_at)
                        .push(", skipped = skipped + ")
                        .push_bind(u.skipped)
                        .push(", claimed_until = null where workflow = ")
                        .push_bind(u.workflow.clone())
                        .push(" and idx = ")
                        .push_bind(u.index as i64);
                    q.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            /// When the earliest schedule that is not paused is due.
            pub(in crate::store) async fn next_schedule_due(&self) -> crate::store::Result<Option<crate::clock::Millis>> {
                let next: Option<i64> = sqlx::query_scalar(
                    "select min(next_fire_at) from schedules where paused = 0",
                )
                .fetch_one(&self.pool)
                .await?;
                Ok(next)
            }
        }
    };
}

pub(super) use schedule_sql;
