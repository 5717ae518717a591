//! Runs, newest first, paged, filtered by workflow and status, and live: the runs feed
//! (`GET /api/runs/stream`) updates each row's status as its run moves, and a new run
//! appears at the top of the first page without a reload. Rows can be ticked for a bulk
//! action ([`bulk`]), or every run the filter matches.

pub mod bulk;

use std::collections::BTreeSet;
use std::time::Duration;

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{Event, EventSource, MessageEvent};

use crate::components::start_run::StartRun;
use crate::pages::designer::server;
use crate::pages::run::format;
use crate::pages::run::wire::{self, RunStatus};
use shared::api::{RunChange, RunSummary};

/// Rows per page.
const PAGE_SIZE: u32 = 25;

#[component]
pub fn Runs() -> impl IntoView {
    let query = use_query_map();
    let workflow = Memo::new(move |_| query.read().get("workflow").filter(|w| !w.is_empty()));
    let status = Memo::new(move |_| {
        query
            .read()
            .get("status")
            .and_then(|s| RunStatus::parse(&s))
    });
    let navigate = use_navigate();
    let set_filter = move |key: &'static str, value: String| {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(w) = workflow.get_untracked().filter(|_| key != "workflow") {
            pairs.push(("workflow", w));
        }
        if let Some(s) = status.get_untracked().filter(|_| key != "status") {
            pairs.push(("status", s.as_str().to_owned()));
        }
        if !value.is_empty() {
            pairs.push((key, value));
        }
        let query = pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", String::from(js_sys::encode_uri_component(v))))
            .collect::<Vec<_>>()
            .join("&");
        let path = if query.is_empty() {
            "/runs".to_owned()
        } else {
            format!("/runs?{query}")
        };
        navigate(&path, Default::default());
    };
    let set_workflow = set_filter.clone();

    // The cursors of the pages before this one; the last is this page's.
    let cursors = RwSignal::new(vec![None::<String>]);
    let rows = RwSignal::new(Vec::<RunSummary>::new());
    let next = RwSignal::new(None::<String>);
    let loading = RwSignal::new(true);
    let error = RwSignal::new(None::<String>);
    let reload = RwSignal::new(0u32);
    // Only the latest request's answer is shown.
    let generation = StoredValue::new(0u32);

    // A new filter starts from the first page.
    Effect::new(move |_| {
        workflow.track();
        status.track();
        cursors.set(vec![None]);
    });
    Effect::new(move |_| {
        reload.track();
        let (w, s) = (workflow.get(), status.get());
        let cursor = cursors.with(|c| c.last().cloned().flatten());
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        loading.set(true);
        leptos::task::spawn_local(async move {
            let answer = wire::list_runs(w.as_deref(), s, cursor.as_deref(), PAGE_SIZE).await;
            if generation.try_get_value() != Some(mine) {
                return;
            }
            loading.set(false);
            match answer {
                Ok(list) => {
                    rows.set(list.runs);
                    next.set(list.next_cursor);
                    error.set(None);
                }
                Err(body) => error.set(Some(body.error.message)),
            }
        });
    });

    // The live feed, for the filtered workflow; reopened when the filter changes.
    let feed = StoredValue::new_local(None::<Feed>);
    Effect::new(move |_| {
        let w = workflow.get();
        feed.set_value(Feed::open(w.as_deref(), move |change| match change {
            None => reload.update(|n| *n += 1),
            Some(change) => apply_change(change, rows, status, cursors, reload),
        }));
    });
    on_cleanup(move || feed.set_value(None));

    let now = RwSignal::new(format::now());
    let ticker =
        set_interval_with_handle(move || now.set(format::now()), Duration::from_secs(1)).ok();
    on_cleanup(move || {
        if let Some(t) = ticker {
            t.clear();
        }
    });

    // Ticked rows, kept across pages; a new filter starts afresh.
    let selected = RwSignal::new(BTreeSet::<String>::new());
    let matching = RwSignal::new(false);
    Effect::new(move |_| {
        workflow.track();
        status.track();
        selected.set(BTreeSet::new());
        matching.set(false);
    });
    let page_ids = move || rows.with(|r| r.iter().map(|r| r.id.clone()).collect::<Vec<_>>());
    let page_full = Signal::derive(move || {
        let ids = page_ids();
        !ids.is_empty() && selected.with(|s| ids.iter().all(|id| s.contains(id)))
    });
    let toggle_page = move |on: bool| {
        let ids = page_ids();
        selected.update(|s| {
            for id in ids {
                if on {
                    s.insert(id);
                } else {
                    s.remove(&id);
                }
            }
        });
        if !on {
            matching.set(false);
        }
    };

    let names = LocalResource::new(server::workflow_names);
    let start_open = RwSignal::new(false);
    let start_workflow = Signal::derive(move || workflow.get());

    view! {
        <section class="runs-page" data-testid="page-runs">
            <div class="page-head runs-head">
                <div>
                    <h1>"Runs"</h1>
                    <p class="lede">"Newest first. Statuses change here as the runs move."</p>
                </div>
                <button class="btn btn-primary" data-testid="start-run" on:click=move |_| start_open.set(true)>
                    "Start run"
                </button>
            </div>
            <section class="card">
                <div class="card-head filters">
                    <label class="inline-field">
                        <span>"Workflow"</span>
                        <select
                            class="input"
                            data-testid="filter-workflow"
                            prop:value=move || workflow.get().unwrap_or_default()
                            on:change=move |ev| set_workflow("workflow", event_target_value(&ev))
                        >
                            <option value="">"All workflows"</option>
                            {move || {
                                let mut list = names.get().and_then(Result::ok).unwrap_or_default();
                                if let Some(w) = workflow.get()
                                    && !list.contains(&w)
                                {
                                    list.push(w);
                                }
                                let current = workflow.get().unwrap_or_default();
                                list.into_iter()
                                    .map(|n| {
                                        view! {
                                            <option value=n.clone() selected=n == current>{n.clone()}</option>
                                        }
                                    })
                                    .collect_view()
                            }}
                        </select>
                    </label>
                    <label class="inline-field">
                        <span>"Status"</span>
                        <select
                            class="input"
                            data-testid="filter-status"
                            prop:value=move || status.get().map_or("", RunStatus::as_str)
                            on:change=move |ev| set_filter("status", event_target_value(&ev))
                        >
                            <option value="">"Any status"</option>
                            {RunStatus::ALL
                                .map(|s| {
                                    view! {
                                        <option value=s.as_str() selected=move || status.get() == Some(s)>
                                            {s.as_str()}
                                        </option>
                                    }
                                })}
                        </select>
                    </label>
                    <Show when=move || loading.get()>
                        <span class="pending" data-testid="runs-loading">
                            <span class="spinner" aria-hidden="true"></span>
                            "Loading…"
                        </span>
                    </Show>
                </div>
                {move || {
                    error.get().map(|m| view! { <p class="form-error pad" role="alert" data-testid="runs-error">{m}</p> })
                }}
                <bulk::BulkBar selected matching workflow status page_full reload />
                <table class="runs-table" class:stale=move || loading.get()>
                    <thead>
                        <tr>
                            <th class="pick">
                                <input
                                    type="checkbox"
                                    aria-label="Select every run on this page"
                                    data-testid="pick-page"
                                    prop:checked=move || page_full.get() || matching.get()
                                    on:change=move |ev| toggle_page(event_target_checked(&ev))
                                />
                            </th>
                            <th>"Status"</th>
                            <th>"Workflow"</th>
                            <th>"Version"</th>
                            <th>"Run"</th>
                            <th>"Started"</th>
                            <th class="num">"Duration"</th>
                        </tr>
                    </thead>
                    <tbody>
                        <For each=move || rows.get() key=|r| (r.id.clone(), r.status, r.updated_at) let:run>
                            <RunRow run now selected matching />
                        </For>
                    </tbody>
                </table>
                <Show when=move || !loading.get() && rows.with(Vec::is_empty) && error.with(Option::is_none)>
                    <p class="empty" data-testid="runs-empty">"No runs match these filters yet."</p>
                </Show>
                <div class="pager">
                    <button
                        class="btn"
                        data-testid="page-newer"
                        disabled=move || cursors.with(|c| c.len() <= 1)
                        on:click=move |_| cursors.update(|c| {
                            c.pop();
                        })
                    >
                        "← Newer"
                    </button>
                    <span class="muted">{move || format!("Page {}", cursors.with(Vec::len))}</span>
                    <button
                        class="btn"
                        data-testid="page-older"
                        disabled=move || next.with(Option::is_none)
                        on:click=move |_| {
                            if let Some(c) = next.get_untracked() {
                                cursors.update(|cs| cs.push(Some(c)));
                            }
                        }
                    >
                        "Older →"
                    </button>
                </div>
            </section>
            <StartRun open=start_open workflow=start_workflow choose=true />
        </section>
    }
}

