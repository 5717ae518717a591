//! The scheduler (SPEC §5): starts a run for each fire time of each cron schedule, once.
//!
//! The `schedules` table holds, per schedule, the earliest fire time not yet handled. The
//! service sleeps on the server's [`Clock`] until the earliest one is due (or a save, pause or
//! resume wakes it, or a schedule's run ends while a fire is buffered behind it), takes the
//! due rows, starts their runs through the engine and moves each row on, in one write per pass.
//!
//! **Exactly one run per fire time.** A fire's run id is [`run_id`]`(workflow, index, at)`
//! and starts are idempotent by run id, so the `runs` primary key makes a fire handled twice —
//! by a process that crashed after starting the run but before moving the row on, or by two
//! processes on one PostgreSQL whose claims overlapped — start one run; the second start finds
//! it (`Started::Existing`). Claims (`for update skip locked` and `claimed_until`) only keep
//! processes from doing the same work; a backfill over fires the schedule already started
//! finds their runs the same way.
//!
//! **Overlap** looks at the schedule's last run (`last_run`): `skip` counts the fire as
//! skipped, `buffer_one` keeps one fire in `buffered_at` until that run ends, `allow_all`
//! starts anyway, `cancel_other` cancels it and starts. **Catch-up**: fire times more than
//! `catchup_window` before now are counted as skipped (`weft_schedule_fires_skipped_total`,
//! `reason="missed"`, and the row's `skipped`), the rest start once each.
//!
//! The service holds the engine's [`Link`] (a weak handle), so it stops with the engine.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use serde_json::Value;
use shared::event::Trigger;
use shared::schedule::{Overlap, Schedule};
use tokio::sync::Notify;

use crate::clock::{Clock, Millis};
use crate::engine::decide::Input;
use crate::engine::driver::{self, Link, Started};
use crate::engine::state::Plan;
use crate::store::{FiredUpdate, ScheduleRow, ScheduleSpec, Store};

/// The longest the service sleeps without looking: a schedule another process saved wakes
/// this one within this time of its clock.
const SAFETY_NET: Duration = Duration::from_secs(1);
/// How long the service waits after the store failed.
const BACKOFF: Duration = Duration::from_secs(1);
/// Rows taken in one pass; more are taken at once by the next.
const ROWS_PER_PASS: i64 = 500;
/// Fire times one row handles in a pass (a long catch-up window spans several passes).
const FIRES_PER_PASS: usize = 1_000;
/// Missed fire times counted one by one before the rest are jumped over (uncounted).
const MAX_COUNTED_MISSES: u64 = 100_000;
/// How long a PostgreSQL process holds the rows it took.
const CLAIM: Duration = Duration::from_secs(30);
/// How many runs a backfill starts at once.
const BACKFILL_CONCURRENCY: usize = 256;

/// The id of the run for a schedule's fire at `at`: the same in every process and after
/// every restart, so a fire can only ever have one run.
pub fn run_id(workflow: &str, index: u32, at: Millis) -> String {
    format!("sched-{workflow}-{index}-{at}")
}

/// The id of a run started by "trigger now": a fire nobody scheduled, so a new one each time.
pub fn manual_run_id(workflow: &str, index: u32) -> String {
    format!("sched-{workflow}-{index}-now-{}", uuid::Uuid::now_v7())
}

/// The scheduler as the API sees it: what wakes it.
#[derive(Clone, Default)]
pub struct Scheduler {
    wake: Arc<Notify>,
}

impl Scheduler {
    /// Starts the service on `store`, starting runs through `link`.
    pub fn start(store: Store, link: Link) -> Scheduler {
        let scheduler = Scheduler::default();
        let service = Service {
            store,
            clock: link.clock.clone(),
            link,
            wake: scheduler.wake.clone(),
        };
        tokio::spawn(service.run());
        scheduler
    }

