//! The inspector: a form for the selected node (one per node type), the selected edge, what
//! can be done to several selected nodes, or,
//! with nothing selected, the workflow's own settings. Every input checks itself as you type
//! (durations, JSON, ids, names) and writes to the model at once, so the validator's findings
//! follow each keystroke; keystrokes in one field make one undo step.

//!
//! # Layout
//! - this module: the dispatch on the selection, the self-checking inputs the forms share,
//!   and the edge panel.
//! - `node`: the form of each node type (`children`: those of `subflow` and `map`;
//!   `approval`: who decides, escalation, the decision form with its preview); `retry`: the retry policy and its schedule;
//!   `workflow`: the workflow's own settings, with the webhook's URL and `curl` example;
//!   `schedules`: its cron schedules, each with its next fire times.

mod approval;
mod children;
mod node;
mod retry;
mod schedules;
mod workflow;

use leptos::prelude::*;
use serde_json::Value;
use shared::model::{DurationText, Node};

use super::unparsed::Unparsed;
use super::{Ctx, Selection};
use crate::components::code_text::code_spans;

/// The form for whatever is selected, drawn again when the selection changes or the model
/// jumps (undo, redo).
pub(super) fn inspector(ctx: Ctx) -> impl IntoView {
    let name = ctx.workflow.with_untracked(|w| w.name.clone());
    provide_context(crate::components::expression::Sample::load(name));
    // Keyed by the selection and the generation: a new key draws a new form from the model,
    // where a redraw in place would leave stale text in inputs the person typed into.
    let key = Memo::new(move |_| (ctx.generation.get(), ctx.selection.get()));
    let form = move |selection: Selection| match selection {
        Selection::None => workflow::workflow_settings(ctx).into_any(),
        Selection::Node(id) => match ctx.workflow.with_untracked(|w| w.node(&id).cloned()) {
            Some(node) => node::node_form(ctx, node).into_any(),
            None => ().into_any(),
        },
        Selection::Edge(i) => view! { <EdgePanel ctx index=i /> }.into_any(),
        Selection::Nodes(ids) => view! { <ManyPanel ctx count=ids.len() /> }.into_any(),
    };
    view! {
        <section class="inspector" data-testid="inspector">
            {super::test_run::node_result(ctx)}
            <For each=move || [key.get()] key=Clone::clone let:key>
                {form(key.1)}
            </For>
        </section>
    }
}

/// Several selected nodes: what can be done to them together.
#[component]
fn ManyPanel(ctx: Ctx, count: usize) -> impl IntoView {
    view! {
        <div class="inspector-head">
            <div>
                <h2 data-testid="inspector-title">{format!("{count} nodes selected")}</h2>
                <span class="muted">
                    "Drag one to move them all; Ctrl+C copies them with the edges among them, "
                    "Ctrl+D duplicates them. Shift-click adds or removes a node."
                </span>
            </div>
            <button class="btn btn-small btn-danger" data-testid="delete-selected" title="Delete (Del)" on:click=move |_| ctx.delete_selection()>
                "Delete"
            </button>
        </div>
    }
}

/// Applies `change` to node `id` as part of the undo step for `field`.
fn edit(ctx: Ctx, id: &str, field: &str, change: impl FnOnce(&mut Node)) {
    ctx.editor.update(|e| {
        let _ = e.update_node(id, field, change);
    });
}

/// `None` for a blank input.
fn non_empty(text: String) -> Option<String> {
    (!text.trim().is_empty()).then_some(text)
}

