//! Given/when/then tests of the pure core: ports, dead paths, merges, retries, failures,
//! approvals, signals, timers and cancel with `on_cancel`.

use std::sync::Arc;

use serde_json::{Value, json};

use super::decide::{ActivityError, Input, Rejected, TimerKind, decide};
use super::effect::{Effect, effects};
use super::event::Event;
use super::state::{NodeStatus, Plan, RunState, RunStatus};

fn run(def: Value, input: Value) -> RunState {
    let wf = shared::validate::parse(&def).expect("parses");
    let findings = shared::validate(&wf);
    assert!(shared::validate::is_valid(&findings), "{findings:#?}");
    let mut s = RunState::new(
        "r1".into(),
        Arc::new(Plan::new(wf, 1).expect("plan")),
        input,
    );
    s = step(
        &s,
        Input::Start {
            workflow: "t".into(),
            version: 1,
            parent: None,
            trigger: None,
            redrive: None,
            by: None,
            test: None,
        },
        0,
    )
    .1;
    s
}

/// A test run of `def` with `stubs` and `until`, started; the start's events and state.
fn test_run(def: Value, stubs: Value, until: Option<&str>) -> (Vec<Event>, RunState) {
    let wf = shared::validate::parse(&def).expect("parses");
    let s = RunState::new(
        "r1".into(),
        Arc::new(Plan::new(wf, 1).expect("plan")),
        Value::Null,
    );
    let test = shared::event::TestRun {
        stubs: serde_json::from_value(stubs).expect("stubs"),
        until: until.map(str::to_owned),
    };
    let start = Input::Start {
        workflow: "t".into(),
        version: 1,
        parent: None,
        trigger: None,
        redrive: None,
        by: None,
        test: Some(test),
    };
    step(&s, start, 0)
}

/// Feeds one input; returns the events and the new state.
#[track_caller]
fn step(s: &RunState, input: Input, now: i64) -> (Vec<Event>, RunState) {
    let d = decide(s, input, now).expect("accepted");
    (d.events, d.state)
}

fn status(s: &RunState, node: &str) -> NodeStatus {
    s.nodes[s.node_index(node).unwrap()].status
}

fn ok(node: &str, attempt: u32, out: Value) -> Input {
    Input::AttemptFinished {
        node: node.into(),
        attempt,
        result: Ok(out),
        exchange: None,
    }
}

fn err(node: &str, attempt: u32, retryable: bool) -> Input {
    Input::AttemptFinished {
        node: node.into(),
        attempt,
        result: Err(ActivityError {
            message: "boom".into(),
            retryable,
        }),
        exchange: None,
    }
}

fn chain(nodes: Vec<Value>, edges: Vec<(&str, &str, &str)>) -> Value {
    let edges: Vec<Value> = edges
        .into_iter()
        .map(|(f, t, p)| json!({"from": f, "to": t, "port": p}))
        .collect();
    json!({"name": "t", "nodes": nodes, "edges": edges})
}

#[test]
fn instant_nodes_run_to_completion_in_one_decision() {
    let def = chain(
        vec![
            json!({"id": "start", "type": "start"}),
            json!({"id": "a", "type": "transform", "output": {"n": "{{ input.n + 1 }}"}}),
            json!({"id": "b", "type": "transform", "output": "{{ nodes.a.output.n * 2 }}"}),
            json!({"id": "end", "type": "end", "output": {"b": "{{ nodes.b.output }}"}}),
        ],
        vec![
            ("start", "a", "next"),
            ("a", "b", "next"),
            ("b", "end", "next"),
        ],
    );
    let s = run(def, json!({"n": 1}));
    assert_eq!(s.status, RunStatus::Completed);
    assert_eq!(s.output, json!({"b": 4}));
    assert_eq!(s.seq, 6, "RunStarted + 4 NodeCompleted + RunCompleted");
}

fn branchy() -> Value {
    chain(
        vec![
            json!({"id": "start", "type": "start"}),
            json!({"id": "c", "type": "condition", "expr": "input.big"}),
            json!({"id": "yes", "type": "transform", "output": "y"}),
            json!({"id": "no", "type": "transform", "output": "n"}),
            json!({"id": "after_yes", "type": "transform", "output": 1}),
            json!({"id": "merge", "type": "join"}),
            json!({"id": "end", "type": "end"}),
        ],
        vec![
            ("start", "c", "next"),
            ("c", "yes", "true"),
            ("c", "no", "false"),
            ("yes", "after_yes", "next"),
            ("after_yes", "merge", "next"),
            ("no", "merge", "next"),
            ("merge", "end", "next"),
        ],
    )
}

#[test]
fn condition_takes_one_port_and_dead_paths_are_skipped_before_the_merge() {
    let s = run(branchy(), json!({"big": false}));
    assert_eq!(s.status, RunStatus::Completed);
    assert_eq!(status(&s, "yes"), NodeStatus::Skipped);
    assert_eq!(status(&s, "after_yes"), NodeStatus::Skipped);
    assert_eq!(status(&s, "no"), NodeStatus::Completed);
    assert_eq!(status(&s, "merge"), NodeStatus::Completed);
    let s = run(branchy(), json!({"big": true}));
    assert_eq!(status(&s, "no"), NodeStatus::Skipped);
    assert_eq!(status(&s, "merge"), NodeStatus::Completed);
}

