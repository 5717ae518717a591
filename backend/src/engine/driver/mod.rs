//! The driver: the one writer. It takes commands from a channel, folds and decides each run,
//! writes the events of every command it drained in one transaction (group commit), then
//! replies, publishes the events and performs the effects.
//!
//! Nothing here sleeps to find work: commands, finished attempts and due timers all arrive
//! on the channel. Runs with an attempt in flight stay in memory; a run that only waits (an
//! approval, a timer, a signal) is dropped from memory and folded again from its log when
//! something happens to it.
//!
//! The driver does not know how many processes share the store. What coordinating them
//! needs (leases, a shared task queue, recovery, takeover) is a [`Coordinator`]'s, which
//! `cluster` provides; the driver hands it each round's effects before the commit and the
//! task effects after it. Every run a round decided is committed against the `last_seq` it
//! was decided on, so a store that others append to can refuse a stale decision
//! ([`store::Error::Conflict`]); the round is then decided again from the log.
//!
//! - [`round`]: deciding one drained set of commands.
//! - [`commit`]: writing a round, and what happens when a write fails.
//! - [`children`]: child runs started, cancelled and reported on in their parent's commit.

mod children;
mod commit;
mod round;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::{Notify, broadcast, mpsc, oneshot};

use super::activity::Secrets;
use super::decide::{ActivityError, Exchange, Input, Redrive, Rejected};
use super::effect::Effect;
use super::event::Recorded;
use super::plans::Plans;
use super::state::{NodeStatus, Plan, RunState};
use crate::clock::Clock;
use crate::store::{self, Batch, RunRow, Store, TimerRow};
use shared::event::{TestRun, Trigger};

/// Why the engine did not take a command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("run `{0}` not found")]
    RunNotFound(String),
    #[error(transparent)]
    Rejected(#[from] Rejected),
    #[error("run `{0}` exists with a different input")]
    InputConflict(String),
    #[error("the engine is shutting down")]
    Stopped,
    #[error("the write failed; nothing was recorded: {0}")]
    CommitFailed(String),
    #[error(transparent)]
    Store(#[from] store::Error),
}

/// How a start request ended.
#[derive(Debug)]
pub enum Started {
    Created(RunRow),
    /// The same `run_id` with the same input: the run that exists.
    Existing(RunRow),
}

/// The events of one run in one commit, as published to stream subscribers.
#[derive(Debug)]
pub struct Committed {
    pub run_id: String,
    pub workflow: String,
    pub status: String,
    /// The run waits for a person after the commit (SPEC §6 `needs=person`).
    pub needs_person: bool,
    /// A test run: the runs feed leaves it out unless asked.
    pub test: bool,
    pub events: Vec<Recorded>,
}

/// What coordinating several processes (or one) needs from each round: `cluster` implements
/// it; the driver calls it without knowing which store it runs on.
pub trait Coordinator: Send + Sync + 'static {
    /// Adds to the round's batch what coordinating its effects needs, written in the same
    /// transaction as the events that call for them (leases on attempts, queue rows). `runs`
    /// holds the state of every run the round decided.
    fn prepare(
        &self,
        batch: &mut Batch,
        effects: &[(String, Effect)],
        runs: &HashMap<String, RunState>,
    );

    /// Performs a task effect (`Task`, `AbandonTask`) once its events are durable.
    fn perform(&self, run: &RunState, effect: &Effect);
}

/// What the driver takes from its channel.
pub(crate) enum Command {
    Start {
        run_id: String,
        plan: Arc<Plan>,
        input: Value,
        trigger: Option<Trigger>,
        redrive: Option<Arc<Redrive>>,
        /// Who started it through the API (SPEC §7).
        by: Option<String>,
        /// A test run's stubs and stop (SPEC §6 "Test runs").
        test: Option<TestRun>,
        reply: oneshot::Sender<Result<Started, Error>>,
    },
    Input {
        run_id: String,
        input: Input,
        reply: Option<oneshot::Sender<Result<(), Error>>>,
    },
    /// An input a bulk batch sends: like `Input`, and when the run takes it, its item of
    /// batch `batch` is marked done in the same commit (SPEC §6: each run acted on once).
    Bulk {
        batch: String,
        run_id: String,
        input: Input,
        reply: oneshot::Sender<Result<(), Error>>,
    },
    /// Due timers; the reply says how many could not be fired (they stay, and fire later).
    Timers {
        due: Vec<TimerRow>,
        /// For a `notify` timer (alone in `due`): the POST the timer service made for it.
        notified: Option<Result<u16, String>>,
        reply: oneshot::Sender<usize>,
    },
    /// An attempt in flight per the log (after a restart, or a lease taken over from a
    /// process that died): send it again if the log says it is still current.
    Resume {
        run_id: String,
        node: String,
        attempt: u32,
    },
}

