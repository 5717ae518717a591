//! One run, live: its graph with each node's state, what it waits for (with the buttons to
//! act on it), the selected node's details, the timeline and the history. Everything on the
//! page is drawn from the run's event stream (see [`live`]), folded into one [`state::RunState`].
//!
//! # Layout
//! - [`wire`]: the API's shapes and calls; [`state`]: the fold; [`live`]: the stream, kept
//!   open by the page (backoff, resume after the last `seq`), and [`banner`] while it is down.
//! - [`graph`], [`details`], [`actions`], [`timeline`], [`history`]: the page's panels;
//!   [`path`]: the edges the run took; [`attempts`]: a node's attempts, [`exchange`]: an `http`
//!   attempt's request and response; [`children`]: a `subflow`'s or `map`'s child runs;
//!   [`lineage`]: a child run's parents; [`format`]: times (relative, exact on hover) and JSON;
//!   [`json`]: a JSON block, long ones cut.
//! - [`operate`]: which run-level actions apply, and Pause/Resume; [`redrive`]: the redrive
//!   dialog and a redrive's links to its original and back (SPEC §6).
//! - [`replay`]: a finished run's events stepped through on the graph and the timeline.

pub mod actions;
pub mod attempts;
pub mod banner;
pub mod children;
pub mod details;
pub mod exchange;
pub mod format;
pub mod graph;
pub mod history;
pub mod json;
pub mod lineage;
pub mod live;
pub mod operate;
pub mod path;
pub mod redrive;
pub mod replay;
pub mod state;
pub mod timeline;
pub mod wire;

use std::time::Duration;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use shared::api::ApiErrorBody;
use shared::model::Workflow;

use self::live::{Link, Live};
use self::state::RunState;
use self::wire::RunStatus;
use crate::components::load_error::LoadError;
use crate::components::start_run::StartRun;
use crate::pages::Page;
use shared::api::{RunDetail, RunEvent};

