//! One round: every command drained from the channel, decided one after the other. A run
//! touched twice in a round is decided the second time on the state the first left (the
//! round holds it, accepted or not), so two results of one fan-out never race for the same
//! `seq`. Each run decided is written with its events and its index row together, against
//! the `last_seq` it was read at.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use serde_json::Value;
use shared::model::NodeKind;

use super::children::Follow;
use super::{Command, Driver, Error, Started, has_inflight, run_row};
use crate::clock::Millis;
use crate::engine::decide::{Decision, Input, Origin, Rejected, TimerKind, decide_owned};
use crate::engine::effect::{Effect, attempt_effect, effects};
use crate::engine::event::Recorded;
use crate::engine::state::{NodeStatus, Plan, RunState};
use crate::store::{self, Batch, RunWrite, TimerRow};

/// What a command came to, sent to its caller once the round is durable.
pub(super) enum Outcome {
    Start(Result<Started, Error>),
    Input(Result<(), Error>),
    /// Timers that could not be fired this round (they stay in the store).
    Timers(usize),
    Done,
}

/// A run's part of the round: its log position when read, its new events, and whether it
/// was read from the log in this round (rather than taken from memory).
struct Touched {
    expected: i64,
    events: Vec<Recorded>,
    fresh: bool,
    /// Decided (not only read): it is written, even with no events, so a store that others
    /// append to checks the decision was made on the latest log.
    decided: bool,
}

/// What one drained set of commands will write and do.
pub(super) struct Round {
    pub(super) now: Millis,
    /// The state of every run the round read, as the round leaves it.
    pub(super) states: HashMap<String, RunState>,
    touched: HashMap<String, Touched>,
    /// Runs in the order they were first touched, so commits and publishing keep it.
    order: Vec<String>,
    pub(super) batch: Batch,
    pub(super) perform: Vec<(String, Effect)>,
    pub(super) outcomes: Vec<Outcome>,
    pub(super) new_timers: bool,
    /// What the round's decisions ask of other runs in the same commit (`children`).
    pub(super) follow: VecDeque<Follow>,
    /// Child runs this round started; past a budget a `map` refills on its timer instead.
    pub(super) children_started: usize,
    /// The latest version of each workflow a child was started from, read once per round.
    pub(super) latest: HashMap<String, Option<i64>>,
}

impl Round {
    pub(super) fn new(now: Millis) -> Round {
        Round {
            now,
            states: HashMap::new(),
            touched: HashMap::new(),
            order: Vec::new(),
            batch: Batch {
                now,
                ..Batch::default()
            },
            perform: Vec::new(),
            outcomes: Vec::new(),
            new_timers: false,
            follow: VecDeque::new(),
            children_started: 0,
            latest: HashMap::new(),
        }
    }

    /// Moves every decided run's events and index row into the batch.
    pub(super) fn seal(&mut self) {
        for id in &self.order {
            let (Some(t), Some(s)) = (self.touched.get_mut(id), self.states.get(id)) else {
                continue;
            };
            if t.decided {
                self.batch.runs.push(RunWrite {
                    expected: t.expected,
                    events: std::mem::take(&mut t.events),
                    row: run_row(s),
                });
            }
        }
    }

    /// The run ids this round touched, in order, each once.
    pub(super) fn runs(&self) -> &[String] {
        &self.order
    }

    /// Notes that the round read `run_id` at `expected` (fresh: from the log); a run read
    /// again keeps its place and what it was decided to so far.
    fn touch(&mut self, run_id: &str, expected: i64, fresh: bool) {
        match self.touched.get_mut(run_id) {
            Some(t) => {
                t.expected = expected;
                t.fresh = fresh;
            }
            None => {
                self.order.push(run_id.to_owned());
                self.touched.insert(
                    run_id.to_owned(),
                    Touched {
                        expected,
                        events: Vec::new(),
                        fresh,
                        decided: false,
                    },
                );
            }
        }
    }
}

