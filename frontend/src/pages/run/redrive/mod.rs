//! Redrive a finished run from its page (SPEC §6): a dialog over the run's graph where the
//! person picks the redrive point by clicking nodes (preselected: the nodes the server would
//! default to), picks the version (this run's, or the latest), and sees, before confirming,
//! what the server's dry run says: which nodes are reused (dimmed), which run again, and which
//! side-effecting ones will act again. Every change asks the dry run again, so the picture is
//! the server's, never a guess; its refusals (a node the version lacks, nothing to redo) are
//! shown where the pick is made. Confirm starts the redrive and opens the new run.
//!
//! [`plan`] holds the decisions, [`links`] the "Redrive of" and "Redriven by" lines.

pub mod links;
pub mod plan;

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use shared::api::RedrivePreview;
use shared::model::Workflow;

use self::plan::Target;
use super::children::run_path;
use super::state::RunState;
use super::wire;
use crate::components::modal::Modal;
use crate::graph::GraphView;

/// The dry run's last answer. While a new question is in flight the last answer stays on
/// screen, marked stale, so the graph does not flicker on every click.
#[derive(Debug, Clone, PartialEq)]
enum Preview {
    /// Nothing is picked, so there is nothing to ask.
    Empty,
    /// Not answered yet.
    Waiting,
    Ready(RedrivePreview),
    /// The server refused the pick; its message.
    Refused(String),
}

/// The "Redrive…" button and its dialog.
#[component]
pub fn RedriveControl(
    run: String,
    /// The run's definition and version.
    workflow: StoredValue<Workflow>,
    version: i64,
    state: RwSignal<RunState>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let offline = super::live::offline();
    let refused = crate::access::denied(crate::access::Action::Operate);
    view! {
        <button
            class="btn"
            data-testid="redrive-button"
            disabled=move || offline.get() || refused.get().is_some()
            title=crate::access::title_unless(
                refused,
                super::live::title_when(offline, "Start a new run that reuses what this one completed"),
            )
            on:click=move |_| open.set(true)
        >
            "Redrive…"
        </button>
        <Show when=move || open.get()>
            <RedriveDialog run=run.clone() workflow version state open />
        </Show>
    }
}

