//! Runs, newest first: found by id, workflow, status, creation time, a field of the input,
//! or because they wait for a person (SPEC §6 "Finding runs"), counted, paged, and live.
//! The list and its filters are the page's address ([`query`]), so reload, back/forward and
//! a shared link show the same list. Rows can be ticked for a bulk action ([`bulk`]).
//!
//! Live, from the runs feed (`GET /api/runs/stream`, [`feed`]): a run on this page changes in
//! place (its row is read again, since the feed does not say whether it waits for a person).
//! A new run reloads the first page when the feed can tell it belongs there (no filter but
//! workflow and status); otherwise — other filters, or an older page — the page says
//! "N new runs" and loads them when asked, rather than moving rows under the reader.
//!
//! # Layout
//! [`query`]: the address ⇄ the list (pure); [`filters`]: the form; [`row`]: a row;
//! [`feed`]: the live feed; [`bulk`]: bulk actions.

pub mod bulk;
pub mod feed;
pub mod filters;
pub mod query;
pub mod row;

use std::collections::BTreeSet;
use std::time::Duration;

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};

use self::feed::Feed;
use self::query::{ListQuery, PAGE_SIZES, count_text};
use self::row::RunRow;
use crate::api;
use crate::components::start_run::StartRun;
use crate::pages::designer::server;
use crate::pages::run::format;
use shared::api::{RunChange, RunDetail, RunList, RunSummary};