    /// Something changed (a save, a pause or resume): look again now.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// Makes `workflow`'s rows follow its latest definition (`None`: archived), the next fire
/// times of new or changed schedules counted from `now`.
pub async fn sync(
    store: &Store,
    workflow: &str,
    version: i64,
    definition: Option<&shared::Workflow>,
    now: Millis,
) -> Result<(), crate::store::Error> {
    let specs: Vec<ScheduleSpec> = definition
        .map(|wf| wf.schedules())
        .unwrap_or_default()
        .iter()
        .map(|s| {
            let timezone = s
                .timezone
                .clone()
                .unwrap_or_else(|| shared::schedule::DEFAULT_TIMEZONE.to_owned());
            let next_fire_at = Schedule::parse(&s.cron, Some(&timezone))
                .ok()
                .and_then(|p| p.next_after(now));
            ScheduleSpec {
                cron: s.cron.clone(),
                timezone,
                next_fire_at,
            }
        })
        .collect();
    store.sync_schedules(workflow, version, &specs).await
}

/// The schedule a row stands for, read from the version it follows.
pub struct Resolved {
    pub plan: Arc<Plan>,
    pub schedule: Schedule,
    pub spec: shared::model::ScheduleTrigger,
}

/// Reads the schedule of `row` from its version; `None` if that version has no such
/// schedule or it does not parse (a row out of step with its workflow).
pub async fn resolve(
    plans: &crate::engine::plans::Plans,
    row: &ScheduleRow,
) -> Result<Option<Resolved>, crate::store::Error> {
    let Some(plan) = plans.get(&row.workflow, row.version).await? else {
        return Ok(None);
    };
    let Some(spec) = plan.workflow.schedules().get(row.index as usize).cloned() else {
        return Ok(None);
    };
    let Ok(schedule) = Schedule::parse(&row.cron, Some(&row.timezone)) else {
        return Ok(None);
    };
    Ok(Some(Resolved {
        plan,
        schedule,
        spec,
    }))
}

/// How one start ended: the run (new or found) and its status, or why it could not start.
enum Outcome {
    Started { status: String },
    Failed,
}

struct Service {
    store: Store,
    link: Link,
    clock: Clock,
    wake: Arc<Notify>,
}

impl Service {
    async fn run(self) {
        if let Err(e) = self.reconcile().await {
            tracing::warn!(error = %e, "bringing schedules in step with their workflows");
        }
        let mut finished = self.link.published.subscribe();
        loop {
            let now = self.clock.now();
            let later = |d: Duration| now.saturating_add(d.as_millis() as i64);
            let mut until = later(SAFETY_NET);
            match self.pass(now).await {
                Ok(true) => continue,
                Ok(false) => match self.store.next_schedule_due().await {
                    Ok(Some(t)) => until = until.min(t),
                    Ok(None) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "reading schedules");
                        until = later(BACKOFF);
                    }
                },
                Err(e) => {
                    tracing::warn!(error = %e, "a scheduler pass failed; trying again");
                    until = later(BACKOFF);
                }
            }
            if !self.link.is_alive() {
                return;
            }
            tokio::select! {
                () = self.clock.sleep_until(until) => {}
                () = self.wake.notified() => {}
                // A schedule's run ended: a fire buffered behind it may start now.
                () = ended(&mut finished) => {}
            }
            if !self.link.is_alive() {
                return;
            }
        }
    }

    /// Brings every workflow's rows in step with its latest version: a save whose rows were
    /// not written (the process died between the two writes) is caught up at start.
    async fn reconcile(&self) -> Result<(), crate::store::Error> {
        let rows = self.store.schedules(None).await?;
        let now = self.clock.now();
        let active = self.store.list_workflows().await?;
        for w in &active {
            let mine: Vec<&ScheduleRow> = rows.iter().filter(|r| r.workflow == w.name).collect();
            let Some(plan) = self.link.plans.get(&w.name, w.version).await? else {
                continue;
            };
            let want = plan.workflow.schedules().len();
            if mine.len() == want && mine.iter().all(|r| r.version == w.version) {
                continue;
            }
            sync(&self.store, &w.name, w.version, Some(&plan.workflow), now).await?;
        }
        let mut gone: Vec<&str> = rows
            .iter()
            .map(|r| r.workflow.as_str())
            .filter(|name| !active.iter().any(|w| w.name == *name))
            .collect();
        gone.dedup();
        for name in gone {
            sync(&self.store, name, 0, None, now).await?;
        }
        Ok(())
    }

    /// Handles every due row once; true when there may be more due rows right now.
    async fn pass(&self, now: Millis) -> Result<bool, crate::store::Error> {
        let claim = now.saturating_add(CLAIM.as_millis() as i64);
        let rows = self.store.due_schedules(now, ROWS_PER_PASS, claim).await?;
        if rows.is_empty() {
            return Ok(false);
        }
        let full = rows.len() as i64 == ROWS_PER_PASS;
        let updates: Vec<FiredUpdate> = join_all(rows.iter().map(|r| self.handle(r, now)))
            .await
            .into_iter()
            .collect::<Result<_, _>>()?;
        // Rows whose due fires all started and that only wait for a buffered run are left
        // as they were: no need to write them, and no reason to look again at once.
        let busy = updates.iter().zip(&rows).any(|(u, r)| !unchanged(u, r));
        self.store.update_fired(&updates).await?;
        Ok(full && busy)
    }

    /// Handles one row's buffered fire and due fire times.
    async fn handle(
        &self,
        row: &ScheduleRow,
        now: Millis,
    ) -> Result<FiredUpdate, crate::store::Error> {
        let mut u = FiredUpdate {
            workflow: row.workflow.clone(),
            index: row.index,
            next_fire_at: row.next_fire_at,
            last_fire_at: row.last_fire_at,
            last_run: row.last_run.clone(),
            buffered_at: row.buffered_at,
            skipped: 0,
        };
        let Some(r) = resolve(&self.link.plans, row).await? else {
            tracing::warn!(workflow = %row.workflow, index = row.index, "a schedule row without its schedule; it stays until the next save");
            u.next_fire_at = None;
            u.buffered_at = None;
            return Ok(u);
        };
        let mut last_status = row.last_run_status.clone();
        let running = |s: &Option<String>| s.as_deref().is_some_and(is_running);

        // A fire buffered behind a run that has ended starts first.
        if let Some(at) = u.buffered_at
            && !running(&last_status)
        {
            match self.start(&r, row, at).await {
                Outcome::Started { status } => {
                    u.buffered_at = None;
                    u.last_run = Some(run_id(&row.workflow, row.index, at));
                    u.last_fire_at = Some(at);
                    last_status = Some(status);
                }
                Outcome::Failed => return Ok(u),
            }
        }

        let Some(next) = u.next_fire_at.filter(|t| *t <= now) else {
            return Ok(u);
        };
        let oldest = now.saturating_sub(r.spec.catchup().as_millis() as i64);
        let mut missed: u64 = 0;
        let mut fire = Some(next);
        while let Some(t) = fire.filter(|t| *t < oldest) {
            missed += 1;
            fire = if missed < MAX_COUNTED_MISSES {
                r.schedule.next_after(t)
            } else {
                r.schedule.next_after(oldest.saturating_sub(1))
            };
        }
        if missed > 0 {
            tracing::info!(workflow = %row.workflow, index = row.index, missed, "fire times missed by more than the catch-up window are skipped");
            crate::metrics::schedule_skipped("missed", missed);
            u.skipped += missed as i64;
        }
        let policy = r.spec.overlap_policy();
        let mut handled = 0;
        while let Some(t) = fire.filter(|t| *t <= now && handled < FIRES_PER_PASS) {
            handled += 1;
            if running(&last_status)
                && u.last_run.as_deref() != Some(&run_id(&row.workflow, row.index, t))
            {
                match policy {
                    Overlap::Skip => {
                        crate::metrics::schedule_skipped("overlap", 1);
                        u.skipped += 1;
                        fire = r.schedule.next_after(t);
                        continue;
                    }
                    Overlap::BufferOne => {
                        if u.buffered_at.is_none() {
                            u.buffered_at = Some(t);
                        } else {
                            crate::metrics::schedule_skipped("overlap", 1);
                            u.skipped += 1;
                        }
                        fire = r.schedule.next_after(t);
                        continue;
                    }
                    Overlap::CancelOther => {
                        if let Some(prev) = &u.last_run {
                            let reason = Some(format!(
                                "cancelled by schedule {} (cancel_other) for its fire at {t}",
                                row.index
                            ));
                            match self.link.input(prev, Input::Cancel { reason }).await {
                                Ok(())
                                | Err(driver::Error::Rejected(_) | driver::Error::RunNotFound(_)) =>
                                    {}
                                Err(e) => {
                                    tracing::warn!(run = %prev, error = %e, "cancelling the previous run of a schedule")
                                }
                            }
                        }
                    }
                    Overlap::AllowAll => {}
                }
            }
            match self.start(&r, row, t).await {
                Outcome::Started { status } => {
                    u.last_run = Some(run_id(&row.workflow, row.index, t));
                    u.last_fire_at = Some(t);
                    last_status = Some(status);
                    crate::metrics::schedule_fired((self.clock.now() - t).max(0));
                }
                // Not moved past: the fire is tried again by the next pass.
                Outcome::Failed => {
                    u.next_fire_at = Some(t);
                    return Ok(u);
                }
            }
            fire = r.schedule.next_after(t);
        }
        u.next_fire_at = fire;
        Ok(u)
    }

    /// Starts (or finds) the run of the fire at `at`.
    async fn start(&self, r: &Resolved, row: &ScheduleRow, at: Millis) -> Outcome {
        let id = run_id(&row.workflow, row.index, at);
        let trigger = Some(Trigger {
            schedule: row.index,
            at,
        });
        match self
            .link
            .start(id.clone(), r.plan.clone(), r.spec.run_input(), trigger)
            .await
        {
            Ok(Started::Created(run) | Started::Existing(run)) => {
                Outcome::Started { status: run.status }
            }
            // The fire's run exists with another input (the schedule's input changed since):
            // it is still the fire's one run.
            Err(driver::Error::InputConflict(_)) => Outcome::Started {
                status: "unknown".into(),
            },
            Err(e) => {
                tracing::warn!(run = %id, error = %e, "a schedule's run could not start; trying again");
                Outcome::Failed
            }
        }
    }
}