/// The findings about one node, at the top of its form.
#[component]
fn NodeFindings(ctx: Ctx, id: String) -> impl IntoView {
    let mine = move || {
        ctx.findings.with(|all| {
            all.iter()
                .filter(|f| f.node.as_deref() == Some(id.as_str()))
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    move || {
        let mine = mine();
        (!mine.is_empty()).then(|| {
            view! {
                <ul class="inspector-findings">
                    {mine
                        .into_iter()
                        .map(|f| {
                            let class = if f.is_error() { "finding-error" } else { "finding-warning" };
                            view! {
                                <li class=class data-testid="inspector-finding">
                                    {code_spans(&f.message)}
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            }
        })
    }
}

/// A text input that writes each keystroke through `on_input`.
#[component]
fn TextField(
    label: &'static str,
    testid: &'static str,
    value: String,
    #[prop(optional)] placeholder: &'static str,
    #[prop(optional)] hint: &'static str,
    #[prop(into)] on_input: Callback<String>,
    /// Called with the text once the person is done with the field (it lost focus, or Enter).
    #[prop(optional, into)]
    on_change: Option<Callback<String>>,
) -> impl IntoView {
    view! {
        <label class="field">
            <span class="field-label">{label}</span>
            <input
                class="input"
                data-testid=testid
                value=value
                placeholder=placeholder
                spellcheck="false"
                on:input=move |ev| on_input.run(event_target_value(&ev))
                on:change=move |ev| {
                    if let Some(done) = on_change {
                        done.run(event_target_value(&ev));
                    }
                }
            />
            {(!hint.is_empty()).then(|| view! { <span class="field-hint">{hint}</span> })}
        </label>
    }
}

/// A duration input (`500ms`, `5s`, `1h30m`) that says at once when it is not one.
#[component]
fn DurationField(
    label: &'static str,
    testid: &'static str,
    value: Option<DurationText>,
    /// Shown when empty: the default that applies then.
    #[prop(optional)]
    placeholder: &'static str,
    #[prop(optional)] required: bool,
    #[prop(into)] on_input: Callback<Option<DurationText>>,
) -> impl IntoView {
    let text = RwSignal::new(value.map(|d| d.0).unwrap_or_default());
    let error = move || {
        let t = text.get();
        if t.trim().is_empty() {
            required.then(|| "Required".to_owned())
        } else {
            DurationText(t)
                .parse()
                .err()
                .map(|_| "Not a duration: write e.g. 500ms, 5s, 10m, 1h30m or 7d".to_owned())
        }
    };
    view! {
        <label class="field">
            <span class="field-label">{label}</span>
            <input
                class="input"
                class:invalid=move || error().is_some()
                data-testid=testid
                value=text.get_untracked()
                placeholder=placeholder
                spellcheck="false"
                on:input=move |ev| {
                    let v = event_target_value(&ev);
                    text.set(v.clone());
                    on_input.run(non_empty(v).map(DurationText));
                }
            />
            {move || error().map(|e| view! { <span class="field-error" data-testid="field-error">{e}</span> })}
        </label>
    }
}

/// Whose form the fields below belong to: a node's, or (`None`) the workflow's settings. A
/// [`JsonField`] files its unparsed text under it.
#[derive(Clone)]
struct FormOf {
    ctx: Ctx,
    node: Option<String>,
}

/// A JSON editor: only text that parses reaches the model; otherwise it says where it broke,
/// and the text is kept in [`Ctx::unparsed`] (an error finding; shown again when the form is
/// drawn again) until it parses.
#[component]
fn JsonField(
    label: &'static str,
    testid: &'static str,
    value: Option<Value>,
    #[prop(optional)] required: bool,
    #[prop(optional)] hint: &'static str,
    #[prop(into)] on_input: Callback<Option<Value>>,
) -> impl IntoView {
    let form = use_context::<FormOf>();
    let key = form.as_ref().map(|f| (f.node.clone(), testid));
    let kept = form
        .as_ref()
        .zip(key.as_ref())
        .and_then(|(f, key)| f.ctx.unparsed.with_untracked(|u| u.get(key).cloned()));
    let initial = match &kept {
        Some(k) => k.text.clone(),
        None => value
            .map(|v| serde_json::to_string_pretty(&v).unwrap_or_default())
            .unwrap_or_default(),
    };
    // Drawn again with kept text: the message the field gave when it was typed.
    let error = RwSignal::new(kept.map(|k| {
        if k.text.trim().is_empty() {
            "Required".to_owned()
        } else {
            format!("Not JSON yet: {}", k.error)
        }
    }));
    // Keeps or forgets the text that does not parse, with the field's own message.
    let keep = move |text: Option<(String, String)>| {
        if let (Some(f), Some(key)) = (&form, &key) {
            f.ctx.unparsed.update(|u| match text {
                Some((text, error)) => {
                    u.insert(key.clone(), Unparsed { label, text, error });
                }
                None => {
                    u.remove(key);
                }
            });
        }
    };
    view! {
        <label class="field">
            <span class="field-label">{label}</span>
            <textarea
                class="input code-input"
                class:invalid=move || error.get().is_some()
                data-testid=testid
                spellcheck="false"
                rows="4"
                on:input=move |ev| {
                    let text = event_target_value(&ev);
                    if text.trim().is_empty() {
                        if required {
                            error.set(Some("Required".into()));
                            keep(Some((text, "it is required".into())));
                        } else {
                            error.set(None);
                            keep(None);
                            on_input.run(None);
                        }
                        return;
                    }
                    match serde_json::from_str::<Value>(&text) {
                        Ok(v) => {
                            error.set(None);
                            keep(None);
                            on_input.run(Some(v));
                        }
                        Err(e) => {
                            error.set(Some(format!("Not JSON yet: {e}")));
                            keep(Some((text, e.to_string())));
                        }
                    }
                }
            >
                {initial}
            </textarea>
            {(!hint.is_empty()).then(|| view! { <span class="field-hint">{hint}</span> })}
            {move || error.get().map(|e| view! { <span class="field-error" data-testid="field-error">{e}</span> })}
        </label>
    }
}

/// The selected edge: where it goes, and a way to delete it.
#[component]
fn EdgePanel(ctx: Ctx, index: usize) -> impl IntoView {
    let edge = ctx.workflow.with_untracked(|w| w.edges.get(index).cloned());
    let Some(edge) = edge else {
        return ().into_any();
    };
    let findings = move || {
        ctx.findings.with(|all| {
            all.iter()
                .filter(|f| f.edge == Some(index))
                .map(|f| view! { <li class="finding-error" data-testid="inspector-finding">{code_spans(&f.message)}</li> })
                .collect_view()
        })
    };
    view! {
        <div class="inspector-head">
            <div>
                <h2 data-testid="inspector-title">"Edge"</h2>
                <span class="muted">"A connection between two nodes"</span>
            </div>
            <button class="btn btn-small btn-danger" data-testid="delete-edge" title="Delete (Del)" on:click=move |_| ctx.delete_selection()>
                "Delete"
            </button>
        </div>
        <ul class="inspector-findings">{findings}</ul>
        <dl class="facts">
            <dt>"From"</dt>
            <dd><code>{edge.from}</code> " through port " <code>{edge.port}</code></dd>
            <dt>"To"</dt>
            <dd><code>{edge.to}</code></dd>
        </dl>
    }
    .into_any()
}
