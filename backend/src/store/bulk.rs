//! The `batches` and `batch_runs` tables (SPEC §6 "Bulk"): a bulk action is a durable batch.
//!
//! Creating one snapshots the runs its filter matches into `batch_runs` in the same
//! transaction (`insert … select`), so a run started afterwards is never swept in and a
//! restart finds the same list. Each item is `pending` until the action on its run is
//! durable: the engine writes `done` in the commit that records the run's event
//! ([`super::Batch::bulk_done`]), so a kill -9 either kept both or neither; a refused action
//! (the run had finished, say) is written `failed` with the reason. Both writes only move a
//! `pending` item, so a second process that took the same item cannot overwrite the first's
//! outcome. [`bulk_sql!`] stamps the methods out for each database, like `common_sql!`.

use crate::clock::Millis;

/// Which runs a bulk action is for; every set field must match, and a filter without `ids`
/// leaves test runs out, as the runs list does.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BulkFilter {
    pub workflow: Option<String>,
    pub status: Option<String>,
    pub created_after: Option<Millis>,
    pub created_before: Option<Millis>,
    pub ids: Option<Vec<String>>,
}

/// A running batch a process took: what to do and on whose behalf.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedBatch {
    pub id: String,
    pub action: String,
    /// Who made it (SPEC §7: the runs its redrives start are theirs).
    pub by: Option<String>,
}

/// A batch as stored, with its items counted.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchRow {
    pub id: String,
    pub action: String,
    pub matched: i64,
    pub status: String,
    pub done: i64,
    pub failed: i64,
    /// The first failures: `(run_id, error)`.
    pub errors: Vec<(String, String)>,
    pub created_at: Millis,
}