fn fan_out() -> Value {
    chain(
        vec![
            json!({"id": "start", "type": "start"}),
            json!({"id": "p", "type": "parallel"}),
            json!({"id": "a", "type": "http", "request": {"method": "GET", "url": "http://x/a"}, "retry": {"max_attempts": 3, "initial_interval": "1s"}}),
            json!({"id": "b", "type": "http", "request": {"method": "GET", "url": "http://x/b"}}),
            json!({"id": "j", "type": "join"}),
            json!({"id": "end", "type": "end", "output": ["{{ nodes.a.output }}", "{{ nodes.b.output }}"]}),
        ],
        vec![
            ("start", "p", "next"),
            ("p", "a", "next"),
            ("p", "b", "next"),
            ("a", "j", "next"),
            ("b", "j", "next"),
            ("j", "end", "next"),
        ],
    )
}

#[test]
fn join_waits_for_every_branch() {
    let s = run(fan_out(), json!({}));
    assert_eq!(
        (status(&s, "a"), status(&s, "b")),
        (NodeStatus::Running, NodeStatus::Running)
    );
    let (_, s) = step(&s, ok("a", 1, json!(1)), 10);
    assert_eq!(status(&s, "j"), NodeStatus::Pending, "b is not decided yet");
    let (_, s) = step(&s, ok("b", 1, json!(2)), 20);
    assert_eq!(s.status, RunStatus::Completed);
    assert_eq!(s.output, json!([1, 2]));
}

#[test]
fn retries_follow_the_backoff_and_late_results_are_ignored() {
    let s = run(fan_out(), json!({}));
    let (ev, s) = step(&s, err("a", 1, true), 1_000);
    assert_eq!(
        ev,
        vec![Event::AttemptFailed {
            node: "a".into(),
            attempt: 1,
            error: "boom".into(),
            retry_at: Some(2_000)
        }]
    );
    assert_eq!(
        effects(&s, &ev, 1_000),
        vec![
            Effect::EndAttempt { node: "a".into() },
            Effect::SetTimer {
                node: "a".into(),
                kind: TimerKind::Retry,
                attempt: 2,
                due: 2_000
            }
        ]
    );
    assert_eq!(status(&s, "a"), NodeStatus::Retrying);
    // The result of the abandoned attempt 1 arrives late: nothing happens.
    assert!(step(&s, ok("a", 1, json!(9)), 1_500).0.is_empty());
    let fire = |attempt| Input::TimerFired {
        node: "a".into(),
        kind: TimerKind::Retry,
        attempt,
    };
    let (ev, s) = step(&s, fire(2), 2_000);
    assert_eq!(
        ev,
        vec![Event::NodeStarted {
            node: "a".into(),
            attempt: 2
        }]
    );
    assert_eq!(
        effects(&s, &ev, 2_000),
        vec![Effect::Http {
            node: "a".into(),
            attempt: 2
        }]
    );
    // A second firing of the same timer is stale.
    assert!(step(&s, fire(2), 2_001).0.is_empty());
    let (ev, s) = step(&s, err("a", 2, true), 3_000);
    assert!(
        matches!(
            ev[0],
            Event::AttemptFailed {
                retry_at: Some(5_000),
                ..
            }
        ),
        "1s × 2^1 = 2s: {ev:?}"
    );
    let (_, s) = step(&s, fire(3), 5_000);
    let (ev, s) = step(&s, err("a", 3, true), 6_000);
    assert!(
        matches!(ev[0], Event::AttemptFailed { retry_at: None, .. }),
        "3 of 3 attempts used"
    );
    assert_eq!(status(&s, "a"), NodeStatus::Failed);
    assert_eq!(s.status, RunStatus::Failed, "no error edge: the run fails");
    assert_eq!(
        status(&s, "b"),
        NodeStatus::Cancelled,
        "its other branches are cancelled"
    );
}

#[test]
fn a_non_retryable_error_fails_at_once_through_the_error_port() {
    let def = chain(
        vec![
            json!({"id": "start", "type": "start"}),
            json!({"id": "h", "type": "http", "request": {"method": "GET", "url": "http://x"}}),
            json!({"id": "ok", "type": "end"}),
            json!({"id": "handled", "type": "end", "output": "{{ nodes.h.output.error }}"}),
        ],
        vec![
            ("start", "h", "next"),
            ("h", "ok", "next"),
            ("h", "handled", "error"),
        ],
    );
    let s = run(def, json!({}));
    let (_, s) = step(&s, err("h", 1, false), 5);
    assert_eq!(status(&s, "h"), NodeStatus::Failed);
    assert_eq!(status(&s, "ok"), NodeStatus::Skipped);
    assert_eq!(s.status, RunStatus::Completed);
    assert_eq!(s.output, json!("boom"));
}