/// The engine's side door for the shells around it (`cluster`, the timer service, task
/// queues): a weak handle, so the driver stops when the last [`Engine`] is dropped.
#[derive(Clone)]
pub struct Link {
    tx: mpsc::WeakSender<Command>,
    /// Every commit's events, per run, for live streams.
    pub published: broadcast::Sender<Arc<Committed>>,
    /// Wakes the timer service: a new timer may be due earlier.
    pub timers: Arc<Notify>,
    pub plans: Plans,
    pub clock: Clock,
}

impl Link {
    /// Whether the engine still runs.
    pub fn is_alive(&self) -> bool {
        self.tx.upgrade().is_some()
    }

    async fn send(&self, cmd: Command) -> Result<(), Error> {
        let tx = self.tx.upgrade().ok_or(Error::Stopped)?;
        tx.send(cmd).await.map_err(|_| Error::Stopped)
    }

    /// Asks the driver to send attempt `attempt` of `node` again if it is still current.
    pub async fn resume(&self, run_id: String, node: String, attempt: u32) -> Result<(), Error> {
        self.send(Command::Resume {
            run_id,
            node,
            attempt,
        })
        .await
    }

    /// Hands an attempt's outcome (an `http` attempt's with its exchange) to the driver
    /// without waiting for it to be recorded.
    pub async fn report(
        &self,
        run_id: String,
        node: String,
        attempt: u32,
        result: Result<Value, ActivityError>,
        exchange: Option<Exchange>,
    ) {
        let input = Input::AttemptFinished {
            node,
            attempt,
            result,
            exchange,
        };
        let _ = self
            .send(Command::Input {
                run_id,
                input,
                reply: None,
            })
            .await;
    }

    /// Hands an attempt's outcome to the driver and waits until it is durable, so a worker
    /// may forget the task once its call returns.
    pub async fn report_durably(
        &self,
        run_id: &str,
        node: &str,
        attempt: u32,
        result: Result<Value, ActivityError>,
    ) -> Result<(), Error> {
        let (reply, done) = oneshot::channel();
        let input = Input::AttemptFinished {
            node: node.to_owned(),
            attempt,
            result,
            exchange: None,
        };
        self.send(Command::Input {
            run_id: run_id.to_owned(),
            input,
            reply: Some(reply),
        })
        .await?;
        done.await.map_err(|_| Error::Stopped)?
    }

    /// Starts a run, like [`Engine::start_triggered`], for a shell that must not keep the
    /// engine alive (the scheduler).
    pub async fn start(
        &self,
        run_id: String,
        plan: Arc<Plan>,
        input: Value,
        trigger: Option<Trigger>,
    ) -> Result<Started, Error> {
        let origin = Origin {
            trigger,
            ..Origin::default()
        };
        let (cmd, done) = start_command(run_id, plan, input, origin);
        self.send(cmd).await?;
        done.await.map_err(|_| Error::Stopped)?
    }

    /// Feeds an input to a run and waits until it is durable (the scheduler's cancels).
    pub async fn input(&self, run_id: &str, input: Input) -> Result<(), Error> {
        let (reply, done) = oneshot::channel();
        self.send(Command::Input {
            run_id: run_id.to_owned(),
            input,
            reply: Some(reply),
        })
        .await?;
        done.await.map_err(|_| Error::Stopped)?
    }