/// Defines the bulk methods both databases share on `$store`, whose write transactions begin
/// with `self.$begin()`; `$claims`: whether claims keep other processes off a batch.
macro_rules! bulk_sql {
    ($store:ty, $db:ty, $begin:ident, $claims:expr) => {
        /// Adds the filter's conditions to a query over `runs` that already has a `where`.
        fn push_bulk_filter(q: &mut sqlx::QueryBuilder<$db>, f: &crate::store::BulkFilter) {
            if let Some(w) = &f.workflow {
                q.push(" and workflow = ").push_bind(w.clone());
            }
            if let Some(s) = &f.status {
                q.push(" and status = ").push_bind(s.clone());
            }
            if let Some(t) = f.created_after {
                q.push(" and created_at >= ").push_bind(t);
            }
            if let Some(t) = f.created_before {
                q.push(" and created_at < ").push_bind(t);
            }
            // Test runs are the designer's (SPEC §6): a filter sweeps them in only by id.
            if f.ids.is_none() {
                q.push(" and test = ").push_bind(false);
            }
            if let Some(ids) = &f.ids {
                q.push(" and id in (");
                let mut list = q.separated(", ");
                for id in ids {
                    list.push_bind(id.clone());
                }
                // An empty list matches nothing (`in ()` is not SQL).
                if ids.is_empty() {
                    list.push("null");
                }
                q.push(")");
            }
        }

        impl $store {
            /// The oldest running batch whose claim is not held past `now`, claimed until
            /// `until`; its id and action. `$claims`: whether other processes share the
            /// store (SQLite has one process, which after a restart must not wait for the
            /// claim it held before it died).
            pub(in crate::store) async fn claim_batch(
                &self,
                now: crate::clock::Millis,
                until: crate::clock::Millis,
            ) -> crate::store::Result<Option<crate::store::ClaimedBatch>> {
                use sqlx::Row;
                let now = if $claims { now } else { i64::MAX };
                let mut tx = self.$begin().await?;
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "select id, action, created_by from batches where status = 'running' and claimed_until <= ",
                );
                q.push_bind(now).push(" order by created_at limit 1");
                let Some(row) = q.build().fetch_optional(&mut *tx).await? else {
                    return Ok(None);
                };
                let claimed = crate::store::ClaimedBatch {
                    id: row.try_get("id")?,
                    action: row.try_get("action")?,
                    by: row.try_get("created_by")?,
                };
                let id = claimed.id.clone();
                let mut q = sqlx::QueryBuilder::<$db>::new("update batches set claimed_until = ");
                q.push_bind(until)
                    .push(" where id = ")
                    .push_bind(id.clone())
                    .push(" and claimed_until <= ")
                    .push_bind(now);
                let took = q.build().execute(&mut *tx).await?.rows_affected() > 0;
                tx.commit().await?;
                Ok(took.then_some(claimed))
            }

            /// Holds a claimed batch until `until`.
            pub(in crate::store) async fn renew_batch(
                &self,
                batch: &str,
                until: crate::clock::Millis,
            ) -> crate::store::Result<()> {
                let mut q = sqlx::QueryBuilder::<$db>::new("update batches set claimed_until = ");
                q.push_bind(until)
                    .push(" where id = ")
                    .push_bind(batch.to_owned());
                q.build().execute(&self.pool).await?;
                Ok(())
            }

            /// How many runs the filter matches now.
            pub(in crate::store) async fn count_runs(
                &self,
                f: &crate::store::BulkFilter,
            ) -> crate::store::Result<i64> {
                let mut q = sqlx::QueryBuilder::<$db>::new("select count(*) from runs where 1 = 1");
                push_bulk_filter(&mut q, f);
                Ok(q.build_query_scalar().fetch_one(&self.pool).await?)
            }

            /// Creates batch `id` over the runs the filter matches, listed in the same
            /// transaction; returns how many it matched.
            pub(in crate::store) async fn create_batch(
                &self,
                id: &str,
                action: &str,
                filter: &serde_json::Value,
                f: &crate::store::BulkFilter,
                now: crate::clock::Millis,
                by: Option<&str>,
            ) -> crate::store::Result<i64> {
                let mut tx = self.$begin().await?;
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "insert into batch_runs (batch_id, run_id) select ",
                );
                q.push_bind(id.to_owned()).push(", id from runs where 1 = 1");
                push_bulk_filter(&mut q, f);
                let matched = q.build().execute(&mut *tx).await?.rows_affected() as i64;
                let status = if matched == 0 { "done" } else { "running" };
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "insert into batches (id, action, filter, matched, status, created_at, updated_at, created_by) values (",
                );
                q.push_bind(id.to_owned())
                    .push(", ")
                    .push_bind(action.to_owned())
                    .push(", ")
                    .push_bind(filter.to_string())
                    .push(", ")
                    .push_bind(matched)
                    .push(", ")
                    .push_bind(status)
                    .push(", ")
                    .push_bind(now)
                    .push(", ")
                    .push_bind(now)
                    .push(", ")
                    .push_bind(by.map(str::to_owned))
                    .push(")");
                q.build().execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(matched)
            }

            /// A batch with its items counted and its first failures.
            pub(in crate::store) async fn batch(
                &self,
                id: &str,
            ) -> crate::store::Result<Option<crate::store::BatchRow>> {
                use sqlx::Row;
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "select id, action, matched, status, created_at from batches where id = ",
                );
                q.push_bind(id.to_owned());
                let Some(row) = q.build().fetch_optional(&self.pool).await? else {
                    return Ok(None);
                };
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "select state, count(*) as n from batch_runs where batch_id = ",
                );
                q.push_bind(id.to_owned()).push(" group by state");
                let (mut done, mut failed) = (0, 0);
                for r in q.build().fetch_all(&self.pool).await? {
                    let state: String = r.try_get("state")?;
                    let n: i64 = r.try_get("n")?;
                    match state.as_str() {
                        "done" => done = n,
                        "failed" => failed = n,
                        _ => {}
                    }
                }
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "select run_id, error from batch_runs where state = 'failed' and batch_id = ",
                );
                q.push_bind(id.to_owned()).push(" order by run_id limit 20");
                let errors = q
                    .build()
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(|r| Ok((r.try_get("run_id")?, r.try_get::<Option<String>, _>("error")?.unwrap_or_default())))
                    .collect::<crate::store::Result<Vec<_>>>()?;
                Ok(Some(crate::store::BatchRow {
                    id: row.try_get("id")?,
                    action: row.try_get("action")?,
                    matched: row.try_get("matched")?,
                    status: row.try_get("status")?,
                    done,
                    failed,
                    errors,
                    created_at: row.try_get("created_at")?,
                }))
            }

            /// Up to `limit` runs of the batch not acted on yet.
            pub(in crate::store) async fn pending_runs(
                &self,
                batch: &str,
                limit: i64,
            ) -> crate::store::Result<Vec<String>> {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "select run_id from batch_runs where state = 'pending' and batch_id = ",
                );
                q.push_bind(batch.to_owned())
                    .push(" order by run_id limit ")
                    .push_bind(limit);
                Ok(q.build_query_scalar().fetch_all(&self.pool).await?)
            }

            /// Marks items `done` (an action that need not be written with a run's events:
            /// a redrive's run is found by its derived id) or `failed` with the reason; only
            /// pending items move.
            pub(in crate::store) async fn settle_runs(
                &self,
                batch: &str,
                settled: &[(String, Option<String>)],
            ) -> crate::store::Result<()> {
                if settled.is_empty() {
                    return Ok(());
                }
                let mut tx = self.$begin().await?;
                for (run, error) in settled {
                    let mut q = sqlx::QueryBuilder::<$db>::new("update batch_runs set state = ");
                    q.push_bind(if error.is_some() { "failed" } else { "done" })
                        .push(", error = ")
                        .push_bind(error.clone())
                        .push(" where state = 'pending' and batch_id = ")
                        .push_bind(batch.to_owned())
                        .push(" and run_id = ")
                        .push_bind(run.clone());
                    q.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            /// Ends the batch when nothing is pending (else renews nothing: the claim lapses).
            pub(in crate::store) async fn finish_batch(
                &self,
                batch: &str,
                now: crate::clock::Millis,
            ) -> crate::store::Result<bool> {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "update batches set status = 'done', updated_at = ",
                );
                q.push_bind(now)
                    .push(" where id = ")
                    .push_bind(batch.to_owned())
                    .push(" and not exists (select 1 from batch_runs where state = 'pending' and batch_id = ")
                    .push_bind(batch.to_owned())
                    .push(")");
                Ok(q.build().execute(&self.pool).await?.rows_affected() > 0)
            }
        }

        /// Marks the bulk items a commit acted on as `done`, in that commit.
        async fn write_bulk_done(
            tx: &mut <$db as sqlx::Database>::Connection,
            b: &crate::store::Batch,
        ) -> crate::store::Result<()> {
            for (batch, run) in &b.bulk_done {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "update batch_runs set state = 'done' where state = 'pending' and batch_id = ",
                );
                q.push_bind(batch.clone())
                    .push(" and run_id = ")
                    .push_bind(run.clone());
                q.build().execute(&mut *tx).await?;
            }
            Ok(())
        }
    };
}

pub(super) use bulk_sql;
