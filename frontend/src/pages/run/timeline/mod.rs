//! The run's timeline: a Gantt chart with a line per node and a bar per attempt, coloured by
//! outcome; backoff gaps and waits (approval, signal, timer) drawn as hatched bars; a tooltip
//! per bar; open bars grow with the clock while the run runs. A click on a bar shows that
//! attempt's details below the chart.
//!
//! It has to stay quick at 10,000 events, so it draws only what is in view: the chart shows a
//! [`Window`] of the run (the whole of it at Fit, down to [`bars::MIN_WINDOW`] by the zoom
//! buttons, the wheel over the axis or the minimap, or Ctrl+wheel over the chart), picked on a
//! minimap of the whole run; the lines are a fixed height, and only those scrolled into view
//! are in the document. A node retried past [`bars::INLINE_ATTEMPTS`] times is one line
//! (its span coloured by how it ended, a tick per attempt thinned to the chart's resolution,
//! and a count); a `map`'s children are one group line (how many ran at each moment, and its
//! progress). Both expand into a line each. A replay's cursor is drawn across the chart.
//!
//! [`bars`] is the model (the history turned into bars, pure and tested natively); this
//! module is the view.

pub mod bars;

use std::collections::HashSet;

use leptos::ev::{KeyboardEvent, PointerEvent, WheelEvent};
use leptos::prelude::*;
use shared::model::Workflow;
use wasm_bindgen::JsCast;
use web_sys::Element;

use self::bars::{
    Bar, BarKind, ChildBar, INLINE_CHILDREN, Line, Outcome, Row, Window, coverage, histogram,
    lanes, lines, marks, rows, tick_label, ticks, visible,
};
use super::children::{self, run_path};
use super::format;
use super::json::JsonPre;
use super::state::RunState;

/// A line's height in px (`.tl-line` in console.css).
const ROW_H: f64 = 28.0;

/// The chart's scrolled height in px at most (`.tl-body`'s `max-height`).
const VIEW_H: f64 = 392.0;

/// Lines drawn beyond each edge of the view, so scrolling does not show a gap.
const OVERSCAN: usize = 6;

/// Attempt ticks at most on a summarised line: about one per 5 px of the chart, so the span's
/// colour (how the node ended) shows between the failures' ticks.
const COLUMNS: usize = 200;

/// Buckets of the minimap's outline and of a map's group line.
const BUCKETS: usize = 160;

/// Each zoom button halves or doubles the window; a wheel notch is gentler.
const ZOOM_STEP: f64 = 2.0;
const WHEEL_STEP: f64 = 1.25;

/// A bar under the pointer (or focused): where to draw its tooltip.
#[derive(Debug, Clone, PartialEq)]
struct Tip {
    lines: Vec<String>,
    x: f64,
    y: f64,
}

/// A drag on the minimap: drawing a new window from a time, or moving the one there is.
#[derive(Debug, Clone, Copy)]
enum Drag {
    Select { from: i64, moved: bool },
    Move { from: i64, window: Window },
}