    /// Feeds a bulk batch's input to a run and waits until it is durable, together with the
    /// batch item's `done` mark.
    pub async fn send_bulk(&self, batch: &str, run_id: &str, input: Input) -> Result<(), Error> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Bulk {
            batch: batch.to_owned(),
            run_id: run_id.to_owned(),
            input,
            reply,
        })
        .await?;
        rx.await.map_err(|_| Error::Stopped)?
    }

    /// Starts a redrive, like [`Engine::start_redrive`], for a shell that must not keep the
    /// engine alive (bulk batches, which pass who made the batch).
    pub async fn start_redrive(
        &self,
        run_id: String,
        plan: Arc<Plan>,
        input: Value,
        redrive: Redrive,
        by: Option<String>,
    ) -> Result<Started, Error> {
        let origin = Origin {
            redrive: Some(redrive),
            by,
            ..Origin::default()
        };
        let (cmd, done) = start_command(run_id, plan, input, origin);
        self.send(cmd).await?;
        done.await.map_err(|_| Error::Stopped)?
    }

    /// Fires due timers; returns how many could not be (they stay in the store).
    pub(crate) async fn fire(&self, due: Vec<TimerRow>) -> Result<usize, Error> {
        let (reply, done) = oneshot::channel();
        self.send(Command::Timers {
            due,
            notified: None,
            reply,
        })
        .await?;
        done.await.map_err(|_| Error::Stopped)
    }

    /// Fires a due `notify` timer whose POST was made (SPEC §7 escalations): the log records
    /// the outcome and the timer leaves the store in that commit. True when it fired.
    pub(crate) async fn notified(
        &self,
        timer: TimerRow,
        outcome: Result<u16, String>,
    ) -> Result<bool, Error> {
        let (reply, done) = oneshot::channel();
        self.send(Command::Timers {
            due: vec![timer],
            notified: Some(outcome),
            reply,
        })
        .await?;
        Ok(done.await.map_err(|_| Error::Stopped)? == 0)
    }
}

/// The handle the API holds.
#[derive(Clone)]
pub struct Engine {
    tx: mpsc::Sender<Command>,
    pub published: broadcast::Sender<Arc<Committed>>,
    pub plans: Plans,
    pub clock: Clock,
}

/// An engine whose driver has not started yet: built first so that its [`Link`] can be given
/// to the coordinator the driver then runs with.
pub struct Pending {
    rx: mpsc::Receiver<Command>,
    store: Store,
    link: Link,
}

impl Engine {
    /// The engine's handle, its link and the driver waiting for [`Pending::run`].
    pub fn new(store: Store, clock: Clock) -> (Engine, Link, Pending) {
        let (tx, rx) = mpsc::channel(65_536);
        let (published, _) = broadcast::channel(16_384);
        let plans = Plans::new(store.clone());
        let link = Link {
            tx: tx.downgrade(),
            published: published.clone(),
            timers: Arc::new(Notify::new()),
            plans: plans.clone(),
            clock: clock.clone(),
        };
        let engine = Engine {
            tx,
            published,
            plans,
            clock,
        };
        let pending = Pending {
            rx,
            store,
            link: link.clone(),
        };
        (engine, link, pending)
    }

    /// Starts a run a caller of the API asked for; `by` is who (SPEC §7).
    pub async fn start_run(
        &self,
        run_id: String,
        plan: Arc<Plan>,
        input: Value,
        by: Option<String>,
    ) -> Result<Started, Error> {
        let origin = Origin {
            by,
            ..Origin::default()
        };
        self.start_with(run_id, plan, input, origin).await
    }

    /// Starts a run that records what started it (a schedule's fire) and who asked for it
    /// (trigger now, backfill); idempotent by `run_id` like [`Engine::start_run`].
    pub async fn start_triggered(
        &self,
        run_id: String,
        plan: Arc<Plan>,
        input: Value,
        trigger: Option<Trigger>,
        by: Option<String>,
    ) -> Result<Started, Error> {
        let origin = Origin {
            trigger,
            by,
            ..Origin::default()
        };
        self.start_with(run_id, plan, input, origin).await
    }

    /// Starts a test run (SPEC §6 "Test runs") of a plan stored under its hidden name: its
    /// stubbed nodes complete with their stubs, and it stops after `test.until`.
    pub async fn start_test(
        &self,
        run_id: String,
        plan: Arc<Plan>,
        input: Value,
        test: TestRun,
        by: Option<String>,
    ) -> Result<Started, Error> {
        let origin = Origin {
            test: Some(test),
            by,
            ..Origin::default()
        };
        self.start_with(run_id, plan, input, origin).await
    }