fn approval(with_rejected: bool) -> Value {
    let mut edges = vec![
        ("start", "ask", "next"),
        ("ask", "yes", "approved"),
        ("ask", "late", "timeout"),
    ];
    if with_rejected {
        edges.push(("ask", "no", "rejected"));
    }
    let mut nodes = vec![
        json!({"id": "start", "type": "start"}),
        json!({"id": "ask", "type": "approval", "prompt": "Ship {{ input.order }}?", "timeout": "1h"}),
        json!({"id": "yes", "type": "end", "output": "{{ nodes.ask.output.comment }}"}),
        json!({"id": "late", "type": "end"}),
    ];
    if with_rejected {
        nodes.push(json!({"id": "no", "type": "end"}));
    }
    chain(nodes, edges)
}

#[test]
fn approvals_wait_render_their_prompt_and_take_their_port() {
    let s = run(approval(true), json!({"order": "A1"}));
    let ask = &s.nodes[s.node_index("ask").unwrap()];
    assert_eq!(
        (ask.status, ask.prompt.as_deref(), ask.due_at),
        (NodeStatus::Waiting, Some("Ship A1?"), Some(3_600_000))
    );
    let decide_it = |approve| decision("ask", approve, Some("fine"));
    let (_, done) = step(&s, decide_it(true), 10);
    assert_eq!(
        (done.status, done.output.clone()),
        (RunStatus::Completed, json!("fine"))
    );
    assert_eq!(
        decide(&done, decide_it(true), 11).unwrap_err(),
        Rejected::Finished("completed")
    );
    let (_, rejected) = step(&s, decide_it(false), 10);
    assert_eq!(status(&rejected, "no"), NodeStatus::Completed);
    assert_eq!(rejected.status, RunStatus::Completed);
    // Without a `rejected` edge a rejection fails the run.
    let s = run(approval(false), json!({"order": "A1"}));
    let (_, failed) = step(&s, decide_it(false), 10);
    assert_eq!(failed.status, RunStatus::Failed);
    // The deadline takes the `timeout` port.
    let (_, timed) = step(
        &s,
        Input::TimerFired {
            node: "ask".into(),
            kind: TimerKind::Deadline,
            attempt: 0,
        },
        3_600_000,
    );
    assert_eq!(status(&timed, "late"), NodeStatus::Completed);
    // Deciding a node that is not waiting is refused.
    assert!(matches!(
        decide(&timed, decide_it(true), 1),
        Err(Rejected::Finished(_))
    ));
    let s2 = run(fan_out(), json!({}));
    assert!(matches!(
        decide(&s2, decision("a", true, None), 1),
        Err(Rejected::NotWaiting { .. })
    ));
    assert!(matches!(
        decide(&s2, decision("zz", true, None), 1),
        Err(Rejected::UnknownNode(_))
    ));
}

#[test]
fn signals_are_consumed_when_waited_for_and_buffered_otherwise() {
    let def = chain(
        vec![
            json!({"id": "start", "type": "start"}),
            json!({"id": "t", "type": "timer", "duration": "10s"}),
            json!({"id": "s", "type": "signal", "signal": "go"}),
            json!({"id": "end", "type": "end", "output": "{{ nodes.s.output.x }}"}),
        ],
        vec![
            ("start", "t", "next"),
            ("t", "s", "next"),
            ("s", "end", "next"),
        ],
    );
    let s = run(def, json!({}));
    assert_eq!(s.nodes[s.node_index("t").unwrap()].due_at, Some(10_000));
    // The signal arrives before its node waits: kept.
    let (_, s) = step(
        &s,
        Input::Signal {
            name: "go".into(),
            payload: json!({"x": 7}),
        },
        5,
    );
    assert_eq!(s.signals.len(), 1);
    let (_, s) = step(
        &s,
        Input::TimerFired {
            node: "t".into(),
            kind: TimerKind::Wait,
            attempt: 0,
        },
        10_000,
    );
    assert_eq!(s.status, RunStatus::Completed);
    assert_eq!(s.output, json!(7));
    assert!(s.signals.is_empty());
}

#[test]
fn a_signal_no_node_declares_is_refused_and_buffered_signals_are_bounded() {
    use shared::limits::MAX_BUFFERED_SIGNALS;
    let def = chain(
        vec![
            json!({"id": "start", "type": "start"}),
            json!({"id": "t", "type": "timer", "duration": "10s"}),
            json!({"id": "s", "type": "signal", "signal": "go"}),
            json!({"id": "l", "type": "signal", "signal": "later"}),
            json!({"id": "end", "type": "end"}),
        ],
        vec![
            ("start", "t", "next"),
            ("t", "s", "next"),
            ("s", "l", "next"),
            ("l", "end", "next"),
        ],
    );
    let mut s = run(def, json!({}));
    let signal = |name: &str| Input::Signal {
        name: name.into(),
        payload: json!(null),
    };
    assert_eq!(
        decide(&s, signal("stop"), 1).err(),
        Some(Rejected::UnknownSignal {
            name: "stop".into(),
            workflow: "t".into(),
            version: 1,
        })
    );
    for _ in 0..MAX_BUFFERED_SIGNALS {
        s = step(&s, signal("later"), 1).1;
    }
    assert_eq!(s.signals.len(), MAX_BUFFERED_SIGNALS);
    assert_eq!(
        decide(&s, signal("later"), 1).err(),
        Some(Rejected::TooManySignals)
    );
    assert_eq!(
        decide(&s, signal("go"), 1).err(),
        Some(Rejected::TooManySignals)
    );
    // A node that waits takes its signal whatever the buffer holds.
    let (_, s) = step(
        &s,
        Input::TimerFired {
            node: "t".into(),
            kind: TimerKind::Wait,
            attempt: 0,
        },
        10_000,
    );
    assert_eq!(status(&s, "s"), NodeStatus::Waiting);
    let (_, s) = step(&s, signal("go"), 10_001);
    assert_eq!(s.status, RunStatus::Completed);
    assert_eq!(s.signals.len(), MAX_BUFFERED_SIGNALS - 1);
}

