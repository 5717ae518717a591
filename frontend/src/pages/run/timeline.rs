//! The run's timeline: a Gantt chart with a row per node and a bar per attempt, coloured by
//! outcome; backoff gaps and waits (approval, signal, timer) drawn as hatched bars; a time
//! axis that zooms; a tooltip per bar; open bars grow with the clock while the run runs.
//! A click on a bar shows that attempt's details below the chart.
//!
//! [`rows`] turns the history into bars and is pure, so it is tested without a browser.

use leptos::prelude::*;
use serde_json::Value;
use shared::model::Workflow;
use wasm_bindgen::JsCast;
use web_sys::Element;

use super::format;
use super::state::RunState;
use shared::event::{Event, Recorded};

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
    fn as_str(self) -> &'static str {
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
}

impl BarKind {
    fn class(self) -> &'static str {
        match self {
            BarKind::Attempt(_) => "attempt",
            BarKind::Backoff => "backoff",
            BarKind::Wait(_) => "wait",
            BarKind::Step => "step",
        }
    }

    fn title(self) -> String {
        match self {
            BarKind::Attempt(n) => format!("Attempt {n}"),
            BarKind::Backoff => "Backoff before the next attempt".into(),
            BarKind::Wait(kind) => format!("Waiting ({kind})"),
            BarKind::Step => "Step".into(),
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
                });
                rows.len() - 1
            }
        };
        let bars = &mut rows[index].bars;
        let at = *at;
        match event {
            Event::NodeStarted { attempt, .. } => {
                close(bars, at, Outcome::Completed, |k| k == BarKind::Backoff);
                bars.push(open(BarKind::Attempt(*attempt), at));
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

/// Zoom steps: the chart is this many times the width of its frame.
const ZOOMS: [u32; 7] = [1, 2, 4, 8, 16, 32, 64];

/// A bar under the pointer (or focused): where to draw its tooltip.
#[derive(Debug, Clone, PartialEq)]
struct Tip {
    lines: Vec<String>,
    x: f64,
    y: f64,
}

/// The chart, its zoom controls and the details of the bar clicked last.
#[component]
pub fn Timeline(
    state: RwSignal<RunState>,
    workflow: StoredValue<Workflow>,
    /// The clock, ticking while the run runs.
    now: RwSignal<i64>,
) -> impl IntoView {
    let zoom = RwSignal::new(0usize);
    let tip = RwSignal::new(None::<Tip>);
    let selected = RwSignal::new(None::<(String, usize)>);
    let rows = Memo::new(move |_| state.with(|s| workflow.with_value(|wf| rows(&s.recorded, wf))));
    // The chart spans the run's start to its end, or to now while it runs.
    let span = Memo::new(move |_| {
        state.with(|s| {
            let start = s.started_at.unwrap_or_else(|| now.get());
            let end = s.finished_at.unwrap_or_else(|| now.get());
            (start, end.max(start + 1))
        })
    });
    let pct = move |t: i64| {
        let (t0, t1) = span.get();
        (t - t0) as f64 / (t1 - t0) as f64 * 100.0
    };
    let ticks = move || {
        let (t0, t1) = span.get();
        let per = ZOOMS[zoom.get()] as i64 * 6;
        let step = nice_step((t1 - t0) / per.max(1));
        (0..)
            .map(move |i| i * step)
            .take_while(move |d| *d <= t1 - t0)
            .collect::<Vec<_>>()
    };
    let bar_details = move || {
        let (node, index) = selected.get()?;
        let bar = rows.with(|rows| {
            rows.iter()
                .find(|r| r.node == node)
                .and_then(|r| r.bars.get(index).cloned())
        })?;
        Some((node, bar))
    };

    view! {
        <section class="card timeline-card" data-testid="timeline">
            <div class="card-head">
                <h2>"Timeline"</h2>
                <div class="legend" aria-hidden="true">
                    <span class="legend-item"><i class="swatch outcome-completed"></i>"completed"</span>
                    <span class="legend-item"><i class="swatch outcome-failed"></i>"failed"</span>
                    <span class="legend-item"><i class="swatch outcome-open"></i>"running"</span>
                    <span class="legend-item"><i class="swatch swatch-backoff"></i>"backoff"</span>
                    <span class="legend-item"><i class="swatch swatch-wait"></i>"waiting"</span>
                </div>
                <div class="card-actions zoom">
                    <button
                        class="btn btn-icon"
                        title="Zoom out"
                        aria-label="Zoom out"
                        data-testid="timeline-zoom-out"
                        disabled=move || zoom.get() == 0
                        on:click=move |_| zoom.update(|z| *z = z.saturating_sub(1))
                    >
                        "−"
                    </button>
                    <span class="zoom-level" data-testid="timeline-zoom-level">
                        {move || format!("×{}", ZOOMS[zoom.get()])}
                    </span>
                    <button
                        class="btn btn-icon"
                        title="Zoom in"
                        aria-label="Zoom in"
                        data-testid="timeline-zoom-in"
                        disabled=move || zoom.get() == ZOOMS.len() - 1
                        on:click=move |_| zoom.update(|z| *z = (*z + 1).min(ZOOMS.len() - 1))
                    >
                        "+"
                    </button>
                    <button class="btn" data-testid="timeline-zoom-fit" on:click=move |_| zoom.set(0)>
                        "Fit"
                    </button>
                </div>
            </div>
            <div class="gantt">
                <div class="gantt-labels">
                    <div class="gantt-axis-pad"></div>
                    <For each=move || rows.get() key=|row| row.node.clone() let:row>
                        <div class="gantt-label" title=row.node.clone()>
                            {row.node.clone()}
                        </div>
                    </For>
                </div>
                <div class="gantt-scroll" on:scroll=move |_| tip.set(None)>
                    <div
                        class="gantt-canvas"
                        style:width=move || format!("{}%", ZOOMS[zoom.get()] * 100)
                    >
                        <div class="gantt-axis">
                            {move || {
                                ticks()
                                    .into_iter()
                                    .map(|d| {
                                        let (t0, _) = span.get();
                                        view! {
                                            <span class="tick" style:left=format!("{}%", pct(t0 + d))>
                                                {format::duration(d)}
                                            </span>
                                        }
                                    })
                                    .collect_view()
                            }}
                        </div>
                        {move || {
                            rows.get()
                                .into_iter()
                                .map(|Row { node, bars }| {
                                    let testid = format!("timeline-row-{node}");
                                    view! {
                                        <div class="gantt-row" data-testid=testid>
                                            {bars
                                                .into_iter()
                                                .enumerate()
                                                .map(|(index, bar)| {
                                                    let chart = Chart {
                                                        now,
                                                        tip,
                                                        selected,
                                                        zoom: ZOOMS[zoom.get()],
                                                    };
                                                    bar_view(node.clone(), index, bar, chart, pct)
                                                })
                                                .collect_view()}
                                        </div>
                                    }
                                })
                                .collect_view()
                        }}
                    </div>
                </div>
            </div>
            <Show when=move || rows.with(Vec::is_empty)>
                <p class="empty">"Nothing has run yet."</p>
            </Show>
            {move || {
                tip.get()
                    .map(|t| {
                        view! {
                            <div
                                class="gantt-tip"
                                role="tooltip"
                                data-testid="bar-tooltip"
                                style:left=format!("{}px", t.x)
                                style:top=format!("{}px", t.y)
                            >
                                {t.lines.into_iter().map(|l| view! { <div>{l}</div> }).collect_view()}
                            </div>
                        }
                    })
            }}
            {move || {
                bar_details()
                    .map(|(node, bar)| {
                        view! { <BarDetails node bar now on_close=Callback::new(move |_| selected.set(None)) /> }
                    })
            }}
        </section>
    }
}

/// The chart's shared signals, as each bar uses them.
#[derive(Clone, Copy)]
struct Chart {
    now: RwSignal<i64>,
    tip: RwSignal<Option<Tip>>,
    /// The clicked bar: its node and its index in the node's row.
    selected: RwSignal<Option<(String, usize)>>,
    zoom: u32,
}

fn bar_view(
    node: String,
    index: usize,
    bar: Bar,
    chart: Chart,
    pct: impl Fn(i64) -> f64 + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let Chart {
        now,
        tip,
        selected,
        zoom,
    } = chart;
    let end = bar.end.unwrap_or_else(|| now.get());
    let left = pct(bar.start);
    let width = (pct(end) - left).max(0.0);
    let attempt = match bar.kind {
        BarKind::Attempt(n) => n.to_string(),
        _ => String::new(),
    };
    let lines = tooltip_lines(&node, &bar, end);
    let show = move |target: Option<Element>| {
        if let Some(el) = target {
            let rect = el.get_bounding_client_rect();
            tip.set(Some(Tip {
                lines: lines.clone(),
                x: rect.left(),
                y: rect.bottom() + 6.0,
            }));
        }
    };
    let show_on_focus = show.clone();
    let is_selected = {
        let node = node.clone();
        move || selected.get().is_some_and(|(n, i)| n == node && i == index)
    };
    let node_for_click = node.clone();
    // A label only where it fits: the chart is roughly 1000 px wide per zoom step.
    let fits = width * zoom as f64 * 10.0 > 28.0;
    let label = match bar.kind {
        BarKind::Attempt(n) if fits => format!("#{n}"),
        BarKind::Wait(kind) if fits => kind.to_owned(),
        _ => String::new(),
    };
    view! {
        <button
            class=format!("bar bar-{} outcome-{}", bar.kind.class(), bar.outcome.as_str())
            class:selected=is_selected
            style:left=format!("{left}%")
            style:width=format!("{width}%")
            data-testid="bar"
            data-node=node.clone()
            data-kind=bar.kind.class()
            data-outcome=bar.outcome.as_str()
            data-attempt=attempt
            aria-label=format!("{node}: {}", bar.kind.title())
            on:mouseenter=move |ev| show(ev.current_target().and_then(|t| t.dyn_into().ok()))
            on:focus=move |ev| show_on_focus(ev.current_target().and_then(|t| t.dyn_into().ok()))
            on:mouseleave=move |_| tip.set(None)
            on:blur=move |_| tip.set(None)
            on:click=move |_| selected.set(Some((node_for_click.clone(), index)))
        >
            <span class="bar-label">{label}</span>
        </button>
    }
}

fn tooltip_lines(node: &str, bar: &Bar, end: i64) -> Vec<String> {
    let mut lines = vec![
        format!("{node} · {}", bar.kind.title()),
        format!(
            "{} → {}",
            format::clock_ms(bar.start),
            if bar.end.is_some() {
                format::clock_ms(end)
            } else {
                "now".into()
            }
        ),
        format!(
            "{} · {}",
            format::duration(end - bar.start),
            bar.outcome.as_str()
        ),
    ];
    lines.extend(bar.error.as_ref().map(|e| format!("Error: {e}")));
    lines
}

/// The bar clicked last: its attempt, times, error and output.
#[component]
fn BarDetails(node: String, bar: Bar, now: RwSignal<i64>, on_close: Callback<()>) -> impl IntoView {
    let end = bar.end;
    let start = bar.start;
    view! {
        <div class="bar-details" data-testid="bar-details">
            <div class="bar-details-head">
                <strong>{format!("{node} · {}", bar.kind.title())}</strong>
                <span class=format!("pill state-pill state-{}", match bar.outcome {
                    Outcome::Open => "running",
                    other => other.as_str(),
                })>{bar.outcome.as_str()}</span>
                <button class="btn btn-icon" aria-label="Close" on:click=move |_| on_close.run(())>
                    "×"
                </button>
            </div>
            <dl class="facts">
                <dt>"Started"</dt>
                <dd>{format::clock_ms(start)}</dd>
                <dt>"Ended"</dt>
                <dd>{end.map_or_else(|| "—".into(), format::clock_ms)}</dd>
                <dt>"Duration"</dt>
                <dd>{move || format::duration(end.unwrap_or_else(|| now.get()) - start)}</dd>
            </dl>
            {bar.error.map(|e| view! { <p class="node-error" data-testid="bar-error">{e}</p> })}
            {bar.output.map(|o| view! { <pre class="json">{format::pretty(&o)}</pre> })}
        </div>
    }
}

/// A round tick interval near `raw` ms: 1, 2 or 5 times a power of ten, at least 1 ms.
fn nice_step(raw: i64) -> i64 {
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
    fn tick_steps_are_round() {
        assert_eq!(nice_step(0), 1);
        assert_eq!(nice_step(7), 10);
        assert_eq!(nice_step(130), 200);
        assert_eq!(nice_step(4_000), 5_000);
    }
}