    /// Starts a run that redrives a finished one (SPEC §6): its first decision completes the
    /// nodes `redrive` reuses from their recorded outputs.
    pub async fn start_redrive(
        &self,
        run_id: String,
        plan: Arc<Plan>,
        input: Value,
        redrive: Redrive,
        by: Option<String>,
    ) -> Result<Started, Error> {
        let origin = Origin {
            redrive: Some(redrive),
            by,
            ..Origin::default()
        };
        self.start_with(run_id, plan, input, origin).await
    }

    /// Sends a start and waits for the run's first commit.
    async fn start_with(
        &self,
        run_id: String,
        plan: Arc<Plan>,
        input: Value,
        origin: Origin,
    ) -> Result<Started, Error> {
        let (cmd, done) = start_command(run_id, plan, input, origin);
        self.tx.send(cmd).await.map_err(|_| Error::Stopped)?;
        done.await.map_err(|_| Error::Stopped)?
    }

    /// Feeds an input to a run and waits until its events are durable.
    pub async fn send(&self, run_id: &str, input: Input) -> Result<(), Error> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Command::Input {
                run_id: run_id.to_owned(),
                input,
                reply: Some(reply),
            })
            .await
            .map_err(|_| Error::Stopped)?;
        rx.await.map_err(|_| Error::Stopped)?
    }
}

impl Pending {
    /// Starts the driver and the timer service.
    pub fn run(
        self,
        coordinator: Arc<dyn Coordinator>,
        secrets: Secrets,
    ) -> tokio::task::JoinHandle<()> {
        let (store, link) = (self.store.clone(), self.link.clone());
        let (driver, rx) = self.driver(coordinator, secrets);
        tokio::spawn(super::timers::service(store, link));
        tokio::spawn(driver.run(rx))
    }

    fn driver(
        self,
        coordinator: Arc<dyn Coordinator>,
        secrets: Secrets,
    ) -> (Driver, mpsc::Receiver<Command>) {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .build()
            .expect("http client");
        let driver = Driver {
            store: self.store,
            link: self.link,
            runs: HashMap::new(),
            client,
            secrets,
            coordinator,
        };
        (driver, self.rx)
    }
}

struct Driver {
    store: Store,
    link: Link,
    /// Runs with an attempt in flight, as of the last commit.
    runs: HashMap<String, RunState>,
    client: reqwest::Client,
    secrets: Secrets,
    coordinator: Arc<dyn Coordinator>,
}

/// A run the driver keeps in memory: one with an attempt under way.
fn has_inflight(s: &RunState) -> bool {
    !s.status.is_finished() && s.nodes.iter().any(|n| n.status == NodeStatus::Running)
}

/// What a start carries besides its run, plan and input: what started it (a schedule's
/// fire, a redrive or a test run; at most one) and who asked for it.
#[derive(Default)]
struct Origin {
    trigger: Option<Trigger>,
    redrive: Option<Redrive>,
    test: Option<TestRun>,
    by: Option<String>,
}

/// The driver's command for a start, and where its answer will come.
fn start_command(
    run_id: String,
    plan: Arc<Plan>,
    input: Value,
    origin: Origin,
) -> (Command, oneshot::Receiver<Result<Started, Error>>) {
    let (reply, done) = oneshot::channel();
    let cmd = Command::Start {
        run_id,
        plan,
        input,
        trigger: origin.trigger,
        redrive: origin.redrive.map(Arc::new),
        by: origin.by,
        test: origin.test,
        reply,
    };
    (cmd, done)
}

fn run_row(s: &RunState) -> RunRow {
    RunRow {
        id: s.id.clone(),
        workflow: s.plan.name.clone(),
        version: s.plan.version,
        status: s.status.as_str().to_owned(),
        input: s.input.clone(),
        output: s.output.clone(),
        error: s.error.clone(),
        created_at: s.created_at,
        updated_at: s.updated_at,
        last_seq: s.seq,
        redrive_of: s.redrive_of.as_ref().map(|r| r.run.clone()),
        parent_run: s.parent.as_ref().map(|p| p.run.clone()),
        needs_person: s.needs_person(),
        test: s.test.is_some(),
    }
}