fn cancellable() -> Value {
    let mut d = chain(
        vec![
            json!({"id": "start", "type": "start"}),
            json!({"id": "charge", "type": "http", "request": {"method": "POST", "url": "http://x/charge"}}),
            json!({"id": "end", "type": "end"}),
            json!({"id": "refund", "type": "http", "request": {"method": "POST", "url": "http://x/refund"}}),
            json!({"id": "refunded", "type": "end"}),
        ],
        vec![
            ("start", "charge", "next"),
            ("charge", "end", "next"),
            ("refund", "refunded", "next"),
        ],
    );
    d["on_cancel"] = json!("refund");
    d
}

#[test]
fn cancel_abandons_work_and_runs_the_on_cancel_path() {
    let s = run(cancellable(), json!({}));
    let (ev, s) = step(
        &s,
        Input::Cancel {
            reason: Some("customer asked".into()),
        },
        5,
    );
    assert!(ev.contains(&Event::NodeCancelled {
        node: "charge".into()
    }));
    assert_eq!(status(&s, "refund"), NodeStatus::Running);
    assert_eq!(s.status, RunStatus::Running, "running the cancel path");
    assert_eq!(
        decide(&s, Input::Cancel { reason: None }, 6).unwrap_err(),
        Rejected::AlreadyCancelling
    );
    // The abandoned charge attempt reports late: ignored.
    assert!(step(&s, ok("charge", 1, json!(1)), 7).0.is_empty());
    let (_, s) = step(&s, ok("refund", 1, json!("r")), 8);
    assert_eq!(s.status, RunStatus::Cancelled);
    assert_eq!(s.error.as_deref(), Some("customer asked"));
    assert_eq!(
        decide(&s, Input::Cancel { reason: None }, 9).unwrap_err(),
        Rejected::Finished("cancelled")
    );
}

#[test]
fn the_log_folds_back_to_the_same_state() {
    let s0 = run(fan_out(), json!({}));
    let mut log: Vec<Event> = Vec::new();
    let first = decide(
        &RunState::new("r1".into(), s0.plan.clone(), json!({})),
        Input::Start {
            workflow: "t".into(),
            version: 1,
            parent: None,
            trigger: None,
            redrive: None,
            by: None,
            test: None,
        },
        0,
    )
    .unwrap();
    log.extend(first.events);
    let n0 = log.len();
    let d = decide(&first.state, ok("a", 1, json!(1)), 3).unwrap();
    log.extend(d.events.clone());
    let mut folded = RunState::new("r1".into(), s0.plan.clone(), Value::Null);
    for (i, e) in log.iter().enumerate() {
        folded.apply(e, if i < n0 { 0 } else { 3 });
    }
    assert_eq!(folded.nodes, d.state.nodes);
    assert_eq!(folded.seq, d.state.seq);
}

#[test]
fn the_run_deadline_fails_the_run() {
    let mut def = fan_out();
    def["timeout"] = json!("1m");
    let s = run(def, json!({}));
    let (_, s) = step(
        &s,
        Input::TimerFired {
            node: String::new(),
            kind: TimerKind::RunDeadline,
            attempt: 0,
        },
        60_000,
    );
    assert_eq!(s.status, RunStatus::Failed);
    assert_eq!(s.error.as_deref(), Some("run timed out after 1m"));
}

/// A chain of instant nodes far longer than a definition may be (so longer than any the
/// validator lets through) is decided in one input on a 2 MiB stack, the size of a tokio
/// worker's: deciding it is a loop, not a recursion per node.
#[test]
fn a_long_chain_of_instant_nodes_is_decided_on_a_small_stack() {
    const N: usize = 20_000;
    let mut nodes = vec![json!({"id": "start", "type": "start"})];
    let mut edges = Vec::new();
    let mut prev = "start".to_owned();
    for k in 0..N {
        let id = format!("t{k}");
        nodes.push(if k % 2 == 0 {
            json!({"id": id, "type": "transform", "output": {"k": k}})
        } else {
            json!({"id": id, "type": "parallel"})
        });
        edges.push(json!({"from": prev, "to": id}));
        prev = id;
    }
    nodes.push(json!({"id": "done", "type": "end"}));
    edges.push(json!({"from": prev, "to": "done"}));
    let def = json!({"name": "t", "nodes": nodes, "edges": edges});
    // Longer than the validator allows, so read with serde alone, as a stored version is.
    let wf: shared::Workflow = serde_json::from_value(def).expect("a workflow");
    let plan = Arc::new(Plan::new(wf, 1).expect("plan"));
    let decided = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let s = RunState::new("r1".into(), plan, json!({}));
            let start = Input::Start {
                workflow: "t".into(),
                version: 1,
                parent: None,
                trigger: None,
                redrive: None,
                by: None,
                test: None,
            };
            let d = decide(&s, start, 0).expect("accepted");
            (d.events.len(), d.state.status)
        })
        .expect("thread")
        .join()
        .expect("decided without overflowing the stack");
    // run_started, start, N nodes and done completed, run_completed.
    assert_eq!(decided, (N + 4, RunStatus::Completed));
}

