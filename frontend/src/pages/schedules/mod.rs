//! Every schedule of every workflow (`GET /api/schedules`, SPEC §5) and what each is doing:
//! its next and last fire, its last run's status, whether it is paused. From here a schedule
//! is paused, resumed, triggered now, or backfilled over a range ([`backfill`]); schedules
//! themselves are added and edited in the designer's workflow settings.
//!
//! The list refreshes itself every few seconds, so fire times and run statuses stay current.

mod backfill;
mod time;

use std::collections::HashMap;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::api::{NoFields, RunSummary, ScheduleList, ScheduleView};
use shared::event::Millis;

use super::Page;
use super::designer;
use super::run::format;
use crate::api;
use crate::components::load_error::LoadError;
use backfill::backfill_dialog;

/// How often the list is read again.
const REFRESH: Duration = Duration::from_secs(10);

/// A schedule's address: its workflow and its index there.
type Key = (String, u32);

fn key(s: &ScheduleView) -> Key {
    (s.workflow.clone(), s.index)
}

/// A button on a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Pause,
    Resume,
    Trigger,
}

impl Action {
    fn path(self) -> &'static str {
        match self {
            Action::Pause => "pause",
            Action::Resume => "resume",
            Action::Trigger => "trigger",
        }
    }
}

/// What a row's last action came to, shown under its buttons until the next one.
#[derive(Debug, Clone, PartialEq)]
enum Note {
    /// Waiting for the server; the buttons are off meanwhile.
    Busy,
    /// Trigger now started this run.
    Started(String),
    Failed(String),
}

