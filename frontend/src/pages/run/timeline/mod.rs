//! The run's timeline: a Gantt chart with a row per node and a bar per attempt, coloured by
//! outcome; backoff gaps and waits (approval, signal, timer) drawn as hatched bars; a time
//! axis that zooms; a tooltip per bar; open bars grow with the clock while the run runs.
//! A click on a bar shows that attempt's details below the chart. A `map`'s children follow
//! its row as one line of bars, which a toggle expands into a line per child; each child's
//! bar links to its run.
//!
//! [`bars`] is the model (the history turned into bars, pure and tested natively); this
//! module is the view.

pub mod bars;

use std::collections::HashSet;

use leptos::prelude::*;
use shared::model::Workflow;
use wasm_bindgen::JsCast;
use web_sys::Element;

use self::bars::{Bar, BarKind, ChildBar, Line, Outcome, Row, lanes, lines, nice_step, rows};
use super::children::run_path;
use super::format;
use super::state::RunState;

/// The most lines an expanded map shows, one child each; its group line draws them all.
const CHILD_LINES: usize = 200;

/// The most child bars a group line draws (a map may have 10,000 children).
const GROUP_BARS: usize = 2_000;

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
    // The maps whose children are shown a line each.
    let expanded = RwSignal::new(HashSet::<String>::new());
    let lines = Memo::new(move |_| {
        rows.with(|rows| expanded.with(|open| lines(rows, |n| open.contains(n), CHILD_LINES)))
    });
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
                    {move || {
                        rows.with(|rows| {
                            lines.get()
                                .into_iter()
                                .map(|line| line_label(rows, line, expanded))
                                .collect_view()
                        })
                    }}
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
                            let chart = Chart {
                                now,
                                tip,
                                selected,
                                zoom: ZOOMS[zoom.get()],
                            };
                            rows.with(|rows| {
                                lines.get()
                                    .into_iter()
                                    .map(|line| line_view(rows, line, chart, pct))
                                    .collect_view()
                            })
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

/// The label of one line: a node's id; for a map's group a toggle that expands it; for a
/// child its item and a link to its run.
fn line_label(rows: &[Row], line: Line, expanded: RwSignal<HashSet<String>>) -> AnyView {
    match line {
        Line::Node(i) => {
            let node = rows[i].node.clone();
            let title = node.clone();
            view! { <div class="gantt-label" title=title>{node}</div> }.into_any()
        }
        Line::Group(i) => {
            let row = &rows[i];
            let node = row.node.clone();
            let count = row.children.len();
            let is_open = {
                let node = node.clone();
                move || expanded.with(|e| e.contains(&node))
            };
            let open_now = is_open.clone();
            let toggle = move |_| {
                let node = node.clone();
                expanded.update(|e| {
                    if !e.remove(&node) {
                        e.insert(node);
                    }
                });
            };
            view! {
                <div class="gantt-label gantt-group-label">
                    <button
                        class="gantt-toggle"
                        data-testid=format!("timeline-group-{}", row.node)
                        aria-expanded=move || if is_open() { "true" } else { "false" }
                        title="Show a line per child run"
                        on:click=toggle
                    >
                        <span class="gantt-caret" aria-hidden="true">{move || if open_now() { "▾" } else { "▸" }}</span>
                        {format!("{count} child run{}", if count == 1 { "" } else { "s" })}
                    </button>
                </div>
            }
            .into_any()
        }
        Line::Child(i, c) => {
            let child = &rows[i].children[c];
            let text = child
                .index
                .map_or_else(|| "child".to_owned(), |n| format!("#{n}"));
            view! {
                <div class="gantt-label gantt-child-label">
                    <a href=run_path(&child.run) title=format!("Run {}", child.run) data-testid="timeline-child-link">
                        {text}
                    </a>
                </div>
            }
            .into_any()
        }
    }
}

/// The bars of one line.
fn line_view(
    rows: &[Row],
    line: Line,
    chart: Chart,
    pct: impl Fn(i64) -> f64 + Copy + Send + Sync + 'static,
) -> AnyView {
    match line {
        Line::Node(i) => {
            let Row { node, bars, .. } = rows[i].clone();
            let testid = format!("timeline-row-{node}");
            view! {
                <div class="gantt-row" data-testid=testid>
                    {bars
                        .into_iter()
                        .enumerate()
                        .map(|(index, bar)| bar_view(node.clone(), index, bar, chart, pct))
                        .collect_view()}
                </div>
            }
            .into_any()
        }
        Line::Group(i) => {
            let row = &rows[i];
            let shown = &row.children[..row.children.len().min(GROUP_BARS)];
            // Children that overlap in time sit in lanes, one above the other.
            let (lane, count) = lanes(shown);
            let height = (22.0 / count as f64).min(14.0);
            view! {
                <div class="gantt-row gantt-group" data-testid=format!("timeline-children-{}", row.node)>
                    {shown
                        .iter()
                        .zip(lane)
                        .map(|(c, l)| {
                            let top = 4.0 + l as f64 * (22.0 / count as f64);
                            view! {
                                <span class="gantt-lane" style:top=format!("{top}px") style:height=format!("{height}px")>
                                    {child_bar(&row.node, c, chart.now, pct)}
                                </span>
                            }
                        })
                        .collect_view()}
                </div>
            }
            .into_any()
        }
        Line::Child(i, c) => {
            let row = &rows[i];
            view! {
                <div class="gantt-row gantt-child">
                    {child_bar(&row.node, &row.children[c], chart.now, pct)}
                </div>
            }
            .into_any()
        }
    }
}

/// One child run's bar: a link to the run, with its item, times and outcome as its title.
fn child_bar<F: Fn(i64) -> f64>(
    node: &str,
    child: &ChildBar,
    now: RwSignal<i64>,
    pct: F,
) -> impl IntoView + use<F> {
    let end = child.end.unwrap_or_else(|| now.get());
    let left = pct(child.start);
    let width = (pct(end) - left).max(0.0);
    let item = child.index.map_or_else(String::new, |i| format!(" #{i}"));
    let mut title = format!(
        "{node}{item} · run {} · {} · {}",
        child.run,
        format::duration(end - child.start),
        child.outcome.as_str()
    );
    if let Some(e) = &child.error {
        title.push_str(&format!(" · {e}"));
    }
    view! {
        <a
            class=format!("bar bar-child outcome-{}", child.outcome.as_str())
            href=run_path(&child.run)
            style:left=format!("{left}%")
            style:width=format!("{width}%")
            title=title
            data-testid="child-bar"
            data-node=node.to_owned()
            data-outcome=child.outcome.as_str()
        ></a>
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
