//! The designer's history: the workflow's saved versions (who saved each, when, the message
//! given at save), any version read-only on the canvas, two versions diffed on the canvas
//! (added nodes green, removed red, changed amber, moved dashed, with each changed node's
//! fields in the side panel), and a version restored as a new one.
//!
//! While it is open it takes the place of the palette, the editing canvas and the inspector,
//! which stay mounted but hidden: "Back to editing" returns to the unsaved work as it was,
//! and nothing in the history can change it except a restore, which asks first.
//!
//! # Layout
//! - [`History`]: whether it is open and what it shows; [`history_button`] opens it and
//!   [`history_panel`] draws it.
//! - `compare`: two versions as one graph, with the marks the canvas draws (DOM-free).
//! - `details`: the side panel (a version's facts, a diff's fields).

mod compare;
mod details;

use std::collections::HashMap;

use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::api::VersionSummary;
use shared::model::Workflow;
use shared::validate::parse;

use super::server::{self, SaveError};
use super::with_positions;
use crate::graph::{GraphView, NodeDecor};
use crate::pages::run::format::date_time;
use compare::{Compared, compare, decor, edge_classes, word};
use shared::diff::Change;

/// What the history shows on the canvas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shown {
    /// One version, read-only.
    Version(i64),
    /// What changed from the first version to the second.
    Diff(i64, i64),
}

/// What the canvas has to draw, once the versions it needs are loaded.
#[derive(Debug, Clone, PartialEq)]
enum Drawn {
    Loading,
    Failed(String),
    Version(i64, Box<Workflow>),
    Diff {
        from: i64,
        to: i64,
        older: Box<Workflow>,
        newer: Box<Workflow>,
        compared: Box<Compared>,
    },
}

/// The history's state, shared by the toolbar's button, the banner, the list and the canvas.
#[derive(Clone, Copy)]
pub(super) struct History {
    open: RwSignal<bool>,
    shown: RwSignal<Option<Shown>>,
    drawn: RwSignal<Drawn>,
    /// The versions listed so far, newest first, and where the next page starts.
    versions: RwSignal<Vec<VersionSummary>>,
    next_before: RwSignal<Option<i64>>,
    list_error: RwSignal<Option<String>>,
    selected: RwSignal<Option<String>>,
    /// The versions' definitions read so far (a saved version never changes).
    cache: StoredValue<HashMap<i64, Workflow>>,
    /// Bumped by every new thing to draw, so an older answer arriving late is dropped.
    ticket: StoredValue<u64>,
    restoring: RwSignal<bool>,
    restore_error: RwSignal<Option<String>>,
}

impl History {
    pub(super) fn new() -> Self {
        History {
            open: RwSignal::new(false),
            shown: RwSignal::new(None),
            drawn: RwSignal::new(Drawn::Loading),
            versions: RwSignal::new(Vec::new()),
            next_before: RwSignal::new(None),
            list_error: RwSignal::new(None),
            selected: RwSignal::new(None),
            cache: StoredValue::new(HashMap::new()),
            ticket: StoredValue::new(0),
            restoring: RwSignal::new(false),
            restore_error: RwSignal::new(None),
        }
    }

    /// Whether the history has the editor's place (the editor's keys are off meanwhile).
    pub(super) fn is_open(self) -> bool {
        self.open.get()
    }

    pub(super) fn is_open_untracked(self) -> bool {
        self.open.get_untracked()
    }

    pub(super) fn close(self) {
        self.open.set(false);
    }
}

/// The toolbar's History button: opens the history on the latest version.
pub(super) fn history_button(
    history: History,
    name: String,
    latest: RwSignal<Option<i64>>,
) -> impl IntoView {
    let toggle = move |_| {
        if history.open.get_untracked() {
            history.close();
            return;
        }
        let Some(v) = latest.get_untracked() else {
            return;
        };
        history.open.set(true);
        history.restore_error.set(None);
        load_list(history, name.clone(), None);
        show(history, name.clone(), Shown::Version(v));
    };
    view! {
        <button
            class="btn history-toggle"
            class:active=move || history.open.get()
            data-testid="history-button"
            aria-pressed=move || history.open.get().to_string()
            title=move || {
                if latest.get().is_none() {
                    "Save the workflow first: the history lists its saved versions"
                } else if history.open.get() {
                    "Back to editing"
                } else {
                    "Saved versions: read one, compare two, restore one"
                }
            }
            disabled=move || latest.get().is_none()
            on:click=toggle
        >
            "History"
        </button>
    }
}