/// A change from the feed: a row on this page takes its new status; a new run reloads the
/// first page, where it belongs.
fn apply_change(
    change: RunChange,
    rows: RwSignal<Vec<RunSummary>>,
    status: Memo<Option<RunStatus>>,
    cursors: RwSignal<Vec<Option<String>>>,
    reload: RwSignal<u32>,
) {
    let known = rows.with_untracked(|rows| rows.iter().any(|r| r.id == change.id));
    if known {
        rows.update(|rows| {
            if let Some(row) = rows.iter_mut().find(|r| r.id == change.id) {
                row.status = change.status;
                row.updated_at = change.updated_at;
            }
        });
        // A row that left the filtered status leaves the page.
        if status.get_untracked().is_some_and(|s| s != change.status) {
            reload.update(|n| *n += 1);
        }
    } else if change.created_at.is_some()
        && cursors.with_untracked(|c| c.len() == 1)
        && status.get_untracked().is_none_or(|s| s == change.status)
    {
        reload.update(|n| *n += 1);
    }
}

#[component]
fn RunRow(
    run: RunSummary,
    now: RwSignal<i64>,
    selected: RwSignal<BTreeSet<String>>,
    matching: RwSignal<bool>,
) -> impl IntoView {
    let href = format!("/runs/{}", run.id);
    let id = run.id.clone();
    let picked = {
        let id = id.clone();
        move || matching.get() || selected.with(|s| s.contains(&id))
    };
    let pick = move |on: bool| {
        if !on {
            matching.set(false);
        }
        selected.update(|s| {
            if on {
                s.insert(id.clone());
            } else {
                s.remove(&id);
            }
        });
    };
    // Run ids are UUIDv7: the head is the start time, shared by runs started together; the
    // tail tells them apart.
    let short = match run.id.char_indices().rev().nth(7) {
        Some((at, _)) => run.id[at..].to_owned(),
        None => run.id.clone(),
    };
    let (created, updated, final_) = (run.created_at, run.updated_at, run.status.is_finished());
    let duration = move || {
        let end = if final_ { updated } else { now.get() };
        format::duration(end - created)
    };
    view! {
        <tr data-testid="run-row" data-run=run.id.clone() data-status=run.status.as_str()>
            <td class="pick">
                <input
                    type="checkbox"
                    aria-label=format!("Select run {}", run.id)
                    data-testid="pick-run"
                    prop:checked=picked
                    on:change=move |ev| pick(event_target_checked(&ev))
                />
            </td>
            <td>
                <span class=format!("badge status-{}", run.status.as_str()) data-testid="run-row-status">
                    {run.status.as_str()}
                </span>
            </td>
            <td><a href=href.clone() class="run-link">{run.workflow.clone()}</a></td>
            <td class="muted">{format!("v{}", run.version)}</td>
            <td><a href=href title=run.id.clone()><code>{short}</code></a></td>
            <td class="muted">{format::date_time(created)}</td>
            <td class="num">{duration}</td>
        </tr>
    }
}

