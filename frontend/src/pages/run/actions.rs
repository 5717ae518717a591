//! Acting on a run in one click: approve or reject a waiting approval (with a comment), send
//! a waiting signal node its signal (with a JSON payload), cancel a running run (with a
//! reason, after a confirmation).
//!
//! Buttons are disabled while a request is in flight, and for a role that may not use them
//! (the reason in their title). A `409` means someone (or something)
//! acted first: the page says so plainly and reloads its view of the run.

use leptos::prelude::*;
use serde_json::Value;
use shared::model::{NodeKind, Workflow};

use super::live::{offline, title_when};
use super::state::{NodeStatus, RunState};
use super::wire;
use crate::access::{Action, denied, title_unless};
use crate::api;
use crate::pages::inbox::form::{self, FormFields};

/// Every waiting approval and signal node of the run, each with its controls.
#[component]
pub fn WaitingActions(
    run: String,
    workflow: StoredValue<Workflow>,
    state: RwSignal<RunState>,
    on_conflict: Callback<String>,
) -> impl IntoView {
    let waiting = move || {
        state.with(|s| {
            workflow.with_value(|wf| {
                wf.nodes
                    .iter()
                    .filter(|n| s.node(&n.id).status == NodeStatus::Waiting)
                    .filter_map(|n| match &n.kind {
                        NodeKind::Approval(_) => Some((n.id.clone(), Waiting::Approval)),
                        NodeKind::Signal(s) => {
                            Some((n.id.clone(), Waiting::Signal(s.signal.clone())))
                        }
                        _ => None,
                    })
                    .collect::<Vec<_>>()
            })
        })
    };
    view! {
        <For each=waiting key=|item| item.clone() let:item>
            {
                let run = run.clone();
                match item {
                    (node, Waiting::Approval) => {
                        let form = workflow
                            .with_value(|wf| match &wf.node(&node)?.kind {
                                NodeKind::Approval(a) => a.form.clone(),
                                _ => None,
                            });
                        view! { <ApprovalCard run node form state on_conflict /> }.into_any()
                    }
                    (node, Waiting::Signal(name)) => {
                        view! { <SignalCard run node name on_conflict /> }.into_any()
                    }
                }
            }
        </For>
    }
}

/// What a waiting node waits for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Waiting {
    Approval,
    /// The signal's name.
    Signal(String),
}

/// Turns an action's answer into what the card shows: nothing on success (the stream shows
/// the effect), the message on an error, and the page-wide notice on a conflict.
pub(super) fn settle<T>(
    result: api::Result<T>,
    error: RwSignal<Option<String>>,
    conflict: Callback<String>,
) {
    // The card may be gone by now: the stream can bring the action's effect (a cancel that
    // hides the cancel button) before its answer. Then there is nothing left to tell; the
    // callers' own signals are touched with `try_` for the same reason.
    match result {
        Ok(_) => drop(error.try_set(None)),
        Err(body) if body.error.code == "conflict" => drop(conflict.try_run(body.error.message)),
        Err(body) => drop(error.try_set(Some(body.error.message))),
    }
}

#[component]
fn ApprovalCard(
    run: String,
    node: String,
    /// The node's `form` (a JSON Schema), rendered above the comment.
    form: Option<Value>,
    state: RwSignal<RunState>,
    on_conflict: Callback<String>,
) -> impl IntoView {
    let comment = RwSignal::new(String::new());
    let sending = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let fields = form::fields(form.as_ref());
    let values = RwSignal::new(form::initial_values(&fields));
    let errors = RwSignal::new(form::Errors::new());
    let stored_fields = StoredValue::new(fields.clone());
    let prompt = {
        let node = node.clone();
        move || state.with(|s| s.node(&node).prompt).unwrap_or_default()
    };
    let decide = {
        let (run, node) = (run.clone(), node.clone());
        move |approve: bool| {
            let data = match stored_fields.with_value(|f| form::build(f, &values.get_untracked())) {
                Ok(data) => data,
                Err(problems) => {
                    errors.set(problems);
                    error.set(Some(form::FILL_IN.to_owned()));
                    return;
                }
            };
            errors.set(form::Errors::new());
            let (run, node) = (run.clone(), node.clone());
            let text = comment.get_untracked().trim().to_owned();
            sending.set(true);
            leptos::task::spawn_local(async move {
                let comment = (!text.is_empty()).then_some(text);
                let result = wire::decide(&run, &node, approve, comment, data).await;
                let _ = sending.try_set(false);
                if let Err(e) = &result
                    && let Some((by_field, _)) = stored_fields
                        .try_with_value(|f| form::server_errors(f, e.error.details.as_ref()))
                {
                    let _ = errors.try_set(by_field);
                }
                settle(result, error, on_conflict);
            });
        }
    };
    let reject = decide.clone();
    let offline = offline();
    let refused = denied(Action::Decide);
    view! {
        <section class="card action-card" data-testid=format!("approval-{node}")>
            <div class="action-head">
                <span class="action-kind">"Approval"</span>
                <code>{node.clone()}</code>
                <span class="muted">"is waiting for a decision"</span>
            </div>
            <p class="action-prompt" data-testid="approval-prompt">{prompt}</p>
            {(!fields.is_empty())
                .then(|| {
                    view! {
                        <fieldset class="inbox-form" data-testid="approval-form">
                            <legend>"Form"</legend>
                            <FormFields
                                fields=fields.clone()
                                values
                                errors
                                disabled=sending
                                prefix=format!("run-{node}")
                            />
                        </fieldset>
                    }
                })}
            <textarea
                class="input"
                rows="2"
                placeholder="Comment (optional)"
                aria-label="Comment"
                data-testid="approval-comment"
                bind:value=comment
            ></textarea>
            {move || error.get().map(|m| view! { <p class="form-error" role="alert">{m}</p> })}
            <div class="action-buttons">
                <button
                    class="btn btn-approve"
                    data-testid="approve-button"
                    disabled=move || sending.get() || offline.get() || refused.get().is_some()
                    title=title_unless(
                        refused,
                        title_when(offline, "Approve: the run goes on through the approved path"),
                    )
                    on:click=move |_| decide(true)
                >
                    "Approve"
                </button>
                <button
                    class="btn btn-danger"
                    data-testid="reject-button"
                    disabled=move || sending.get() || offline.get() || refused.get().is_some()
                    title=title_unless(
                        refused,
                        title_when(offline, "Reject: the run goes on through the rejected path"),
                    )
                    on:click=move |_| reject(false)
                >
                    "Reject"
                </button>
                <Show when=move || sending.get()>
                    <span class="spinner" aria-label="Sending"></span>
                </Show>
            </div>
        </section>
    }
}