/// Reads a page of versions (the first with `before` `None`, replacing the list).
fn load_list(history: History, name: String, before: Option<i64>) {
    if before.is_none() {
        history.versions.set(Vec::new());
        history.next_before.set(None);
    }
    history.list_error.set(None);
    spawn_local(async move {
        match server::versions(&name, before).await {
            Ok(page) => {
                history.versions.try_update(|v| v.extend(page.versions));
                history.next_before.try_set(page.next_before);
            }
            Err(e) => {
                history.list_error.try_set(Some(e.error.message));
            }
        }
    });
}

/// Version `v`'s definition, from the cache or the server.
async fn definition(history: History, name: &str, v: i64) -> Result<Workflow, String> {
    if let Some(Some(wf)) = history.cache.try_with_value(|c| c.get(&v).cloned()) {
        return Ok(wf);
    }
    let stored = server::version(name, v)
        .await
        .map_err(|e| e.error.message)?;
    let wf = parse(&stored.definition).map_err(|findings| {
        format!(
            "version {v} does not read as a workflow: {}",
            findings
                .first()
                .map_or("unknown problem", |f| f.message.as_str())
        )
    })?;
    let wf = with_positions(wf);
    history.cache.try_update_value(|c| c.insert(v, wf.clone()));
    Ok(wf)
}

/// Draws `what`, loading the versions it needs first.
fn show(history: History, name: String, what: Shown) {
    history.shown.set(Some(what));
    history.selected.set(None);
    history.drawn.set(Drawn::Loading);
    let ticket = history.ticket.with_value(|t| t + 1);
    history.ticket.set_value(ticket);
    spawn_local(async move {
        let drawn = match what {
            Shown::Version(v) => match definition(history, &name, v).await {
                Ok(wf) => Drawn::Version(v, Box::new(wf)),
                Err(e) => Drawn::Failed(e),
            },
            Shown::Diff(from, to) => {
                let both = match definition(history, &name, from).await {
                    Ok(older) => definition(history, &name, to)
                        .await
                        .map(|newer| (older, newer)),
                    Err(e) => Err(e),
                };
                match both {
                    Ok((older, newer)) => Drawn::Diff {
                        from,
                        to,
                        compared: Box::new(compare(&older, &newer)),
                        older: Box::new(older),
                        newer: Box::new(newer),
                    },
                    Err(e) => Drawn::Failed(e),
                }
            }
        };
        if history.ticket.try_get_value() == Some(ticket) {
            history.drawn.try_set(drawn);
        }
    });
}

