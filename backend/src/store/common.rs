//! The SQL both databases share, written once: reading rows into [`super::RunRow`] and
//! [`Recorded`](shared::event::Recorded), the run list's query, and appending a batch's
//! events and `runs` rows. sqlx's `QueryBuilder` writes each database's placeholders, so the
//! text is the same; a macro stamps it out for each database's row and connection types,
//! which keeps the database modules free of generic trait bounds.

/// Defines `run_row`, `version_row`, `recorded`, `list_runs_query`, `append_log` and
/// `write_timers` in the calling module for
/// database `$db` with row type `$row` and connection type `$conn`.
macro_rules! common_sql {
    ($db:ty, $row:ty, $conn:ty) => {
        fn run_row(r: $row) -> super::Result<super::RunRow> {
            use sqlx::Row;
            Ok(super::RunRow {
                id: r.try_get("id")?,
                workflow: r.try_get("workflow")?,
                version: r.try_get("version")?,
                status: r.try_get("status")?,
                input: super::parse_json(r.try_get("input")?)?,
                output: super::parse_json(r.try_get("output")?)?,
                error: r.try_get("error")?,
                created_at: r.try_get("created_at")?,
                updated_at: r.try_get("updated_at")?,
                last_seq: r.try_get("last_seq")?,
                redrive_of: r.try_get("redrive_of")?,
                parent_run: r.try_get("parent_run")?,
                needs_person: r.try_get("needs_person")?,
                test: r.try_get("test")?,
            })
        }

        fn version_row(r: $row) -> super::Result<super::VersionRow> {
            use sqlx::Row;
            Ok(super::VersionRow {
                version: r.try_get("version")?,
                saved_at: r.try_get("created_at")?,
                saved_by: r.try_get("saved_by")?,
                message: r.try_get("message")?,
                nodes: r.try_get("nodes")?,
            })
        }

        fn recorded(r: $row) -> super::Result<shared::event::Recorded> {
            use sqlx::Row;
            let ty: String = r.try_get("type")?;
            let node: Option<String> = r.try_get("node")?;
            let data = super::parse_json(r.try_get("data")?)?;
            let event = shared::event::Event::join(&ty, node.as_deref(), data)
                .map_err(|e| super::Error::Corrupt(format!("event {ty}: {e}")))?;
            Ok(shared::event::Recorded {
                seq: r.try_get("seq")?,
                at: r.try_get("at")?,
                event,
            })
        }

        /// `GET /api/runs`: newest first, filtered, after the previous page's last row.
        fn list_runs_query(f: &super::RunFilter) -> sqlx::QueryBuilder<$db> {
            let mut q = sqlx::QueryBuilder::new("select * from runs where 1 = 1");
            push_run_filters(&mut q, f);
            if let Some((at, id)) = &f.after {
                q.push(" and (created_at < ").push_bind(*at);
                q.push(" or (created_at = ").push_bind(*at);
                q.push(" and id < ").push_bind(id.clone()).push("))");
            }
            let order = if f.oldest_first { "asc" } else { "desc" };
            q.push(format!(" order by created_at {order}, id {order} limit "))
                .push_bind(f.limit);
            q
        }

        /// How many runs `f` matches over all pages (its cursor and limit aside).
        fn count_runs_query(f: &super::RunFilter) -> sqlx::QueryBuilder<$db> {
            let mut q = sqlx::QueryBuilder::new("select count(*) from runs where 1 = 1");
            push_run_filters(&mut q, f);
            q
        }

        /// The `and …` conditions of `f`'s filters; the id prefix and the input's fields are
        /// each database's own SQL (`push_id_prefix`, `push_input_match` in the caller).
        fn push_run_filters(q: &mut sqlx::QueryBuilder<$db>, f: &super::RunFilter) {
            if let Some(w) = &f.workflow {
                q.push(" and workflow = ").push_bind(w.clone());
            }
            if let Some(s) = &f.status {
                q.push(" and status = ").push_bind(s.clone());
            }
            if let Some(p) = &f.id_prefix {
                push_id_prefix(q, p);
            }
            if let Some(t) = f.created_after {
                q.push(" and created_at >= ").push_bind(t);
            }
            if let Some(t) = f.created_before {
                q.push(" and created_at < ").push_bind(t);
            }
            if f.needs_person {
                q.push(" and needs_person = ").push_bind(true);
            }
            if !f.test {
                q.push(" and test = ").push_bind(false);
            }
            for m in &f.input {
                push_input_match(q, m);
            }
        }

        /// Appends the batch's events and upserts its `runs` rows (each run's row with its
        /// events, never one without the other), in statements of at most `max_params`
        /// bound parameters.
        async fn append_log(
            tx: &mut $conn,
            b: &super::Batch,
            max_params: usize,
        ) -> super::Result<()> {
            let events: Vec<(&str, &shared::event::Recorded)> = b
                .runs
                .iter()
                .flat_map(|w| w.events.iter().map(move |r| (w.row.id.as_str(), r)))
                .collect();
            for chunk in events.chunks(max_params / 6) {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "insert into events (run_id, seq, type, node, at, data) ",
                );
                q.push_values(chunk, |mut row, (run, r)| {
                    let (ty, node, data) = r.event.split();
                    row.push_bind(run.to_string())
                        .push_bind(r.seq)
                        .push_bind(ty)
                        .push_bind(node)
                        .push_bind(r.at)
                        .push_bind(data.to_string());
                });
                q.build().execute(&mut *tx).await?;
            }
            for chunk in b.runs.chunks(max_params / 14) {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "insert into runs (id, workflow, version, status, input, output, error, created_at, updated_at, last_seq, redrive_of, parent_run, needs_person, test) ",
                );
                q.push_values(chunk, |mut row, w| {
                    let r = &w.row;
                    row.push_bind(r.id.clone())
                        .push_bind(r.workflow.clone())
                        .push_bind(r.version)
                        .push_bind(r.status.clone())
                        .push_bind(super::json_text(&r.input))
                        .push_bind((!r.output.is_null()).then(|| super::json_text(&r.output)))
                        .push_bind(r.error.clone())
                        .push_bind(r.created_at)
                        .push_bind(r.updated_at)
                        .push_bind(r.last_seq)
                        .push_bind(r.redrive_of.clone())
                        .push_bind(r.parent_run.clone())
                        .push_bind(r.needs_person)
                        .push_bind(r.test);
                });
                q.push(
                    " on conflict (id) do update set status = excluded.status, output = excluded.output, error = excluded.error, \
                     updated_at = excluded.updated_at, last_seq = excluded.last_seq, needs_person = excluded.needs_person",
                );
                q.build().execute(&mut *tx).await?;
            }
            Ok(())
        }

        /// Writes the batch's timer changes: clears, then fired timers (by key and due time, so
        /// one set again meanwhile stays), then upserts ending in `on_conflict_set` (the columns
        /// a re-set timer takes).
        async fn write_timers(
            tx: &mut $conn,
            b: &super::Batch,
            max_params: usize,
            on_conflict_set: &str,
        ) -> super::Result<()> {
            for (run, node) in &b.clear_timers {
                let mut q = sqlx::QueryBuilder::<$db>::new("delete from timers where run_id = ");
                q.push_bind(run.clone());
                if let Some(n) = node {
                    q.push(" and node = ").push_bind(n.clone());
                }
                q.build().execute(&mut *tx).await?;
            }
            for t in &b.fired {
                let mut q = sqlx::QueryBuilder::<$db>::new("delete from timers where run_id = ");
                q.push_bind(t.run_id.clone())
                    .push(" and node = ")
                    .push_bind(t.node.clone())
                    .push(" and kind = ")
                    .push_bind(t.kind.clone())
                    .push(" and attempt = ")
                    .push_bind(t.attempt as i64)
                    .push(" and due_at = ")
                    .push_bind(t.due_at);
                q.build().execute(&mut *tx).await?;
            }
            for chunk in b.set_timers.chunks(max_params / 5) {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "insert into timers (run_id, node, kind, attempt, due_at) ",
                );
                q.push_values(chunk, |mut row, t| {
                    row.push_bind(t.run_id.clone())
                        .push_bind(t.node.clone())
                        .push_bind(t.kind.clone())
                        .push_bind(t.attempt as i64)
                        .push_bind(t.due_at);
                });
                q.push(" on conflict (run_id, node, kind) do update set ")
                    .push(on_conflict_set);
                q.build().execute(&mut *tx).await?;
            }
            Ok(())
        }
    };
}

pub(super) use common_sql;
