//! Pruning finished runs (SPEC §6 "Retention"): a top-level run whose last change is older
//! than the retention goes with its child runs, in one small transaction per call, and only
//! when every run of that tree has finished, so an unfinished run is never removed. The
//! events, timers and `runs` rows go together; what is left of the file is the database's
//! business (SQLite: incremental vacuum and a WAL checkpoint, [`super::Store::compact`]).
//! A test run (SPEC §6 "Test runs") goes a day after it began, with the hidden definition
//! it ran (`Store::save_test_definition`).
//! [`retention_sql!`] stamps the method out for each database, like `common_sql!`.

/// Defines `prune` on `$store` (database `$db`, write transactions from `self.$begin()`).
macro_rules! retention_sql {
    ($store:ty, $db:ty, $begin:ident) => {
        impl $store {
            /// Up to `limit` top-level test runs begun before `before` that have not
            /// finished (waiting at an approval, say), oldest first.
            pub(in crate::store) async fn expired_tests(
                &self,
                before: crate::clock::Millis,
                limit: i64,
            ) -> crate::store::Result<Vec<String>> {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "select id from runs where parent_run is null and status in ('running', 'paused') and test = ",
                );
                q.push_bind(true)
                    .push(" and created_at < ")
                    .push_bind(before)
                    .push(" order by created_at limit ")
                    .push_bind(limit);
                Ok(q.build_query_scalar().fetch_all(&self.pool).await?)
            }

            /// Deletes up to `limit` finished top-level runs last updated before `before`
            /// (`tests`: test runs begun before it), with their children and a test run's
            /// hidden definition; returns how many runs it deleted (children included).
            pub(in crate::store) async fn prune(
                &self,
                before: crate::clock::Millis,
                limit: i64,
                tests: bool,
            ) -> crate::store::Result<u64> {
                use sqlx::Row;
                let mut tx = self.$begin().await?;
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "with recursive roots(id) as (select id from runs where parent_run is null \
                     and status in ('completed', 'failed', 'cancelled') and ",
                );
                if tests {
                    q.push("test = ").push_bind(true).push(" and created_at < ");
                } else {
                    q.push("updated_at < ");
                }
                q.push_bind(before)
                    .push(if tests { " order by created_at limit " } else { " order by updated_at limit " })
                    .push_bind(limit)
                    .push(
                        "), tree(root, id) as (select id, id from roots \
                         union all select tree.root, r.id from runs r join tree on r.parent_run = tree.id) \
                         select tree.root, tree.id, r.status, r.test, r.workflow from tree join runs r on r.id = tree.id",
                    );
                let rows = q.build().fetch_all(&mut *tx).await?;
                let mut unfinished = std::collections::HashSet::new();
                let mut trees: Vec<(String, String)> = Vec::with_capacity(rows.len());
                let mut hidden: Vec<(String, String)> = Vec::new();
                for r in rows {
                    let (root, id, status): (String, String, String) =
                        (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
                    if matches!(status.as_str(), "running" | "paused") {
                        unfinished.insert(root.clone());
                    }
                    let (test, workflow): (bool, String) = (r.try_get(3)?, r.try_get(4)?);
                    if test && root == id && crate::store::is_test_name(&workflow) {
                        hidden.push((root.clone(), workflow));
                    }
                    trees.push((root, id));
                }
                let ids: Vec<String> = trees
                    .into_iter()
                    .filter(|(root, _)| !unfinished.contains(root))
                    .map(|(_, id)| id)
                    .collect();
                let names: Vec<String> = hidden
                    .into_iter()
                    .filter(|(root, _)| !unfinished.contains(root))
                    .map(|(_, name)| name)
                    .collect();
                for chunk in names.chunks(500) {
                    for table in ["workflows", "workflow_names"] {
                        let mut q = sqlx::QueryBuilder::<$db>::new(format!(
                            "delete from {table} where name in ("
                        ));
                        let mut list = q.separated(", ");
                        for name in chunk {
                            list.push_bind(name.clone());
                        }
                        q.push(")");
                        q.build().execute(&mut *tx).await?;
                    }
                }
                for chunk in ids.chunks(500) {
                    for table in ["events", "timers"] {
                        let mut q = sqlx::QueryBuilder::<$db>::new(format!(
                            "delete from {table} where run_id in ("
                        ));
                        let mut list = q.separated(", ");
                        for id in chunk {
                            list.push_bind(id.clone());
                        }
                        q.push(")");
                        q.build().execute(&mut *tx).await?;
                    }
                    let mut q = sqlx::QueryBuilder::<$db>::new("delete from runs where id in (");
                    let mut list = q.separated(", ");
                    for id in chunk {
                        list.push_bind(id.clone());
                    }
                    q.push(")");
                    q.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(ids.len() as u64)
            }
        }
    };
}

pub(super) use retention_sql;