#[component]
fn RedriveDialog(
    run: String,
    workflow: StoredValue<Workflow>,
    version: i64,
    state: RwSignal<RunState>,
    open: RwSignal<bool>,
) -> impl IntoView {
    let first = state.with_untracked(|s| workflow.with_value(|wf| plan::default_from(wf, s)));
    let from = RwSignal::new(first);
    let target = RwSignal::new(Target::Same);
    let preview = RwSignal::new(Preview::Waiting);
    let asking = RwSignal::new(false);
    let sending = RwSignal::new(false);
    let send_error = RwSignal::new(None::<String>);

    // The latest version, for the choice and its note; `Err` when it cannot be read.
    let latest = RwSignal::new(None::<Result<(i64, Workflow), String>>);
    let name = workflow.with_value(|wf| wf.name.clone());
    leptos::task::spawn_local(async move {
        let found = wire::latest(&name).await.map_err(|e| e.error.message);
        let _ = latest.try_set(Some(found));
    });
    let latest_version =
        move || latest.with(|l| l.as_ref().and_then(|l| l.as_ref().ok()).map(|l| l.0));
    // The graph shows the version the redrive would run on.
    let shown = Memo::new(move |_| match target.get() {
        Target::Latest => latest
            .with(|l| {
                l.as_ref()
                    .and_then(|l| l.as_ref().ok())
                    .map(|l| l.1.clone())
            })
            .unwrap_or_else(|| workflow.get_value()),
        Target::Same => workflow.get_value(),
    });

    // Ask the dry run on every change; an answer to an older question is dropped.
    let asked = StoredValue::new(0_u32);
    let run_id = StoredValue::new(run);
    Effect::new(move |_| {
        let pick = from.get();
        let on = target.get();
        asked.update_value(|n| *n += 1);
        if pick.is_empty() {
            asking.set(false);
            preview.set(Preview::Empty);
            return;
        }
        let question = asked.get_value();
        asking.set(true);
        let (run, body) = (run_id.get_value(), plan::body(&pick, on));
        leptos::task::spawn_local(async move {
            let answer = wire::redrive_preview(&run, &body).await;
            // The dialog is gone, or a newer question was asked.
            if asked.try_get_value() != Some(question) {
                return;
            }
            let _ = asking.try_set(false);
            let _ = preview.try_set(match answer {
                Ok(p) => Preview::Ready(p),
                Err(e) => Preview::Refused(e.error.message),
            });
        });
    });

    let decor = Memo::new(move |_| {
        let ready = preview.with(|p| match p {
            Preview::Ready(p) => Some(p.clone()),
            _ => None,
        });
        shown.with(|wf| from.with(|f| plan::decor(wf, f, ready.as_ref())))
    });
    let pick = Callback::new(move |id: Option<String>| {
        if let Some(id) = id {
            send_error.set(None);
            from.update(|f| *f = shown.with(|wf| plan::toggle(wf, f, &id)));
        }
    });

    let navigate = use_navigate();
    let confirm = move |_| {
        let body = plan::body(&from.get_untracked(), target.get_untracked());
        let (run, navigate) = (run_id.get_value(), navigate.clone());
        sending.set(true);
        send_error.set(None);
        leptos::task::spawn_local(async move {
            match wire::redrive(&run, &body).await {
                Ok(started) => {
                    let _ = open.try_set(false);
                    navigate(&run_path(&started.run_id), Default::default());
                }
                Err(e) => {
                    let _ = sending.try_set(false);
                    let _ = send_error.try_set(Some(e.error.message));
                }
            }
        });
    };
    let close = move || {
        if !sending.get_untracked() {
            open.set(false);
        }
    };
    let can_confirm =
        move || !sending.get() && !asking.get() && preview.with(|p| matches!(p, Preview::Ready(_)));

    view! {
        <Modal class="redrive-dialog" backdrop="redrive-backdrop" testid="redrive-dialog" labelled_by="redrive-title" close=move |()| close()>
                <div class="card-head">
                    <h2 id="redrive-title">"Redrive this run"</h2>
                    <span class="muted">
                        "A new run reuses what this one completed and runs the rest again."
                    </span>
                </div>
                <div class="card-body redrive-body">
                    <p class="caption">
                        "Click nodes on the graph to choose where the new run starts again: they and every node after them run again."
                    </p>
                    <div class="redrive-graph" data-testid="redrive-graph">
                        <GraphView
                            workflow=shown.into()
                            decor=decor.into()
                            selected=Signal::derive(|| None::<String>)
                            on_select=pick
                        />
                    </div>
                    <Legend />
                    <div class="redrive-controls">
                        <FromPicker from shown pick />
                        <VersionPicker version target latest latest_version=Signal::derive(latest_version) />
                    </div>
                    <PreviewSummary preview asking />
                    {move || {
                        send_error
                            .get()
                            .map(|m| view! { <p class="form-error" role="alert" data-testid="redrive-send-error">{m}</p> })
                    }}
                </div>
                <div class="card-actions redrive-actions">
                    <button class="btn" data-testid="redrive-close" on:click=move |_| close()>
                        "Cancel"
                    </button>
                    <button
                        class="btn btn-primary"
                        data-testid="redrive-confirm"
                        disabled=move || !can_confirm()
                        on:click=confirm
                    >
                        <Show when=move || sending.get()>
                            <span class="spinner" aria-hidden="true"></span>
                        </Show>
                        "Redrive"
                    </button>
                </div>
        </Modal>
    }
}

/// What the graph's marks mean.
#[component]
fn Legend() -> impl IntoView {
    view! {
        <ul class="redrive-legend" aria-label="Legend">
            <li><i class="key key-from"></i>"runs again from here"</li>
            <li><i class="key key-rerun"></i>"runs again"</li>
            <li><i class="key key-reuse"></i>"reused, nothing runs"</li>
            <li><i class="key key-effect"></i>"acts again (a side effect)"</li>
        </ul>
    }
}