/// The chart, its zoom controls and minimap, and the details of the bar clicked last.
#[component]
pub fn Timeline(
    state: RwSignal<RunState>,
    workflow: StoredValue<Workflow>,
    /// The clock, ticking while the run runs.
    now: RwSignal<i64>,
    /// A replay's moment, drawn as a cursor across the chart.
    #[prop(into)]
    cursor: Signal<Option<i64>>,
) -> impl IntoView {
    let tip = RwSignal::new(None::<Tip>);
    let selected = RwSignal::new(None::<(String, usize)>);
    let rows = Memo::new(move |_| state.with(|s| workflow.with_value(|wf| rows(&s.recorded, wf))));
    // The maps and retried nodes shown a line per child or attempt.
    let expanded = RwSignal::new(HashSet::<String>::new());
    let lines = Memo::new(move |_| {
        rows.with(|rows| expanded.with(|open| lines(rows, |n| open.contains(n))))
    });
    // The whole run: its start to its end, or to now while it runs.
    let span = Memo::new(move |_| {
        state.with(|s| {
            let start = s.started_at.unwrap_or_else(|| now.get());
            let end = s.finished_at.unwrap_or_else(|| now.get());
            Window {
                start,
                end: end.max(start + 1),
            }
        })
    });
    // The window picked by zooming; `None` is the whole run, which grows while it runs.
    let chosen = RwSignal::new(None::<Window>);
    let window = Memo::new(move |_| {
        let span = span.get();
        chosen
            .get()
            .map_or(span, |w| Window::inside(w.start, w.width(), span))
    });
    let set_window = move |w: Window| {
        let span = span.get_untracked();
        chosen.set((w != span).then_some(w));
    };
    let zoom_by = move |factor: f64, anchor: f64| {
        set_window(
            window
                .get_untracked()
                .zoom(factor, anchor, span.get_untracked()),
        );
    };
    // A replay's cursor that leaves the window takes the window with it.
    Effect::new(move |_| {
        if let Some(t) = cursor.get() {
            let w = window.get_untracked();
            if !w.overlaps(t, t) {
                set_window(w.centre(t, span.get_untracked()));
            }
        }
    });

    let scroll = RwSignal::new(0.0_f64);
    let version = Memo::new(move |_| state.with(|s| s.recorded.len()));
    // The lines in view, keyed so that a scroll keeps the ones still in view (and the focus).
    let shown = move || {
        let (w, v, at) = (window.get(), version.get(), now.get());
        let open = state.with(|s| !s.is_finished());
        let range = lines.with(|l| visible(scroll.get(), VIEW_H, ROW_H, l.len(), OVERSCAN));
        lines.with(|l| {
            range
                .map(|i| (i, l[i], w, v, if open { at } else { 0 }))
                .collect::<Vec<_>>()
        })
    };
    let chart = Chart {
        now,
        tip,
        selected,
        expanded,
    };
    let axis = NodeRef::<leptos::html::Div>::new();
    let anchor_at = move |x: f64| {
        axis.get_untracked().map_or(0.5, |el| {
            let r = el.get_bounding_client_rect();
            (x - r.left()) / r.width().max(1.0)
        })
    };
    // Over the axis and the minimap the wheel zooms; over the lines it scrolls them, and zooms
    // with Ctrl (or ⌘). Sideways (or with Shift) it pans.
    let on_wheel = move |ev: WheelEvent, zooms: bool| {
        let sideways = ev.delta_x().abs() > ev.delta_y().abs();
        if sideways || ev.shift_key() {
            ev.prevent_default();
            let delta = if sideways { ev.delta_x() } else { ev.delta_y() };
            let w = window.get_untracked();
            let px = axis
                .get_untracked()
                .map_or(1000.0, |el| el.get_bounding_client_rect().width().max(1.0));
            let ms = (delta / px * w.width() as f64).round() as i64;
            set_window(w.pan(ms, span.get_untracked()));
        } else if zooms || ev.ctrl_key() || ev.meta_key() {
            ev.prevent_default();
            let factor = if ev.delta_y() < 0.0 {
                WHEEL_STEP
            } else {
                1.0 / WHEEL_STEP
            };
            zoom_by(factor, anchor_at(ev.client_x() as f64));
        }
    };
    let level = move || zoom_label(window.get().zoom_level(span.get()));
    let at_fit = move || chosen.with(Option::is_none);
    let at_max = move || window.get().width() <= bars::MIN_WINDOW;
    let tick_view = move || {
        let (w, origin) = (window.get(), span.get().start);
        let (step, offsets) = ticks(origin, w, 6);
        offsets
            .into_iter()
            .map(|d| {
                let label = tick_label(d, step).unwrap_or_else(|| format::duration(d));
                view! {
                    <span class="tick" data-testid="timeline-tick" style:left=format!("{}%", w.pct(origin + d))>
                        {label}
                    </span>
                }
            })
            .collect_view()
    };
    let cursor_pct = move || {
        let w = window.get();
        cursor
            .get()
            .filter(|t| w.overlaps(*t, *t))
            .map(|t| w.pct(t))
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
                        disabled=at_fit
                        on:click=move |_| zoom_by(1.0 / ZOOM_STEP, 0.5)
                    >
                        "−"
                    </button>
                    <span class="zoom-level" data-testid="timeline-zoom-level" title="How many times the whole run is wider than the chart">
                        {level}
                    </span>
                    <button
                        class="btn btn-icon"
                        title="Zoom in"
                        aria-label="Zoom in"
                        data-testid="timeline-zoom-in"
                        disabled=at_max
                        on:click=move |_| zoom_by(ZOOM_STEP, 0.5)
                    >
                        "+"
                    </button>
                    <button
                        class="btn"
                        title="Show the whole run"
                        data-testid="timeline-zoom-fit"
                        on:click=move |_| chosen.set(None)
                    >
                        "Fit"
                    </button>
                </div>
            </div>
            <Minimap state span window set_window cursor on_wheel />
            <div class="tl-head">
                <div class="tl-corner">
                    <span class="muted" data-testid="timeline-window">
                        {move || format!("{} shown", format::duration(window.get().width()))}
                    </span>
                </div>
                <div class="tl-axis" node_ref=axis on:wheel=move |ev| on_wheel(ev, true)>
                    {tick_view}
                    {move || cursor_pct().map(|p| view! { <span class="tl-cursor-head" style:left=format!("{p}%")></span> })}
                </div>
            </div>
            <div
                class="tl-body"
                data-testid="timeline-lines"
                on:scroll=move |ev| {
                    tip.set(None);
                    let top = ev
                        .target()
                        .and_then(|t| t.dyn_into::<Element>().ok())
                        .map_or(0.0, |el| el.scroll_top() as f64);
                    scroll.set(top);
                }
                on:wheel=move |ev| on_wheel(ev, false)
            >
                <div class="tl-spacer" style:height=move || format!("{}px", lines.with(Vec::len) as f64 * ROW_H)>
                    <For
                        each=shown
                        key=|k| *k
                        children=move |(index, line, w, _, _)| {
                            rows.with_untracked(|rows| {
                                state.with_untracked(|s| line_view(rows, s, index, line, w, chart))
                            })
                        }
                    />
                    {move || {
                        cursor_pct()
                            .map(|p| {
                                view! {
                                    <span
                                        class="tl-cursor"
                                        data-testid="timeline-cursor"
                                        data-at=cursor.get().unwrap_or_default()
                                        style:left=format!("calc(var(--tl-label) + (100% - var(--tl-label)) * {})", p / 100.0)
                                    ></span>
                                }
                            })
                    }}
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

/// `×4`, `×2.5`, `×3600`: how many times the whole run is wider than the window.
fn zoom_label(level: f64) -> String {
    if level < 10.0 {
        let text = format!("{level:.1}");
        format!("×{}", text.trim_end_matches(".0"))
    } else {
        format!("×{level:.0}")
    }
}

/// The whole run in a strip: where its events fall, and a brush over the part the chart
/// shows. Drag across it to pick a window, drag the brush to move it, click to centre it;
/// with the brush focused, the arrows move it and + / − zoom.
#[component]
fn Minimap(
    state: RwSignal<RunState>,
    span: Memo<Window>,
    window: Memo<Window>,
    set_window: impl Fn(Window) + Copy + Send + Sync + 'static,
    cursor: Signal<Option<i64>>,
    on_wheel: impl Fn(WheelEvent, bool) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let strip = NodeRef::<leptos::html::Div>::new();
    let drag = StoredValue::new(None::<Drag>);
    let time_at = move |x: f64| {
        let span = span.get_untracked();
        strip.get_untracked().map_or(span.start, |el| {
            let r = el.get_bounding_client_rect();
            let f = ((x - r.left()) / r.width().max(1.0)).clamp(0.0, 1.0);
            span.start + (f * span.width() as f64).round() as i64
        })
    };
    let outline = Memo::new(move |_| {
        let span = span.get();
        let counts = state.with(|s| histogram(s.events.iter().map(|e| e.at), span, BUCKETS));
        area_path(&counts)
    });
    let on_down = move |ev: PointerEvent| {
        if ev.button() != 0 {
            return;
        }
        let t = time_at(ev.client_x() as f64);
        let w = window.get_untracked();
        let inside = w.overlaps(t, t) && w != span.get_untracked();
        drag.set_value(Some(if inside {
            Drag::Move { from: t, window: w }
        } else {
            Drag::Select {
                from: t,
                moved: false,
            }
        }));
        if let Some(el) = strip.get_untracked() {
            let _ = el.set_pointer_capture(ev.pointer_id());
        }
    };
    let on_move = move |ev: PointerEvent| {
        let t = time_at(ev.client_x() as f64);
        let span = span.get_untracked();
        match drag.get_value() {
            Some(Drag::Move { from, window }) => set_window(window.pan(t - from, span)),
            Some(Drag::Select { from, .. }) if (t - from).abs() * 200 > span.width() => {
                drag.set_value(Some(Drag::Select { from, moved: true }));
                set_window(Window::inside(from.min(t), (t - from).abs(), span));
            }
            _ => {}
        }
    };
    let on_up = move |ev: PointerEvent| {
        if let Some(Drag::Select { moved: false, .. }) = drag.get_value() {
            let t = time_at(ev.client_x() as f64);
            set_window(window.get_untracked().centre(t, span.get_untracked()));
        }
        drag.set_value(None);
    };
    let on_key = move |ev: KeyboardEvent| {
        let (w, span) = (window.get_untracked(), span.get_untracked());
        let step = if ev.shift_key() {
            w.width() / 2
        } else {
            w.width() / 10
        }
        .max(1);
        let next = match ev.key().as_str() {
            "ArrowLeft" => w.pan(-step, span),
            "ArrowRight" => w.pan(step, span),
            "Home" => w.pan(i64::MIN / 4, span),
            "End" => w.pan(i64::MAX / 4, span),
            "+" | "=" => w.zoom(ZOOM_STEP, 0.5, span),
            "-" => w.zoom(1.0 / ZOOM_STEP, 0.5, span),
            _ => return,
        };
        ev.prevent_default();
        set_window(next);
    };
    let brush = move || {
        let (w, span) = (window.get(), span.get());
        (span.pct(w.start), span.pct(w.end) - span.pct(w.start))
    };
    let origin = move || span.get().start;
    view! {
        <div
            class="tl-minimap"
            data-testid="timeline-minimap"
            node_ref=strip
            on:pointerdown=on_down
            on:pointermove=on_move
            on:pointerup=on_up
            on:pointercancel=move |_| drag.set_value(None)
            on:wheel=move |ev| on_wheel(ev, true)
        >
            <svg class="tl-outline" viewBox=format!("0 0 {BUCKETS} 1") preserveAspectRatio="none" aria-hidden="true">
                <path d=move || outline.get()></path>
            </svg>
            <div
                class="tl-brush"
                data-testid="timeline-brush"
                role="slider"
                tabindex="0"
                aria-label="Part of the run shown"
                aria-valuemin="0"
                aria-valuemax="100"
                aria-valuenow=move || format!("{:.0}", brush().0)
                aria-valuetext=move || {
                    let w = window.get();
                    format!(
                        "{} to {}",
                        format::duration(w.start - origin()),
                        format::duration(w.end - origin())
                    )
                }
                style:left=move || format!("{}%", brush().0)
                style:width=move || format!("{}%", brush().1)
                on:keydown=on_key
            ></div>
            {move || {
                let span = span.get();
                cursor.get().map(|t| view! { <span class="tl-mini-cursor" style:left=format!("{}%", span.pct(t))></span> })
            }}
        </div>
    }
}

/// An SVG area over `counts` in a `counts.len()` × 1 box, tallest at the top; on a square-root
/// scale, so a quiet stretch still shows beside a burst of thousands.
fn area_path(counts: &[u32]) -> String {
    let max = f64::from(counts.iter().copied().max().unwrap_or(0).max(1)).sqrt();
    let mut d = String::from("M0 1");
    for (i, c) in counts.iter().enumerate() {
        let y = 1.0 - f64::from(*c).sqrt() / max;
        d.push_str(&format!(" L{i} {y:.3} L{} {y:.3}", i + 1));
    }
    d.push_str(&format!(" L{} 1 Z", counts.len()));
    d
}

/// The chart's shared signals, as each line uses them.
#[derive(Clone, Copy)]
struct Chart {
    now: RwSignal<i64>,
    tip: RwSignal<Option<Tip>>,
    /// The clicked bar: its node and its index in the node's row.
    selected: RwSignal<Option<(String, usize)>>,
    /// The maps and retried nodes shown a line per child or attempt.
    expanded: RwSignal<HashSet<String>>,
}

/// Line `index` of the chart, `line`, in `window`: its label and its bars.
fn line_view(
    rows: &[Row],
    state: &RunState,
    index: usize,
    line: Line,
    window: Window,
    chart: Chart,
) -> impl IntoView + use<> {
    let (class, label, track) = match line {
        Line::Node(i) => {
            let row = &rows[i];
            (
                "tl-node",
                node_label(row, chart),
                node_track(row, window, chart),
            )
        }
        Line::Group(i) => {
            let row = &rows[i];
            let progress = children::progress(&state.node(&row.node));
            (
                "tl-group",
                group_label(row, chart),
                group_track(row, progress, window, chart),
            )
        }
        Line::Child(i, c) => {
            let child = &rows[i].children[c];
            let text = child
                .index
                .map_or_else(|| "child".to_owned(), |n| format!("#{n}"));
            let label = view! {
                <a href=run_path(&child.run) title=format!("Run {}", child.run) data-testid="timeline-child-link">
                    {text}
                </a>
            }
            .into_any();
            let bar = child_bar(&rows[i].node, child, chart.now, window);
            ("tl-child", label, view! { {bar} }.into_any())
        }
        Line::Attempt(i, b) => {
            let row = &rows[i];
            let bar = &row.bars[b];
            let n = match bar.kind {
                BarKind::Attempt(n) => n,
                _ => 0,
            };
            let label = view! {
                <span class="tl-attempt-label" title=bar.outcome.as_str()>
                    <i class=format!("swatch outcome-{}", bar.outcome.as_str()) aria-hidden="true"></i>
                    {format!("attempt {n}")}
                </span>
            }
            .into_any();
            // The attempt and the backoff that followed it.
            let bars = row.bars[b..]
                .iter()
                .enumerate()
                .take(2)
                .filter(|(k, x)| *k == 0 || x.kind == BarKind::Backoff)
                .map(|(k, x)| bar_view(row.node.clone(), b + k, x.clone(), window, chart))
                .collect_view();
            ("tl-sub", label, bars.into_any())
        }
    };
    let testid = match line {
        Line::Node(i) => format!("timeline-row-{}", rows[i].node),
        Line::Group(i) => format!("timeline-children-{}", rows[i].node),
        Line::Child(..) => "timeline-child-line".to_owned(),
        Line::Attempt(..) => "timeline-attempt-line".to_owned(),
    };
    view! {
        <div class=format!("tl-line {class}") style:top=format!("{}px", index as f64 * ROW_H)>
            <div class="tl-label">{label}</div>
            <div class="tl-track gantt-row" data-testid=testid>{track}</div>
        </div>
    }
}

/// A toggle that shows `node`'s children or attempts a line each.
fn toggle(
    node: &str,
    testid: String,
    title: &'static str,
    text: AnyView,
    chart: Chart,
) -> impl IntoView + use<> {
    let expanded = chart.expanded;
    let (is_open, key) = (node.to_owned(), node.to_owned());
    let open = Signal::derive(move || expanded.with(|e| e.contains(&is_open)));
    let flip = move |_| {
        let key = key.clone();
        expanded.update(|e| {
            if !e.remove(&key) {
                e.insert(key);
            }
        });
    };
    view! {
        <button
            class="gantt-toggle"
            data-testid=testid
            aria-expanded=move || if open.get() { "true" } else { "false" }
            title=title
            on:click=flip
        >
            <span class="gantt-caret" aria-hidden="true">{move || if open.get() { "▾" } else { "▸" }}</span>
            {text}
        </button>
    }
}

/// A node's label: its id, and for a retried node a toggle with its count of attempts.
fn node_label(row: &Row, chart: Chart) -> AnyView {
    let node = row.node.clone();
    if !row.is_retried() {
        return view! { <span class="tl-name" title=node.clone()>{node.clone()}</span> }.into_any();
    }
    let (n, failed) = row.attempts();
    let text = view! {
        <span class="tl-name">{node.clone()}</span>
        <span
            class="tl-count"
            data-testid=format!("timeline-count-{node}")
            title=format!("{n} attempts, {failed} failed")
        >
            {format!("{n}×")}
        </span>
    }
    .into_any();
    toggle(
        &row.node,
        format!("timeline-attempts-{node}"),
        "Show a line per attempt",
        text,
        chart,
    )
    .into_any()
}

/// A node's bars: each of them, or past [`bars::INLINE_ATTEMPTS`] attempts their span with a
/// tick per attempt.
fn node_track(row: &Row, window: Window, chart: Chart) -> AnyView {
    let node = row.node.clone();
    match row.summary().filter(|_| row.is_summarised()) {
        None => row
            .bars
            .iter()
            .enumerate()
            .filter(|(_, b)| window.overlaps(b.start, b.end.unwrap_or(i64::MAX)))
            .map(|(i, b)| bar_view(node.clone(), i, b.clone(), window, chart))
            .collect_view()
            .into_any(),
        Some(summary) => {
            let (n, failed) = row.attempts();
            let end = summary.end.unwrap_or_else(|| chart.now.get_untracked());
            let (left, width) = window.clip(summary.start, end);
            let text = format!(
                "{n} attempts · {failed} failed · {}",
                summary.outcome.as_str()
            );
            let ticks = marks(&row.bars, window, COLUMNS)
                .into_iter()
                .map(|m| {
                    let bar = row.bars[m.bar].clone();
                    let lines = tooltip_lines(&node, &bar, bar.end.unwrap_or(end));
                    let (tip, selected, pick) = (chart.tip, chart.selected, node.clone());
                    view! {
                        <span
                            class=format!("attempt-mark outcome-{}", m.outcome.as_str())
                            data-testid="attempt-mark"
                            data-outcome=m.outcome.as_str()
                            style:left=format!("{}%", m.left)
                            on:mouseenter=move |ev| show_tip(tip, &ev, &lines)
                            on:mouseleave=move |_| tip.set(None)
                            on:click=move |_| selected.set(Some((pick.clone(), m.bar)))
                        ></span>
                    }
                })
                .collect_view();
            view! {
                <div
                    class=format!("retry-span outcome-{}", summary.outcome.as_str())
                    data-testid="retry-span"
                    data-outcome=summary.outcome.as_str()
                    title=format!("{node}: {text}")
                    role="img"
                    aria-label=format!("{node}: {text}")
                    style:left=format!("{left}%")
                    style:width=format!("{width}%")
                ></div>
                {ticks}
            }
            .into_any()
        }
    }
}

/// A map's group label: a toggle with its count of children.
fn group_label(row: &Row, chart: Chart) -> AnyView {
    let count = row.children.len();
    let text = view! {
        <span class="tl-name">{format!("{count} child run{}", if count == 1 { "" } else { "s" })}</span>
    }
    .into_any();
    toggle(
        &row.node,
        format!("timeline-group-{}", row.node),
        "Show a line per child run",
        text,
        chart,
    )
    .into_any()
}

/// A map's children in one line: a bar each in lanes while they are few, else how many ran at
/// each moment; and its progress.
fn group_track(
    row: &Row,
    progress: Option<children::MapCounts>,
    window: Window,
    chart: Chart,
) -> AnyView {
    let progress = progress.map(|p| {
        let done = p.completed + p.failed + p.cancelled;
        let pct = f64::from(done) / f64::from(p.total.max(1)) * 100.0;
        view! {
            <span class="tl-progress" data-testid=format!("timeline-progress-{}", row.node)>
                <i aria-hidden="true"><b style:width=format!("{pct}%")></b></i>
                <span>{format!("{} / {} done · {} failed", p.completed, p.total, p.failed)}</span>
            </span>
        }
    });
    let body = if row.children.len() <= INLINE_CHILDREN {
        // Children that overlap in time sit in lanes, one above the other.
        let (lane, count) = lanes(&row.children);
        let height = (20.0 / count as f64).min(12.0);
        row.children
            .iter()
            .zip(lane)
            .map(|(c, l)| {
                let top = 4.0 + l as f64 * (20.0 / count as f64);
                view! {
                    <span class="gantt-lane" style:top=format!("{top}px") style:height=format!("{height}px")>
                        {child_bar(&row.node, c, chart.now, window)}
                    </span>
                }
            })
            .collect_view()
            .into_any()
    } else {
        let now = chart.now.get_untracked();
        let levels = coverage(
            row.children.iter().map(|c| (c.start, c.end)),
            window,
            BUCKETS,
            now,
        );
        let peak = levels.iter().copied().max().unwrap_or(0);
        view! {
            <svg
                class="tl-density"
                data-testid="timeline-density"
                viewBox=format!("0 0 {BUCKETS} 1")
                preserveAspectRatio="none"
                role="img"
                aria-label=format!("{} child runs, at most {peak} at once", row.children.len())
            >
                <path d=area_path(&levels)></path>
            </svg>
        }
        .into_any()
    };
    view! { {body} {progress} }.into_any()
}

/// One child run's bar: a link to the run, with its item, times and outcome as its title.
fn child_bar(node: &str, child: &ChildBar, now: RwSignal<i64>, window: Window) -> AnyView {
    let end = child.end.unwrap_or_else(|| now.get_untracked());
    if !window.overlaps(child.start, end) {
        return ().into_any();
    }
    let (left, width) = window.clip(child.start, end);
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
    .into_any()
}

/// Shows `lines` in the tooltip under the element the event is on.
fn show_tip(tip: RwSignal<Option<Tip>>, ev: &web_sys::Event, lines: &[String]) {
    if let Some(el) = ev
        .current_target()
        .and_then(|t| t.dyn_into::<Element>().ok())
    {
        let rect = el.get_bounding_client_rect();
        tip.set(Some(Tip {
            lines: lines.to_vec(),
            x: rect.left(),
            y: rect.bottom() + 6.0,
        }));
    }
}

fn bar_view(node: String, index: usize, bar: Bar, window: Window, chart: Chart) -> impl IntoView {
    let Chart {
        now, tip, selected, ..
    } = chart;
    let end = bar.end.unwrap_or_else(|| now.get_untracked());
    let (left, width) = window.clip(bar.start, end);
    let attempt = match bar.kind {
        BarKind::Attempt(n) => n.to_string(),
        _ => String::new(),
    };
    let lines = tooltip_lines(&node, &bar, end);
    let focus_lines = lines.clone();
    let is_selected = {
        let node = node.clone();
        move || selected.get().is_some_and(|(n, i)| n == node && i == index)
    };
    let node_for_click = node.clone();
    // A label only where it fits: the chart is roughly 1000 px wide.
    let fits = width * 10.0 > 28.0;
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
            on:mouseenter=move |ev| show_tip(tip, &ev, &lines)
            on:focus=move |ev| show_tip(tip, &ev, &focus_lines)
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
            {bar.output.map(|o| view! { <JsonPre value=o /> })}
        </div>
    }
}