/// The runs feed; dropping it closes the connection. The callback gets each change, or
/// `None` when the page should reload: the server says it fell behind, or the feed has just
/// (re)connected and changes made before that were not sent (the feed has no replay).
struct Feed {
    source: EventSource,
    _on_run: Closure<dyn FnMut(MessageEvent)>,
    _on_resync: Closure<dyn FnMut(Event)>,
}

impl Feed {
    fn open(
        workflow: Option<&str>,
        on_change: impl Fn(Option<RunChange>) + Clone + 'static,
    ) -> Option<Feed> {
        let source = EventSource::new(&wire::feed_path(workflow)).ok()?;
        let on_resync = {
            let on_change = on_change.clone();
            Closure::<dyn FnMut(Event)>::new(move |_| on_change(None))
        };
        let on_run = Closure::<dyn FnMut(MessageEvent)>::new(move |message: MessageEvent| {
            let change = message
                .data()
                .as_string()
                .and_then(|text| serde_json::from_str::<RunChange>(&text).ok());
            if let Some(change) = change {
                on_change(Some(change));
            }
        });
        source
            .add_event_listener_with_callback("run", on_run.as_ref().unchecked_ref())
            .ok()?;
        source
            .add_event_listener_with_callback("resync", on_resync.as_ref().unchecked_ref())
            .ok()?;
        source.set_onopen(Some(on_resync.as_ref().unchecked_ref()));
        Some(Feed {
            source,
            _on_run: on_run,
            _on_resync: on_resync,
        })
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.source.close();
    }
}
