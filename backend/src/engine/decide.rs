//! `decide`: the pure core. Given a run's state, one input and the time, it returns the new
//! events (and the state they lead to). No I/O, no clock reads, no randomness.
//!
//! Tokens flow along edges (SPEC §1 "Tokens and merge"): when a node is decided every edge
//! leaving it is decided too, carrying the run or not; a node whose incoming edges are all
//! decided runs if one carried the run, and is skipped otherwise.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use shared::access::Role;
use shared::approval;
use shared::limits::{MAX_BUFFERED_SIGNALS, MAX_CHILD_DEPTH, MAX_MAP_ITEMS, check_value};
use shared::model::{NodeKind, Verdict};

use super::children;
use super::event::{
    ChildStatus, Event, HttpRequestRecord, HttpResponseRecord, Millis, Parent, RedriveOf, TestRun,
    Trigger,
};
use super::render;
use super::state::{NodeStatus, RunState, RunStatus};

/// What happened to a run, from outside the core.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// Begin a new run (its state is fresh).
    Start {
        workflow: String,
        version: i64,
        /// Set when a `subflow` or `map` node starts this run.
        parent: Option<Parent>,
        /// A schedule's fire, recorded in `run_started`.
        trigger: Option<Trigger>,
        /// Set when the run redrives a finished one: what it reuses.
        redrive: Option<Arc<Redrive>>,
        /// Who started it through the API (SPEC §7).
        by: Option<String>,
        /// A test run's stubs and stop (SPEC §6 "Test runs").
        test: Option<TestRun>,
    },
    /// Hold the run: nothing new starts until [`Input::Resume`].
    Pause {
        reason: Option<String>,
    },
    Resume,
    /// An activity attempt ended; an `http` attempt with what went over the wire.
    AttemptFinished {
        node: String,
        attempt: u32,
        result: Result<Value, ActivityError>,
        exchange: Option<Exchange>,
    },
    /// A due timer: a retry backoff, a timer node, a wait's deadline, the run's deadline.
    TimerFired {
        node: String,
        kind: TimerKind,
        attempt: u32,
    },
    /// A person's decision on a waiting approval (SPEC §7); `data` already matched its form.
    Decide {
        node: String,
        verdict: Verdict,
        by: Caller,
        comment: Option<String>,
        data: Value,
    },
    Signal {
        name: String,
        payload: Value,
    },
    /// The timer service made an escalation's `notify` POST: the status, or why none came.
    Notified {
        node: String,
        step: u32,
        outcome: Result<u16, String>,
    },
    Cancel {
        reason: Option<String>,
    },
    /// A child run of node `node` (item `index` of a `map`) ended. `refill`: a `map` may
    /// start the next item's child now; otherwise it does so when its refill timer fires
    /// (the driver bounds how many children one round starts).
    ChildFinished {
        node: String,
        index: Option<u32>,
        run: String,
        status: ChildStatus,
        output: Value,
        error: Option<String>,
        refill: bool,
    },
}

/// What a redrive's first decision reuses (SPEC §6): the original run, the nodes it runs
/// again from, and each reusable node's recorded port and output. A reusable node the new
/// run reaches while it starts completes with that output, marked `reused_from`; one it
/// reaches later (after a node that runs again) runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Redrive {
    pub of: String,
    pub from: Vec<String>,
    pub reuse: HashMap<String, (Option<String>, Value)>,
}

/// How many times an escalation's notice is POSTed before it is given up on (SPEC §7).
pub const NOTICE_TRIES: u32 = 5;
/// The wait before a notice's second POST; it doubles for each one after (2, 4, 8, 16 s).
const NOTICE_BACKOFF_MS: Millis = 2_000;

/// Where a new run comes from besides its caller: a parent, a schedule's fire, a redrive.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub parent: Option<Parent>,
    pub trigger: Option<Trigger>,
    pub redrive: Option<Arc<Redrive>>,
    /// Who started it through the API.
    pub by: Option<String>,
    /// A test run's stubs and stop; a child of a test run gets an empty one.
    pub test: Option<TestRun>,
}

/// An `http` attempt's request and response as recorded (secrets masked, bodies cut), put in
/// the log as `http_exchanged` just before the attempt's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Exchange {
    pub request: Box<HttpRequestRecord>,
    pub response: Option<Box<HttpResponseRecord>>,
}

/// Why an attempt failed, and whether another may succeed.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityError {
    pub message: String,
    pub retryable: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerKind {
    /// The backoff before attempt `attempt` is over.
    Retry,
    /// A `timer` node's duration is over.
    Wait,
    /// An approval's or signal's deadline.
    Deadline,
    /// The run's `timeout`.
    RunDeadline,
    /// A `map` node has room for more children than it started.
    Refill,
    /// An approval's escalation step `attempt` is due.
    Escalate,
    /// An escalation's `notify` POST is due (the timer service makes it, then reports).
    Notify,
}

