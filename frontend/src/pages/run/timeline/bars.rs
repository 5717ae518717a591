//! The timeline's model: the run's recorded events turned into rows of bars (one per attempt,
//! backoff, wait or step; a `subflow`'s or `map`'s stretch of child runs, with a bar per
//! child) with their outcomes, the chart's lines (a map's children grouped into one line, a
//! retried node's attempts summarised in its own, each expanding into a line apiece), and the
//! arithmetic that keeps a 10,000-event run cheap to draw: the [`Window`] of time shown, which
//! lines are [`visible`], attempts thinned to one [`Mark`] per column, children and events
//! counted into buckets. Pure, so it is tested without a browser; [`super`] draws it.

use std::ops::Range;

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

/// Up to this many attempts a node's row draws each attempt and backoff as a bar, legible
/// side by side; past it the row summarises them ([`Row::summary`] and [`marks`]).
pub const INLINE_ATTEMPTS: usize = 8;

/// Up to this many children a map's group line draws a bar each, in lanes; past it, how many
/// run at each moment ([`coverage`]).
pub const INLINE_CHILDREN: usize = 64;

impl Row {
    /// A `map`'s row, whose children the chart groups in a row of their own.
    pub fn is_map(&self) -> bool {
        self.children.iter().any(|c| c.index.is_some())
    }

    /// How many attempts the node made, and how many of them failed.
    pub fn attempts(&self) -> (usize, usize) {
        let attempts = self
            .bars
            .iter()
            .filter(|b| matches!(b.kind, BarKind::Attempt(_)));
        attempts.fold((0, 0), |(n, failed), b| {
            (n + 1, failed + usize::from(b.outcome == Outcome::Failed))
        })
    }

    /// A node tried more than once: its attempts can expand into a line each.
    pub fn is_retried(&self) -> bool {
        self.attempts().0 > 1
    }

    /// Too many attempts to draw side by side: the row is one span with a tick per attempt.
    pub fn is_summarised(&self) -> bool {
        self.attempts().0 > INLINE_ATTEMPTS
    }

    /// The whole stretch of the node's bars as one: from its first start to its last end
    /// (`None` while a bar is open), with the outcome of its last attempt (open while any bar
    /// is), so 299 failures and a success read as a success.
    pub fn summary(&self) -> Option<Bar> {
        let first = self.bars.first()?;
        let open = self.bars.iter().any(|b| b.outcome == Outcome::Open);
        let last = self
            .bars
            .iter()
            .rev()
            .find(|b| matches!(b.kind, BarKind::Attempt(_)))
            .unwrap_or(first);
        Some(Bar {
            kind: BarKind::Attempt(0),
            outcome: if open { Outcome::Open } else { last.outcome },
            start: first.start,
            end: if open {
                None
            } else {
                self.bars.iter().filter_map(|b| b.end).max()
            },
            error: last.error.clone(),
            output: last.output.clone(),
        })
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Line {
    /// `rows[i]`.
    Node(usize),
    /// The children of `rows[i]`, grouped.
    Group(usize),
    /// Child `c` of `rows[i]`.
    Child(usize, usize),
    /// The attempt that is bar `b` of `rows[i]` (with the backoff after it, if any).
    Attempt(usize, usize),
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
/// child when `expanded` says so for that node; after a retried node's row, when expanded, one
/// line per attempt. Only the [`visible`] ones are drawn, so there may be thousands.
pub fn lines(rows: &[Row], expanded: impl Fn(&str) -> bool) -> Vec<Line> {
    let mut lines = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        lines.push(Line::Node(i));
        if row.is_map() {
            lines.push(Line::Group(i));
            if expanded(&row.node) {
                lines.extend((0..row.children.len()).map(|c| Line::Child(i, c)));
            }
        } else if row.is_retried() && expanded(&row.node) {
            let attempts = row.bars.iter().enumerate();
            lines.extend(
                attempts
                    .filter(|(_, b)| matches!(b.kind, BarKind::Attempt(_)))
                    .map(|(b, _)| Line::Attempt(i, b)),
            );
        }
    }
    lines
}

/// The lines a scrolled list of `count` lines `row` px tall shows in `height` px from
/// `scroll_top`, with `overscan` more on each side so a scroll does not reveal a gap.
pub fn visible(
    scroll_top: f64,
    height: f64,
    row: f64,
    count: usize,
    overscan: usize,
) -> Range<usize> {
    let first = (scroll_top.max(0.0) / row).floor() as usize;
    let shown = (height.max(0.0) / row).ceil() as usize + 1;
    let start = first.saturating_sub(overscan).min(count);
    let end = (first + shown + overscan).min(count);
    start..end
}

/// The stretch of time the chart shows, in ms since the epoch, never narrower than
/// [`MIN_WINDOW`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window {
    pub start: i64,
    pub end: i64,
}

/// The narrowest window: 10 ms, so the axis counts single milliseconds.
pub const MIN_WINDOW: i64 = 10;

impl Window {
    pub fn width(self) -> i64 {
        self.end - self.start
    }

