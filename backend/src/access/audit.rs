//! The audit log (SPEC §7): who changed what, when, from where. [`super::authenticate`]
//! records every successful write under its policy action; handlers that know more (the key
//! a call made, the user a login was for) say so with a [`Note`] on their response, and the
//! few changes that are not a successful `/api` write (a refused login, the `weft user`
//! commands) call [`record`] themselves. Times come from the engine's clock.

use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;
use tokio::sync::oneshot;

use crate::clock::Millis;
use crate::store::{AuditRow, Store};

/// What a handler adds to the audit row of its call: a better target, and details.
#[derive(Debug, Clone, Default)]
pub struct Note {
    pub target: Option<String>,
    pub details: Value,
}

/// Put on a successful write's response that changed nothing (a dry run): nothing to audit.
#[derive(Debug, Clone, Copy)]
pub struct Unchanged;

/// One change to record.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub at: Millis,
    pub actor: &'a str,
    pub action: &'a str,
    pub target: Option<String>,
    /// Whether it was done (`true`) or refused (a failed login).
    pub ok: bool,
    pub ip: Option<String>,
    pub details: Value,
}

impl Entry<'_> {
    fn row(self) -> AuditRow {
        AuditRow {
            id: 0,
            at: self.at,
            actor: self.actor.to_owned(),
            action: self.action.to_owned(),
            target: self.target,
            outcome: if self.ok { "ok" } else { "failed" }.to_owned(),
            ip: self.ip,
            details: self.details,
        }
    }
}

/// Appends `entry` on its own (a sign-in, a `weft user` command: rare). A failure is logged,
/// not returned: the change it describes is done.
pub async fn record(store: &Store, entry: Entry<'_>) {
    let row = entry.row();
    if let Err(e) = store.audit(std::slice::from_ref(&row)).await {
        tracing::error!(error = %e, action = %row.action, "could not write the audit log");
    }
}

/// At most this many rows in one insert (7 values each, well under both databases' limits).
const MOST: usize = 500;

/// The rows of `/api` writes, committed in groups: each call still returns once its row is
/// committed (as [`record`] does), but the calls made meanwhile share one insert, so under
/// load the log costs one commit per group rather than one per change (one insert per change
/// halved W1: docs/benchmarks.md, "People and access").
///
/// The insert runs in a task of its own, so a request dropped while waiting (its client went
/// away) neither loses the group's rows nor stalls the next group.
#[derive(Clone, Default)]
pub struct Group {
    pending: Arc<Mutex<Pending>>,
}

#[derive(Default)]
struct Pending {
    rows: Vec<(AuditRow, oneshot::Sender<()>)>,
    /// Whether a task is writing; the next rows wait for it to take them.
    writing: bool,
}

impl Group {
    /// Appends `entry` with whatever else is waiting, and returns once it is written (or its
    /// failure logged).
    pub async fn record(&self, store: &Store, entry: Entry<'_>) {
        let (done, written) = oneshot::channel();
        let start = {
            let mut p = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            p.rows.push((entry.row(), done));
            !std::mem::replace(&mut p.writing, true)
        };
        if start {
            tokio::spawn(write(self.pending.clone(), store.clone()));
        }
        // An error means the writer is gone (the runtime stopping): nothing left to wait for.
        drop(written.await);
    }
}

/// Writes what is pending, group after group, until nothing is.
async fn write(pending: Arc<Mutex<Pending>>, store: Store) {
    loop {
        let group: Vec<_> = {
            let mut p = pending.lock().unwrap_or_else(PoisonError::into_inner);
            if p.rows.is_empty() {
                p.writing = false;
                return;
            }
            let n = p.rows.len().min(MOST);
            p.rows.drain(..n).collect()
        };
        let (rows, waiting): (Vec<AuditRow>, Vec<_>) = group.into_iter().unzip();
        if let Err(e) = store.audit(&rows).await {
            tracing::error!(error = %e, rows = rows.len(), "could not write the audit log");
        }
        for done in waiting {
            // A caller that went away needs no answer.
            let _ = done.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::AuditFilter;

    /// Rows recorded at once, more than one insert holds, are each written once, in the
    /// order they came, and every caller returns after its row is in.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn rows_recorded_at_once_are_each_written_once() {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("a.db").display());
        let store = Store::open(&url).await.expect("store");
        let group = Group::default();
        let n = MOST * 2 + 7;
        let mut calls = tokio::task::JoinSet::new();
        for i in 0..n {
            let (group, store) = (group.clone(), store.clone());
            calls.spawn(async move {
                let target = format!("run:{i}");
                let entry = Entry {
                    at: i as i64,
                    actor: "alice",
                    action: "run.started",
                    target: Some(target.clone()),
                    ok: true,
                    ip: None,
                    details: Value::Null,
                };
                group.record(&store, entry).await;
                // Once `record` returned, the row can be read.
                let rows = store
                    .audit_log(&AuditFilter {
                        since: Some(i as i64),
                        limit: 10_000,
                        ..AuditFilter::default()
                    })
                    .await
                    .expect("read");
                assert!(rows.iter().any(|r| r.target.as_deref() == Some(&target)));
            });
        }
        while let Some(done) = calls.join_next().await {
            done.expect("a call panicked");
        }
        let rows = store
            .audit_log(&AuditFilter {
                limit: 10_000,
                ..AuditFilter::default()
            })
            .await
            .expect("read");
        assert_eq!(rows.len(), n);
        let mut targets: Vec<_> = rows.iter().filter_map(|r| r.target.clone()).collect();
        targets.sort();
        targets.dedup();
        assert_eq!(targets.len(), n, "a row written twice or lost");
    }
}
