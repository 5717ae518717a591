//! The timeline's model: the run's recorded events turned into rows of bars (one per attempt,
//! backoff, wait or step; a `subflow`'s or `map`'s stretch of child runs, with a bar per
//! child) with their outcomes, the chart's lines (a map's children grouped into one line that
//! expands into a line each), and the axis's round tick steps. Pure, so it is tested without a
//! browser; [`super`] draws it.

use serde_json::Value;
use shared::event::{ChildStatus, Event, Recorded};
use shared::model::Workflow;

/// How a bar ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Still going.
    Open,
    Completed,
    Failed,
    Cancelled,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Open => "open",
            Outcome::Completed => "completed",
            Outcome::Failed => "failed",
            Outcome::Cancelled => "cancelled",
        }
    }
}

/// What a bar stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarKind {
    /// An attempt of an http or task node.
    Attempt(u32),
    /// The pause between a failed attempt and the next.
    Backoff,
    /// An approval, signal or timer waiting; the node's type names it.
    Wait(&'static str),
    /// A node that completes as soon as it runs (start, condition, transform, end, ...).
    Step,
    /// A `subflow` or `map` node, from its start until its children are done.
    Children,
}

impl BarKind {
    pub fn class(self) -> &'static str {
        match self {
            BarKind::Attempt(_) => "attempt",
            BarKind::Backoff => "backoff",
            BarKind::Wait(_) => "wait",
            BarKind::Step => "step",
            BarKind::Children => "children",
        }
    }

    pub fn title(self) -> String {
        match self {
            BarKind::Attempt(n) => format!("Attempt {n}"),
            BarKind::Backoff => "Backoff before the next attempt".into(),
            BarKind::Wait(kind) => format!("Waiting ({kind})"),
            BarKind::Step => "Step".into(),
            BarKind::Children => "Running its child runs".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub kind: BarKind,
    pub outcome: Outcome,
    pub start: i64,
    /// `None` while open: the bar reaches the present.
    pub end: Option<i64>,
    pub error: Option<String>,
    pub output: Option<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub node: String,
    pub bars: Vec<Bar>,
    /// A `subflow`'s or `map`'s child runs, in the order they started.
    pub children: Vec<ChildBar>,
}

impl Row {
    /// A `map`'s row, whose children the chart groups in a row of their own.
    pub fn is_map(&self) -> bool {
        self.children.iter().any(|c| c.index.is_some())
    }
}

/// One child run of a `subflow` or `map` node, from its start to its end, as the parent's
/// log tells it (`child_started`, `child_finished`).
#[derive(Debug, Clone, PartialEq)]
pub struct ChildBar {
    /// The `map` item; `None` for a subflow's child.
    pub index: Option<u32>,
    pub run: String,
    pub outcome: Outcome,
    pub start: i64,
    pub end: Option<i64>,
    pub error: Option<String>,
}

/// A line of the chart: a node's row, a map's group of children (the children drawn over one
/// another in one row), or, with the group expanded, one child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line {
    /// `rows[i]`.
    Node(usize),
    /// The children of `rows[i]`, grouped.
    Group(usize),
    /// Child `c` of `rows[i]`.
    Child(usize, usize),
}

/// Lanes for a group line, so children that overlap in time are drawn one above the other:
/// each child's lane (the first that is free when it starts) and how many lanes there are.
/// An open child holds its lane to the end.
pub fn lanes(children: &[ChildBar]) -> (Vec<usize>, usize) {
    let mut free_at: Vec<i64> = Vec::new();
    let mut out = Vec::with_capacity(children.len());
    for c in children {
        let lane = match free_at.iter().position(|t| *t <= c.start) {
            Some(l) => l,
            None => {
                free_at.push(0);
                free_at.len() - 1
            }
        };
        free_at[lane] = c.end.unwrap_or(i64::MAX);
        out.push(lane);
    }
    (out, free_at.len().max(1))
}

