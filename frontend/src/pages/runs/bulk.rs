//! Bulk actions on the runs page (SPEC §6): act on the selected rows, or on every run the
//! page's filter matches, after a confirmation that shows the server's dry-run count, then
//! follow the durable batch (`GET /api/batches/{id}`) with a progress bar until it is done.

use std::collections::BTreeSet;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::api::{BatchView, BulkAccepted, BulkAction, BulkBody, BulkFilter, RunStatus};

use crate::api;
use crate::components::modal::Modal;

/// Which runs an action is for.
#[derive(Debug, Clone, PartialEq)]
pub enum Selection {
    /// These runs, picked on the page.
    Ids(BTreeSet<String>),
    /// Every run the page's filter matches, on any page.
    Matching {
        workflow: Option<String>,
        status: Option<RunStatus>,
    },
}

/// The request body for `action` on `selection`. A filter that names nothing asks for every
/// run, which the server takes only with `all`: on this page that is what "all matching"
/// means with no filter set.
pub fn body(action: BulkAction, selection: &Selection, dry_run: bool) -> BulkBody {
    let filter = match selection {
        Selection::Ids(ids) => BulkFilter {
            ids: Some(ids.iter().cloned().collect()),
            ..BulkFilter::default()
        },
        Selection::Matching { workflow, status } => BulkFilter {
            workflow: workflow.clone(),
            status: status.map(|s| s.as_str().to_owned()),
            all: workflow.is_none() && status.is_none(),
            ..BulkFilter::default()
        },
    };
    BulkBody {
        action,
        filter,
        dry_run,
    }
}

/// The verb on the buttons and in the confirmation.
pub fn verb(action: BulkAction) -> &'static str {
    match action {
        BulkAction::Cancel => "Cancel",
        BulkAction::Redrive => "Redrive",
        BulkAction::Pause => "Pause",
        BulkAction::Resume => "Resume",
    }
}

/// What the action does to each run, said before it is confirmed.
fn consequence(action: BulkAction) -> &'static str {
    match action {
        BulkAction::Cancel => {
            "Each run still going is cancelled (its on_cancel path runs); finished runs are refused and listed."
        }
        BulkAction::Redrive => {
            "Each finished run is redriven from its failed nodes on its own version; completed steps are reused, not repeated."
        }
        BulkAction::Pause => "Each running run stops starting new steps; steps in flight finish.",
        BulkAction::Resume => "Each paused run goes on; timers that fell due fire now.",
    }
}

/// `done / matched · failed`, the line under the progress bar.
pub fn progress_text(b: &BatchView) -> String {
    let settled = b.done + b.failed;
    let mut text = format!("{settled} / {} settled · {} done", b.matched, b.done);
    if b.failed > 0 {
        text.push_str(&format!(" · {} refused", b.failed));
    }
    text
}

/// Where the dialog is.
#[derive(Debug, Clone, PartialEq)]
enum Phase {
    Counting,
    Confirm(i64),
    Sending,
    Following(BatchView),
    Failed(String),
}