/// A node whose template loops is rendered apart, as attempt 1: the effect asks for it, the
/// rendered value continues the node as the inline render would (the output, the port, the
/// prompt), a stale result changes nothing, and a failed render fails the node at once.
#[test]
fn slow_templates_render_apart_as_one_attempt() {
    let slow = "{% for x in input.xs %}{{ x }}{% endfor %}";
    let def = chain(
        vec![
            json!({"id": "start", "type": "start"}),
            json!({"id": "t", "type": "transform", "output": {"s": slow}}),
            json!({"id": "c", "type": "condition", "expr": "input.xs | sort | first == 1"}),
            json!({"id": "ask", "type": "approval", "prompt": slow}),
            json!({"id": "no", "type": "end"}),
            json!({"id": "end", "type": "end", "output": {"t": "{{ nodes.t.output.s }}"}}),
        ],
        vec![
            ("start", "t", "next"),
            ("t", "c", "next"),
            ("c", "ask", "true"),
            ("c", "no", "false"),
            ("ask", "end", "approved"),
        ],
    );
    let s = run(def, json!({"xs": [3, 1, 2]}));
    assert_eq!(status(&s, "t"), NodeStatus::Running);
    let t = s.node_index("t").unwrap();
    assert!(!s.plan.quick[t] && s.plan.quick[s.node_index("end").unwrap()]);

    // The render's value completes the transform; the condition is slow too.
    let (events, s) = step(&s, ok("t", 1, json!({"s": "312"})), 1);
    assert_eq!(
        effects(&s, &events, 1),
        vec![
            Effect::EndAttempt { node: "t".into() },
            Effect::Render {
                node: "c".into(),
                attempt: 1
            }
        ]
    );
    assert_eq!(s.nodes[t].output, json!({"s": "312"}));
    // A result for another attempt is stale.
    let (events, s) = step(&s, ok("c", 2, json!(false)), 2);
    assert!(events.is_empty(), "{events:?}");
    let (_, s) = step(&s, ok("c", 1, json!(true)), 2);
    assert_eq!(status(&s, "no"), NodeStatus::Skipped);
    assert_eq!(status(&s, "ask"), NodeStatus::Running);
    let (events, s) = step(&s, ok("ask", 1, json!("312")), 3);
    assert_eq!(status(&s, "ask"), NodeStatus::Waiting);
    assert!(events.iter().any(|e| matches!(e,
        Event::NodeWaiting { prompt: Some(p), .. } if p == "312")));
    let (_, s) = step(&s, decision("ask", true, None), 4);
    assert_eq!(s.status, RunStatus::Completed);
    assert_eq!(s.output, json!({"t": "312"}));

    // A render that ran out of fuel fails the node, with no retry.
    let def = chain(
        vec![
            json!({"id": "start", "type": "start"}),
            json!({"id": "t", "type": "transform", "output": slow}),
            json!({"id": "end", "type": "end"}),
        ],
        vec![("start", "t", "next"), ("t", "end", "next")],
    );
    let s = run(def, json!({"xs": []}));
    let (events, s) = step(&s, err("t", 1, false), 1);
    assert_eq!(status(&s, "t"), NodeStatus::Failed);
    assert_eq!(s.status, RunStatus::Failed);
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::AttemptFailed { .. }))
    );
}

fn map_run(items: Value, max: u32) -> RunState {
    run(
        chain(
            vec![
                json!({"id": "start", "type": "start"}),
                json!({"id": "m", "type": "map", "items": "{{ input.items }}", "workflow": "c", "max_concurrency": max}),
                json!({"id": "end", "type": "end", "output": "{{ nodes.m.output }}"}),
            ],
            vec![("start", "m", "next"), ("m", "end", "next")],
        ),
        json!({ "items": items }),
    )
}

fn child_done(s: &RunState, index: u32, output: Value, refill: bool) -> Input {
    let i = s.node_index("m").unwrap();
    Input::ChildFinished {
        node: "m".into(),
        index: Some(index),
        run: s.nodes[i].children[index as usize].run.to_string(),
        status: super::event::ChildStatus::Completed,
        output,
        error: None,
        refill,
    }
}