/// The history in the editor's place: a banner saying what is shown, the versions on the
/// left, the canvas, and the details on the right.
///
/// `dirty` says the editor holds unsaved work, which a restore replaces (it asks first);
/// `may_not_save` why the caller may not save, if so (then nothing can be restored);
/// `on_restored` hears a version restored as a new version: the editor takes it as saved.
pub(super) fn history_panel(
    history: History,
    name: String,
    latest: RwSignal<Option<i64>>,
    dirty: Memo<bool>,
    may_not_save: Signal<Option<&'static str>>,
    on_restored: Callback<(Workflow, i64)>,
) -> impl IntoView {
    let name = StoredValue::new(name);
    let graph = Memo::new(move |_| {
        history.drawn.with(|d| match d {
            Drawn::Version(_, wf) => Some((**wf).clone()),
            Drawn::Diff { compared, .. } => Some(compared.graph.clone()),
            _ => None,
        })
    });
    let marks = Memo::new(move |_| {
        history.drawn.with(|d| match d {
            Drawn::Diff { compared, .. } => decor(&compared.diff),
            _ => HashMap::<String, NodeDecor>::new(),
        })
    });
    let edge_marks = Memo::new(move |_| {
        history.drawn.with(|d| match d {
            Drawn::Diff { compared, .. } => edge_classes(&compared.diff),
            _ => Vec::new(),
        })
    });
    let is_diff = move || matches!(history.shown.get(), Some(Shown::Diff(..)));

    let restore = move |v: i64| {
        if history.restoring.get_untracked() {
            return;
        }
        if dirty.get_untracked() {
            let go_on = window()
                .confirm_with_message(&format!(
                    "Restoring v{v} replaces your unsaved changes in the editor. Restore it?"
                ))
                .unwrap_or(false);
            if !go_on {
                return;
            }
        }
        let Some(wf) = history.cache.with_value(|c| c.get(&v).cloned()) else {
            return;
        };
        history.restoring.set(true);
        history.restore_error.set(None);
        spawn_local(async move {
            let message = format!("Restored from v{v}");
            match server::save(&wf, Some(&message)).await {
                Ok(saved) => {
                    history.restoring.try_set(false);
                    history.open.try_set(false);
                    let _ = on_restored.try_run((wf, saved.version));
                }
                Err(e) => {
                    let why = match e {
                        SaveError::Invalid(findings) => format!(
                            "The server refused v{v}: {}",
                            findings
                                .first()
                                .map_or("it is invalid", |f| f.message.as_str())
                        ),
                        SaveError::Failed(e) => e.error.message,
                    };
                    history.restoring.try_set(false);
                    history.restore_error.try_set(Some(why));
                }
            }
        });
    };

    let banner = move || {
        let shown = history.shown.get()?;
        let latest_v = latest.get();
        let back = view! {
            <button class="btn btn-small" data-testid="history-back" on:click=move |_| history.close()>
                "Back to editing"
            </button>
        };
        Some(match shown {
            Shown::Version(v) => {
                let is_latest = latest_v == Some(v);
                let refusal = move || {
                    may_not_save.get().or(is_latest
                        .then_some("This is the latest version: there is nothing to restore"))
                };
                let previous = (v > 1).then(|| {
                    view! {
                        <button
                            class="btn btn-small"
                            data-testid="history-compare-previous"
                            title=format!("Show what changed from v{} to v{v}", v - 1)
                            on:click=move |_| show(history, name.get_value(), Shown::Diff(v - 1, v))
                        >
                            {format!("Compare with v{}", v - 1)}
                        </button>
                    }
                });
                view! {
                    <div class="history-banner" role="status" data-testid="history-banner">
                        <strong>{format!("Viewing v{v} (read-only)")}</strong>
                        {is_latest.then(|| view! { <span class="history-latest">"latest"</span> })}
                        <span class="history-banner-actions">
                            {previous}
                            <button
                                class="btn btn-small btn-primary"
                                data-testid="history-restore"
                                title=move || refusal().map_or_else(
                                    || format!("Save v{v}'s definition as a new version, with the message \"Restored from v{v}\""),
                                    str::to_owned,
                                )
                                disabled=move || refusal().is_some() || history.restoring.get()
                                on:click=move |_| restore(v)
                            >
                                "Restore as new version"
                            </button>
                            {back}
                        </span>
                    </div>
                }
                .into_any()
            }
            Shown::Diff(from, to) => view! {
                <div class="history-banner" role="status" data-testid="history-banner">
                    <strong>{format!("Comparing v{from} → v{to} (read-only)")}</strong>
                    <span class="history-banner-actions">{back}</span>
                </div>
            }
            .into_any(),
        })
    };

    let canvas_state = move || {
        history.drawn.with(|d| match d {
            Drawn::Loading => Some(
                view! {
                    <div class="history-overlay" data-testid="history-loading">
                        <span class="spinner" aria-hidden="true"></span>
                        "Loading the version…"
                    </div>
                }
                .into_any(),
            ),
            Drawn::Failed(message) => Some(
                view! {
                    <div class="history-overlay history-error" role="alert" data-testid="history-error">
                        {message.clone()}
                    </div>
                }
                .into_any(),
            ),
            _ => None,
        })
    };
    let legend = move || {
        is_diff().then(|| {
            let items = [
                Change::Added,
                Change::Removed,
                Change::Changed,
                Change::Moved,
            ]
            .map(|c| {
                view! {
                    <li class=format!("diff-{}", word(c))>
                        <span class="diff-swatch" aria-hidden="true"></span>
                        {word(c)}
                    </li>
                }
            });
            view! {
                <ul class="diff-legend" aria-label="Legend" data-testid="diff-legend">
                    {items}
                </ul>
            }
        })
    };
    let details = move || {
        let selected = history.selected.get();
        let latest_v = latest.get();
        history.drawn.with(|d| match d {
            Drawn::Version(v, wf) => {
                let summary = history
                    .versions
                    .with(|list| list.iter().find(|s| s.version == *v).cloned());
                Some(details::version_details(*v, summary, latest_v, wf, selected).into_any())
            }
            Drawn::Diff {
                from,
                to,
                older,
                newer,
                compared,
            } => Some(
                details::diff_details(*from, *to, &compared.diff, older, newer, selected)
                    .into_any(),
            ),
            _ => None,
        })
    };

    view! {
        <Show when=move || history.is_open()>
            {banner}
            {move || {
                history
                    .restore_error
                    .get()
                    .map(|message| {
                        view! {
                            <p class="save-status save-error" role="alert" data-testid="restore-error">
                                {message}
                            </p>
                        }
                    })
            }}
            <div class="designer-body history-body" data-testid="history">
                <VersionList history name latest />
                <div class="history-canvas" class:history-diff=is_diff data-testid="history-canvas">
                    // A view per graph shown: each fits itself to the box when it mounts.
                    {move || {
                        graph
                            .get()
                            .map(|wf| {
                                view! {
                                    <GraphView
                                        workflow=Signal::stored(wf)
                                        decor=marks.into()
                                        selected=history.selected
                                        on_select=Callback::new(move |id| history.selected.set(id))
                                        edge_class=edge_marks
                                    />
                                }
                            })
                    }}
                    {legend}
                    {canvas_state}
                </div>
                <aside class="designer-side">{details}</aside>
            </div>
        </Show>
    }
}

