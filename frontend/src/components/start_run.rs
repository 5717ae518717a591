//! The one start-run dialog, opened from the designer ("Run"), the runs page ("Start run")
//! and a run ("Run again"): pick a workflow (where the page allows), write its input as JSON,
//! checked against the workflow's `input_schema` as it is typed (with the server's own check),
//! then `POST /api/workflows/{name}/runs` and off to the new run's page.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;
use serde_json::{Map, Value};
use shared::validate::check_input;

use crate::pages::designer::server;

/// A sample input for `schema`: its required properties with a value of their type.
pub fn sample_input(schema: Option<&Value>) -> Value {
    let Some(schema) = schema else {
        return Value::Object(Map::new());
    };
    let props = schema.get("properties").and_then(Value::as_object);
    let required = schema.get("required").and_then(Value::as_array);
    let mut out = Map::new();
    for name in required.into_iter().flatten().filter_map(Value::as_str) {
        let ty = props
            .and_then(|p| p.get(name))
            .and_then(|p| p.get("type"))
            .and_then(Value::as_str);
        let value = match ty {
            Some("number") | Some("integer") => Value::from(0),
            Some("boolean") => Value::Bool(false),
            Some("array") => Value::Array(Vec::new()),
            Some("object") => Value::Object(Map::new()),
            _ => Value::String(String::new()),
        };
        out.insert(name.to_owned(), value);
    }
    Value::Object(out)
}

/// What is wrong with `text` as an input for `schema`; empty when it may be sent.
fn problems(text: &str, schema: Option<&Value>) -> Vec<String> {
    let input = match serde_json::from_str::<Value>(text) {
        Ok(v) => v,
        Err(e) => return vec![format!("Not JSON: {e}")],
    };
    match schema.map(|schema| check_input(schema, &input)) {
        Some(Err(errors)) => errors
            .into_iter()
            .map(|(path, e)| format!("{path}: {e}"))
            .collect(),
        Some(Ok(())) | None => Vec::new(),
    }
}

/// What the dialog is doing.
#[derive(Debug, Clone, PartialEq)]
enum Phase {
    Editing,
    Starting,
    Failed(String),
}