#[test]
fn a_map_starts_children_up_to_its_bound_and_refills_now_or_on_its_timer() {
    let s = map_run(json!(["a", "b", "c"]), 2);
    let i = s.node_index("m").unwrap();
    assert_eq!(s.nodes[i].children.len(), 2, "two at once");
    assert_eq!(
        *s.nodes[i].children[1].run,
        super::children::run_id("r1", "m", Some(1)),
        "ids derive from parent, node and item"
    );
    // Told without room to refill: the next child waits for the refill timer, due now.
    let (events, s2) = step(&s, child_done(&s, 0, json!(1), false), 5);
    assert_eq!(events.len(), 1, "{events:?}");
    let fx = effects(&s2, &events, 5);
    assert!(
        fx.iter().any(|f| matches!(
            f,
            Effect::SetTimer {
                kind: TimerKind::Refill,
                due: 5,
                ..
            }
        )),
        "{fx:?}"
    );
    let refill = Input::TimerFired {
        node: "m".into(),
        kind: TimerKind::Refill,
        attempt: 0,
    };
    let (events, s3) = step(&s2, refill, 6);
    assert!(
        matches!(&events[..], [Event::ChildStarted { index: Some(2), .. }]),
        "{events:?}"
    );
    // A stale or repeated report changes nothing.
    let (events, _) = step(&s3, child_done(&s, 0, json!(1), true), 7);
    assert!(events.is_empty(), "{events:?}");
    let (_, s4) = step(&s3, child_done(&s3, 2, json!(3), true), 8);
    let (_, s5) = step(&s4, child_done(&s4, 1, json!(2), true), 9);
    assert_eq!(s5.status, RunStatus::Completed);
    assert_eq!(
        s5.output,
        json!([1, 2, 3]),
        "in item order, not finishing order"
    );
}

#[test]
fn cancelling_a_run_cancels_the_children_its_map_still_waits_for() {
    let s = map_run(json!([1, 2, 3]), 3);
    let (_, s) = step(&s, child_done(&s, 1, json!(null), true), 1);
    let (events, s) = step(&s, Input::Cancel { reason: None }, 2);
    let fx = effects(&s, &events, 2);
    let cancelled: Vec<&str> = fx
        .iter()
        .filter_map(|f| match f {
            Effect::CancelChild { run } => Some(run.as_str()),
            _ => None,
        })
        .collect();
    let i = s.node_index("m").unwrap();
    let kids = &s.nodes[i].children;
    assert_eq!(
        cancelled,
        [&*kids[0].run, &*kids[2].run],
        "not the one that ended"
    );
}

/// A decision by the admin of an open server (no rules apply).
fn decision(node: &str, approve: bool, comment: Option<&str>) -> Input {
    Input::Decide {
        node: node.into(),
        verdict: if approve {
            shared::model::Verdict::Approve
        } else {
            shared::model::Verdict::Reject
        },
        by: crate::engine::decide::Caller {
            name: "local".into(),
            role: shared::access::Role::Admin,
            checked: false,
            person: false,
        },
        comment: comment.map(str::to_owned),
        data: Value::Null,
    }
}

/// `start → pay (approval, `fields` merged in) → yes | no (rejected) | late (timeout)`.
fn gated(fields: Value, with_rejected: bool) -> Value {
    let mut pay = json!({"id": "pay", "type": "approval", "prompt": "Pay?", "timeout": "6h"});
    for (k, v) in fields.as_object().expect("fields") {
        pay[k] = v.clone();
    }
    let mut edges = vec![
        ("start", "pay", "next"),
        ("pay", "yes", "approved"),
        ("pay", "late", "timeout"),
    ];
    let mut nodes = vec![
        json!({"id": "start", "type": "start"}),
        pay,
        json!({"id": "yes", "type": "end"}),
        json!({"id": "late", "type": "end"}),
    ];
    if with_rejected {
        edges.push(("pay", "no", "rejected"));
        nodes.push(json!({"id": "no", "type": "end"}));
    }
    chain(nodes, edges)
}

/// A run of `def` started by `by`, waiting at `pay` since time 0.
fn started_by(def: Value, by: Option<&str>) -> RunState {
    let wf = shared::validate::parse(&def).expect("parses");
    let s = RunState::new(
        "r1".into(),
        Arc::new(Plan::new(wf, 1).expect("plan")),
        json!({}),
    );
    let start = Input::Start {
        workflow: "t".into(),
        version: 1,
        parent: None,
        trigger: None,
        redrive: None,
        by: by.map(str::to_owned),
        test: None,
    };
    step(&s, start, 0).1
}

/// An approve by `name` with `role`, on a closed server; `person`: not the shared token.
fn approve_as(name: &str, role: shared::access::Role, person: bool) -> Input {
    Input::Decide {
        node: "pay".into(),
        verdict: shared::model::Verdict::Approve,
        by: crate::engine::decide::Caller {
            name: name.into(),
            role,
            checked: true,
            person,
        },
        comment: None,
        data: Value::Null,
    }
}

fn fire(kind: TimerKind, attempt: u32) -> Input {
    Input::TimerFired {
        node: "pay".into(),
        kind,
        attempt,
    }
}

fn notified(step: u32, outcome: Result<u16, String>) -> Input {
    Input::Notified {
        node: "pay".into(),
        step,
        outcome,
    }
}