    /// Where `t` falls, in percent of the window's width (outside 0..100 when outside it).
    pub fn pct(self, t: i64) -> f64 {
        (t - self.start) as f64 / self.width().max(1) as f64 * 100.0
    }

    /// Whether anything from `start` to `end` shows in the window.
    pub fn overlaps(self, start: i64, end: i64) -> bool {
        start <= self.end && end >= self.start
    }

    /// `start` to `end` cut to the window, in percent: left edge and width.
    pub fn clip(self, start: i64, end: i64) -> (f64, f64) {
        let left = self.pct(start.max(self.start));
        let right = self.pct(end.min(self.end));
        (left, (right - left).max(0.0))
    }

    /// Zoomed by `factor` (above 1 in, below 1 out) about the point `anchor` of the way across
    /// (0 to 1), kept inside `span`.
    pub fn zoom(self, factor: f64, anchor: f64, span: Window) -> Window {
        let anchor = anchor.clamp(0.0, 1.0);
        let width = ((self.width() as f64 / factor).round() as i64).max(MIN_WINDOW);
        let pivot = self.start as f64 + self.width() as f64 * anchor;
        let start = (pivot - width as f64 * anchor).round() as i64;
        Window::inside(start, width, span)
    }

    /// Moved by `delta` ms, kept inside `span`.
    pub fn pan(self, delta: i64, span: Window) -> Window {
        Window::inside(self.start + delta, self.width(), span)
    }

    /// Centred on `t` with the same width, kept inside `span`.
    pub fn centre(self, t: i64, span: Window) -> Window {
        Window::inside(t - self.width() / 2, self.width(), span)
    }

    /// `width` ms from `start`, moved (and narrowed) to fit inside `span`.
    pub fn inside(start: i64, width: i64, span: Window) -> Window {
        let width = width.clamp(MIN_WINDOW.min(span.width()), span.width());
        let start = start.clamp(span.start, span.end - width);
        Window {
            start,
            end: start + width,
        }
    }

    /// How many times narrower than `span`: the zoom level the controls show.
    pub fn zoom_level(self, span: Window) -> f64 {
        span.width() as f64 / self.width().max(1) as f64
    }
}

/// The axis's ticks in `window`: a round step giving about `count` of them, and each tick's
/// offset from `origin` (the run's start), the first at or after the window's start.
pub fn ticks(origin: i64, window: Window, count: i64) -> (i64, Vec<i64>) {
    let step = nice_step(window.width() / count.max(1));
    let after = (window.start - origin).max(0);
    let first = (after + step - 1) / step * step;
    let offsets = (0..)
        .map(|i| first + i * step)
        .take_while(|d| origin + d <= window.end)
        .collect();
    (step, offsets)
}

/// A tick's label when the step is below a second: its offset from the run's start in ms under
/// a second (`850ms`), else in seconds with as many decimals as the step needs (`1.2s` a 200 ms
/// step, `12.125s` a 5 ms one). `None` for longer steps: a plain duration says those.
pub fn tick_label(offset: i64, step: i64) -> Option<String> {
    if step >= 1000 {
        return None;
    }
    if offset < 1000 {
        return Some(format!("{offset}ms"));
    }
    let decimals = match step {
        s if s % 100 == 0 => 1,
        s if s % 10 == 0 => 2,
        _ => 3,
    };
    let fraction = format!("{:03}", offset % 1000);
    Some(format!("{}.{}s", offset / 1000, &fraction[..decimals]))
}

/// An attempt drawn as a tick on a summarised row: bar `bar` of the row, at `left` percent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mark {
    pub bar: usize,
    pub left: f64,
    pub outcome: Outcome,
}