impl TimerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TimerKind::Retry => "retry",
            TimerKind::Wait => "wait",
            TimerKind::Deadline => "deadline",
            TimerKind::RunDeadline => "run_deadline",
            TimerKind::Refill => "refill",
            TimerKind::Escalate => "escalate",
            TimerKind::Notify => "notify",
        }
    }

    pub fn parse(s: &str) -> Option<TimerKind> {
        Some(match s {
            "retry" => TimerKind::Retry,
            "wait" => TimerKind::Wait,
            "deadline" => TimerKind::Deadline,
            "run_deadline" => TimerKind::RunDeadline,
            "refill" => TimerKind::Refill,
            "escalate" => TimerKind::Escalate,
            "notify" => TimerKind::Notify,
            _ => return None,
        })
    }
}

/// Who decides an approval, as the access layer authenticated them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// What the log records: a user's name, `key:<name>`, `token`, `local`.
    pub name: String,
    pub role: Role,
    /// Whether the node's rules apply: not on an open server, where everyone is the admin
    /// `local` and there is nobody to tell apart.
    pub checked: bool,
    /// Whether the name stands for one person or key, so the self-approval rule can compare
    /// it with the run's starter: not the shared `WEFT_API_TOKEN`.
    pub person: bool,
}

/// Why an input cannot be taken; maps to 404/409 (403 for who may decide) at the API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    #[error("run is already {0}")]
    Finished(&'static str),
    #[error("node `{0}` not found in this run's workflow")]
    UnknownNode(String),
    #[error("node `{node}` is not a waiting approval (it is {status})")]
    NotWaiting { node: String, status: &'static str },
    #[error("run is already being cancelled")]
    AlreadyCancelling,
    /// SPEC §3: a signal only a `signal` node can take, or it would be kept forever.
    #[error(
        "no `signal` node of workflow `{workflow}` version {version} takes the signal `{name}`"
    )]
    UnknownSignal {
        name: String,
        workflow: String,
        version: i64,
    },
    /// The run holds `MAX_BUFFERED_SIGNALS` signals that no node has taken yet.
    #[error(
        "the run already holds {MAX_BUFFERED_SIGNALS} signals no `signal` node has taken \
         (the limit per run); it takes another once one of them is taken"
    )]
    TooManySignals,
    #[error("run is paused; resume it first")]
    Paused,
    #[error("run is already paused")]
    AlreadyPaused,
    #[error("run is not paused (it is {0})")]
    NotPaused(&'static str),
    /// The approval's `approvers` (and escalations reached so far) do not name the caller.
    #[error("{0}")]
    NotApprover(String),
    /// The caller started the run and the approval does not allow self-approval.
    #[error(
        "you ({by}) started this run, and approval `{node}` does not allow self-approval \
         (`allow_self_approval`); someone else must decide"
    )]
    SelfApproval { node: String, by: String },
}

/// The events an input produced and the state after them.
#[derive(Debug)]
pub struct Decision {
    pub events: Vec<Event>,
    pub state: RunState,
}

/// An activity's output, or the failure that says it is over a limit of what a run keeps
/// (a task completion may be up to the 1 MiB body limit, and 128 levels deep).
fn within_limit(output: Value) -> Result<Value, ActivityError> {
    match check_value(&output) {
        Ok(()) => Ok(output),
        Err(e) => Err(ActivityError {
            message: format!("output_too_large: {e}, the limit of a node's output"),
            retryable: false,
        }),
    }
}

fn ms(d: Duration) -> Millis {
    d.as_millis().min(i64::MAX as u128) as Millis
}

/// Decides what happens next for one run. Pure: same state + input + now ⇒ same events.
pub fn decide(run: &RunState, input: Input, now: Millis) -> Result<Decision, Rejected> {
    decide_owned(run.clone(), input, now).map_err(|refused| refused.0)
}

/// [`decide`] on a state the caller gives up, so nothing is cloned (a `map`'s parent holds
/// up to 10,000 children). A refusal hands the state back unchanged: every refusal is made
/// before the first event.
pub fn decide_owned(
    run: RunState,
    input: Input,
    now: Millis,
) -> Result<Decision, Box<(Rejected, RunState)>> {
    let mut d = Decider {
        s: run,
        events: Vec::new(),
        now,
        decided: Vec::new(),
        draining: false,
        reuse: None,
    };
    match d.take(input) {
        Ok(()) => Ok(Decision {
            events: d.events,
            state: d.s,
        }),
        Err(e) => {
            debug_assert!(d.events.is_empty(), "refused after deciding: {e}");
            Err(Box::new((e, d.s)))
        }
    }
}

struct Decider {
    s: RunState,
    events: Vec<Event>,
    now: Millis,
    /// Nodes decided whose successors are still to be looked at ([`Decider::propagate`]).
    decided: Vec<usize>,
    /// True while [`Decider::propagate`]'s loop runs, so a node decided inside it is queued
    /// rather than followed by a nested call: a chain of instant nodes costs no stack.
    draining: bool,
    /// While a redrive starts: the nodes it completes from the original run's log.
    reuse: Option<Arc<Redrive>>,
}

impl Decider {
    fn emit(&mut self, e: Event) {
        self.s.apply(&e, self.now);
        self.events.push(e);
    }