#[component]
pub fn Schedules() -> impl IntoView {
    let rows = RwSignal::new(None::<Vec<ScheduleView>>);
    let error = RwSignal::new(None::<String>);
    let loading = RwSignal::new(false);
    let notes = RwSignal::new(HashMap::<Key, Note>::new());
    let backfilling = RwSignal::new(None::<ScheduleView>);
    // Only the latest read is shown: one started before an action may answer after it.
    let generation = StoredValue::new(0u32);
    let load = move || {
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        loading.set(true);
        spawn_local(async move {
            let answer = api::get_json::<ScheduleList>("/api/schedules").await;
            if generation.try_get_value() != Some(mine) {
                return;
            }
            loading.set(false);
            match answer {
                Ok(list) => {
                    rows.set(Some(list.schedules));
                    error.set(None);
                }
                Err(e) => error.set(Some(e.error.message)),
            }
        });
    };
    load();
    let now = RwSignal::new(format::now());
    let ticker =
        set_interval_with_handle(move || now.set(format::now()), Duration::from_secs(1)).ok();
    let refresher = set_interval_with_handle(load, REFRESH).ok();
    on_cleanup(move || {
        for handle in [ticker, refresher].into_iter().flatten() {
            handle.clear();
        }
    });

    let act = Callback::new(move |(s, action): (ScheduleView, Action)| {
        let k = key(&s);
        notes.update(|n| {
            n.insert(k.clone(), Note::Busy);
        });
        let url = format!(
            "/api/workflows/{}/schedules/{}/{}",
            s.workflow,
            s.index,
            action.path()
        );
        spawn_local(async move {
            let note = match action {
                Action::Pause | Action::Resume => {
                    match api::post_json::<_, ScheduleView>(&url, &NoFields {}).await {
                        Ok(view) => {
                            rows.update(|rows| {
                                if let Some(row) = rows.iter_mut().flatten().find(|r| key(r) == k) {
                                    *row = view;
                                }
                            });
                            None
                        }
                        Err(e) => Some(Note::Failed(e.error.message)),
                    }
                }
                Action::Trigger => {
                    match api::post_json::<_, RunSummary>(&url, &NoFields {}).await {
                        Ok(run) => Some(Note::Started(run.id)),
                        Err(e) => Some(Note::Failed(e.error.message)),
                    }
                }
            };
            notes.update(|n| match note {
                Some(note) => {
                    n.insert(k, note);
                }
                None => {
                    n.remove(&k);
                }
            });
            load();
        });
    });

    let table = move || {
        match rows.get() {
        None => error.get().map_or_else(
            || view! {
                <div class="list-loading" data-testid="schedules-loading">
                    <span class="spinner" aria-hidden="true"></span>
                    "Loading schedules…"
                </div>
            }
            .into_any(),
            |m| view! {
                <LoadError
                    title="Could not load the schedules"
                    message=m
                    testid="schedules-error"
                    retry=load
                />
            }
            .into_any(),
        ),
        Some(list) if list.is_empty() => view! {
            <div class="empty-state" data-testid="schedules-empty">
                <h2>"No schedules yet"</h2>
                <p class="muted">
                    "A schedule starts runs of a workflow at the times its cron matches. To add one, open the workflow in the designer, click an empty spot of the canvas to show its settings, and use "
                    <strong>"+ Add schedule"</strong>
                    " under Schedules; then save."
                </p>
                <a class="btn btn-primary" href=Page::Workflows.path()>"Open a workflow"</a>
            </div>
        }
        .into_any(),
        Some(list) => view! {
            <table class="runs-table schedules-table" data-testid="schedules-table">
                <thead>
                    <tr>
                        <th>"Workflow"</th>
                        <th>"Schedule"</th>
                        <th>"Next fire"</th>
                        <th>"Last fire"</th>
                        <th>"Last run"</th>
                        <th>"State"</th>
                        <th><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {list
                        .into_iter()
                        .map(|s| view! { <Row s now notes act backfilling /> })
                        .collect_view()}
                </tbody>
            </table>
        }
        .into_any(),
    }
    };
    view! {
        <section class="runs-page" data-testid="page-schedules">
            <div class="page-head runs-head">
                <div>
                    <h1>"Schedules"</h1>
                    <p class="lede">"Every cron schedule of every workflow, and what it has started."</p>
                </div>
            </div>
            <section class="card">
                {move || {
                    error
                        .get()
                        .filter(|_| rows.with(Option::is_some))
                        .map(|m| view! { <p class="form-error pad" role="alert" data-testid="schedules-error">{m}</p> })
                }}
                {table}
            </section>
            {move || {
                backfilling
                    .get()
                    .map(|schedule| backfill_dialog(schedule, move |_| backfilling.set(None), move |_| load()))
            }}
        </section>
    }
}

/// An instant in a cell: the browser's local time, how far away it is, and the exact time on
/// hover; `none` when there is no instant.
fn when(
    at: Option<Millis>,
    zone: String,
    now: RwSignal<Millis>,
    none: &'static str,
    testid: &'static str,
) -> impl IntoView {
    match at {
        Some(at) => view! {
            <span data-testid=testid data-at=at.to_string() title=time::exact(at, &zone)>
                {format::date_time(at)}
                <span class="sub">{move || time::relative(at, now.get())}</span>
            </span>
        }
        .into_any(),
        None => view! { <span class="muted" data-testid=testid>{none}</span> }.into_any(),
    }
}

