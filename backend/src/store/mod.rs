//! The store: workflow versions, the event log and the indexes derived from it, on SQLite
//! (one process) or PostgreSQL (one or several processes sharing the work).
//!
//! **Architecture Invariant:** events are append-only, never updated; `runs` and `timers`
//! rows change only in the transaction that appends the events they follow from
//! ([`Batch`]), so a crash can never leave them out of step with the log.
//!
//! [`Store`] holds an enum over the two databases rather than a trait object: the set is
//! closed, the engine calls one API, and each method's SQL lives in its database's module.
//! What only several processes need (leases on attempts in flight, the shared task queue,
//! LISTEN/NOTIFY) is reached through [`Store::postgres`], which only `cluster` calls.
//! [`Faults`] lets a test make the next reads or commits fail, to prove that a store error
//! loses nothing.

mod bulk;
mod common;
mod faults;
mod people;
pub mod postgres;
mod retention;
mod schedules;
mod sqlite;

pub use bulk::{BatchRow, BulkFilter, ClaimedBatch};
pub use faults::Faults;
pub use people::{AuditFilter, AuditRow, KeyRow, SessionRow, UserRow};
pub use schedules::{FiredUpdate, ScheduleRow, ScheduleSpec};

pub use postgres::Postgres;
pub use sqlite::Sqlite;

use serde_json::Value;

use crate::clock::Millis;
use shared::event::Recorded;

/// `store::Error`: what callers may want to tell apart.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// Another process appended to these runs since they were read: nothing was written.
    #[error("runs changed by another process: {0:?}")]
    Conflict(Vec<String>),
    #[error("unsupported database URL `{0}`: use sqlite://PATH or postgres://…")]
    Url(String),
    /// `weft backup` copies SQLite files; PostgreSQL has `pg_dump`.
    #[error(
        "weft backup copies SQLite databases; back up PostgreSQL with pg_dump (for example `pg_dump --format=custom --file=weft.dump \"$DATABASE_URL\"`)"
    )]
    BackupUnsupported,
    /// A test asked for this operation to fail ([`Faults`]).
    #[error("injected fault: {0}")]
    Injected(&'static str),
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

/// Who saves a version and why, kept with it for the designer's history.
#[derive(Debug, Clone, Copy, Default)]
pub struct SaveNote<'a> {
    /// The caller as the audit log names them; `None` on an open server.
    pub by: Option<&'a str>,
    pub message: Option<&'a str>,
}

/// One version in a workflow's history, without its definition.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionRow {
    pub version: i64,
    pub saved_at: Millis,
    pub saved_by: Option<String>,
    pub message: Option<String>,
    /// How many nodes its definition has (counted by the database).
    pub nodes: i64,
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
    /// The run this one redrives (SPEC §6), written when the row is made.
    pub redrive_of: Option<String>,
    /// The run this one is a child of (SPEC §5), written when the row is made.
    pub parent_run: Option<String>,
    /// An approval or a `signal` node waits (SPEC §6 "Finding runs": `needs=person`).
    pub needs_person: bool,
    /// A test run (SPEC §6 "Test runs"), written when the row is made.
    pub test: bool,
}