    /// When node `i`'s wait ends (its `timeout`), counted from now.
    fn deadline(&self, i: usize) -> Option<Millis> {
        self.s
            .plan
            .limits(i)
            .timeout
            .map(|t| self.now.saturating_add(ms(t)))
    }

    fn id(&self, i: usize) -> String {
        self.s.plan.workflow.nodes[i].id.clone()
    }

    fn take(&mut self, input: Input) -> Result<(), Rejected> {
        if self.s.status.is_finished() && !matches!(input, Input::Start { .. }) {
            return Err(Rejected::Finished(self.s.status.as_str()));
        }
        match input {
            Input::Start {
                workflow,
                version,
                parent,
                trigger,
                redrive,
                by,
                test,
            } => {
                let input = self.s.input.clone();
                let redrive_of = redrive.as_ref().map(|r| RedriveOf {
                    run: r.of.clone(),
                    from: r.from.clone(),
                });
                self.emit(Event::RunStarted {
                    workflow,
                    version,
                    input,
                    parent,
                    trigger,
                    redrive_of,
                    by,
                    test,
                });
                self.reuse = redrive;
                let start = self.s.plan.start;
                self.activate(start);
                self.reuse = None;
            }
            Input::Pause { reason } => {
                if self.s.status == RunStatus::Paused {
                    return Err(Rejected::AlreadyPaused);
                }
                if self.s.cancelling {
                    return Err(Rejected::AlreadyCancelling);
                }
                self.emit(Event::RunPaused { reason });
            }
            Input::Resume => {
                if self.s.status != RunStatus::Paused {
                    return Err(Rejected::NotPaused(self.s.status.as_str()));
                }
                self.emit(Event::RunResumed);
                self.catch_up();
            }
            Input::TimerFired { .. } if self.s.held() => {
                // Due timers wait, escalations too: `catch_up` fires what fell due once the
                // run resumes. A notice already recorded as due is not held (`Notified`): its
                // escalation happened before the pause.
                return Err(Rejected::Paused);
            }
            Input::AttemptFinished {
                node,
                attempt,
                result,
                exchange,
            } => self.attempt_finished(&node, attempt, result, exchange),
            Input::TimerFired {
                node,
                kind,
                attempt,
            } => self.timer_fired(&node, kind, attempt),
            Input::Decide {
                node,
                verdict,
                by,
                comment,
                data,
            } => return self.decide_approval(&node, verdict, by, comment, data),
            Input::Notified {
                node,
                step,
                outcome,
            } => self.notified(&node, step, outcome),
            Input::Signal { name, payload } => {
                let takes = |i: usize| matches!(self.s.plan.kind(i), NodeKind::Signal(sig) if sig.signal == name);
                let nodes = 0..self.s.nodes.len();
                if !nodes.clone().any(takes) {
                    return Err(Rejected::UnknownSignal {
                        name,
                        workflow: self.s.plan.workflow.name.clone(),
                        version: self.s.plan.version,
                    });
                }
                let waiting = nodes
                    .clone()
                    .find(|&i| self.s.nodes[i].status == NodeStatus::Waiting && takes(i));
                if waiting.is_none() && self.s.signals.len() >= MAX_BUFFERED_SIGNALS {
                    return Err(Rejected::TooManySignals);
                }
                self.emit(Event::SignalReceived {
                    name: name.clone(),
                    payload: payload.clone(),
                });
                if let Some(i) = waiting {
                    let node = self.id(i);
                    self.emit(Event::NodeCompleted {
                        node,
                        port: Some("next".into()),
                        output: payload,
                        reused_from: None,
                        stubbed: false,
                    });
                    self.propagate(i);
                }
            }
            Input::ChildFinished {
                node,
                index,
                run,
                status,
                output,
                error,
                refill,
            } => self.child_finished(
                &node,
                Event::ChildFinished {
                    node: node.clone(),
                    index,
                    run,
                    status,
                    output,
                    error,
                },
                refill,
            ),
            Input::Cancel { reason } => {
                if self.s.cancelling {
                    return Err(Rejected::AlreadyCancelling);
                }
                self.emit(Event::CancelRequested {
                    reason: reason.clone(),
                });
                self.cancel_active();
                if let Some(c) = self.s.plan.on_cancel {
                    self.activate(c);
                }
            }
        }
        self.finish_if_done();
        Ok(())
    }