#[component]
pub fn Runs() -> impl IntoView {
    let location = use_location();
    let query = Memo::new(move |_| ListQuery::from_search(&location.search.get()));
    let navigate = use_navigate();
    let apply = Callback::new(move |q: ListQuery| navigate(&q.href(), Default::default()));

    let rows = RwSignal::new(Vec::<RunSummary>::new());
    let next = RwSignal::new(None::<String>);
    let total = RwSignal::new(0u64);
    let loading = RwSignal::new(true);
    let error = RwSignal::new(None::<String>);
    let reload = RwSignal::new(0u32);
    let fresh = RwSignal::new(0u32);
    // Only the latest request's answer is shown.
    let generation = StoredValue::new(0u32);
    // The cursors of this list's pages seen so far (page 1 has none), for "Newer".
    let trail = StoredValue::new((String::new(), Vec::<Option<String>>::new()));

    Effect::new(move |_| {
        reload.track();
        // An effect woken by the route change that is disposing this page reads nothing.
        let Some(q) = query.try_get() else {
            return;
        };
        remember(trail, &q);
        let Some(mine) = generation.try_update_value(|g| {
            *g += 1;
            *g
        }) else {
            return;
        };
        loading.set(true);
        leptos::task::spawn_local(async move {
            let answer = api::get_json::<RunList>(&format!("/api/runs?{}", q.api_query())).await;
            if generation.try_get_value() != Some(mine) {
                return;
            }
            loading.set(false);
            match answer {
                Ok(list) => {
                    rows.set(list.runs);
                    next.set(list.next_cursor);
                    total.set(list.total);
                    error.set(None);
                    if q.page == 1 {
                        fresh.set(0);
                    }
                }
                Err(body) => error.set(Some(body.error.message)),
            }
        });
    });

    // The live feed, for the filtered workflow; reopened when that changes.
    let workflow = Memo::new(move |_| query.with(|q| q.filters.workflow.clone()));
    let status = Memo::new(move |_| query.with(|q| q.filters.status));
    let feed = StoredValue::new_local(None::<Feed>);
    Effect::new(move |_| {
        let Some(w) = workflow.try_get() else {
            return;
        };
        feed.set_value(Feed::open(w.as_deref(), move |change| match change {
            None => reload.update(|n| *n += 1),
            Some(change) => apply_change(change, query, rows, fresh, reload),
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
    let filters = Memo::new(move |_| query.with(|q| q.filters.clone()));
    // Compared by value: a re-run of the effect with the same filters keeps the ticks.
    Effect::new(move |before: Option<Option<query::Filters>>| {
        let now = filters.try_get();
        if let (Some(Some(b)), Some(n)) = (before, &now)
            && b != *n
        {
            selected.set(BTreeSet::new());
            matching.set(false);
        }
        now
    });
    // A bulk action's filter says workflow and status only.
    let can_match = Signal::derive(move || filters.with(|f| f.feed_can_judge()));
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
    let may_not_start = crate::access::denied(crate::access::Action::Operate);
    let start_workflow = Signal::derive(move || workflow.get());

    let newer = move |_| {
        let q = query.get_untracked();
        let cursor =
            trail.with_value(|(_, t)| t.get(q.page.saturating_sub(2) as usize).cloned().flatten());
        let page = if cursor.is_some() { q.page - 1 } else { 1 };
        apply.run(ListQuery { cursor, page, ..q });
    };
    let older = move |_| {
        if let Some(c) = next.get_untracked() {
            apply.run(query.get_untracked().next(c));
        }
    };
    let show_new = move |_| {
        let q = query.get_untracked();
        if q.page == 1 {
            reload.update(|n| *n += 1);
        } else {
            apply.run(q.with_filters(q.filters.clone()));
        }
    };

    view! {
        <section class="runs-page" data-testid="page-runs">
            <div class="page-head runs-head">
                <div>
                    <h1>"Runs"</h1>
                    <p class="lede">"Newest first. Statuses change here as the runs move."</p>
                </div>
                <button
                    class="btn btn-primary"
                    data-testid="start-run"
                    disabled=move || may_not_start.get().is_some()
                    title=crate::access::title_unless(may_not_start, || "Start a run of any workflow")
                    on:click=move |_| start_open.set(true)
                >
                    "Start run"
                </button>
            </div>
            <section class="card">
                <div class="card-head runs-filters-head">
                    <filters::Views query apply />
                    <filters::FilterForm query apply names />
                </div>
                {move || {
                    error.get().map(|m| view! {
                        <div class="runs-error" role="alert" data-testid="runs-error">
                            <p class="form-error" data-testid="runs-error-message">{m}</p>
                            <button class="btn" data-testid="load-retry" on:click=move |_| reload.update(|n| *n += 1)>
                                "Retry"
                            </button>
                        </div>
                    })
                }}
                <div class="runs-summary">
                    <span class="runs-count" data-testid="runs-count" aria-live="polite">
                        {move || {
                            if error.with(Option::is_some) {
                                "Not updated: the list below is the last one that loaded".to_owned()
                            } else {
                                count_text(query.with(|q| q.page), query.with(|q| q.limit), rows.with(Vec::len), total.get())
                            }
                        }}
                    </span>
                    <Show when=move || loading.get()>
                        <span class="pending" data-testid="runs-loading">
                            <span class="spinner" aria-hidden="true"></span>
                            "Loading…"
                        </span>
                    </Show>
                    <Show when=move || { fresh.get() > 0 }>
                        <button class="btn btn-link" data-testid="runs-new" on:click=show_new>
                            {move || match fresh.get() {
                                1 => "1 new run — show it".to_owned(),
                                n => format!("{n} new runs — show them"),
                            }}
                        </button>
                    </Show>
                </div>
                <bulk::BulkBar selected matching workflow status page_full can_match reload />
                <div class="runs-scroll">
                <table class="runs-table" class:stale=move || loading.get() || error.with(Option::is_some)>
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
                        <For each=move || rows.get() key=|r| (r.id.clone(), r.status, r.updated_at, r.needs_person) let:run>
                            <RunRow run now selected matching />
                        </For>
                    </tbody>
                </table>
                </div>
                <Show when=move || !loading.get() && rows.with(Vec::is_empty) && error.with(Option::is_none)>
                    <p class="empty" data-testid="runs-empty">"No runs match these filters."</p>
                </Show>
                <div class="pager">
                    <label class="inline-field">
                        <span>"Rows per page"</span>
                        <select
                            class="input"
                            data-testid="page-size"
                            prop:value=move || query.with(|q| q.limit.to_string())
                            on:change=move |ev| {
                                if let Ok(n) = event_target_value(&ev).parse::<u32>() {
                                    apply.run(query.get_untracked().with_limit(n));
                                }
                            }
                        >
                            {PAGE_SIZES
                                .map(|n| view! { <option value=n.to_string() selected=move || query.with(|q| q.limit == n)>{n.to_string()}</option> })}
                        </select>
                    </label>
                    <span class="spacer"></span>
                    <button
                        class="btn"
                        data-testid="page-newer"
                        disabled=move || query.with(|q| q.cursor.is_none())
                        on:click=newer
                    >
                        "← Newer"
                    </button>
                    <span class="muted" data-testid="page-number">{move || format!("Page {}", query.with(|q| q.page))}</span>
                    <button
                        class="btn"
                        data-testid="page-older"
                        disabled=move || next.with(Option::is_none)
                        on:click=older
                    >
                        "Older →"
                    </button>
                </div>
            </section>
            <StartRun open=start_open workflow=start_workflow choose=true />
        </section>
    }
}

/// Notes this page's cursor in the trail of its list, which starts afresh for other filters
/// or another page size.
fn remember(trail: StoredValue<(String, Vec<Option<String>>)>, q: &ListQuery) {
    let list = q.with_filters(q.filters.clone()).href();
    trail.try_update_value(|(key, cursors)| {
        if *key != list {
            *key = list;
            cursors.clear();
        }
        let at = q.page.saturating_sub(1) as usize;
        if cursors.len() <= at {
            cursors.resize(at + 1, None);
        }
        cursors[at] = q.cursor.clone();
    });
}

/// A change from the feed (see the module's note on what is live).
fn apply_change(
    change: RunChange,
    query: Memo<ListQuery>,
    rows: RwSignal<Vec<RunSummary>>,
    fresh: RwSignal<u32>,
    reload: RwSignal<u32>,
) {
    // The feed can outlive the page by a message.
    let Some(q) = query.try_get_untracked() else {
        return;
    };
    let known = rows
        .try_with_untracked(|rows| rows.iter().any(|r| r.id == change.id))
        .unwrap_or(false);
    if known {
        rows.update(|rows| {
            if let Some(row) = rows.iter_mut().find(|r| r.id == change.id) {
                row.status = change.status;
                row.updated_at = change.updated_at;
                row.needs_person = change.needs_person;
            }
        });
        // A row that left the filtered status, or no longer waits for a person in that
        // view, leaves the page.
        if q.filters.status.is_some_and(|s| s != change.status)
            || (q.filters.needs_person && !change.needs_person)
        {
            reload.update(|n| *n += 1);
            return;
        }
        // Status, time and `needs_person` came with the change; only an ended run has an
        // output or error to read.
        if change.status.is_finished() {
            refresh_row(change.id, q, rows, reload);
        }
    } else if change.created_at.is_some() {
        let belongs = q.filters.status.is_none_or(|s| s == change.status);
        if q.page == 1 && q.filters.feed_can_judge() {
            if belongs {
                reload.update(|n| *n += 1);
            }
        } else if belongs {
            fresh.update(|n| *n += 1);
        }
    }
}

/// Reads an ended run's row again (its error and output are not in the feed); it leaves the
/// page when it no longer waits for a person in that view.
fn refresh_row(id: String, q: ListQuery, rows: RwSignal<Vec<RunSummary>>, reload: RwSignal<u32>) {
    leptos::task::spawn_local(async move {
        let url = format!("/api/runs/{}", query::encode(&id));
        let Ok(detail) = api::get_json::<RunDetail>(&url).await else {
            return;
        };
        let fresh = detail.run;
        if q.filters.needs_person && !fresh.needs_person {
            reload.update(|n| *n += 1);
            return;
        }
        let _ = rows.try_update(|rows| {
            if let Some(row) = rows
                .iter_mut()
                .find(|r| r.id == id && r.updated_at <= fresh.updated_at)
            {
                *row = fresh;
            }
        });
    });
}