/// The pick as chips, each removable, and a list to add a node: the graph's clicks, for the
/// keyboard.
#[component]
fn FromPicker(
    from: RwSignal<Vec<String>>,
    shown: Memo<Workflow>,
    pick: Callback<Option<String>>,
) -> impl IntoView {
    let others = move || {
        shown.with(|wf| {
            from.with(|f| {
                wf.nodes
                    .iter()
                    .map(|n| n.id.clone())
                    .filter(|id| !f.contains(id))
                    .collect::<Vec<_>>()
            })
        })
    };
    let add = NodeRef::<leptos::html::Select>::new();
    view! {
        <div class="redrive-from">
            <span class="field-label" id="redrive-from-label">"Run again from"</span>
            <div class="from-chips" data-testid="redrive-from" aria-labelledby="redrive-from-label">
                <For each=move || from.get() key=|id| id.clone() let:id>
                    <span class="from-chip" data-testid="redrive-from-node" data-node=id.clone()>
                        <code>{id.clone()}</code>
                        <button
                            class="from-chip-remove"
                            aria-label=format!("Remove {id}")
                            on:click={
                                let id = id.clone();
                                move |_| pick.run(Some(id.clone()))
                            }
                        >
                            "×"
                        </button>
                    </span>
                </For>
                <select
                    node_ref=add
                    class="input from-chip-add"
                    aria-label="Add a node to run again from"
                    data-testid="redrive-add"
                    on:change=move |ev| {
                        let id = event_target_value(&ev);
                        if !id.is_empty() {
                            pick.run(Some(id));
                        }
                        // Back to the prompt, ready for the next one.
                        if let Some(select) = add.get_untracked() {
                            select.set_value("");
                        }
                    }
                >
                    <option value="">"Add a node…"</option>
                    {move || others().into_iter().map(|id| view! { <option value=id.clone()>{id.clone()}</option> }).collect_view()}
                </select>
            </div>
        </div>
    }
}

/// This run's version or the latest, with a note when they differ.
#[component]
fn VersionPicker(
    version: i64,
    target: RwSignal<Target>,
    latest: RwSignal<Option<Result<(i64, Workflow), String>>>,
    latest_version: Signal<Option<i64>>,
) -> impl IntoView {
    let latest_label = move || match latest_version.get() {
        Some(v) if v == version => format!("Latest (v{v}, the same)"),
        Some(v) => format!("Latest (v{v})"),
        None => "Latest".to_owned(),
    };
    let note = move || {
        latest_version
            .get()
            .and_then(|v| plan::version_note(version, v))
    };
    let unreadable = move || latest.with(|l| l.as_ref().and_then(|l| l.as_ref().err().cloned()));
    view! {
        <fieldset class="redrive-version">
            <legend class="field-label">"Version"</legend>
            <label>
                <input
                    type="radio"
                    name="redrive-version"
                    data-testid="redrive-version-same"
                    prop:checked=move || target.get() == Target::Same
                    on:change=move |_| target.set(Target::Same)
                />
                {format!("This run's (v{version})")}
            </label>
            <label>
                <input
                    type="radio"
                    name="redrive-version"
                    data-testid="redrive-version-latest"
                    disabled=move || latest_version.get().is_none()
                    prop:checked=move || target.get() == Target::Latest
                    on:change=move |_| target.set(Target::Latest)
                />
                {latest_label}
            </label>
            {move || note().map(|n| view! { <p class="caption redrive-note" data-testid="redrive-version-note">{n}</p> })}
            {move || {
                unreadable()
                    .map(|m| view! { <p class="caption">{format!("The latest version could not be read: {m}")}</p> })
            }}
        </fieldset>
    }
}

/// The dry run's answer in words: the counts, the side-effect warning, or the refusal.
#[component]
fn PreviewSummary(preview: RwSignal<Preview>, asking: RwSignal<bool>) -> impl IntoView {
    move || {
        match preview.get() {
        Preview::Empty => view! {
            <p class="redrive-summary caption" data-testid="redrive-empty">
                "Pick at least one node to run again from."
            </p>
        }
        .into_any(),
        Preview::Waiting => view! {
            <p class="redrive-summary pending" data-testid="redrive-asking">
                <span class="spinner" aria-hidden="true"></span>
                "Asking the server what this redrive would do…"
            </p>
        }
        .into_any(),
        Preview::Refused(m) => view! {
            <p class="redrive-summary form-error" class:stale=move || asking.get() role="alert" data-testid="redrive-error">{m}</p>
        }
        .into_any(),
        Preview::Ready(p) => {
            let effects = plan::side_effects_text(&p.side_effects);
            view! {
                <div class="redrive-summary" class:stale=move || asking.get() aria-busy=move || asking.get().to_string()>
                    <p data-testid="redrive-counts">
                        <strong>{plan::counts_text(&p)}</strong>
                        {format!(" on v{}.", p.version)}
                    </p>
                    {match effects {
                        Some(text) => view! {
                            <p class="redrive-warning" role="status" data-testid="redrive-side-effects">{text}</p>
                        }
                        .into_any(),
                        None => view! {
                            <p class="caption" data-testid="redrive-side-effects">
                                "No step with side effects acts again."
                            </p>
                        }
                        .into_any(),
                    }}
                </div>
            }
            .into_any()
        }
    }
    }
}