    /// Starts a node whose turn has come.
    fn activate(&mut self, i: usize) {
        let node = self.id(i);
        if let Some((port, output)) = self.reuse.as_ref().and_then(|r| r.reuse.get(&node)) {
            let reused = Event::NodeCompleted {
                node,
                port: port.clone(),
                output: output.clone(),
                reused_from: self.reuse.as_ref().map(|r| r.of.clone()),
                stubbed: false,
            };
            self.emit(reused);
            return self.propagate(i);
        }
        if let Some(output) = self.s.stub(i) {
            // A test run's stub: the node completes as if it had acted, and nothing runs.
            self.emit(Event::NodeCompleted {
                node,
                port: Some("next".to_owned()),
                output,
                reused_from: None,
                stubbed: true,
            });
            return self.propagate(i);
        }
        let plan = self.s.plan.clone();
        let completed = |port: &str, output: Value| Event::NodeCompleted {
            node: node.clone(),
            port: Some(port.to_owned()),
            output,
            reused_from: None,
            stubbed: false,
        };
        match plan.kind(i) {
            NodeKind::Start(_) | NodeKind::Parallel(_) | NodeKind::Join(_) => {
                self.emit(completed("next", Value::Null))
            }
            kind @ (NodeKind::Transform(_)
            | NodeKind::End(_)
            | NodeKind::Condition(_)
            | NodeKind::Approval(_)) => {
                if !plan.quick[i] {
                    // Rendered apart (`render`): its value comes back as the attempt's result.
                    self.emit(Event::NodeStarted { node, attempt: 1 });
                    return;
                }
                let rendered = render::value(kind, &self.s.context_for(i));
                return self.rendered(i, rendered);
            }
            NodeKind::Http(_) | NodeKind::Task(_) => {
                self.emit(Event::NodeStarted { node, attempt: 1 });
                return;
            }
            kind @ (NodeKind::Subflow(_) | NodeKind::Map(_)) => {
                // Running from here until its children are done; a template that is not
                // quick renders apart first, as the node's attempt 1.
                self.emit(Event::NodeStarted { node, attempt: 1 });
                if self.s.depth() >= MAX_CHILD_DEPTH {
                    return self.fail_node(
                        i,
                        format!("child runs nest deeper than {MAX_CHILD_DEPTH} levels (the limit)"),
                    );
                }
                if plan.quick[i] {
                    let rendered = render::value(kind, &self.s.context_for(i));
                    self.rendered(i, rendered);
                }
                return;
            }
            NodeKind::Signal(sig) => {
                if let Some((_, payload)) = self.s.signals.iter().find(|(n, _)| *n == sig.signal) {
                    let payload = payload.clone();
                    self.emit(completed("next", payload));
                } else {
                    let until = self.deadline(i);
                    self.emit(Event::NodeWaiting {
                        node,
                        until,
                        prompt: None,
                    });
                    return;
                }
            }
            NodeKind::Timer(_) => {
                let wait = plan
                    .limits(i)
                    .wait
                    .expect("a timer's plan has its duration");
                let until = self.now.saturating_add(ms(wait));
                self.emit(Event::NodeWaiting {
                    node,
                    until: Some(until),
                    prompt: None,
                });
                return;
            }
        }
        self.propagate(i);
    }

    /// Goes on from what node `i`'s templates rendered to ([`render::value`]), here or apart:
    /// a transform or an `end` completes with it, a condition takes the port its truth names,
    /// an approval waits with it as its prompt.
    fn rendered(&mut self, i: usize, rendered: Result<Value, String>) {
        let output = match rendered {
            Ok(v) => v,
            Err(e) => return self.fail_node(i, e),
        };
        match self.s.plan.kind(i) {
            NodeKind::Subflow(_) => return self.start_child(i, None, output),
            NodeKind::Map(_) => return self.map_items(i, output),
            _ => {}
        }
        let node = self.id(i);
        let port = match self.s.plan.kind(i) {
            NodeKind::End(_) => None,
            NodeKind::Condition(_) => Some(if output == Value::Bool(true) {
                "true"
            } else {
                "false"
            }),
            NodeKind::Approval(_) => {
                let prompt = match output {
                    Value::String(p) => p,
                    other => other.to_string(),
                };
                let until = self.deadline(i);
                self.emit(Event::NodeWaiting {
                    node,
                    until,
                    prompt: Some(prompt),
                });
                return;
            }
            _ => Some("next"),
        };
        self.emit(Event::NodeCompleted {
            node,
            port: port.map(str::to_owned),
            output,
            reused_from: None,
            stubbed: false,
        });
        self.propagate(i);
    }

    /// After node `i` is decided, runs or skips every node whose incoming edges are now all
    /// decided. A worklist, not recursion: `activate` and `fail_node_via` call this for the
    /// node they decide, and inside the loop that only queues it, so however long a chain of
    /// instant nodes is, the stack stays flat.
    fn propagate(&mut self, i: usize) {
        self.decided.push(i);
        if self.draining {
            return;
        }
        self.draining = true;
        let plan = self.s.plan.clone();
        while let Some(n) = self.decided.pop() {
            if self.s.stops_at(n) {
                self.stop_at(n);
                continue;
            }
            for &e in &plan.outgoing[n] {
                if self.s.status.is_finished() {
                    break;
                }
                let t = plan.target(e);
                if self.s.nodes[t].status != NodeStatus::Pending {
                    continue;
                }
                let decided: Option<Vec<bool>> =
                    plan.incoming[t].iter().map(|&x| self.s.edges[x]).collect();
                let Some(carried) = decided else { continue };
                if carried.iter().any(|c| *c) {
                    // A held run leaves the node pending; `catch_up` starts it on resume.
                    if !self.s.held() {
                        self.activate(t);
                    }
                } else {
                    self.emit(Event::NodeSkipped { node: self.id(t) });
                    self.decided.push(t);
                }
            }
        }
        self.draining = false;
    }