/// The bar above the table, and its dialog. `selected`: the rows ticked on this page;
/// `matching`: the user asked for every run the filter matches.
#[component]
pub fn BulkBar(
    selected: RwSignal<BTreeSet<String>>,
    matching: RwSignal<bool>,
    workflow: Memo<Option<String>>,
    status: Memo<Option<RunStatus>>,
    page_full: Signal<bool>,
    /// Whether "every run matching" can be said to the server: its filter names a
    /// workflow and a status, not the list's other filters.
    can_match: Signal<bool>,
    reload: RwSignal<u32>,
) -> impl IntoView {
    let selection = move || {
        if matching.get() {
            Selection::Matching {
                workflow: workflow.get(),
                status: status.get(),
            }
        } else {
            Selection::Ids(selected.get())
        }
    };
    let action = RwSignal::new(None::<BulkAction>);
    let phase = RwSignal::new(Phase::Counting);
    let open = move |a: BulkAction| {
        action.set(Some(a));
        phase.set(Phase::Counting);
        let body = body(a, &selection(), true);
        spawn_local(async move {
            match api::post_json::<_, BulkAccepted>("/api/runs/bulk", &body).await {
                Ok(b) => phase.set(Phase::Confirm(b.matched)),
                Err(e) => phase.set(Phase::Failed(e.error.message)),
            }
        });
    };
    let close = move || {
        if matches!(phase.get_untracked(), Phase::Following(ref b) if b.status != "done") {
            return;
        }
        action.set(None);
    };
    let confirm = move |_| {
        let Some(a) = action.get_untracked() else {
            return;
        };
        phase.set(Phase::Sending);
        let body = body(a, &selection(), false);
        spawn_local(async move {
            match api::post_json::<_, BulkAccepted>("/api/runs/bulk", &body).await {
                Ok(BulkAccepted {
                    batch_id: Some(id), ..
                }) => follow(id, phase, reload, selected, matching),
                Ok(_) => phase.set(Phase::Failed("the server made no batch".into())),
                Err(e) => phase.set(Phase::Failed(e.error.message)),
            }
        });
    };
    let count = move || {
        if matching.get() {
            "every run matching this filter".to_owned()
        } else {
            let n = selected.with(BTreeSet::len);
            format!("{n} selected")
        }
    };
    let filter_text = move || match (workflow.get(), status.get()) {
        (None, None) => "all runs".to_owned(),
        (w, s) => [
            w.map(|w| format!("workflow {w}")),
            s.map(|s| format!("status {}", s.as_str())),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", "),
    };
    let actions = [
        BulkAction::Cancel,
        BulkAction::Redrive,
        BulkAction::Pause,
        BulkAction::Resume,
    ];
    let refused = crate::access::denied(crate::access::Action::Operate);
    view! {
        <Show when=move || matching.get() || selected.with(|s| !s.is_empty())>
            <div class="bulk-bar" data-testid="bulk-bar" role="toolbar" aria-label="Bulk actions">
                <strong data-testid="bulk-count">{count}</strong>
                <Show when=move || !matching.get() && page_full.get() && can_match.get()>
                    <button class="btn btn-link" data-testid="bulk-all" on:click=move |_| matching.set(true)>
                        {move || format!("Select every run matching {}", filter_text())}
                    </button>
                </Show>
                <span class="spacer"></span>
                {actions
                    .map(|a| {
                        view! {
                            <button
                                class="btn"
                                class:btn-danger=a == BulkAction::Cancel
                                data-testid=format!("bulk-{}", a.as_str())
                                disabled=move || refused.get().is_some()
                                title=move || refused.get()
                                on:click=move |_| open(a)
                            >
                                {format!("{}…", verb(a))}
                            </button>
                        }
                    })}
                <button
                    class="btn btn-link"
                    data-testid="bulk-clear"
                    on:click=move |_| {
                        matching.set(false);
                        selected.set(BTreeSet::new());
                    }
                >
                    "Clear"
                </button>
            </div>
        </Show>
        {move || action.get().map(|a| view! { <Dialog a phase close confirm /> })}
    }
}

