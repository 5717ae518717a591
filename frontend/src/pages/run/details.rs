//! The side panel of a run's page: the selected node's times, output and error, every attempt
//! with its outcome and (for `http`) its request and response ([`super::attempts`]), a
//! `subflow`'s or `map`'s child runs, for a node a redrive reused where its output came from;
//! and the run's own input, output and error. Times are relative, exact on hover.

use leptos::prelude::*;
use serde_json::Value;
use shared::model::Workflow;

use super::attempts::AttemptList;
use super::children::{NodeChildren, run_path};
use super::format::{self, Moment};
use super::json::JsonPre;
use super::replay::Shown;
use super::state::NodeStatus;
use super::wire::RunStatus;

/// The selected node, or a hint to select one.
#[component]
pub fn NodeDetails(
    state: Shown,
    workflow: StoredValue<Workflow>,
    selected: RwSignal<Option<String>>,
    now: RwSignal<i64>,
    /// The page's wall clock, for relative times.
    wall: RwSignal<i64>,
    /// The run this one redrives, whose recorded outputs its reused nodes carry.
    origin: Option<String>,
) -> impl IntoView {
    move || {
        let Some(id) = selected.get() else {
            return view! {
                <section class="card node-card">
                    <div class="card-head"><h2>"Node"</h2></div>
                    <p class="empty">"Select a node to see its attempts, output and error."</p>
                </section>
            }
            .into_any();
        };
        let (type_name, label, max_attempts) = workflow.with_value(|wf| {
            wf.node(&id).map_or(("?", None, None), |n| {
                (
                    n.type_name(),
                    n.label.clone(),
                    n.kind.retry().map(|r| r.max_attempts),
                )
            })
        });
        let node = {
            let id = id.clone();
            Memo::new(move |_| state.with(|s| s.node(&id)))
        };
        let origin = origin.clone();
        let status = move || node.with(|n| n.status);
        let attempts = move || {
            let n = node.with(|n| n.attempts);
            match max_attempts {
                Some(max) => format!("{n} of {max}"),
                None => n.to_string(),
            }
        };
        let duration = move || {
            node.with(|n| {
                n.started_at
                    .map(|s| format::duration(n.finished_at.unwrap_or_else(|| now.get()) - s))
            })
        };
        let due = move || {
            node.with(|n| {
                let what = match n.status {
                    NodeStatus::Retrying => "Next attempt ",
                    NodeStatus::Waiting => "Times out ",
                    _ => return None,
                };
                Some((what, n.due_at?))
            })
        };
        let moment = move |at: Option<i64>| match at {
            Some(at) => view! { <Moment at now=wall /> }.into_any(),
            None => "—".into_any(),
        };
        view! {
            <section class="card node-card" data-testid="node-details">
                <div class="card-head">
                    <h2>
                        <code data-testid="node-details-id">{id.clone()}</code>
                    </h2>
                    <span class="muted">{type_name}</span>
                    <span
                        class=move || format!("pill state-pill state-{}", status().as_str())
                        data-testid="node-details-status"
                    >
                        {move || status().as_str()}
                    </span>
                    <div class="card-actions">
                        <button class="btn btn-icon" aria-label="Close" on:click=move |_| selected.set(None)>
                            "×"
                        </button>
                    </div>
                </div>
                <div class="card-body">
                    {label.map(|l| view! { <p class="caption">{l}</p> })}
                    {move || {
                        node.with(|n| n.reused)
                            .then(|| view! { <Reused origin=origin.clone() /> })
                    }}
                    <dl class="facts">
                        <dt>"Attempts"</dt>
                        <dd data-testid="node-details-attempts">{attempts}</dd>
                        <dt>"Started"</dt>
                        <dd>{move || moment(node.with(|n| n.started_at))}</dd>
                        <dt>"Finished"</dt>
                        <dd>{move || moment(node.with(|n| n.finished_at))}</dd>
                        <dt>"Duration"</dt>
                        <dd>{move || duration().unwrap_or_else(|| "—".into())}</dd>
                    </dl>
                    {matches!(type_name, "map" | "subflow")
                        .then(|| view! { <NodeChildren state id=id.clone() kind=type_name /> })}
                    {move || {
                        due()
                            .map(|(what, at)| {
                                view! {
                                    <p class="due" data-testid="node-details-due">
                                        {what}
                                        <Moment at now=wall />
                                    </p>
                                }
                            })
                    }}
                    {move || {
                        node.with(|n| n.prompt.clone())
                            .map(|p| view! { <blockquote class="prompt">{p}</blockquote> })
                    }}
                    {move || {
                        node.with(|n| n.error.clone())
                            .map(|e| view! { <p class="node-error" data-testid="node-details-error">{e}</p> })
                    }}
                    {move || {
                        node.with(|n| (n.status == NodeStatus::Completed).then(|| n.output.clone()))
                            .map(|o| json_block("Output", &o))
                    }}
                    // Only nodes that retry have attempts to tell apart.
                    {max_attempts
                        .map(|_| {
                            view! {
                                <h3 class="attempts-title">"Attempts"</h3>
                                <AttemptList state node=id.clone() now wall />
                            }
                        })}
                </div>
            </section>
        }
        .into_any()
    }
}

/// A reused node's note: its output is the original run's, and nothing ran for it here.
#[component]
fn Reused(origin: Option<String>) -> impl IntoView {
    let from = origin.map(|run| {
        view! {
            " from "
            <a href=run_path(&run) title=format!("Run {run}")>"the original run"</a>
        }
    });
    view! {
        <p class="reused-note" data-testid="node-details-reused">
            <span class="reused-tag">"reused"</span>
            "Completed with the output recorded" {from} "; nothing ran for it in this run."
        </p>
    }
}

/// The run's input, output and error.
#[component]
pub fn RunData(state: Shown) -> impl IntoView {
    view! {
        <section class="card" data-testid="run-data">
            <div class="card-head"><h2>"Run"</h2></div>
            <div class="card-body">
                {move || {
                    state.with(|s| {
                        view! {
                            {json_block("Input", &s.input)}
                            {s.output.as_ref().map(|o| json_block("Output", o))}
                            {s.error
                                .clone()
                                .map(|e| view! { <p class="node-error" data-testid="run-error">{e}</p> })}
                            {(s.status == Some(RunStatus::Cancelled))
                                .then(|| {
                                    let why = s
                                        .cancel_reason
                                        .clone()
                                        .map_or_else(|| "Cancelled.".to_owned(), |r| format!("Cancelled: {r}"));
                                    view! { <p class="run-note" data-testid="run-cancelled">{why}</p> }
                                })}
                        }
                    })
                }}
            </div>
        </section>
    }
}

fn json_block(title: &'static str, value: &Value) -> impl IntoView + use<> {
    view! {
        <div class="json-block">
            <div class="json-title">{title}</div>
            <JsonPre value=value.clone() />
        </div>
    }
}