    /// A node failed for good: through its failure port if drawn, else the run fails.
    fn fail_node_via(&mut self, i: usize, error: String, port: &str) {
        let node = self.id(i);
        if self.s.plan.has_port(i, port) {
            self.emit(Event::NodeFailed {
                node,
                error,
                port: Some(port.to_owned()),
            });
            self.propagate(i);
        } else {
            self.emit(Event::NodeFailed {
                node: node.clone(),
                error: error.clone(),
                port: None,
            });
            self.fail_run(format!("node `{node}` failed: {error}"));
        }
    }

    fn fail_node(&mut self, i: usize, error: String) {
        self.fail_node_via(i, error, "error");
    }

    fn fail_run(&mut self, error: String) {
        if self.s.status.is_finished() {
            return;
        }
        self.cancel_active();
        self.emit(Event::RunFailed { error });
    }

    /// A test run's `until` node was decided: the run completes with its output, and
    /// whatever else is under way is abandoned, as when a run fails.
    fn stop_at(&mut self, i: usize) {
        if self.s.status.is_finished() {
            return;
        }
        self.cancel_active();
        let output = self.s.nodes[i].output.clone();
        self.emit(Event::RunCompleted {
            output,
            until: Some(self.id(i)),
        });
    }

    /// Abandons every attempt, timer and wait under way.
    fn cancel_active(&mut self) {
        for i in 0..self.s.nodes.len() {
            if self.s.nodes[i].status.is_active() {
                self.emit(Event::NodeCancelled { node: self.id(i) });
            }
        }
    }

    fn finish_if_done(&mut self) {
        if self.s.status.is_finished() {
            return;
        }
        let plan = self.s.plan.clone();
        let on_path = |i: usize| plan.cancel_path[i] == self.s.cancelling;
        let all_decided = (0..self.s.nodes.len())
            .filter(|&i| on_path(i))
            .all(|i| self.s.nodes[i].status.is_decided());
        if self.s.cancelling {
            // Without an `on_cancel` path there is nothing to wait for.
            if all_decided {
                let failed = (0..self.s.nodes.len())
                    .find(|&i| plan.cancel_path[i] && self.s.nodes[i].status == NodeStatus::Failed);
                let reason = match failed {
                    Some(f) => Some(format!(
                        "cancel path failed at `{}`: {}",
                        self.id(f),
                        self.s.nodes[f].error.clone().unwrap_or_default()
                    )),
                    None => self.s.cancel_reason.clone(),
                };
                self.emit(Event::RunCancelled { reason });
            }
            return;
        }
        if all_decided {
            let ends: Vec<usize> = (0..self.s.nodes.len())
                .filter(|&i| {
                    !plan.cancel_path[i]
                        && matches!(plan.kind(i), NodeKind::End(_))
                        && self.s.nodes[i].status == NodeStatus::Completed
                })
                .collect();
            let output = match ends.as_slice() {
                [one] => self.s.nodes[*one].output.clone(),
                many => Value::Object(
                    many.iter()
                        .map(|&i| (self.id(i), self.s.nodes[i].output.clone()))
                        .collect(),
                ),
            };
            self.emit(Event::RunCompleted {
                output,
                until: None,
            });
        }
    }

    /// On resume, does what the pause held back: fires the timers that fell due (they were
    /// refused while held), starts the nodes whose turn came, and fills `map`s. A timer of
    /// these still in the store fires later as stale and changes nothing.
    fn catch_up(&mut self) {
        let plan = self.s.plan.clone();
        if plan
            .timeout
            .is_some_and(|t| self.s.created_at.saturating_add(ms(t)) <= self.now)
        {
            return self.timer_fired("", TimerKind::RunDeadline, 0);
        }
        for i in 0..self.s.nodes.len() {
            if self.s.status.is_finished() {
                return;
            }
            let n = &self.s.nodes[i];
            let due = n.due_at.is_some_and(|d| d <= self.now);
            let node = self.id(i);
            match n.status {
                NodeStatus::Retrying if due => {
                    let next = n.attempts + 1;
                    self.timer_fired(&node, TimerKind::Retry, next);
                }
                NodeStatus::Waiting if due => {
                    let kind = match plan.kind(i) {
                        NodeKind::Timer(_) => TimerKind::Wait,
                        _ => TimerKind::Deadline,
                    };
                    self.timer_fired(&node, kind, 0);
                }
                // The escalation step that fell due meanwhile; the next follow by their timers.
                NodeStatus::Waiting if n.notified == n.escalated => {
                    let step = n.escalated;
                    let after = plan.limits(i).escalate.get(step as usize).copied();
                    let since = n.started_at.unwrap_or(self.now);
                    if after.is_some_and(|a| since.saturating_add(ms(a)) <= self.now) {
                        self.escalate(i, step);
                    }
                }
                NodeStatus::Running if self.s.awaits_children(i) => {
                    let timeout = plan.limits(i).timeout;
                    let started = n.started_at.unwrap_or(self.now);
                    if matches!(plan.kind(i), NodeKind::Subflow(_))
                        && timeout.is_some_and(|t| started.saturating_add(ms(t)) <= self.now)
                    {
                        self.timer_fired(&node, TimerKind::Deadline, 0);
                    } else {
                        self.fill(i);
                    }
                }
                NodeStatus::Pending => {
                    let carried: Option<Vec<bool>> =
                        plan.incoming[i].iter().map(|&x| self.s.edges[x]).collect();
                    if carried.is_some_and(|c| c.iter().any(|c| *c)) {
                        self.activate(i);
                    }
                }
                _ => {}
            }
        }
    }