/// The confirmation, then the batch's progress.
#[component]
fn Dialog(
    a: BulkAction,
    phase: RwSignal<Phase>,
    close: impl Fn() + Copy + Send + Sync + 'static,
    confirm: impl Fn(leptos::ev::MouseEvent) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let title = format!("{} runs", verb(a));
    view! {
        <Modal class="bulk-dialog" testid="bulk-dialog" labelled_by="bulk-title" close=move |()| close()>
                <div class="card-head">
                    <h2 id="bulk-title">{title}</h2>
                </div>
                <div class="card-body">
                    {move || match phase.get() {
                        Phase::Counting => view! {
                            <p class="pending"><span class="spinner" aria-hidden="true"></span>"Counting the runs…"</p>
                        }.into_any(),
                        Phase::Confirm(n) => view! {
                            <p data-testid="bulk-matched">
                                <strong>{format!("{n} run{}", if n == 1 { "" } else { "s" })}</strong>
                                " match."
                            </p>
                            <p class="caption">{consequence(a)}</p>
                        }.into_any(),
                        Phase::Sending => view! {
                            <p class="pending"><span class="spinner" aria-hidden="true"></span>"Making the batch…"</p>
                        }.into_any(),
                        Phase::Following(b) => {
                            let pct = if b.matched == 0 { 100.0 } else { (b.done + b.failed) as f64 * 100.0 / b.matched as f64 };
                            let done = b.status == "done";
                            view! {
                                <div class="map-bar" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow=format!("{pct:.0}")>
                                    <div class="map-bar-part map-bar-completed" style:width=format!("{pct}%")></div>
                                </div>
                                <p class="map-progress" data-testid="bulk-progress">{progress_text(&b)}</p>
                                <p class="caption" data-testid="bulk-state">{if done { "Done." } else { "Working through the runs…" }}</p>
                                <ul class="bulk-errors">
                                    {b.errors.iter().map(|e| view! {
                                        <li><a href=format!("/runs/{}", e.run)><code>{e.run.clone()}</code></a>" "{e.error.clone()}</li>
                                    }).collect_view()}
                                </ul>
                            }.into_any()
                        }
                        Phase::Failed(m) => view! { <p class="form-error" role="alert" data-testid="bulk-error">{m}</p> }.into_any(),
                    }}
                <div class="card-actions">
                    <button class="btn" data-testid="bulk-close" on:click=move |_| close()
                        disabled=move || matches!(phase.get(), Phase::Following(ref b) if b.status != "done")>
                        "Close"
                    </button>
                    <Show when=move || matches!(phase.get(), Phase::Confirm(n) if n > 0)>
                        <button class="btn btn-primary" class:btn-danger=a == BulkAction::Cancel data-testid="bulk-confirm" on:click=confirm>
                            {format!("{} them", verb(a))}
                        </button>
                    </Show>
                </div>
                </div>
        </Modal>
    }
}

/// Polls the batch every half second until it is done, then reloads the page's rows and
/// clears the selection. Stops when the dialog is gone.
fn follow(
    id: String,
    phase: RwSignal<Phase>,
    reload: RwSignal<u32>,
    selected: RwSignal<BTreeSet<String>>,
    matching: RwSignal<bool>,
) {
    spawn_local(async move {
        match api::get_json::<BatchView>(&format!("/api/batches/{id}")).await {
            Ok(b) => {
                let done = b.status == "done";
                if phase.try_set(Phase::Following(b)).is_some() {
                    return;
                }
                if done {
                    selected.set(BTreeSet::new());
                    matching.set(false);
                    reload.update(|n| *n += 1);
                } else {
                    set_timeout(
                        move || follow(id, phase, reload, selected, matching),
                        Duration::from_millis(500),
                    );
                }
            }
            Err(e) => phase.set(Phase::Failed(e.error.message)),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picked_rows_go_by_id_and_all_matching_without_a_filter_says_all() {
        let ids = Selection::Ids(["b".to_owned(), "a".to_owned()].into());
        let b = body(BulkAction::Cancel, &ids, true);
        assert_eq!(b.filter.ids, Some(vec!["a".to_owned(), "b".to_owned()]));
        assert!(!b.filter.all && b.dry_run);
        let every = Selection::Matching {
            workflow: None,
            status: None,
        };
        assert!(body(BulkAction::Pause, &every, false).filter.all);
        let some = Selection::Matching {
            workflow: Some("order".into()),
            status: Some(RunStatus::Failed),
        };
        let b = body(BulkAction::Redrive, &some, false);
        assert!(!b.filter.all);
        assert_eq!(b.filter.workflow.as_deref(), Some("order"));
        assert_eq!(b.filter.status.as_deref(), Some("failed"));
        assert_eq!(b.filter.ids, None);
    }

    #[test]
    fn progress_counts_what_is_settled_and_names_refusals() {
        let mut b = BatchView {
            id: "x".into(),
            action: BulkAction::Cancel,
            status: "running".into(),
            matched: 37,
            done: 30,
            failed: 0,
            errors: vec![],
            created_at: 0,
        };
        assert_eq!(progress_text(&b), "30 / 37 settled · 30 done");
        b.failed = 2;
        assert_eq!(progress_text(&b), "32 / 37 settled · 30 done · 2 refused");
    }
}