/// The timers the effects of `events` set: `(kind, attempt, due)`.
fn timers_set(s: &RunState, events: &[Event], now: i64) -> Vec<(TimerKind, u32, i64)> {
    effects(s, events, now)
        .into_iter()
        .filter_map(|e| match e {
            Effect::SetTimer {
                kind, attempt, due, ..
            } => Some((kind, attempt, due)),
            _ => None,
        })
        .collect()
}

#[test]
fn who_may_decide_follows_the_approvers_the_escalations_reached_and_the_starter() {
    use shared::access::Role;
    let def = gated(
        json!({"approvers": {"users": ["fin"], "roles": ["editor"]},
               "escalate": [{"after": "1h", "approvers": {"users": ["ann"]}}]}),
        true,
    );
    let s = started_by(def, Some("fin"));
    let refused = |s: &RunState, who: Input| decide(s, who, 1).unwrap_err();
    // Not named, and below the role: refused, naming who may.
    assert!(matches!(
        refused(&s, approve_as("ann", Role::Approver, true)),
        Rejected::NotApprover(_)
    ));
    // The role named, or one above it, may.
    for role in [Role::Editor, Role::Admin] {
        let (_, after) = step(&s, approve_as("ed", role, true), 1);
        assert_eq!(status(&after, "yes"), NodeStatus::Completed, "{role:?}");
    }
    // fin is named but started the run; the shared token is nobody and may.
    assert!(matches!(
        refused(&s, approve_as("fin", Role::Approver, true)),
        Rejected::SelfApproval { .. }
    ));
    let (_, after) = step(&s, approve_as("fin", Role::Admin, false), 1);
    assert_eq!(status(&after, "yes"), NodeStatus::Completed);
    // After the escalation, ann may.
    let (_, escalated) = step(&s, fire(TimerKind::Escalate, 0), 3_600_000);
    let (events, after) = step(
        &escalated,
        approve_as("ann", Role::Approver, true),
        3_600_001,
    );
    assert!(matches!(
        &events[0],
        Event::ApprovalDecided { by: Some(by), default: false, .. } if by == "ann"
    ));
    assert_eq!(status(&after, "yes"), NodeStatus::Completed);
    // On an open server no rule applies.
    assert!(decide(&s, decision("pay", true, None), 1).is_ok());
}

#[test]
fn the_default_decision_is_taken_at_the_timeout_by_nobody() {
    for (verdict, with_rejected, end, run) in [
        ("approve", false, "yes", RunStatus::Completed),
        ("reject", true, "no", RunStatus::Completed),
        ("reject", false, "", RunStatus::Failed),
    ] {
        let s = started_by(
            gated(json!({"default_decision": verdict}), with_rejected),
            None,
        );
        let (events, after) = step(&s, fire(TimerKind::Deadline, 0), 6 * 3_600_000);
        assert!(
            matches!(
                &events[0],
                Event::ApprovalDecided {
                    by: None,
                    default: true,
                    ..
                }
            ),
            "{events:?}"
        );
        assert_eq!(after.status, run, "{verdict} {with_rejected}");
        if end.is_empty() {
            let error = after.error.clone().unwrap_or_default();
            assert!(error.contains("rejected by default"), "{error}");
        } else {
            assert_eq!(status(&after, end), NodeStatus::Completed);
            assert_eq!(status(&after, "late"), NodeStatus::Skipped);
        }
    }
}

#[test]
fn one_escalation_notice_is_out_at_a_time_retried_recorded_once_and_then_the_next_step() {
    let def = gated(
        json!({"escalate": [
            {"after": "1h", "approvers": {"roles": ["admin"]}, "notify": "http://127.0.0.1:9/a"},
            {"after": "2h", "approvers": {"users": ["ann"]}}
        ]}),
        true,
    );
    let s = started_by(def, None);
    assert_eq!(
        timers_set(&s, &[], 0),
        vec![],
        "the waiting node's timers were set with its wait"
    );
    // Step 0 fires: its notice is due now, and step 1 waits for it.
    let hour = 3_600_000;
    let (events, s) = step(&s, fire(TimerKind::Escalate, 0), hour);
    assert_eq!(
        timers_set(&s, &events, hour),
        vec![(TimerKind::Notify, 0, hour)]
    );
    // A 503: recorded, and the POST is made again 2 s later.
    let (events, s) = step(&s, notified(0, Ok(503)), hour + 10);
    assert!(
        matches!(&events[..], [Event::ApprovalNotified { step: 0, status: Some(503), again: Some(t), .. }] if *t == hour + 2_010),
        "{events:?}"
    );
    assert_eq!(
        timers_set(&s, &events, hour + 10),
        vec![(TimerKind::Notify, 0, hour + 2_010)]
    );
    // The answer: settled, and the next step's timer is set at its time from the wait's start.
    let (events, s) = step(&s, notified(0, Ok(200)), hour + 2_020);
    assert_eq!(
        timers_set(&s, &events, hour + 2_020),
        vec![(TimerKind::Escalate, 1, 2 * hour)]
    );
    // The same answer again records nothing.
    let d = decide(&s, notified(0, Ok(200)), hour + 2_030).expect("accepted");
    assert!(d.events.is_empty(), "{:?}", d.events);
    // Without an answer the notice is given up after the last try.
    let mut t = s.clone();
    let pay = t.node_index("pay").unwrap();
    t.nodes[pay].notified = 0;
    for tries in 1..crate::engine::decide::NOTICE_TRIES {
        let (events, next) = step(&t, notified(0, Err("refused".into())), hour);
        assert!(
            matches!(
                &events[..],
                [Event::ApprovalNotified { again: Some(_), .. }]
            ),
            "try {tries}: {events:?}"
        );
        t = next;
    }
    let (events, _) = step(&t, notified(0, Err("refused".into())), hour);
    assert!(
        matches!(&events[..], [Event::ApprovalNotified { again: None, .. }]),
        "{events:?}"
    );
    // An escalation of a node already decided changes nothing.
    let (_, decided) = step(&s, decision("pay", true, None), 2 * hour - 1);
    let d = decide(&decided, fire(TimerKind::Escalate, 1), 2 * hour);
    assert!(d.map_or(true, |d| d.events.is_empty()));
}