/// The attempts of `bars` that start in `window`, at most one per `columns`th of its width
/// (the last in each: a column's success outshows its failures), so 10,000 attempts draw no
/// more ticks than the chart has room for.
pub fn marks(bars: &[Bar], window: Window, columns: usize) -> Vec<Mark> {
    let mut out: Vec<(usize, Mark)> = Vec::new();
    for (bar, b) in bars.iter().enumerate() {
        if !matches!(b.kind, BarKind::Attempt(_)) || b.start < window.start || b.start > window.end
        {
            continue;
        }
        let left = window.pct(b.start);
        let column = ((left / 100.0 * columns as f64) as usize).min(columns.saturating_sub(1));
        let mark = Mark {
            bar,
            left,
            outcome: b.outcome,
        };
        match out.last_mut() {
            Some((c, last)) if *c == column => *last = mark,
            _ => out.push((column, mark)),
        }
    }
    out.into_iter().map(|(_, m)| m).collect()
}

/// How many of `spans` (start, end; `None` for still going, up to `now`) cover each of
/// `buckets` equal parts of `window`: a map's children as one strip however many there are.
pub fn coverage(
    spans: impl Iterator<Item = (i64, Option<i64>)>,
    window: Window,
    buckets: usize,
    now: i64,
) -> Vec<u32> {
    let mut delta = vec![0i64; buckets + 1];
    let bucket =
        |t: i64| ((window.pct(t) / 100.0 * buckets as f64).floor().max(0.0) as usize).min(buckets);
    for (start, end) in spans {
        let end = end.unwrap_or(now);
        if !window.overlaps(start, end) {
            continue;
        }
        let (from, to) = (
            bucket(start),
            bucket(end).max(bucket(start) + 1).min(buckets),
        );
        delta[from] += 1;
        delta[to] -= 1;
    }
    let mut level = 0;
    delta[..buckets]
        .iter()
        .map(|d| {
            level += d;
            level.max(0) as u32
        })
        .collect()
}