/// True for a run status the overlap policy waits on.
fn is_running(status: &str) -> bool {
    status == "running" || status == "paused"
}

fn unchanged(u: &FiredUpdate, r: &ScheduleRow) -> bool {
    u.next_fire_at == r.next_fire_at
        && u.last_run == r.last_run
        && u.buffered_at == r.buffered_at
        && u.skipped == 0
}

/// Resolves when a commit ends a schedule's run (or the feed lagged, and one may have).
async fn ended(rx: &mut tokio::sync::broadcast::Receiver<Arc<driver::Committed>>) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        match rx.recv().await {
            Ok(c)
                if c.run_id.starts_with("sched-")
                    && c.events.iter().any(|e| e.event.is_final()) =>
            {
                return;
            }
            Ok(_) => {}
            Err(RecvError::Lagged(_)) => return,
            Err(RecvError::Closed) => std::future::pending::<()>().await,
        }
    }
}

/// Starts one run per fire time of a backfill, at most [`BACKFILL_CONCURRENCY`] at once;
/// returns how many were new and how many existed. Stops at the first start that fails.
pub async fn backfill(
    engine: &driver::Engine,
    r: &Resolved,
    workflow: &str,
    index: u32,
    fires: &[Millis],
    by: Option<&str>,
) -> Result<(usize, usize), driver::Error> {
    let input: Value = r.spec.run_input();
    let (mut started, mut existing) = (0, 0);
    for chunk in fires.chunks(BACKFILL_CONCURRENCY) {
        let starts = chunk.iter().map(|&at| {
            engine.start_triggered(
                run_id(workflow, index, at),
                r.plan.clone(),
                input.clone(),
                Some(Trigger {
                    schedule: index,
                    at,
                }),
                by.map(str::to_owned),
            )
        });
        for result in join_all(starts).await {
            match result {
                Ok(Started::Created(_)) => started += 1,
                Ok(Started::Existing(_)) | Err(driver::Error::InputConflict(_)) => existing += 1,
                Err(e) => return Err(e),
            }
        }
    }
    Ok((started, existing))
}