/// `/runs/:id`.
#[component]
pub fn RunPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let loaded = LocalResource::new(move || {
        let id = id.get();
        async move {
            // The run and its log so far, read together; the stream (if the run is still
            // going) starts after the log's last event. A finished run's log is complete:
            // one read, folded once, and no stream.
            let (head, log) = futures_util::future::join(wire::run(&id), wire::events(&id)).await;
            let head = head?;
            let workflow = wire::definition(&head.run.workflow, head.run.version).await?;
            Ok::<_, ApiErrorBody>((head, workflow, log?))
        }
    });
    view! {
        <section class="run-page" data-testid="page-run">
            <Suspense fallback=|| {
                view! {
                    <p class="loading" data-testid="run-loading">
                        <span class="spinner" aria-hidden="true"></span>
                        "Loading the run…"
                    </p>
                }
            }>
                {move || Suspend::new(async move {
                    match loaded.await {
                        Ok((head, workflow, log)) => {
                            view! { <Console head workflow log /> }.into_any()
                        }
                        Err(body) => {
                            view! {
                                <div class="placeholder">
                                    <LoadError
                                        title="This run could not be loaded"
                                        message=body.error.message
                                        testid="run-load-error"
                                        retry=move || loaded.refetch()
                                    >
                                        <a class="btn" href=Page::Runs.path()>"All runs"</a>
                                    </LoadError>
                                </div>
                            }
                                .into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}

/// A run whose definition is known: folds `log` (the events read with the run), opens its
/// stream after them (unless they hold the run's end) and lays out the panels.
#[component]
fn Console(head: RunDetail, workflow: Workflow, log: Vec<RunEvent>) -> impl IntoView {
    let run_id = head.run.id.clone();
    let workflow_name = head.run.workflow.clone();
    let workflow = StoredValue::new(workflow);
    let mut first = RunState::default();
    for event in log {
        first.apply(event);
    }
    let state = RwSignal::new(first);
    let link = RwSignal::new(Link::Connecting);
    let selected = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let now = RwSignal::new(format::now());

    // The page's wall clock, for relative times and the banner's countdown: it keeps ticking
    // after the run has finished ("2 min ago" grows), unlike `now`, the run's own clock.
    let wall = RwSignal::new(format::now());
    let next_try = RwSignal::new(None::<i64>);
    provide_context(live::Offline(Signal::derive(move || link.get().offline())));

    // The stream, kept open by the page until the run's final event (see [`live`]).
    let feed = StoredValue::new_local(Some(Live::start(&run_id, state, link, next_try)));
    let reconnect = Callback::new(move |()| {
        feed.with_value(|f| {
            if let Some(live) = f {
                live.try_now();
            }
        })
    });
    on_cleanup(move || feed.set_value(None));

    // The clock for durations and growing bars stops once the run has finished.
    let ticker = set_interval_with_handle(
        move || {
            let t = format::now();
            wall.set(t);
            if !state.with_untracked(RunState::is_finished) {
                now.set(t);
            }
        },
        Duration::from_millis(500),
    )
    .ok();
    on_cleanup(move || {
        if let Some(t) = ticker {
            t.clear();
        }
    });

    // Someone acted first: say so, and read the run again from its stream.
    let on_conflict = Callback::new(move |message: String| {
        notice.set(Some(format!(
            "Someone else acted on this run first, so nothing was changed ({message}). The view below is up to date."
        )));
        reconnect.run(());
    });

    let status = move || state.with(|s| s.status);
    let running = move || status() == Some(RunStatus::Running);
    let paused = Signal::derive(move || status() == Some(RunStatus::Paused));
    let cancelling = move || running() && state.with(|s| s.cancel_requested);
    let controls = move || operate::controls(status(), cancelling());
    let (pause_run, redrive_run, version) = (run_id.clone(), run_id.clone(), head.run.version);
    let duration = move || {
        state.with(|s| {
            s.started_at
                .map(|start| format::duration(s.finished_at.unwrap_or_else(|| now.get()) - start))
        })
    };
    let start_open = RwSignal::new(false);
    let offline = live::offline();
    let may_not_start = crate::access::denied(crate::access::Action::Operate);
    let rerun_input = Signal::derive(move || state.with(|s| s.input.clone()));
    let rerun_workflow = Signal::stored(Some(workflow_name.clone()));
    // Replay: the moment shown (the first k events), `None` for the run as it stands.
    let step = RwSignal::new(None::<usize>);
    let replayed = Memo::new(move |_| step.get().map(|k| state.with(|s| replay::at(&s.events, k))));
    let shown = replay::Shown::new(state, replayed);
    // The badge says the status at the replayed moment; the actions stay on the run as it is.
    let shown_status = move || shown.with(|s| s.status);
    let cursor = Signal::derive(move || {
        let k = step.get()?;
        state.with(|s| s.events.get(k.checked_sub(1)?).map(|e| e.at))
    });

    view! {
        <header class="run-head">
            <lineage::Crumbs parent=head.parent.clone() workflow=workflow_name.clone() />
            <div class="run-title">
                <h1>
                    {workflow_name.clone()}
                    <span class="version">{format!("v{}", head.run.version)}</span>
                </h1>
                {move || status_badge(shown_status(), cancelling() && !shown.replaying())}
                <LinkState link />
                <div class="run-actions">
                    <Show when=move || controls().pause || controls().resume>
                        <operate::PauseControl run=pause_run.clone() paused on_conflict />
                    </Show>
                    <Show when=move || controls().redrive>
                        <redrive::RedriveControl run=redrive_run.clone() workflow version state />
                    </Show>
                    <button
                        class="btn"
                        data-testid="run-again"
                        disabled=move || offline.get() || may_not_start.get().is_some()
                        title=crate::access::title_unless(
                            may_not_start,
                            live::title_when(offline, "Start a new run of this workflow with this input"),
                        )
                        on:click=move |_| start_open.set(true)
                    >
                        "Run again"
                    </button>
                    <Show when=move || controls().cancel>
                        <actions::CancelControl run=run_id.clone() on_conflict />
                    </Show>
                </div>
            </div>
            <p class="run-meta">
                <code class="run-id" data-testid="run-id">{head.run.id.clone()}</code>
                {move || {
                    state.with(|s| s.started_at).map(|t| view! { <span>"Started " <format::Moment at=t now=wall /></span> })
                }}
                {move || {
                    duration().map(|d| view! { <span data-testid="run-duration">"Duration " {d}</span> })
                }}
                <Show when=move || paused.get()>
                    <span class="paused-note" data-testid="paused-note">
                        "Paused: no new step starts until the run is resumed."
                    </span>
                </Show>
            </p>
            <redrive::links::RedriveLinks redrive_of=head.redrive_of.clone() redriven_by=head.redriven_by.clone() />
        </header>
        <banner::ConnectionBanner link next_try now=wall try_now=reconnect />
        {move || {
            notice
                .get()
                .map(|text| {
                    view! {
                        <div class="notice" role="status" data-testid="notice">
                            <span>{text}</span>
                            <button class="btn btn-icon" aria-label="Dismiss" on:click=move |_| notice.set(None)>
                                "×"
                            </button>
                        </div>
                    }
                })
        }}
        <div class="waiting-actions">
            <actions::WaitingActions run=head.run.id.clone() workflow state on_conflict />
        </div>
        <replay::Replay state step />
        <div class="run-grid">
            <section class="card graph-card">
                <div class="card-head">
                    <h2>"Graph"</h2>
                    <span class="muted">"Live from the run's event stream. Click a node for its details."</span>
                </div>
                <graph::RunGraph state=shown workflow selected now />
            </section>
            <div class="run-side">
                <details::NodeDetails state=shown workflow selected now wall origin=head.redrive_of.as_ref().map(|r| r.run.clone()) />
                <details::RunData state=shown />
            </div>
        </div>
        <timeline::Timeline state workflow now cursor />
        <history::History state />
        <StartRun open=start_open workflow=rerun_workflow input=rerun_input choose=true />
    }
}

/// The run's status, as a badge; "cancelling" while a cancel is under way.
fn status_badge(status: Option<RunStatus>, cancelling: bool) -> impl IntoView {
    let (class, text) = match (status, cancelling) {
        (None, _) => ("badge".to_owned(), "loading".to_owned()),
        (Some(_), true) => (
            "badge status-cancelling".to_owned(),
            "cancelling".to_owned(),
        ),
        (Some(s), false) => (
            format!("badge status-{}", s.as_str()),
            s.as_str().to_owned(),
        ),
    };
    view! { <span class=class data-testid="run-status">{text}</span> }
}

/// How the page is connected: connecting, live, reconnecting (the banner says more), finished.
#[component]
fn LinkState(link: RwSignal<Link>) -> impl IntoView {
    let text = move || match link.get() {
        Link::Connecting => "Connecting…",
        Link::Live => "Live",
        Link::Reconnecting => "Reconnecting…",
        Link::Ended => "Finished",
    };
    let class = move || match link.get() {
        Link::Live => "link link-live",
        Link::Connecting => "link link-waiting",
        Link::Reconnecting => "link link-lost",
        Link::Ended => "link link-ended",
    };
    view! {
        <span class=class data-testid="link-state" title="The connection to the run's event stream">
            <i aria-hidden="true"></i>
            {text}
        </span>
    }
}