impl Driver {
    /// Decides every command of a round, and after each what it asks of other runs (child
    /// runs to start or cancel, parents to tell): all of it is written in one commit. A store
    /// error while doing the latter fails the round (it is then written command by command).
    pub(super) async fn decide_all(
        &mut self,
        cmds: &[Command],
        round: &mut Round,
    ) -> Result<(), store::Error> {
        for cmd in cmds {
            let outcome = self.handle(cmd, round).await;
            round.outcomes.push(outcome);
            self.follow_all(round).await?;
        }
        round.seal();
        Ok(())
    }

    async fn handle(&mut self, cmd: &Command, round: &mut Round) -> Outcome {
        match cmd {
            Command::Start {
                run_id,
                plan,
                input,
                trigger,
                redrive,
                by,
                test,
                ..
            } => {
                let origin = Origin {
                    parent: None,
                    trigger: *trigger,
                    redrive: redrive.clone(),
                    by: by.clone(),
                    test: test.clone(),
                };
                Outcome::Start(self.start(run_id, plan, input, origin, round).await)
            }
            Command::Input { run_id, input, .. } => {
                Outcome::Input(self.input(run_id, input.clone(), round).await)
            }
            Command::Bulk {
                batch,
                run_id,
                input,
                ..
            } => {
                let taken = self.input(run_id, input.clone(), round).await;
                if taken.is_ok() {
                    round.batch.bulk_done.push((batch.clone(), run_id.clone()));
                }
                Outcome::Input(taken)
            }
            Command::Timers { due, notified, .. } => {
                let mut unfired = 0;
                for t in due {
                    if self.timer(t, notified.clone(), round).await {
                        round.batch.fired.push(t.clone());
                    } else {
                        unfired += 1;
                    }
                }
                Outcome::Timers(unfired)
            }
            Command::Resume {
                run_id,
                node,
                attempt,
            } => match self.resume(run_id, node, *attempt, round).await {
                Ok(()) => Outcome::Done,
                Err(e) => {
                    tracing::warn!(run = %run_id, node = %node, error = %e, "resuming an attempt failed; trying again later");
                    self.retry_later(Command::Resume {
                        run_id: run_id.clone(),
                        node: node.clone(),
                        attempt: *attempt,
                    });
                    Outcome::Done
                }
            },
        }
    }

    /// Fires one timer. True when it is done with: it fired, or it is void (its run is gone
    /// or finished, its node moved on). False when the run could not be read: the timer stays
    /// in the store and fires again later.
    async fn timer(
        &mut self,
        t: &TimerRow,
        notified: Option<Result<u16, String>>,
        round: &mut Round,
    ) -> bool {
        let Some(kind) = TimerKind::parse(&t.kind) else {
            tracing::warn!(kind = %t.kind, "dropping a timer of unknown kind");
            return true;
        };
        let input = match (kind, notified) {
            (TimerKind::Notify, Some(outcome)) => Input::Notified {
                node: t.node.clone(),
                step: t.attempt,
                outcome,
            },
            // Its POST is the timer service's to make first.
            (TimerKind::Notify, None) => return false,
            _ => Input::TimerFired {
                node: t.node.clone(),
                kind,
                attempt: t.attempt,
            },
        };
        match self.input(&t.run_id, input, round).await {
            Ok(()) | Err(Error::RunNotFound(_) | Error::Rejected(_)) => true,
            Err(e) => {
                tracing::warn!(run = %t.run_id, node = %t.node, error = %e, "a timer could not fire; it stays and fires again");
                false
            }
        }
    }

    /// The run's state for this round: as the round left it, else from memory, else folded
    /// from the log.
    async fn state(
        &mut self,
        run_id: &str,
        round: &mut Round,
    ) -> Result<Option<RunState>, store::Error> {
        if let Some(s) = round.states.remove(run_id) {
            return Ok(Some(s));
        }
        let (state, fresh) = match self.runs.remove(run_id) {
            Some(s) => (Some(s), false),
            None => (self.link.plans.load(run_id).await?, true),
        };
        if let Some(s) = &state {
            round.touch(run_id, s.seq, fresh);
        }
        Ok(state)
    }