/// The versions, newest first, each opened by a click; and the pair to compare.
#[component]
fn VersionList(
    history: History,
    name: StoredValue<String>,
    latest: RwSignal<Option<i64>>,
) -> impl IntoView {
    // The pair to compare: by default the newest version against the one before it.
    let from = RwSignal::new(None::<i64>);
    let to = RwSignal::new(None::<i64>);
    Effect::new(move |_| {
        history.versions.with(|list| {
            if to.get_untracked().is_none() {
                to.set(list.first().map(|s| s.version));
            }
            if from.get_untracked().is_none() {
                from.set(list.get(1).map(|s| s.version));
            }
        });
    });
    let pick = move |ev: leptos::ev::Event, into: RwSignal<Option<i64>>| {
        into.set(event_target_value(&ev).parse().ok());
    };
    let options = move |chosen: RwSignal<Option<i64>>| {
        history.versions.with(|list| {
            list.iter()
                .map(|s| {
                    let v = s.version;
                    view! {
                        <option value=v.to_string() selected=move || chosen.get() == Some(v)>
                            {format!("v{v}")}
                        </option>
                    }
                })
                .collect_view()
        })
    };
    let compare_refusal = move || match (from.get(), to.get()) {
        (Some(a), Some(b)) if a == b => Some("Pick two different versions"),
        (Some(_), Some(_)) => None,
        _ => Some("The workflow needs two versions to compare"),
    };
    let current = move |v: i64| matches!(history.shown.get(), Some(Shown::Version(x)) if x == v);
    let rows = move || {
        let latest_v = latest.get();
        history.versions.with(|list| {
            list.iter()
                .map(|s| {
                    let v = s.version;
                    let by = s
                        .saved_by
                        .clone()
                        .map(|who| format!("{who} · "))
                        .unwrap_or_default();
                    let message = match &s.message {
                        Some(m) => view! { <span class="history-message">{m.clone()}</span> }.into_any(),
                        None => view! { <span class="history-message muted">"No message"</span> }.into_any(),
                    };
                    view! {
                        <li>
                            <button
                                class="history-row"
                                class:current=move || current(v)
                                aria-current=move || current(v).then_some("true")
                                data-testid=format!("history-row-{v}")
                                title=format!("Open v{v} read-only")
                                on:click=move |_| show(history, name.get_value(), Shown::Version(v))
                            >
                                <span class="history-row-head">
                                    <strong>{format!("v{v}")}</strong>
                                    {(latest_v == Some(v)).then(|| view! { <span class="history-latest">"latest"</span> })}
                                    <span class="history-nodes">{format!("{} nodes", s.nodes)}</span>
                                </span>
                                {message}
                                <span class="history-when">{format!("{by}{}", date_time(s.saved_at))}</span>
                            </button>
                        </li>
                    }
                })
                .collect_view()
        })
    };
    view! {
        <nav class="history-list" aria-label="Versions" data-testid="history-list">
            <h2 class="side-title">"History"</h2>
            <div class="history-compare" role="group" aria-label="Compare two versions">
                <label class="field-label">
                    "From"
                    <select class="input" data-testid="diff-from" on:change=move |ev| pick(ev, from)>
                        {move || options(from)}
                    </select>
                </label>
                <label class="field-label">
                    "To"
                    <select class="input" data-testid="diff-to" on:change=move |ev| pick(ev, to)>
                        {move || options(to)}
                    </select>
                </label>
                <button
                    class="btn btn-small"
                    data-testid="diff-show"
                    title=move || compare_refusal().unwrap_or("Show what changed on the canvas")
                    disabled=move || compare_refusal().is_some()
                    on:click=move |_| {
                        if let (Some(a), Some(b)) = (from.get_untracked(), to.get_untracked()) {
                            show(history, name.get_value(), Shown::Diff(a, b));
                        }
                    }
                >
                    "Compare"
                </button>
            </div>
            {move || {
                history
                    .list_error
                    .get()
                    .map(|message| {
                        view! { <p class="save-status save-error" role="alert" data-testid="history-list-error">{message}</p> }
                    })
            }}
            <ol class="history-rows">{rows}</ol>
            <Show when=move || history.next_before.get().is_some()>
                <button
                    class="btn btn-small"
                    data-testid="history-more"
                    on:click=move |_| load_list(history, name.get_value(), history.next_before.get_untracked())
                >
                    "Older versions"
                </button>
            </Show>
        </nav>
    }
}