/// `input.<path>=<value>`: the input's field at `path` (object keys) equals `value`.
#[derive(Debug, Clone, PartialEq)]
pub struct InputMatch {
    pub path: Vec<String>,
    pub value: Value,
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

/// An `http` attempt in flight, leased by the process performing it (shared stores only).
#[derive(Debug, Clone, PartialEq)]
pub struct LeaseRow {
    pub run_id: String,
    pub node: String,
    pub attempt: u32,
}

/// A task attempt in the shared queue (PostgreSQL).
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRow {
    pub run_id: String,
    pub node: String,
    pub attempt: u32,
    pub queue: String,
    pub activity: String,
    pub timeout_ms: i64,
    pub heartbeat_ms: Option<i64>,
    pub enqueued_at: Millis,
    pub worker_until: Option<Millis>,
    pub heartbeat_until: Option<Millis>,
}

/// One run's part of a group commit: its new events and its index row after them, which are
/// written together or not at all.
#[derive(Debug, Clone)]
pub struct RunWrite {
    /// The run's `last_seq` when the batch was decided (0 for a new run). A store shared by
    /// several processes writes nothing if it moved (another process appended first).
    pub expected: i64,
    pub events: Vec<Recorded>,
    /// Upserted by id.
    pub row: RunRow,
}

/// Everything one group commit writes, in one transaction.
#[derive(Debug, Default)]
pub struct Batch {
    /// When the batch was decided, by the server's clock (lease expiries count from it).
    pub now: Millis,
    pub runs: Vec<RunWrite>,
    /// Timer rows to delete, by `(run_id, node)`; an empty node with `None` clears a run.
    pub clear_timers: Vec<(String, Option<String>)>,
    /// Timers that fired (or proved void), to delete by key and due time: a timer set again
    /// for the same node meanwhile stays.
    pub fired: Vec<TimerRow>,
    /// Upserted by `(run_id, node, kind)`; written after the deletes.
    pub set_timers: Vec<TimerRow>,
    /// Shared stores: attempts this process starts (upserted, owned by it).
    pub leases: Vec<LeaseRow>,
    /// Shared stores: leases that end, by `(run_id, node)`; `None` ends every lease of a run.
    pub clear_leases: Vec<(String, Option<String>)>,
    /// Shared stores: task attempts that join their queue.
    pub tasks: Vec<TaskRow>,
    /// Shared stores: task attempts that are void (cancelled), by `(run_id, node)`.
    pub clear_tasks: Vec<(String, String)>,
    /// Bulk items acted on by this commit, by `(batch_id, run_id)`: marked `done` with it.
    pub bulk_done: Vec<(String, String)>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
            && self.clear_timers.is_empty()
            && self.fired.is_empty()
            && self.set_timers.is_empty()
            && self.leases.is_empty()
            && self.clear_leases.is_empty()
            && self.tasks.is_empty()
            && self.clear_tasks.is_empty()
            && self.bulk_done.is_empty()
    }

    /// The number of events the batch appends.
    pub fn event_count(&self) -> usize {
        self.runs.iter().map(|r| r.events.len()).sum()
    }
}

/// The database behind the engine, with the faults a test injected (none in production).
#[derive(Clone)]
pub struct Store {
    db: Db,
    faults: Faults,
}

#[derive(Clone)]
enum Db {
    Sqlite(Sqlite),
    Postgres(Postgres),
}