#[test]
fn a_paused_run_holds_its_escalation_until_it_resumes() {
    let def = gated(
        json!({"escalate": [{"after": "1h", "approvers": {"roles": ["admin"]}}]}),
        true,
    );
    let s = started_by(def, None);
    let (_, paused) = step(&s, Input::Pause { reason: None }, 10);
    assert_eq!(
        decide(&paused, fire(TimerKind::Escalate, 0), 3_600_000).unwrap_err(),
        Rejected::Paused
    );
    let (events, resumed) = step(&paused, Input::Resume, 3_600_001);
    assert!(
        matches!(
            &events[..],
            [Event::RunResumed, Event::ApprovalEscalated { step: 0, .. }]
        ),
        "{events:?}"
    );
    assert_eq!(
        resumed.nodes[resumed.node_index("pay").unwrap()].escalated,
        1
    );
    // Resumed before the step is due: nothing yet.
    let (events, _) = step(&paused, Input::Resume, 20);
    assert!(matches!(&events[..], [Event::RunResumed]), "{events:?}");
}

/// `start → call (http) → after (transform reading call's output) → end`.
fn stubbable() -> Value {
    chain(
        vec![
            json!({"id": "start", "type": "start"}),
            json!({"id": "call", "type": "http", "request": {"method": "POST", "url": "http://127.0.0.1:9/x"}}),
            json!({"id": "after", "type": "transform", "output": {"got": "{{ nodes.call.output.id }}"}}),
            json!({"id": "end", "type": "end", "output": "{{ nodes.after.output }}"}),
        ],
        vec![
            ("start", "call", "next"),
            ("call", "after", "next"),
            ("after", "end", "next"),
        ],
    )
}

#[test]
fn a_stubbed_node_completes_with_its_stub_and_nothing_acts() {
    let (events, s) = test_run(stubbable(), json!({"call": {"id": 7}}), None);
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::NodeStarted { .. })),
        "a stubbed node started an attempt: {events:#?}"
    );
    assert!(events.iter().any(|e| matches!(
        e,
        Event::NodeCompleted { node, stubbed: true, output, .. } if node == "call" && *output == json!({"id": 7})
    )));
    let fx = effects(&s, &events, 0);
    assert!(
        !fx.iter().any(|f| matches!(
            f,
            Effect::Http { .. }
                | Effect::Task { .. }
                | Effect::Render { .. }
                | Effect::StartChild { .. }
        )),
        "a stubbed node acted: {fx:?}"
    );
    assert_eq!(s.status, RunStatus::Completed);
    assert_eq!(s.output, json!({"got": 7}));
    assert!(s.nodes[s.node_index("call").unwrap()].stubbed);
}

#[test]
fn an_unstubbed_node_of_a_test_run_acts() {
    let (events, s) = test_run(stubbable(), json!({}), None);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::NodeStarted { node, .. } if node == "call"))
    );
    assert_eq!(status(&s, "call"), NodeStatus::Running);
}

#[test]
fn until_completes_the_run_after_that_node_and_starts_nothing_after_it() {
    let (events, s) = test_run(stubbable(), json!({"call": {"id": 7}}), Some("call"));
    assert_eq!(s.status, RunStatus::Completed);
    assert_eq!(s.output, json!({"id": 7}));
    assert!(matches!(
        events.last(),
        Some(Event::RunCompleted { until: Some(u), .. }) if u == "call"
    ));
    assert_eq!(status(&s, "after"), NodeStatus::Pending);

    // Reached only after a real attempt: the run stops when that attempt completes.
    let (_, s) = test_run(stubbable(), json!({}), Some("call"));
    let (events, s) = step(&s, ok("call", 1, json!({"id": 8})), 5);
    assert!(matches!(
        events.last(),
        Some(Event::RunCompleted { until: Some(u), output }) if u == "call" && *output == json!({"id": 8})
    ));
    assert_eq!(status(&s, "after"), NodeStatus::Pending);
}