/// How many of the instants `times` fall in each of `buckets` equal parts of `span`: the
/// minimap's outline of where the run was busy.
pub fn histogram(times: impl Iterator<Item = i64>, span: Window, buckets: usize) -> Vec<u32> {
    let mut out = vec![0u32; buckets];
    for t in times.filter(|t| span.overlaps(*t, *t)) {
        let b = (span.pct(t) / 100.0 * buckets as f64) as usize;
        out[b.min(buckets - 1)] += 1;
    }
    out
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
            lines(&rows, |_| false),
            [Line::Node(0), Line::Node(1), Line::Group(1)]
        );
        assert_eq!(
            lines(&rows, |n| n == "each"),
            [
                Line::Node(0),
                Line::Node(1),
                Line::Group(1),
                Line::Child(1, 0),
                Line::Child(1, 1),
                Line::Child(1, 2)
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

    /// 300 attempts, 299 failed 10 ms apart with 90 ms of backoff, then a success.
    fn retried(n: i64) -> Vec<Recorded> {
        let mut events = Vec::new();
        for a in 1..=n {
            let at = (a - 1) * 100;
            events.push(event(
                3 * a,
                at,
                "node_started",
                Some("charge"),
                json!({"attempt": a}),
            ));
            if a < n {
                events.push(event(
                    3 * a + 1,
                    at + 10,
                    "attempt_failed",
                    Some("charge"),
                    json!({"attempt": a, "error": "503", "retry_at": at + 100}),
                ));
            } else {
                events.push(event(
                    3 * a + 1,
                    at + 10,
                    "node_completed",
                    Some("charge"),
                    json!({"output": 1}),
                ));
            }
        }
        events
    }

    #[test]
    fn many_retries_summarise_as_one_success_and_expand_into_a_line_each() {
        let rows = rows(&retried(300), &workflow());
        let row = &rows[0];
        assert_eq!(row.attempts(), (300, 299));
        assert!(row.is_retried() && row.is_summarised());
        let summary = row.summary().unwrap();
        assert_eq!(
            (summary.outcome, summary.start, summary.end),
            (Outcome::Completed, 0, Some(29_910))
        );
        assert_eq!(lines(&rows, |_| false), [Line::Node(0)]);
        let open = lines(&rows, |_| true);
        assert_eq!(open.len(), 301);
        // Every attempt's line names its attempt bar, skipping the backoffs.
        assert_eq!(open[1..3], [Line::Attempt(0, 0), Line::Attempt(0, 2)]);
        let few = rows_of(&retried(3));
        assert!(few.is_retried() && !few.is_summarised());
    }

    fn rows_of(events: &[Recorded]) -> Row {
        rows(events, &workflow()).remove(0)
    }

    #[test]
    fn a_summary_is_open_while_a_backoff_waits() {
        let mut events = retried(3);
        events.truncate(4); // two attempts, the second failed, its backoff open
        let row = rows_of(&events);
        let summary = row.summary().unwrap();
        assert_eq!((summary.outcome, summary.end), (Outcome::Open, None));
    }

    #[test]
    fn marks_thin_attempts_to_one_per_column_the_last_winning() {
        let row = rows_of(&retried(300));
        let whole = Window {
            start: 0,
            end: 30_000,
        };
        let marks = marks(&row.bars, whole, 100);
        // 300 attempts, 100 ms apart, in 100 columns of 300 ms: one each.
        assert_eq!(marks.len(), 100);
        let last = marks.last().unwrap();
        assert_eq!(last.outcome, Outcome::Completed);
        assert!((last.left - 29_900.0 / 300.0).abs() < 1e-9);
        // Zoomed to 1 s: only the 10 attempts that start in it.
        let narrow = Window {
            start: 1_000,
            end: 2_000,
        };
        let shown = super::marks(&row.bars, narrow, 1000);
        assert_eq!(shown.len(), 11);
        assert!(shown.iter().all(|m| (0.0..=100.0).contains(&m.left)));
    }

    #[test]
    fn windows_zoom_about_a_point_and_stay_inside_the_run() {
        let span = Window {
            start: 1_000,
            end: 11_000,
        };
        let half = span.zoom(2.0, 0.5, span);
        assert_eq!(
            half,
            Window {
                start: 3_500,
                end: 8_500
            }
        );
        assert_eq!(half.zoom_level(span), 2.0);
        // About the left edge: the left edge stays.
        assert_eq!(span.zoom(4.0, 0.0, span).start, 1_000);
        // Down to milliseconds, never below the narrowest window.
        let mut w = span;
        for _ in 0..30 {
            w = w.zoom(2.0, 0.3, span);
        }
        assert_eq!(w.width(), MIN_WINDOW);
        // Out again, never past the run.
        assert_eq!(w.zoom(1e-9, 0.3, span), span);
        assert_eq!(
            half.pan(100_000, span),
            Window {
                start: 6_000,
                end: 11_000
            }
        );
        assert_eq!(
            half.centre(0, span),
            Window {
                start: 1_000,
                end: 6_000
            }
        );
        assert_eq!(half.clip(0, 6_000), (0.0, 50.0));
        assert!(!half.overlaps(9_000, 9_500));
    }

    #[test]
    fn ticks_follow_the_window_and_read_milliseconds_when_narrow() {
        let window = Window {
            start: 12_100,
            end: 12_150,
        };
        let (step, offsets) = ticks(0, window, 6);
        assert_eq!(step, 10);
        assert_eq!(offsets, [12_100, 12_110, 12_120, 12_130, 12_140, 12_150]);
        assert_eq!(tick_label(12_110, step).as_deref(), Some("12.11s"));
        assert_eq!(tick_label(12_125, 5).as_deref(), Some("12.125s"));
        assert_eq!(tick_label(1_200, 200).as_deref(), Some("1.2s"));
        assert_eq!(tick_label(850, 50).as_deref(), Some("850ms"));
        assert_eq!(tick_label(2_000, 1_000), None);
    }

    #[test]
    fn only_the_lines_in_view_are_drawn() {
        assert_eq!(visible(0.0, 400.0, 28.0, 10_000, 4), 0..20);
        assert_eq!(
            visible(28.0 * 5_000.0, 400.0, 28.0, 10_000, 4),
            4_996..5_020
        );
        assert_eq!(visible(1e9, 400.0, 28.0, 10, 4), 10..10);
        assert_eq!(visible(0.0, 400.0, 28.0, 3, 4), 0..3);
    }

    #[test]
    fn coverage_counts_children_running_in_each_bucket() {
        let window = Window { start: 0, end: 100 };
        let spans = [(0, Some(50)), (25, Some(100)), (90, None)];
        let levels = coverage(spans.into_iter(), window, 4, 100);
        assert_eq!(levels, [1, 2, 1, 2]);
        let outside = coverage([(200, Some(300))].into_iter(), window, 4, 300);
        assert_eq!(outside, [0, 0, 0, 0]);
        assert_eq!(
            histogram([0, 10, 99, 100, 500].into_iter(), window, 2),
            [2, 2]
        );
    }
}
