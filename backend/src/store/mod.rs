//! The store: workflow versions, the event log and the indexes derived from it.
//!
//! **Architecture Invariant:** events are append-only, never updated; `runs` and `timers`
//! rows change only in the transaction that appends the events they follow from
//! ([`Batch`]), so a crash can never leave them out of step with the log.

mod sqlite;

pub use sqlite::Store;

use serde_json::Value;

use crate::engine::event::{Millis, Recorded};

/// `store::Error`: what callers may want to tell apart.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One saved version of a workflow.
#[derive(Debug, Clone)]
pub struct StoredWorkflow {
    pub name: String,
    pub version: i64,
    pub definition: Value,
    pub created_at: Millis,
    pub archived: bool,
}

/// A workflow in the list, with its latest run.
#[derive(Debug, Clone)]
pub struct WorkflowSummary {
    pub name: String,
    pub version: i64,
    pub description: Option<String>,
    pub updated_at: Millis,
    pub last_run_status: Option<String>,
    pub last_run_at: Option<Millis>,
}

/// A run's index row: what lists and filters read without folding the log.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRow {
    pub id: String,
    pub workflow: String,
    pub version: i64,
    pub status: String,
    pub input: Value,
    pub output: Value,
    pub error: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub last_seq: i64,
}

/// A due piece of work: a retry, a timer node, a deadline.
#[derive(Debug, Clone, PartialEq)]
pub struct TimerRow {
    pub run_id: String,
    pub node: String,
    pub kind: String,
    pub attempt: u32,
    pub due_at: Millis,
}

/// Everything one group commit writes, in one transaction.
#[derive(Debug, Default)]
pub struct Batch {
    pub events: Vec<(String, Recorded)>,
    /// Upserted by id.
    pub runs: Vec<RunRow>,
    /// Timer rows to delete, by `(run_id, node)`; an empty node with `None` clears a run.
    pub clear_timers: Vec<(String, Option<String>)>,
    /// Timers that fired, to delete by key.
    pub fired: Vec<TimerRow>,
    /// Upserted by `(run_id, node, kind)`; written after the deletes.
    pub set_timers: Vec<TimerRow>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
            && self.runs.is_empty()
            && self.clear_timers.is_empty()
            && self.fired.is_empty()
            && self.set_timers.is_empty()
    }
}

/// Filters and paging of `GET /api/runs`.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    pub workflow: Option<String>,
    pub status: Option<String>,
    pub limit: i64,
    /// `(created_at, id)` of the last row of the previous page.
    pub after: Option<(Millis, String)>,
}