    /// Reads the run from the log again: its state in memory may be older than the log
    /// (another process appended since), and a refusal must not rest on a stale view.
    async fn reread(
        &mut self,
        run_id: &str,
        round: &mut Round,
    ) -> Result<Option<RunState>, store::Error> {
        let state = self.link.plans.load(run_id).await?;
        if let Some(s) = &state {
            round.touch(run_id, s.seq, true);
        }
        Ok(state)
    }

    pub(super) async fn start(
        &mut self,
        run_id: &str,
        plan: &Arc<Plan>,
        input: &Value,
        origin: Origin,
        round: &mut Round,
    ) -> Result<Started, Error> {
        let existing = match round.states.get(run_id).or_else(|| self.runs.get(run_id)) {
            Some(s) => Some(run_row(s)),
            None => self.store.run(run_id).await?,
        };
        if let Some(row) = existing {
            if row.input != *input {
                return Err(Error::InputConflict(run_id.to_owned()));
            }
            return Ok(Started::Existing(row));
        }
        let fresh = RunState::new(run_id.to_owned(), plan.clone(), input.clone());
        let start = Input::Start {
            workflow: plan.name.clone(),
            version: plan.version,
            parent: origin.parent,
            trigger: origin.trigger,
            redrive: origin.redrive,
            by: origin.by,
            test: origin.test,
        };
        let d = decide_owned(fresh, start, round.now).map_err(|refused| refused.0)?;
        round.touch(run_id, 0, true);
        self.record(0, d, round);
        Ok(Started::Created(run_row(&round.states[run_id])))
    }

    /// A `task` attempt's result with `***` for every value of a secret the node reads: a
    /// worker got them in its input and may echo them (SPEC §7), as an `http` target may
    /// (its results are masked where they are made, `activity::Mask`).
    fn masked(&self, state: &RunState, input: Input) -> Input {
        let Input::AttemptFinished {
            node,
            attempt,
            result,
            exchange,
        } = input
        else {
            return input;
        };
        let result = match state.node_index(&node) {
            Some(i)
                if matches!(state.plan.kind(i), NodeKind::Task(_))
                    && !state.plan.secrets[i].is_empty() =>
            {
                self.secrets.mask(&state.plan.secrets[i]).outcome(result)
            }
            _ => result,
        };
        Input::AttemptFinished {
            node,
            attempt,
            result,
            exchange,
        }
    }

    pub(super) async fn input(
        &mut self,
        run_id: &str,
        input: Input,
        round: &mut Round,
    ) -> Result<(), Error> {
        let Some(state) = self.state(run_id, round).await? else {
            return Err(Error::RunNotFound(run_id.to_owned()));
        };
        let seq = state.seq;
        let input = self.masked(&state, input);
        let state = match decide_owned(state, input.clone(), round.now).map_err(|r| *r) {
            Ok(d) => {
                if d.events.is_empty() && matches!(input, Input::AttemptFinished { .. }) {
                    crate::metrics::late_result();
                }
                self.record(seq, d, round);
                return Ok(());
            }
            Err((Rejected::Finished(status), state))
                if matches!(input, Input::AttemptFinished { .. }) =>
            {
                // The run ended while the attempt was out: its result changes nothing.
                crate::metrics::late_result();
                round.states.insert(run_id.to_owned(), state);
                return Err(Rejected::Finished(status).into());
            }
            Err((e, _)) if self.may_be_stale(run_id, round) => {
                tracing::debug!(run = %run_id, error = %e, "refused on a view from memory; reading the log again");
                match self.reread(run_id, round).await? {
                    Some(s) => s,
                    None => return Err(Error::RunNotFound(run_id.to_owned())),
                }
            }
            Err((e, state)) => {
                round.states.insert(run_id.to_owned(), state);
                return Err(e.into());
            }
        };
        let seq = state.seq;
        match decide_owned(state, input, round.now).map_err(|r| *r) {
            Ok(d) => {
                self.record(seq, d, round);
                Ok(())
            }
            Err((e, state)) => {
                round.states.insert(run_id.to_owned(), state);
                Err(e.into())
            }
        }
    }