#[component]
fn Row(
    s: ScheduleView,
    now: RwSignal<Millis>,
    notes: RwSignal<HashMap<Key, Note>>,
    act: Callback<(ScheduleView, Action)>,
    backfilling: RwSignal<Option<ScheduleView>>,
) -> impl IntoView {
    let k = key(&s);
    let note = move || notes.with(|n| n.get(&k).cloned());
    let busy = {
        let note = note.clone();
        move || matches!(note(), Some(Note::Busy))
    };
    let refused = crate::access::denied(crate::access::Action::Operate);
    let toggle = if s.paused {
        Action::Resume
    } else {
        Action::Pause
    };
    let next_none = if s.paused { "paused" } else { "never" };
    let last_run = match (&s.last_run, s.last_run_status) {
        (Some(id), status) => {
            let status = status.map_or("unknown", |st| st.as_str());
            view! {
                <a href=format!("/runs/{id}") title=id.clone() data-testid="schedule-last-run">
                    <span class=format!("badge status-{status}")>{status}</span>
                </a>
            }
            .into_any()
        }
        (None, _) => {
            view! { <span class="muted" data-testid="schedule-last-run">"none yet"</span> }
                .into_any()
        }
    };
    let skipped = (s.skipped > 0).then(|| {
        view! { <span class="sub" title="Fire times that started no run: the last run was still running, or they were missed by more than the catch-up window">{format!("{} skipped", s.skipped)}</span> }
    });
    let (pause_s, trigger_s, backfill_s) = (s.clone(), s.clone(), s.clone());
    view! {
        <tr data-testid="schedule-row" data-workflow=s.workflow.clone() data-index=s.index.to_string() data-paused=s.paused.to_string()>
            <td>
                <a class="run-link" href=designer::path(&s.workflow) data-testid="schedule-workflow">{s.workflow.clone()}</a>
                <span class="sub">{format!("schedule {}", s.index)}</span>
            </td>
            <td>
                <code data-testid="schedule-cron">{s.cron.clone()}</code>
                <span class="sub" data-testid="schedule-zone">{format!("{} · {}", s.timezone, s.overlap)}</span>
            </td>
            <td>{when(s.next_fire_at, s.timezone.clone(), now, next_none, "schedule-next")}</td>
            <td>{when(s.last_fire_at, s.timezone.clone(), now, "never", "schedule-last")}</td>
            <td>{last_run}{skipped}</td>
            <td>
                {if s.paused {
                    view! { <span class="badge status-paused" data-testid="schedule-state">"paused"</span> }.into_any()
                } else {
                    view! { <span class="badge status-completed" data-testid="schedule-state">"active"</span> }.into_any()
                }}
            </td>
            <td>
                <div class="schedule-actions">
                    <button
                        class="btn btn-small"
                        data-testid=format!("schedule-{}", toggle.path())
                        disabled={
                            let busy = busy.clone();
                            move || busy() || refused.get().is_some()
                        }
                        title=move || refused.get()
                        on:click=move |_| act.run((pause_s.clone(), toggle))
                    >
                        {if s.paused { "Resume" } else { "Pause" }}
                    </button>
                    <button
                        class="btn btn-small"
                        data-testid="schedule-trigger"
                        disabled=move || busy() || refused.get().is_some()
                        title=crate::access::title_unless(
                            refused,
                            || "Start a run now, whatever the overlap policy, also while paused",
                        )
                        on:click=move |_| act.run((trigger_s.clone(), Action::Trigger))
                    >
                        "Trigger now"
                    </button>
                    <button
                        class="btn btn-small"
                        data-testid="schedule-backfill"
                        disabled=move || refused.get().is_some()
                        title=move || refused.get()
                        on:click=move |_| backfilling.set(Some(backfill_s.clone()))
                    >
                        "Backfill…"
                    </button>
                </div>
                {move || note().and_then(|n| match n {
                    Note::Busy => None,
                    Note::Started(id) => Some(view! {
                        <p class="row-note" data-testid="schedule-started">
                            "Started "
                            <a class="run-link" href=format!("/runs/{id}")><code>{short(&id)}</code></a>
                        </p>
                    }.into_any()),
                    Note::Failed(m) => Some(view! {
                        <p class="row-note form-error" role="alert" data-testid="schedule-action-error">{m}</p>
                    }.into_any()),
                })}
            </td>
        </tr>
    }
}

/// The tail of a run id, enough to tell runs apart in a row.
fn short(id: &str) -> String {
    match id.char_indices().rev().nth(7) {
        Some((at, _)) => id[at..].to_owned(),
        None => id.to_owned(),
    }
}