#[component]
fn SignalCard(
    run: String,
    node: String,
    /// The signal's name, from the node's definition.
    name: String,
    on_conflict: Callback<String>,
) -> impl IntoView {
    let payload = RwSignal::new("{}".to_owned());
    let sending = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let send = {
        let name = name.clone();
        move |_| {
            let value: Value = match serde_json::from_str(&payload.get_untracked()) {
                Ok(v) => v,
                Err(e) => {
                    error.set(Some(format!("The payload is not valid JSON: {e}")));
                    return;
                }
            };
            let (run, name) = (run.clone(), name.clone());
            sending.set(true);
            leptos::task::spawn_local(async move {
                let result = wire::signal(&run, &name, value).await;
                let _ = sending.try_set(false);
                settle(result, error, on_conflict);
            });
        }
    };
    let testid = format!("signal-{node}");
    let offline = offline();
    let refused = denied(Action::Operate);
    view! {
        <section class="card action-card" data-testid=testid>
            <div class="action-head">
                <span class="action-kind">"Signal"</span>
                <code>{node}</code>
                <span class="muted">"is waiting for the signal"</span>
                <code>{name}</code>
            </div>
            <textarea
                class="input json-input"
                rows="3"
                spellcheck="false"
                aria-label="Signal payload (JSON)"
                data-testid="signal-payload"
                bind:value=payload
            ></textarea>
            {move || error.get().map(|m| view! { <p class="form-error" role="alert">{m}</p> })}
            <div class="action-buttons">
                <button
                    class="btn btn-primary"
                    data-testid="signal-send"
                    disabled=move || sending.get() || offline.get() || refused.get().is_some()
                    title=title_unless(refused, title_when(offline, "Send the signal with this payload"))
                    on:click=send
                >
                    "Send signal"
                </button>
                <Show when=move || sending.get()>
                    <span class="spinner" aria-label="Sending"></span>
                </Show>
            </div>
        </section>
    }
}

/// "Cancel run", then a confirmation with an optional reason.
#[component]
pub fn CancelControl(run: String, on_conflict: Callback<String>) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let reason = RwSignal::new(String::new());
    let sending = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let confirm = move |_| {
        let run = run.clone();
        let text = reason.get_untracked().trim().to_owned();
        sending.set(true);
        leptos::task::spawn_local(async move {
            let result = wire::cancel(&run, (!text.is_empty()).then_some(text)).await;
            let _ = sending.try_set(false);
            settle(result, error, on_conflict);
            // Done, or someone else finished the run first: the page says which.
            if error.try_get_untracked() == Some(None) {
                let _ = confirming.try_set(false);
            }
        });
    };
    let close = move || {
        if !sending.get_untracked() {
            confirming.set(false);
        }
    };
    let offline = offline();
    let refused = denied(Action::Operate);
    view! {
        <button
            class="btn btn-danger-outline"
            data-testid="cancel-button"
            disabled=move || offline.get() || refused.get().is_some()
            title=title_unless(refused, title_when(offline, "Cancel this run, after a confirmation"))
            on:click=move |_| {
                error.set(None);
                confirming.set(true);
            }
        >
            "Cancel run"
        </button>
        <Show when=move || confirming.get()>
            <div class="modal-backdrop" on:click=move |_| close()>
                <div
                    class="card modal"
                    role="alertdialog"
                    aria-modal="true"
                    aria-labelledby="cancel-title"
                    data-testid="cancel-dialog"
                    on:click=|ev| ev.stop_propagation()
                    on:keydown=move |ev| {
                        if ev.key() == "Escape" {
                            close();
                        }
                    }
                >
                    <div class="card-head">
                        <h2 id="cancel-title">"Cancel this run?"</h2>
                    </div>
                    <div class="card-body">
                        <p class="caption">
                            "Attempts in flight are abandoned and timers stop. If the workflow has an "
                            <code>"on_cancel"</code> " path, it runs before the run ends as cancelled."
                        </p>
                        <input
                            class="input"
                            placeholder="Reason (optional)"
                            aria-label="Reason"
                            autofocus
                            data-testid="cancel-reason"
                            bind:value=reason
                        />
                        {move || error.get().map(|m| view! { <p class="form-error" role="alert">{m}</p> })}
                        <div class="card-actions">
                            <button class="btn" on:click=move |_| close()>"Keep running"</button>
                            <button
                                class="btn btn-danger"
                                data-testid="cancel-confirm"
                                disabled=move || sending.get() || offline.get()
                                title=title_when(offline, "Cancel the run now")
                                on:click=confirm.clone()
                            >
                                <Show when=move || sending.get()>
                                    <span class="spinner" aria-hidden="true"></span>
                                </Show>
                                "Cancel run"
                            </button>
                        </div>
                    </div>
                </div>
            </div>
        </Show>
    }
}