/// A modal form, shown while `open`. It fills in `workflow` and `input` each time it opens;
/// with no `input`, a sample from the chosen workflow's `input_schema`.
#[component]
pub fn StartRun(
    open: RwSignal<bool>,
    /// The workflow to start (or the first choice, with `choose`).
    #[prop(into)]
    workflow: Signal<Option<String>>,
    /// The input to start with, e.g. the one of the run being run again.
    #[prop(optional, into)]
    input: MaybeProp<Value>,
    /// Offer every workflow in a list.
    #[prop(optional)]
    choose: bool,
    /// True when the designer has unsaved changes, which this run will not have.
    #[prop(optional, into)]
    stale: MaybeProp<bool>,
) -> impl IntoView {
    let chosen = RwSignal::new(String::new());
    let text = RwSignal::new(String::new());
    // Typed into since it opened: a newly loaded schema no longer replaces the text.
    let edited = RwSignal::new(false);
    let phase = RwSignal::new(Phase::Editing);
    // The list is read when the dialog first opens, not with the page that holds it: a run's
    // page would otherwise read every workflow (and the first one's definition) while it is
    // still drawing a long run.
    let opened_once = Memo::new(move |was: Option<&bool>| was == Some(&true) || open.get());
    let names = LocalResource::new(move || {
        let wanted = choose && opened_once.get();
        async move {
            if wanted {
                server::workflow_names().await.unwrap_or_default()
            } else {
                Vec::new()
            }
        }
    });
    // The latest version's `input_schema`: the version a new run starts with.
    let schema = LocalResource::new(move || {
        let name = chosen.get();
        async move {
            if name.is_empty() {
                return None;
            }
            let stored = server::get(&name).await.ok().flatten()?;
            stored.definition.get("input_schema").cloned()
        }
    });
    let schema_now = move || schema.get().flatten();
    // Fill the form each time it opens.
    Effect::new(move |_| {
        if open.get() {
            // With no workflow given, the first of the list (if it is in already; else the
            // effect below takes it when it arrives).
            let first = || names.get_untracked().and_then(|l| l.first().cloned());
            chosen.set(workflow.get_untracked().or_else(first).unwrap_or_default());
            let given = input.get_untracked();
            edited.set(given.is_some());
            let start =
                given.unwrap_or_else(|| sample_input(schema.get_untracked().flatten().as_ref()));
            text.set(serde_json::to_string_pretty(&start).unwrap_or_default());
            phase.set(Phase::Editing);
        }
    });
    // A sample from the schema once it is in, unless the text was given or typed.
    Effect::new(move |_| {
        let schema = schema_now();
        if open.get_untracked() && !edited.get_untracked() {
            let sample = sample_input(schema.as_ref());
            text.set(serde_json::to_string_pretty(&sample).unwrap_or_default());
        }
    });
    // With no workflow given, take the first one once the list is in.
    Effect::new(move |_| {
        if let Some(list) = names.get()
            && chosen.with_untracked(String::is_empty)
            && let Some(first) = list.first()
        {
            chosen.set(first.clone());
        }
    });
    let problems = move || text.with(|t| problems(t, schema_now().as_ref()));
    let navigate = use_navigate();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let name = chosen.get_untracked();
        if name.is_empty() {
            phase.set(Phase::Failed("Choose a workflow.".into()));
            return;
        }
        let Ok(input) = serde_json::from_str::<Value>(&text.get_untracked()) else {
            return;
        };
        phase.set(Phase::Starting);
        let navigate = navigate.clone();
        spawn_local(async move {
            match server::start_run(&name, input).await {
                Ok(run) => {
                    open.set(false);
                    navigate(&format!("/runs/{}", run.run_id), Default::default());
                }
                Err(e) => phase.set(Phase::Failed(e.error.message)),
            }
        });
    };
    let close = move || open.set(false);
    let refused = crate::access::denied(crate::access::Action::Operate);
    view! {
        <Show when=move || open.get()>
            <div class="modal-backdrop" on:click=move |_| close()>
                <form
                    class="card modal start-dialog"
                    role="dialog"
                    aria-modal="true"
                    aria-labelledby="start-run-title"
                    data-testid="start-run-dialog"
                    on:submit=submit.clone()
                    on:click=|ev| ev.stop_propagation()
                    on:keydown=move |ev| {
                        if ev.key() == "Escape" {
                            close();
                        }
                    }
                >
                    <div class="card-head">
                        <h2 id="start-run-title">
                            "Start a run"
                            {(!choose).then(|| view! { " of " <code>{move || chosen.get()}</code> })}
                        </h2>
                    </div>
                    <div class="card-body">
                        <Show when=move || stale.get().unwrap_or(false)>
                            <p class="caption warn-text">"You have unsaved changes: the run uses the last saved version."</p>
                        </Show>
                        <Show when=move || choose>
                            <label class="field">
                                <span class="field-label">"Workflow"</span>
                                <select
                                    class="input"
                                    data-testid="start-workflow"
                                    prop:value=move || chosen.get()
                                    on:change=move |ev| chosen.set(event_target_value(&ev))
                                >
                                    {move || {
                                        let mut list = names.get().unwrap_or_default();
                                        let current = chosen.get();
                                        if !current.is_empty() && !list.contains(&current) {
                                            list.insert(0, current.clone());
                                        }
                                        list.into_iter()
                                            .map(|name| {
                                                view! {
                                                    <option value=name.clone() selected=name == current>
                                                        {name.clone()}
                                                    </option>
                                                }
                                            })
                                            .collect_view()
                                    }}
                                </select>
                            </label>
                        </Show>
                        <label class="field">
                            <span class="field-label">"Input (JSON)"</span>
                            <textarea
                                class="input code-input json-input"
                                rows="8"
                                spellcheck="false"
                                data-testid="start-input"
                                prop:value=move || text.get()
                                on:input=move |ev| {
                                    edited.set(true);
                                    text.set(event_target_value(&ev));
                                }
                            ></textarea>
                        </label>
                        {move || {
                            let problems = problems();
                            if problems.is_empty() {
                                let note = if schema_now().is_some() {
                                    "✓ Matches the input schema."
                                } else {
                                    "✓ JSON (this workflow has no input schema)."
                                };
                                view! { <p class="caption ok-text" data-testid="start-input-ok">{note}</p> }.into_any()
                            } else {
                                view! {
                                    <ul class="input-problems" data-testid="start-input-problems">
                                        {problems.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}
                                    </ul>
                                }
                                .into_any()
                            }
                        }}
                        {move || match phase.get() {
                            Phase::Failed(message) => Some(view! { <p class="form-error" role="alert" data-testid="start-error">{message}</p> }),
                            _ => None,
                        }}
                        <div class="card-actions">
                            <button type="button" class="btn" data-testid="start-cancel" on:click=move |_| close()>
                                "Cancel"
                            </button>
                            <button
                                type="submit"
                                class="btn btn-primary"
                                data-testid="start-submit"
                                disabled=move || {
                                    !problems().is_empty() || phase.get() == Phase::Starting
                                        || refused.get().is_some()
                                }
                                title=move || refused.get()
                            >
                                {move || if phase.get() == Phase::Starting {
                                    view! { <span class="spinner spinner-light" aria-hidden="true"></span> "Starting…" }.into_any()
                                } else {
                                    "Start run".into_any()
                                }}
                            </button>
                        </div>
                    </div>
                </form>
            </div>
        </Show>
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_sample_has_the_required_properties_with_a_value_of_their_type() {
        let schema = json!({
            "type": "object",
            "required": ["order_id", "amount", "rush"],
            "properties": {"amount": {"type": "number"}, "rush": {"type": "boolean"}}
        });
        assert_eq!(
            sample_input(Some(&schema)),
            json!({"order_id": "", "amount": 0, "rush": false})
        );
        assert_eq!(sample_input(None), json!({}));
    }

    #[test]
    fn the_input_is_checked_against_the_schema_and_must_be_json() {
        let schema = json!({"type": "object", "required": ["amount"]});
        assert!(problems("{\"amount\": 1}", Some(&schema)).is_empty());
        let missing = problems("{}", Some(&schema));
        assert!(missing.iter().any(|p| p.contains("amount")), "{missing:?}");
        assert!(problems("{", None)[0].starts_with("Not JSON"));
        assert!(problems("[1]", None).is_empty());
    }
}