/// The chart's lines: every row, and after each map's row its group, followed by one line per
/// child when `expanded` says so for that node (at most `limit` of them).
pub fn lines(rows: &[Row], expanded: impl Fn(&str) -> bool, limit: usize) -> Vec<Line> {
    let mut lines = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        lines.push(Line::Node(i));
        if row.is_map() {
            lines.push(Line::Group(i));
            if expanded(&row.node) {
                lines.extend((0..row.children.len().min(limit)).map(|c| Line::Child(i, c)));
            }
        }
    }
    lines
}

/// The chart's rows, one per node that has done something, in the order they first did.
pub fn rows(events: &[Recorded], workflow: &Workflow) -> Vec<Row> {
    let mut rows: Vec<Row> = Vec::new();
    for Recorded { at, event, .. } in events {
        let Some(node) = event.node() else {
            continue;
        };
        let index = match rows.iter().position(|r| r.node == node) {
            Some(i) => i,
            None => {
                rows.push(Row {
                    node: node.to_owned(),
                    bars: Vec::new(),
                    children: Vec::new(),
                });
                rows.len() - 1
            }
        };
        let Row { bars, children, .. } = &mut rows[index];
        let at = *at;
        let parent = workflow
            .node(node)
            .is_some_and(|n| matches!(n.kind.type_name(), "subflow" | "map"));
        match event {
            // A render attempt first, then the children: one bar for the whole stretch.
            Event::NodeStarted { .. }
                if parent && open_bar(bars, |k| k == BarKind::Children).is_some() => {}
            Event::NodeStarted { .. } if parent => bars.push(open(BarKind::Children, at)),
            Event::NodeStarted { attempt, .. } => {
                close(bars, at, Outcome::Completed, |k| k == BarKind::Backoff);
                bars.push(open(BarKind::Attempt(*attempt), at));
            }
            Event::ChildStarted { index, run, .. } => children.push(ChildBar {
                index: *index,
                run: run.clone(),
                outcome: Outcome::Open,
                start: at,
                end: None,
                error: None,
            }),
            Event::ChildFinished {
                index,
                run,
                status,
                error,
                ..
            } => {
                let by_index = index
                    .map(|i| i as usize)
                    .filter(|i| children.get(*i).is_some_and(|c| c.run == *run));
                let found = by_index.or_else(|| children.iter().rposition(|c| c.run == *run));
                if let Some(c) = found.and_then(|i| children.get_mut(i)) {
                    c.end = Some(at);
                    c.error = error.clone();
                    c.outcome = match status {
                        ChildStatus::Completed => Outcome::Completed,
                        ChildStatus::Failed => Outcome::Failed,
                        ChildStatus::Cancelled => Outcome::Cancelled,
                        ChildStatus::Running => Outcome::Open,
                    };
                }
            }
            Event::AttemptFailed {
                error, retry_at, ..
            } => {
                if let Some(bar) = open_bar(bars, |k| matches!(k, BarKind::Attempt(_))) {
                    bar.end = Some(at);
                    bar.outcome = Outcome::Failed;
                    bar.error = Some(error.clone());
                }
                if retry_at.is_some() {
                    bars.push(open(BarKind::Backoff, at));
                }
            }
            Event::NodeWaiting { .. } => {
                let kind = workflow.node(node).map_or("wait", |n| n.kind.type_name());
                bars.push(open(BarKind::Wait(kind), at));
            }
            Event::NodeCompleted { output, .. } => match open_bar(bars, |_| true) {
                Some(bar) => {
                    bar.end = Some(at);
                    bar.outcome = Outcome::Completed;
                    bar.output = Some(output.clone());
                }
                None => bars.push(Bar {
                    end: Some(at),
                    outcome: Outcome::Completed,
                    output: Some(output.clone()),
                    ..open(BarKind::Step, at)
                }),
            },
            Event::NodeFailed { error, .. } => {
                close(bars, at, Outcome::Cancelled, |k| k == BarKind::Backoff);
                let attempted = bars.iter().any(|b| matches!(b.kind, BarKind::Attempt(_)));
                match open_bar(bars, |_| true) {
                    Some(bar) => {
                        bar.end = Some(at);
                        bar.outcome = Outcome::Failed;
                        bar.error = Some(error.clone());
                    }
                    // The last attempt's bar is closed already; the failure is its error.
                    None if attempted => {}
                    None => bars.push(Bar {
                        end: Some(at),
                        outcome: Outcome::Failed,
                        error: Some(error.clone()),
                        ..open(BarKind::Step, at)
                    }),
                }
            }
            Event::NodeCancelled { .. } => close(bars, at, Outcome::Cancelled, |_| true),
            _ => {}
        }
    }
    rows
}