/// Calls the same method on whichever database this is.
macro_rules! delegate {
    ($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty) => {
        $(#[$doc])*
        pub async fn $name(&self, $($arg: $ty),*) -> $ret {
            match &self.db {
                Db::Sqlite(s) => s.$name($($arg),*).await,
                Db::Postgres(s) => s.$name($($arg),*).await,
            }
        }
    };
}

impl Store {
    /// Opens `sqlite://PATH` (created if missing) or `postgres://…` and applies the
    /// migrations under `migrations/`.
    pub async fn open(url: &str) -> Result<Store> {
        let db = if url.starts_with("sqlite:") {
            Db::Sqlite(Sqlite::open(url).await?)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Db::Postgres(Postgres::open(url).await?)
        } else {
            return Err(Error::Url(url.to_owned()));
        };
        Ok(Store {
            db,
            faults: Faults::default(),
        })
    }

    /// The PostgreSQL store, which several processes may share. Only `cluster` asks.
    pub fn postgres(&self) -> Option<&Postgres> {
        match &self.db {
            Db::Sqlite(_) => None,
            Db::Postgres(p) => Some(p),
        }
    }

    /// The faults tests inject into this store.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// The log of a run after `after` (0: all of it), in order.
    pub async fn events(&self, run: &str, after: i64) -> Result<Vec<Recorded>> {
        self.faults.read()?;
        match &self.db {
            Db::Sqlite(s) => s.events(run, after).await,
            Db::Postgres(s) => s.events(run, after).await,
        }
    }

    /// Writes a consistent copy of the live database to `file` (SQLite's `VACUUM INTO`, which
    /// reads one snapshot while the engine goes on writing); refuses a file that exists.
    pub async fn backup(&self, file: &str) -> Result<()> {
        match &self.db {
            Db::Sqlite(s) => s.backup(file).await,
            Db::Postgres(_) => Err(Error::BackupUnsupported),
        }
    }

    /// Writes a group commit in one transaction, or nothing (`Error::Conflict`).
    pub async fn commit(&self, b: &Batch) -> Result<()> {
        if b.is_empty() {
            return Ok(());
        }
        self.faults.commit()?;
        match &self.db {
            Db::Sqlite(s) => s.commit(b).await,
            Db::Postgres(s) => s.commit(b).await,
        }
    }

    delegate!(
        /// Saves a definition as the next version unless it equals the latest; returns the
        /// version and whether it is new. An unchanged save keeps the latest version's note.
        save_workflow(name: &str, definition: &Value, now: Millis, note: SaveNote<'_>) -> Result<(i64, bool)>
    );
    delegate!(
        /// Up to `limit` versions of `name` older than `before` (all with `None`), newest
        /// first; `None` when no workflow has that name (archived ones have their versions).
        versions(name: &str, before: Option<i64>, limit: i64) -> Result<Option<Vec<VersionRow>>>
    );
    delegate!(
        /// One version, or the latest with `None`.
        workflow(name: &str, version: Option<i64>) -> Result<Option<StoredWorkflow>>
    );
    delegate!(
        /// Every workflow not archived, with its latest version and latest run.
        list_workflows() -> Result<Vec<WorkflowSummary>>
    );
    delegate!(
        /// Archives a workflow; false if there is no such workflow.
        archive_workflow(name: &str) -> Result<bool>
    );
    delegate!(run(id: &str) -> Result<Option<RunRow>>);
    delegate!(
        /// Deletes up to `limit` finished top-level runs last updated before `before` (with
        /// `tests`: test runs begun before it), with their children and a test run's hidden
        /// definition, in one transaction; how many runs went.
        prune(before: Millis, limit: i64, tests: bool) -> Result<u64>
    );
    delegate!(
        /// Up to `limit` top-level test runs begun before `before` and still unfinished.
        expired_tests(before: Millis, limit: i64) -> Result<Vec<String>>
    );
    delegate!(
        /// Stores a test run's definition as version 1 of its hidden name ([`test_name`]),
        /// archived: no list shows it and no start by name reaches it.
        save_test_definition(name: &str, definition: &Value, now: Millis) -> Result<()>
    );
    delegate!(
        /// Gives the space pruning freed back (SQLite: incremental vacuum and a WAL
        /// checkpoint; PostgreSQL's autovacuum does this by itself).
        compact() -> Result<()>
    );
    delegate!(
        /// How many runs a bulk filter matches now.
        count_runs(f: &BulkFilter) -> Result<i64>
    );
    delegate!(
        /// Creates a bulk batch over the runs the filter matches (listed in the same
        /// transaction) on behalf of `by`; returns how many.
        create_batch(id: &str, action: &str, filter: &Value, f: &BulkFilter, now: Millis, by: Option<&str>) -> Result<i64>
    );
    delegate!(
        /// A batch with its items counted.
        batch(id: &str) -> Result<Option<BatchRow>>
    );
    delegate!(
        /// Claims a running batch until `until`.
        claim_batch(now: Millis, until: Millis) -> Result<Option<ClaimedBatch>>
    );
    delegate!(
        /// Holds a claimed batch until `until`.
        renew_batch(batch: &str, until: Millis) -> Result<()>
    );
    delegate!(
        /// Up to `limit` runs of a batch not acted on yet.
        pending_runs(batch: &str, limit: i64) -> Result<Vec<String>>
    );
    delegate!(
        /// Marks pending items done (`None`) or failed (the reason).
        settle_runs(batch: &str, settled: &[(String, Option<String>)]) -> Result<()>
    );
    delegate!(
        /// Ends a batch with nothing pending; true if it ended now.
        finish_batch(batch: &str, now: Millis) -> Result<bool>
    );
    delegate!(
        /// The runs that redrive run `id` (SPEC §6), oldest first.
        redrives_of(id: &str) -> Result<Vec<String>>
    );
    delegate!(list_runs(f: &RunFilter) -> Result<Vec<RunRow>>);
    delegate!(total_runs(f: &RunFilter) -> Result<u64>);
    delegate!(
        /// Runs that are not finished, for recovery.
        unfinished_runs() -> Result<Vec<RunRow>>
    );
    delegate!(
        /// The logs of every unfinished run (recovery), grouped by run in order.
        events_of_unfinished() -> Result<Vec<(String, Recorded)>>
    );
    delegate!(
        /// When the earliest timer is due.
        next_due() -> Result<Option<Millis>>
    );
    delegate!(
        /// Makes a workflow's `schedules` rows follow its latest version (none: archived).
        sync_schedules(workflow: &str, version: i64, specs: &[ScheduleSpec]) -> Result<()>
    );
    delegate!(
        /// Every schedule, or the one at `(workflow, index)`.
        schedules(one: Option<(&str, u32)>) -> Result<Vec<ScheduleRow>>
    );
    delegate!(
        /// Pauses or resumes a schedule; false if there is none.
        set_paused(workflow: &str, index: u32, paused: bool, next_fire_at: Option<Millis>) -> Result<bool>
    );
    delegate!(
        /// Records a run a schedule was triggered to start as its last.
        set_last_run(workflow: &str, index: u32, run: &str, at: Millis) -> Result<()>
    );
    delegate!(
        /// Writes a scheduler pass's changes and ends its claims.
        update_fired(updates: &[FiredUpdate]) -> Result<()>
    );
    delegate!(
        /// When the earliest unpaused schedule is due.
        next_schedule_due() -> Result<Option<Millis>>
    );
    delegate!(
        /// Schedules due at `now` (or with a buffered fire); PostgreSQL claims them until
        /// `claim_until`.
        due_schedules(now: Millis, limit: i64, claim_until: Millis) -> Result<Vec<ScheduleRow>>
    );
    delegate!(
        /// How many users and live API keys exist (none: the server is open).
        count_identities() -> Result<i64>
    );
    delegate!(
        /// Adds a user; false if the name is taken.
        add_user(u: &UserRow) -> Result<bool>
    );
    delegate!(
        /// Every user, by name.
        users() -> Result<Vec<UserRow>>
    );
    delegate!(
        /// The user with that name (`by_name`) or id.
        user(key: &str, by_name: bool) -> Result<Option<UserRow>>
    );
    delegate!(
        /// Changes a user's role and/or password hash (which ends their sessions); false if
        /// there is no such user.
        update_user(name: &str, role: Option<&str>, password: Option<&str>, now: Millis) -> Result<bool>
    );
    delegate!(
        /// Removes a user and their sessions; false if there is no such user.
        remove_user(name: &str) -> Result<bool>
    );
    delegate!(
        /// Binds an SSO user with no subject yet to `subject`; false if it has one.
        bind_subject(id: &str, subject: &str) -> Result<bool>
    );
    delegate!(
        /// Records a successful sign-in.
        touch_login(user_id: &str, now: Millis) -> Result<()>
    );
    delegate!(
        /// Stores a session under the hash of its cookie.
        create_session(id_hash: &str, s: &SessionRow) -> Result<()>
    );
    delegate!(
        /// The session whose cookie hashes to `id_hash`.
        session(id_hash: &str) -> Result<Option<SessionRow>>
    );
    delegate!(
        /// Moves a session's expiry on.
        touch_session(id_hash: &str, now: Millis, expires_at: Millis) -> Result<()>
    );
    delegate!(
        /// Ends a session.
        end_session(id_hash: &str) -> Result<()>
    );
    delegate!(
        /// Deletes ended sessions and failure counts quiet since `quiet_since`.
        forget_stale(now: Millis, quiet_since: Millis) -> Result<()>
    );
    delegate!(
        /// Stores a new API key (its hash).
        create_key(k: &KeyRow) -> Result<()>
    );
    delegate!(
        /// Every API key, newest first.
        keys() -> Result<Vec<KeyRow>>
    );
    delegate!(
        /// The key whose hash is `key_hash`, revoked or not.
        key_by_hash(key_hash: &str) -> Result<Option<KeyRow>>
    );
    delegate!(
        /// Revokes a live key; false if there is none with that id.
        revoke_key(id: &str, now: Millis) -> Result<bool>
    );
    delegate!(
        /// Records a key's use (at most once a minute).
        touch_key(id: &str, now: Millis) -> Result<()>
    );
    delegate!(
        /// Counts a sign-in attempt under `key` as failed until it succeeds; counts older than
        /// `since` start again. How many now, and the first's time.
        add_failure(key: &str, now: Millis, since: Millis) -> Result<(i64, Millis)>
    );
    delegate!(
        /// Takes back one attempt counted under `key`: it succeeded.
        forgive_failure(key: &str) -> Result<()>
    );
    delegate!(
        /// Forgets the failures under `key`.
        clear_failures(key: &str) -> Result<()>
    );
    delegate!(
        /// Appends rows to the audit log, in one statement.
        audit(rows: &[AuditRow]) -> Result<()>
    );
    delegate!(
        /// Audit rows, newest first.
        audit_log(f: &AuditFilter) -> Result<Vec<AuditRow>>
    );
    delegate!(
        /// Timers due at `now`. A shared store claims them for a while, so that one process
        /// fires each; a claim that lapses (the process died) frees the timer again.
        due_timers(now: Millis, limit: i64) -> Result<Vec<TimerRow>>
    );
}

/// The hidden name a test run's definition is stored under: never a valid workflow name
/// (`~` is not allowed), so no save or start by name can reach it, yet it reads well in a
/// run's row (`order~test~<run id>`).
pub fn test_name(definition_name: &str, run_id: &str) -> String {
    format!("{definition_name}~test~{run_id}")
}

/// Whether `name` is one [`test_name`] made.
pub fn is_test_name(name: &str) -> bool {
    name.contains("~test~")
}

/// How JSON values are stored (text, in both databases).
fn json_text(v: &Value) -> String {
    v.to_string()
}

fn parse_json(s: Option<String>) -> Result<Value> {
    match s {
        None => Ok(Value::Null),
        Some(s) => serde_json::from_str(&s).map_err(|e| Error::Corrupt(e.to_string())),
    }
}

/// Filters and paging of `GET /api/runs` (SPEC §6 "Finding runs").
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    pub workflow: Option<String>,
    pub status: Option<String>,
    /// Runs whose id starts with this.
    pub id_prefix: Option<String>,
    /// Created at or after (ms).
    pub created_after: Option<Millis>,
    /// Created before (ms).
    pub created_before: Option<Millis>,
    /// Only runs waiting for a person.
    pub needs_person: bool,
    /// Fields of the input that must equal a value, all of them.
    pub input: Vec<InputMatch>,
    pub limit: i64,
    /// `(created_at, id)` of the last row of the previous page.
    pub after: Option<(Millis, String)>,
    /// Oldest first (the inbox: what has waited longest), one page without `after`.
    pub oldest_first: bool,
    /// Test runs too (`?test=true`); they are left out by default.
    pub test: bool,
}