    /// Whether the run's state came from memory and was not changed in this round.
    fn may_be_stale(&self, run_id: &str, round: &Round) -> bool {
        round
            .touched
            .get(run_id)
            .is_some_and(|t| !t.fresh && !t.decided)
    }

    /// Sends a taken-over attempt again if its node is still running that attempt. The log is
    /// read afresh: memory may be behind what another process appended.
    async fn resume(
        &mut self,
        run_id: &str,
        node: &str,
        attempt: u32,
        round: &mut Round,
    ) -> Result<(), store::Error> {
        let Some(state) = self.state(run_id, round).await? else {
            return Ok(());
        };
        let state = if self.may_be_stale(run_id, round) {
            match self.reread(run_id, round).await? {
                Some(s) => s,
                None => return Ok(()),
            }
        } else {
            state
        };
        let current = state.node_index(node).is_some_and(|i| {
            state.nodes[i].status == NodeStatus::Running && state.nodes[i].attempts == attempt
        });
        if current && !state.status.is_finished() {
            let effect = state
                .node_index(node)
                .and_then(|i| attempt_effect(&state, i, attempt));
            round
                .perform
                .extend(effect.map(|fx| (run_id.to_owned(), fx)));
            if let Some(t) = round.touched.get_mut(run_id) {
                t.decided = true;
            }
        }
        round.states.insert(run_id.to_owned(), state);
        Ok(())
    }

    /// Adds a decision's events and effects to the round; the round keeps the new state.
    /// `seq`: the run's last seq before the decision.
    fn record(&mut self, seq: i64, d: Decision, round: &mut Round) {
        let Decision { events, state } = d;
        let id = state.id.clone();
        for fx in effects(&state, &events, round.now) {
            match fx {
                Effect::SetTimer {
                    node,
                    kind,
                    attempt,
                    due,
                } => {
                    round.new_timers = true;
                    round.batch.set_timers.push(TimerRow {
                        run_id: id.clone(),
                        node,
                        kind: kind.as_str().to_owned(),
                        attempt,
                        due_at: due,
                    });
                }
                Effect::ClearTimers { node } => {
                    round.batch.clear_timers.push((id.clone(), Some(node)))
                }
                Effect::ClearRunTimers => round.batch.clear_timers.push((id.clone(), None)),
                fx @ (Effect::StartChild { .. }
                | Effect::CancelChild { .. }
                | Effect::NotifyParent) => round.follow.extend(Follow::of(&state, fx)),
                other => round.perform.push((id.clone(), other)),
            }
        }
        let t = round
            .touched
            .get_mut(&id)
            .expect("a decided run was read in this round");
        t.decided = true;
        t.events
            .extend(events.into_iter().enumerate().map(|(k, event)| Recorded {
                seq: seq + 1 + k as i64,
                at: round.now,
                event,
            }));
        round.states.insert(id, state);
    }

    /// After a durable round: publishes its events, performs its effects and keeps in memory
    /// only runs with an attempt in flight.
    pub(super) fn after_commit(&mut self, round: Round) -> Vec<Outcome> {
        let Round {
            mut states,
            batch,
            perform,
            outcomes,
            new_timers,
            order,
            ..
        } = round;
        if new_timers {
            self.link.timers.notify_one();
        }
        let listening = self.link.published.receiver_count() > 0;
        for w in batch.runs {
            let Some(s) = states.get(&w.row.id) else {
                continue;
            };
            crate::metrics::record(s, &w.events);
            if listening && !w.events.is_empty() {
                let c = super::Committed {
                    run_id: w.row.id,
                    workflow: s.plan.name.clone(),
                    test: s.test.is_some(),
                    status: s.status.as_str().to_owned(),
                    needs_person: w.row.needs_person,
                    events: w.events,
                };
                let _ = self.link.published.send(Arc::new(c));
            }
        }
        for (run_id, fx) in perform {
            if let Some(s) = states.get(&run_id) {
                self.perform(s, fx);
            }
        }
        for id in order {
            if let Some(s) = states.remove(&id)
                && has_inflight(&s)
            {
                self.runs.insert(id, s);
            }
        }
        outcomes
    }
}