    fn attempt_finished(
        &mut self,
        node: &str,
        attempt: u32,
        result: Result<Value, ActivityError>,
        exchange: Option<Exchange>,
    ) {
        let Some(i) = self.s.node_index(node) else {
            return;
        };
        let n = &self.s.nodes[i];
        // A late result of an attempt that was abandoned changes nothing.
        if n.status != NodeStatus::Running || n.attempts != attempt {
            return;
        }
        if render::by_decide(self.s.plan.kind(i)) {
            return self.rendered(i, result.map_err(|e| e.message));
        }
        let node = node.to_owned();
        if let Some(x) = exchange {
            self.emit(Event::HttpExchanged {
                node: node.clone(),
                attempt,
                request: x.request,
                response: x.response,
            });
        }
        let result = result.and_then(within_limit);
        match result {
            Ok(output) => {
                self.emit(Event::NodeCompleted {
                    node,
                    port: Some("next".into()),
                    output,
                    reused_from: None,
                    stubbed: false,
                });
                self.propagate(i);
            }
            Err(err) => {
                let retry = self
                    .s
                    .plan
                    .limits(i)
                    .retry
                    .expect("an activity's plan has its retry policy");
                if err.retryable && attempt < retry.max_attempts {
                    let retry_at = self.now.saturating_add(ms(retry.backoff(attempt)));
                    self.emit(Event::AttemptFailed {
                        node,
                        attempt,
                        error: err.message,
                        retry_at: Some(retry_at),
                    });
                } else {
                    self.emit(Event::AttemptFailed {
                        node,
                        attempt,
                        error: err.message.clone(),
                        retry_at: None,
                    });
                    let why = if err.retryable {
                        format!("{} (after {attempt} attempts)", err.message)
                    } else {
                        err.message
                    };
                    self.fail_node(i, why);
                }
            }
        }
    }

    fn timer_fired(&mut self, node: &str, kind: TimerKind, attempt: u32) {
        if kind == TimerKind::RunDeadline {
            let limit = self
                .s
                .plan
                .workflow
                .timeout
                .as_ref()
                .map(|t| t.to_string())
                .unwrap_or_default();
            return self.fail_run(format!("run timed out after {limit}"));
        }
        let Some(i) = self.s.node_index(node) else {
            return;
        };
        let n = &self.s.nodes[i];
        match kind {
            TimerKind::Retry if n.status == NodeStatus::Retrying && n.attempts + 1 == attempt => {
                self.emit(Event::NodeStarted {
                    node: node.to_owned(),
                    attempt,
                });
            }
            TimerKind::Wait if n.status == NodeStatus::Waiting => {
                self.emit(Event::NodeCompleted {
                    node: node.to_owned(),
                    port: Some("next".into()),
                    output: Value::Null,
                    reused_from: None,
                    stubbed: false,
                });
                self.propagate(i);
            }
            TimerKind::Deadline
                if n.status == NodeStatus::Running
                    && matches!(self.s.plan.kind(i), NodeKind::Subflow(_)) =>
            {
                let limit = match self.s.plan.kind(i) {
                    NodeKind::Subflow(s) => s.timeout.as_ref().map(|t| t.to_string()),
                    _ => None,
                };
                let run = n.children.first().map(|c| c.run.to_string());
                self.fail_node(
                    i,
                    format!(
                        "child run `{}` timed out after {}",
                        run.unwrap_or_default(),
                        limit.unwrap_or_default()
                    ),
                );
            }
            TimerKind::Refill if n.status == NodeStatus::Running => self.fill(i),
            TimerKind::Escalate => self.escalate(i, attempt),
            TimerKind::Deadline if n.status == NodeStatus::Waiting => {
                let what = match self.s.plan.kind(i) {
                    NodeKind::Approval(a) => {
                        if let Some(verdict) = a.default_decision {
                            return self.decided(i, verdict, None, None, Value::Null);
                        }
                        "approval"
                    }
                    _ => "signal",
                };
                if self.s.plan.has_port(i, "timeout") {
                    self.emit(Event::NodeCompleted {
                        node: node.to_owned(),
                        port: Some("timeout".into()),
                        output: json!({"timed_out": true}),
                        reused_from: None,
                        stubbed: false,
                    });
                    self.propagate(i);
                } else {
                    self.fail_node_via(i, format!("{what} timed out"), "timeout");
                }
            }
            // Stale: the node moved on before the timer fired.
            _ => {}
        }
    }