fn open(kind: BarKind, at: i64) -> Bar {
    Bar {
        kind,
        outcome: Outcome::Open,
        start: at,
        end: None,
        error: None,
        output: None,
    }
}

fn open_bar(bars: &mut [Bar], kind: impl Fn(BarKind) -> bool) -> Option<&mut Bar> {
    bars.iter_mut()
        .rev()
        .find(|b| b.outcome == Outcome::Open && kind(b.kind))
}

fn close(bars: &mut [Bar], at: i64, outcome: Outcome, kind: impl Fn(BarKind) -> bool) {
    for bar in bars
        .iter_mut()
        .filter(|b| b.outcome == Outcome::Open && kind(b.kind))
    {
        bar.end = Some(at);
        bar.outcome = outcome;
    }
}

/// A round tick interval near `raw` ms: 1, 2 or 5 times a power of ten, at least 1 ms.
pub fn nice_step(raw: i64) -> i64 {
    let raw = raw.max(1);
    let mut base = 1;
    while base * 10 <= raw {
        base *= 10;
    }
    [1, 2, 5, 10]
        .into_iter()
        .map(|m| m * base)
        .find(|s| *s >= raw)
        .unwrap_or(base * 10)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event(seq: i64, at: i64, ty: &str, node: Option<&str>, data: Value) -> Recorded {
        Recorded {
            seq,
            at,
            event: Event::join(ty, node, data).unwrap(),
        }
    }

    fn workflow() -> Workflow {
        serde_json::from_value(json!({
            "name": "w",
            "nodes": [
                {"id": "start", "type": "start"},
                {"id": "charge", "type": "http", "request": {"method": "GET", "url": "http://x"}},
                {"id": "approve", "type": "approval", "prompt": "ok?"},
                {"id": "done", "type": "end"}
            ],
            "edges": []
        }))
        .unwrap()
    }

    #[test]
    fn each_attempt_is_a_bar_with_backoff_between() {
        let events = [
            event(
                1,
                0,
                "run_started",
                None,
                json!({"workflow": "w", "version": 1, "input": {}}),
            ),
            event(
                2,
                0,
                "node_completed",
                Some("start"),
                json!({"output": null}),
            ),
            event(3, 1, "node_started", Some("charge"), json!({"attempt": 1})),
            event(
                4,
                5,
                "attempt_failed",
                Some("charge"),
                json!({"attempt": 1, "error": "503", "retry_at": 105}),
            ),
            event(
                5,
                106,
                "node_started",
                Some("charge"),
                json!({"attempt": 2}),
            ),
            event(
                6,
                110,
                "node_completed",
                Some("charge"),
                json!({"output": {"status": 200}}),
            ),
            event(
                7,
                110,
                "node_waiting",
                Some("approve"),
                json!({"prompt": "ok?"}),
            ),
        ];
        let rows = rows(&events, &workflow());
        let names: Vec<_> = rows.iter().map(|r| r.node.as_str()).collect();
        assert_eq!(names, ["start", "charge", "approve"]);
        assert_eq!(rows[0].bars[0].kind, BarKind::Step);
        let charge: Vec<_> = rows[1]
            .bars
            .iter()
            .map(|b| (b.kind, b.outcome, b.start, b.end))
            .collect();
        assert_eq!(
            charge,
            [
                (BarKind::Attempt(1), Outcome::Failed, 1, Some(5)),
                (BarKind::Backoff, Outcome::Completed, 5, Some(106)),
                (BarKind::Attempt(2), Outcome::Completed, 106, Some(110)),
            ]
        );
        assert_eq!(rows[1].bars[0].error.as_deref(), Some("503"));
        assert_eq!(rows[2].bars[0].kind, BarKind::Wait("approval"));
        assert_eq!(rows[2].bars[0].outcome, Outcome::Open);
    }

    #[test]
    fn a_failed_node_after_its_last_attempt_adds_no_bar() {
        let events = [
            event(1, 0, "node_started", Some("charge"), json!({"attempt": 1})),
            event(
                2,
                5,
                "attempt_failed",
                Some("charge"),
                json!({"attempt": 1, "error": "404"}),
            ),
            event(3, 5, "node_failed", Some("charge"), json!({"error": "404"})),
        ];
        let rows = rows(&events, &workflow());
        assert_eq!(rows[0].bars.len(), 1);
        assert_eq!(rows[0].bars[0].outcome, Outcome::Failed);
    }

    #[test]
    fn cancelling_closes_open_bars() {
        let events = [
            event(1, 0, "node_waiting", Some("approve"), json!({})),
            event(2, 9, "node_cancelled", Some("approve"), json!({})),
        ];
        let rows = rows(&events, &workflow());
        assert_eq!(rows[0].bars[0].outcome, Outcome::Cancelled);
        assert_eq!(rows[0].bars[0].end, Some(9));
    }

    #[test]
    fn a_maps_children_are_bars_grouped_in_one_line_that_expands() {
        let wf: Workflow = serde_json::from_value(json!({
            "name": "w",
            "nodes": [
                {"id": "start", "type": "start"},
                {"id": "each", "type": "map", "items": "{{ input }}", "workflow": "c"},
                {"id": "done", "type": "end"}
            ],
            "edges": []
        }))
        .unwrap();
        let child = |seq, at, i: u32| {
            event(
                seq,
                at,
                "child_started",
                Some("each"),
                json!({"index": i, "run": format!("r{i}"), "workflow": "c", "input": i}),
            )
        };
        let events = [
            event(
                1,
                0,
                "node_completed",
                Some("start"),
                json!({"output": null}),
            ),
            event(2, 1, "node_started", Some("each"), json!({"attempt": 1})),
            event(
                3,
                1,
                "map_started",
                Some("each"),
                json!({"items": [0, 1, 2]}),
            ),
            child(4, 1, 0),
            child(5, 1, 1),
            event(
                6,
                7,
                "child_finished",
                Some("each"),
                json!({"index": 1, "run": "r1", "status": "failed", "error": "no"}),
            ),
            child(7, 7, 2),
            event(
                8,
                9,
                "child_finished",
                Some("each"),
                json!({"index": 0, "run": "r0", "status": "completed", "output": 0}),
            ),
        ];
        let rows = rows(&events, &wf);
        let each = &rows[1];
        assert!(each.is_map() && !rows[0].is_map());
        assert_eq!(each.bars.len(), 1);
        assert_eq!(
            (each.bars[0].kind, each.bars[0].outcome),
            (BarKind::Children, Outcome::Open)
        );
        let children: Vec<_> = each
            .children
            .iter()
            .map(|c| (c.index, c.run.as_str(), c.outcome, c.start, c.end))
            .collect();
        assert_eq!(
            children,
            [
                (Some(0), "r0", Outcome::Completed, 1, Some(9)),
                (Some(1), "r1", Outcome::Failed, 1, Some(7)),
                (Some(2), "r2", Outcome::Open, 7, None),
            ]
        );
        assert_eq!(each.children[1].error.as_deref(), Some("no"));
        // r0 and r1 overlap; r2 starts when r1 ends, in r1's lane.
        assert_eq!(lanes(&each.children), (vec![0, 1, 1], 2));
        assert_eq!(
            lines(&rows, |_| false, 100),
            [Line::Node(0), Line::Node(1), Line::Group(1)]
        );
        assert_eq!(
            lines(&rows, |n| n == "each", 2),
            [
                Line::Node(0),
                Line::Node(1),
                Line::Group(1),
                Line::Child(1, 0),
                Line::Child(1, 1)
            ]
        );
    }

    #[test]
    fn tick_steps_are_round() {
        assert_eq!(nice_step(0), 1);
        assert_eq!(nice_step(7), 10);
        assert_eq!(nice_step(130), 200);
        assert_eq!(nice_step(4_000), 5_000);
    }
}