    /// Records that node `i` starts its child run for item `index` (none for a `subflow`)
    /// with `input`; the driver starts the child in the same commit.
    fn start_child(&mut self, i: usize, index: Option<u32>, input: Value) {
        if let Err(e) = check_value(&input) {
            return self.fail_node(i, format!("the child's input: {e}"));
        }
        let (workflow, version) = match self.s.plan.kind(i) {
            NodeKind::Subflow(s) => (s.workflow.clone(), s.version),
            NodeKind::Map(m) => (m.workflow.clone(), m.version),
            _ => return,
        };
        let node = self.id(i);
        let run = children::run_id(&self.s.id, &node, index);
        self.emit(Event::ChildStarted {
            node,
            index,
            run,
            workflow,
            version,
            input,
        });
    }

    /// A `map`'s items rendered: anything but an array (or more than the limit) fails the
    /// node; an empty array completes it at once with `[]`.
    fn map_items(&mut self, i: usize, items: Value) {
        let items = match items {
            Value::Array(items) if items.len() <= MAX_MAP_ITEMS => items,
            Value::Array(items) => {
                return self.fail_node(
                    i,
                    format!(
                        "`items` gave {} items, over the limit of {MAX_MAP_ITEMS}",
                        items.len()
                    ),
                );
            }
            other => {
                return self.fail_node(
                    i,
                    format!(
                        "`items` must give a JSON array, but gave {}",
                        children::describe(&other)
                    ),
                );
            }
        };
        let node = self.id(i);
        let empty = items.is_empty();
        self.emit(Event::MapStarted { node, items });
        if empty {
            self.emit(Event::NodeCompleted {
                node: self.id(i),
                port: Some("next".into()),
                output: json!([]),
                reused_from: None,
                stubbed: false,
            });
            return self.propagate(i);
        }
        self.fill(i);
    }

    /// Starts children of `map` node `i` in item order while it has room for them (not while
    /// the run is held: `catch_up` fills on resume).
    fn fill(&mut self, i: usize) {
        let NodeKind::Map(m) = self.s.plan.kind(i) else {
            return;
        };
        if self.s.held() {
            return;
        }
        let (cap, template) = (m.concurrency(), m.input.clone());
        let mut ctx = None;
        loop {
            let n = &self.s.nodes[i];
            let (Some(items), next) = (n.items.clone(), n.children.len()) else {
                return;
            };
            if n.status != NodeStatus::Running || next >= items.len() || n.counts.running >= cap {
                return;
            }
            let item = items[next].clone();
            let input = match &template {
                None => item,
                Some(t) => {
                    let ctx = ctx.get_or_insert_with(|| self.s.context_for(i));
                    match shared::render::map_input(t, ctx, item, next) {
                        Ok(v) => v,
                        Err(e) => return self.fail_node(i, e),
                    }
                }
            };
            self.start_child(i, Some(next as u32), input);
        }
    }

    /// A child of node `node` ended (`finished` is its `ChildFinished` event). A stale
    /// report (the node moved on, the child is not one it waits for) changes nothing.
    fn child_finished(&mut self, node: &str, finished: Event, refill: bool) {
        let Event::ChildFinished {
            index,
            ref run,
            status,
            ref output,
            ref error,
            ..
        } = finished
        else {
            return;
        };
        let Some(i) = self.s.node_index(node) else {
            return;
        };
        let n = &self.s.nodes[i];
        let slot = index.map_or(0, |k| k as usize);
        let waiting = n
            .children
            .get(slot)
            .is_some_and(|c| *c.run == **run && c.status == ChildStatus::Running);
        if n.status != NodeStatus::Running || !waiting || status == ChildStatus::Running {
            return;
        }
        let (run, output, error) = (run.clone(), output.clone(), error.clone());
        self.emit(finished);
        match self.s.plan.kind(i).clone() {
            NodeKind::Subflow(_) => match status {
                ChildStatus::Completed => {
                    self.emit(Event::NodeCompleted {
                        node: node.to_owned(),
                        port: Some("next".into()),
                        output,
                        reused_from: None,
                        stubbed: false,
                    });
                    self.propagate(i);
                }
                _ => {
                    let why = children::failure(&run, status, error.as_deref());
                    self.fail_node(i, why);
                }
            },
            NodeKind::Map(m) => {
                let n = &self.s.nodes[i];
                let c = n.counts;
                let failed = c.failed + c.cancelled;
                let tolerated = m.tolerated_failures.unwrap_or(0).max(0) as u64;
                if u64::from(failed) > tolerated {
                    let why = children::map_failure(&n.children, tolerated);
                    return self.fail_node(i, why);
                }
                let total = n.items.as_ref().map_or(0, |v| v.len());
                if (c.completed + failed) as usize == total {
                    let output = Value::Array(
                        n.children
                            .iter()
                            .map(|c| match c.status {
                                ChildStatus::Completed => (*c.output).clone(),
                                _ => Value::Null,
                            })
                            .collect(),
                    );
                    if let Err(e) = check_value(&output) {
                        let why = format!("output_too_large: the children's outputs together: {e}");
                        return self.fail_node(i, why);
                    }
                    self.emit(Event::NodeCompleted {
                        node: node.to_owned(),
                        port: Some("next".into()),
                        output,
                        reused_from: None,
                        stubbed: false,
                    });
                    return self.propagate(i);
                }
                if refill {
                    self.fill(i);
                }
            }
            _ => {}
        }
    }

    fn decide_approval(
        &mut self,
        node: &str,
        verdict: Verdict,
        by: Caller,
        comment: Option<String>,
        data: Value,
    ) -> Result<(), Rejected> {
        let i = self
            .s
            .node_index(node)
            .ok_or_else(|| Rejected::UnknownNode(node.to_owned()))?;
        let n = &self.s.nodes[i];
        if !matches!(self.s.plan.kind(i), NodeKind::Approval(_)) || n.status != NodeStatus::Waiting
        {
            return Err(Rejected::NotWaiting {
                node: node.to_owned(),
                status: n.status.as_str(),
            });
        }
        if by.checked {
            self.may_decide(i, &by)?;
        }
        self.decided(i, verdict, Some(by.name), comment, data);
        self.finish_if_done();
        Ok(())
    }

    /// Whether `by` may decide approval `i` now (SPEC §7): named by its `approvers` (default:
    /// the `approver` role or above) or by an escalation step it has reached, and not the
    /// run's starter unless `allow_self_approval`.
    fn may_decide(&self, i: usize, by: &Caller) -> Result<(), Rejected> {
        let NodeKind::Approval(a) = self.s.plan.kind(i) else {
            return Ok(());
        };
        let node = self.id(i);
        if let Some(reason) = approval::refusal(a, self.s.nodes[i].escalated, &by.name, by.role) {
            return Err(Rejected::NotApprover(format!(
                "you ({}, {}) may not decide approval `{node}`: {reason}",
                by.name, by.role
            )));
        }
        if approval::self_approval(a, self.s.started_by.as_deref(), &by.name, by.person) {
            return Err(Rejected::SelfApproval {
                node,
                by: by.name.clone(),
            });
        }
        Ok(())
    }

    /// Records approval `i`'s decision and goes on by its port: `approved`, `rejected` (else
    /// the node fails and, without a `rejected` edge, the run). The output is
    /// `{"decision", "by", "comment", "data"}`.
    fn decided(
        &mut self,
        i: usize,
        verdict: Verdict,
        by: Option<String>,
        comment: Option<String>,
        data: Value,
    ) {
        let node = self.id(i);
        let default = by.is_none();
        self.emit(Event::ApprovalDecided {
            node: node.clone(),
            decision: verdict,
            by: by.clone(),
            comment: comment.clone(),
            data: data.clone(),
            default,
        });
        let output = json!({
            "decision": verdict.as_str(), "by": by, "comment": comment, "data": data,
        });
        if verdict == Verdict::Approve || self.s.plan.has_port(i, "rejected") {
            self.emit(Event::NodeCompleted {
                node,
                port: Some(verdict.port().into()),
                output,
                reused_from: None,
                stubbed: false,
            });
            self.propagate(i);
        } else {
            let who = by
                .map(|b| format!(" by {b}"))
                .unwrap_or_else(|| " by default".into());
            let why = match comment {
                Some(c) if !c.is_empty() => format!("rejected{who}: {c}"),
                _ => format!("rejected{who}"),
            };
            self.fail_node_via(i, why, "rejected");
        }
    }

    /// Escalation step `step` of approval `i` is due: if it still waits, that step's approvers
    /// may decide too; the next step's timer is set (`effect`), and a `notify` URL gets its
    /// POST through a `notify` timer due now.
    fn escalate(&mut self, i: usize, step: u32) {
        let NodeKind::Approval(a) = self.s.plan.kind(i) else {
            return;
        };
        let n = &self.s.nodes[i];
        let Some(s) = a.escalate.get(step as usize) else {
            return;
        };
        if n.status != NodeStatus::Waiting || n.escalated != step {
            return;
        }
        self.emit(Event::ApprovalEscalated {
            node: self.id(i),
            step,
            approvers: s.approvers.clone(),
            notify: s.notify.clone(),
        });
    }

    /// The POST to escalation step `step`'s `notify` URL was made (the timer service made it
    /// before this input, so a crash repeats it rather than loses it). A step's notice is
    /// recorded once however often its answer arrives; one that got no answer, a 5xx, 408 or
    /// 429 is tried again with a backoff while the approval waits, up to [`NOTICE_TRIES`].
    fn notified(&mut self, node: &str, step: u32, outcome: Result<u16, String>) {
        let Some(i) = self.s.node_index(node) else {
            return;
        };
        let n = &self.s.nodes[i];
        if step != n.notified || step >= n.escalated {
            return;
        }
        let tries = n.notice_tries + 1;
        let retryable = match &outcome {
            Ok(s) => *s >= 500 || *s == 408 || *s == 429,
            Err(_) => true,
        };
        let again = (retryable && tries < NOTICE_TRIES && n.status == NodeStatus::Waiting)
            .then(|| self.now.saturating_add(NOTICE_BACKOFF_MS << (tries - 1)));
        let (status, error) = match outcome {
            Ok(s) => (Some(s), None),
            Err(e) => (None, Some(e)),
        };
        self.emit(Event::ApprovalNotified {
            node: node.to_owned(),
            step,
            status,
            error,
            again,
        });
    }
}
